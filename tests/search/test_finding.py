"""Finding each kind of thing by each of its fields, with words, phrases, exclusions and
stemming, on both databases; and the ranking's promises."""

from __future__ import annotations

import pytest

from peerlearn.accounts import services as accounts
from peerlearn.discussions import marks
from peerlearn.discussions.models import ImpactComponent
from peerlearn.search.indexing import reindex_all
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import JoinPolicy, SpaceKind, Visibility


def test_a_thread_is_found_by_its_title_text_tags_and_components(new_thread, author, find) -> None:
    thread = new_thread(
        "Statistical process control for boards",
        "We rebase our **limits** quarterly.",
        tags=("Making data count",),
        components=(ImpactComponent.management_systems,),
    )
    for words in ["statistical", "rebase limits", "making data count", "management systems"]:
        assert ("thread", thread.id) in find(author, words), words


def test_a_reply_is_found_by_its_text(new_thread, new_reply, author, find) -> None:
    thread = new_thread()
    post = new_reply(thread, "Our huddles run at the *whiteboard* every morning.")
    assert find(author, "whiteboard") == [("post", post.id)]


def test_an_event_is_found_by_its_title_description_and_venue(new_event, author, find) -> None:
    event = new_event(
        "Kaizen masterclass", "Bring your value stream maps.", venue="Manchester Central"
    )
    for words in ["kaizen", "value stream", "manchester"]:
        assert find(author, words) == [("event", event.id)], words


def test_a_space_is_found_by_its_name_and_summary(make_user, find) -> None:
    admin = make_user("Ada Admin", admin=True)
    data = spaces.SpaceData(
        "Flow Coaching Academy", "Coaches who improve patient flow.", "The **long** description",
        Visibility.network, JoinPolicy.open,
    )  # fmt: skip
    space = spaces.create_space(admin, data, slug="flow", kind=SpaceKind.community)
    assert ("space", space.id) in find(admin, "academy")
    assert ("space", space.id) in find(admin, "patient")
    # The description is the space's content, not its listing: not indexed.
    assert find(admin, "long description") == []


def test_a_person_is_found_by_name_job_title_organisation_and_bio(
    make_user, make_organisation, find
) -> None:
    reader = make_user("Reader")
    person = make_user(
        "Grace Okafor",
        job_title="Head of Quality Improvement",
        organisation=make_organisation("Blackpool Teaching Hospitals"),
    )
    accounts.update_profile(
        person, display_name="Grace Okafor", job_title="Head of Quality Improvement",
        organisation_id=person.organisation_id, bio="I run our *lean* academy.",
    )  # fmt: skip
    for words in ["okafor", "head of quality", "blackpool", "lean academy", person.handle]:
        assert ("person", person.id) in find(reader, words), words
    assert find(None, "okafor") == []  # people are found by signed-in members only


def test_words_are_stemmed_in_english(new_thread, author, find) -> None:
    thread = new_thread("Coaching teams", "Our coaches improved discharges.")
    for words in ["coach", "coached", "improving", "discharge"]:
        assert find(author, words) == [("thread", thread.id)], words


def test_phrases_need_their_words_together_and_in_order(new_thread, author, find) -> None:
    together = new_thread("Assurance", "We report to the board assurance committee.")
    apart = new_thread("Board", "Our board wants assurance about flow.")
    assert find(author, '"board assurance"') == [("thread", together.id)]
    assert {hit for hit in find(author, "board assurance")} == {
        ("thread", together.id),
        ("thread", apart.id),
    }


def test_excluded_words_and_phrases_leave_things_out(new_thread, author, find) -> None:
    keep = new_thread("Flow coaching", "Discharge before noon.")
    covid = new_thread("Flow coaching in covid times", "Surge planning.")
    winter = new_thread("Flow coaching for winter", "Winter pressures again.")
    assert find(author, 'flow coaching -covid -"winter pressures"') == [("thread", keep.id)]
    assert ("thread", covid.id) not in find(author, "flow -covid")
    # Exclusions are stemmed too: -pressure leaves out "pressures".
    assert ("thread", winter.id) not in find(author, "flow -pressure")
    assert ("thread", winter.id) in find(author, "flow -covid")


def test_only_exclusions_or_common_words_find_nothing_politely(new_thread, author, find) -> None:
    new_thread("The board", "It is the one.")
    assert find(author, "-board") == []
    assert find(author, "the of and") == []


def test_a_title_match_ranks_above_a_body_match(new_thread, author, find) -> None:
    body = new_thread("Weekly notes", "Something about huddles in passing, among other words.")
    title = new_thread("Huddles", "Short.")
    assert find(author, "huddles")[0] == ("thread", title.id)
    assert ("thread", body.id) in find(author, "huddles")


def test_newer_things_rank_above_older_equal_matches(new_thread, author, find) -> None:
    from datetime import timedelta

    from peerlearn.core.db import utcnow
    from peerlearn.extensions import db

    old = new_thread("Huddle boards", "Visual management.")
    new = new_thread("Huddle boards", "Visual management.")
    new.created_at = utcnow()
    old.created_at = utcnow() - timedelta(days=400)
    db.session.commit()
    reindex_all()
    assert find(author, "huddle boards") == [("thread", new.id), ("thread", old.id)]
    old.created_at, new.created_at = new.created_at, old.created_at
    db.session.commit()
    reindex_all()
    assert find(author, "huddle boards") == [("thread", old.id), ("thread", new.id)]


def test_future_events_count_as_new_at_any_distance(new_event, author, find) -> None:
    """An event's date is its start: one a month or more ahead ranks as new, and never breaks
    the ranking's arithmetic (30 days ahead would divide by zero without the floor at 0)."""
    from datetime import timedelta

    from peerlearn.core.db import utcnow
    from peerlearn.extensions import db

    past = new_event("Huddle boards live", "Visual management.")
    ahead = new_event("Huddle boards live", "Visual management.")
    past.starts_at, past.ends_at = (
        utcnow() - timedelta(days=400, hours=1),
        utcnow() - timedelta(days=400),
    )
    for days in (30, 365):
        ahead.starts_at = utcnow() + timedelta(days=days)
        ahead.ends_at = ahead.starts_at + timedelta(hours=1)
        db.session.commit()
        reindex_all()
        assert find(author, "huddle boards") == [("event", ahead.id), ("event", past.id)]


def test_replies_others_found_helpful_rank_higher(
    new_thread, new_reply, author, member, find
) -> None:
    thread = new_thread()
    helpful = new_reply(thread, "Use a run chart for the huddle board.")
    plain = new_reply(thread, "Use a run chart for the huddle board.")
    # Otherwise equal, the newer reply comes first.
    assert find(author, "run chart")[:2] == [("post", plain.id), ("post", helpful.id)]
    markers = [member(name) for name in ("Tom Reid", "Priya Shah", "Sam Lee")]
    for marker in markers:
        marks.set_helpful(marker, helpful, True)
    assert find(author, "run chart")[:2] == [("post", helpful.id), ("post", plain.id)]
    for marker in markers:  # the marks taken back: the order is as it was
        marks.set_helpful(marker, helpful, False)
    assert find(author, "run chart")[:2] == [("post", plain.id), ("post", helpful.id)]


def test_filters_combine_kind_space_and_dates(
    new_thread, new_event, author, make_space, add_member, find
) -> None:
    from datetime import timedelta

    from peerlearn.core.db import utcnow

    other = make_space("Flow")
    add_member(other, author)
    here = new_thread("Huddle boards", "Visual management.")
    there = new_thread("Huddle boards elsewhere", "Visual management.", space=other)
    event = new_event("Huddle boards live", "Visual management.")
    today = utcnow().date()
    assert set(find(author, "huddle")) == {
        ("thread", here.id), ("thread", there.id), ("event", event.id),
    }  # fmt: skip
    assert find(author, "huddle", kind="event") == [("event", event.id)]
    assert set(find(author, "huddle", space_id=other.id)) == {("thread", there.id)}
    assert find(author, "huddle", kind="thread", space_id=other.id) == [("thread", there.id)]
    # The event starts in three days: today's date range has only the threads.
    assert set(find(author, "huddle", since=today, until=today)) == {
        ("thread", here.id), ("thread", there.id),
    }  # fmt: skip
    assert find(author, "huddle", since=today + timedelta(days=2)) == [("event", event.id)]


def test_date_filters_keep_each_london_day_to_the_microsecond(new_thread, author, find) -> None:
    from datetime import UTC, date, datetime

    from sqlalchemy import update

    from peerlearn.extensions import db
    from peerlearn.search.models import Kind, SearchDocument

    moments = {  # in UTC: London is on GMT on 10 March 2026 and on BST (UTC+1) on 1 July
        "before 10 March": datetime(2026, 3, 9, 23, 59, 59, 999_999, tzinfo=UTC),
        "10 March, midnight": datetime(2026, 3, 10, tzinfo=UTC),
        "10 March, last moment": datetime(2026, 3, 10, 23, 59, 59, 999_999, tzinfo=UTC),
        "11 March, midnight": datetime(2026, 3, 11, tzinfo=UTC),
        "30 June, late": datetime(2026, 6, 30, 22, 59, 59, 500_000, tzinfo=UTC),
        "1 July, midnight": datetime(2026, 6, 30, 23, tzinfo=UTC),
    }
    ids = {}
    for label, moment in moments.items():
        thread = new_thread(f"Gemba walk {label}", "Notes from the ward.")
        db.session.execute(
            update(SearchDocument)
            .where(SearchDocument.kind == Kind.thread, SearchDocument.object_id == thread.id)
            .values(activity_at=moment)
        )
        ids[label] = ("thread", thread.id)
    db.session.commit()

    def found(**dates):
        return {label for label, key in ids.items() if key in find(author, "gemba", **dates)}

    march_10 = date(2026, 3, 10)
    assert found(since=march_10, until=march_10) == {"10 March, midnight", "10 March, last moment"}
    assert found(until=march_10) == {
        "before 10 March", "10 March, midnight", "10 March, last moment",
    }  # fmt: skip
    assert found(since=date(2026, 7, 1)) == {"1 July, midnight"}
    assert found(since=date(2026, 6, 30), until=date(2026, 6, 30)) == {"30 June, late"}


@pytest.mark.parametrize(
    "hostile",
    [
        '"unbalanced quote',
        "NEAR(flow coaching) AND flow* OR ^flow title:flow",
        "flow'; DROP TABLE search_documents; --",
        "flow) OR 1=1 --",
        "flow \\ \" ' ` % _ ( ) { } [ ] < > | & ! ~ @ # $",
        "flow 🚑💙 café",
        "flow " + "x" * 10_000,
        "flow " + " ".join(["word"] * 3000),
        "\x00flow\x1f",
        "flow \ue000evil\ue001",
    ],
)
def test_hostile_queries_return_results_or_nothing_never_an_error(
    hostile, new_thread, author, find
) -> None:
    thread = new_thread("Flow coaching", "Flow.")
    reindex_all()
    found = find(author, hostile)
    assert found in ([], [("thread", thread.id)])


#: Threads (title, opening post) that the table below searches: what a reader types is found
#: alike on SQLite and PostgreSQL, however their tokenizers differ.
CORPUS = {
    "hamlet": ("Hamlet", "To be or not to be: improvement in question."),
    "chart": ("Charts", "The flow chart."),
    "patients": ("Patients", "Flow coaching for patients."),
    # Invisible characters from pasted text (soft hyphen, zero-width space, word joiner).
    "pasted": ("Co\u200bordination", "Continuous improve\u00adment, flow\u2060ing."),
    "typed": ("Coordination", "Continuous improvement."),
    # PostgreSQL reads "Covid-19" as "covid" and the signed number "-19"; SQLite as "covid"
    # and "19".
    "covid": ("Covid-19 recovery plans", "Our plan for 2024-25."),
    "ward": ("Recovery on ward 19", "Step-down beds."),
    "winter": ("Recovery in winter", "Covid and flu."),
    # Bullets from Word's symbol fonts come as private-use characters, often with no space.
    "bullets": ("Notes", "\uf0b7Handover checklists\uf0a7done."),
    # An accent typed as a letter and a combining mark (as macOS and PDFs may give it).
    "accent": ("Cafe\u0301 society", "Decomposed."),
    # Ligatures, as text extracted from PDFs often has them.
    "ligature": ("E\ufb03ciency savings", "De\ufb01ned."),
}


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        # Common words are not indexed by PostgreSQL: a phrase is matched without those at its
        # ends, and one of common words alone is not looked for.
        ('"to be"', set()),
        ('improvement -"to be"', {"hamlet", "pasted", "typed"}),
        ('"the flow"', {"chart", "patients", "pasted"}),
        ('"flow the"', {"chart", "patients", "pasted"}),
        # Invisible characters split no word, in the text or in what is typed.
        ("coordination", {"pasted", "typed"}),
        ("co\u200bordi\u200enation", {"pasted", "typed"}),
        ("im\u00adprove\ufeffment", {"hamlet", "pasted", "typed"}),
        ('"continuous improvement"', {"pasted", "typed"}),
        ("flowing", {"chart", "patients", "pasted"}),
        ("handover", {"bullets"}),
        ('"checklists done"', {"bullets"}),
        ("caf\u00e9", {"accent"}),
        ("cafe\u0301 society", {"accent"}),
        ("efficiency defined", {"ligature"}),
        # Numbers after a hyphen.
        ("covid-19", {"covid"}),
        ('"covid 19"', {"covid"}),
        ('"2024-25"', {"covid"}),
        # Leaving out a hyphenated word leaves out that word, not each of its parts.
        ("recovery -covid-19", {"ward", "winter"}),
    ],
)  # fmt: skip
def test_what_is_typed_finds_the_same_on_both_databases(
    typed, found, new_thread, author, find
) -> None:
    threads = {new_thread(*CORPUS[key]).id: key for key in CORPUS}
    assert {threads[thing_id] for _, thing_id in find(author, typed)} == found


def test_only_the_newest_matches_by_date_are_ranked_and_a_new_date_counts(
    new_thread, new_reply, author, find, monkeypatch
) -> None:
    """A search ranks the newest matches only (``services.CANDIDATES``): newest by each thing's
    date, not by when it was indexed. When a row's date changes, it moves with it (on SQLite the
    full-text row's id is made from the date: a row left behind would no longer be found)."""
    from datetime import timedelta

    from sqlalchemy import update

    from peerlearn.core.db import utcnow
    from peerlearn.extensions import db
    from peerlearn.search import services
    from peerlearn.search.models import SearchDocument

    monkeypatch.setattr(services, "CANDIDATES", 2)
    monkeypatch.setattr(services, "ROUND", 2)
    thread = new_thread("Visual management", "Boards.")
    replies = [new_reply(thread, f"Gemba walk notes, take {n}.") for n in range(3)]
    for days, reply in enumerate(replies):  # the first written is dated the latest
        reply.created_at = utcnow() - timedelta(days=days + 1)
    db.session.commit()
    reindex_all()
    newest = [("post", replies[0].id), ("post", replies[1].id)]
    assert sorted(find(author, "gemba")) == newest
    db.session.execute(
        update(SearchDocument)
        .where(SearchDocument.kind == "post", SearchDocument.object_id == replies[2].id)
        .values(activity_at=utcnow())
    )
    db.session.commit()
    assert sorted(find(author, "gemba")) == [("post", replies[0].id), ("post", replies[2].id)]
    assert find(author, '"take 2"') == [("post", replies[2].id)]
