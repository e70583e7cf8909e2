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


def test_common_words_in_phrases_are_treated_alike_on_both_databases(
    new_thread, author, find
) -> None:
    # PostgreSQL's English configuration never indexes common words, so a phrase is matched
    # without those at its ends, and one of common words alone is not looked for at all.
    both = new_thread("Hamlet", "To be or not to be: improvement in question.")
    chart = new_thread("Charts", "The flow chart.")
    patients = new_thread("Patients", "Flow coaching for patients.")
    assert find(author, '"to be"') == []
    assert find(author, 'improvement -"to be"') == [("thread", both.id)]
    found = {("thread", chart.id), ("thread", patients.id)}
    assert set(find(author, '"the flow"')) == found
    assert set(find(author, '"flow the"')) == found


def test_invisible_characters_inside_words_neither_hide_nor_break_them(
    new_thread, author, find
) -> None:
    # Soft hyphens, zero-width spaces, word joiners and direction marks come with text pasted
    # from documents and web pages; they do not show, so they must not split a word in two.
    pasted = new_thread("Co\u200bordination", "Continuous improve\u00adment, flow\u2060ing.")
    typed = new_thread("Coordination", "Continuous improvement.")
    both = {("thread", pasted.id), ("thread", typed.id)}
    for words in [
        "coordination",
        "improvement",
        "co\u200bordi\u200enation",
        "im\u00adprove\ufeffment",
    ]:
        assert set(find(author, words)) == both, words
    assert find(author, "flowing") == [("thread", pasted.id)]
    assert find(author, '"continuous improve\u00adment"') != []


def test_leaving_out_a_hyphenated_word_leaves_out_that_word_not_each_part(
    new_thread, author, find
) -> None:
    covid = new_thread("Covid-19 recovery plans", "Restoring elective activity.")
    ward = new_thread("Recovery on ward 19", "Step-down beds.")
    winter = new_thread("Recovery in winter", "Covid and flu.")
    found = set(find(author, "recovery -covid-19"))
    assert found == {("thread", ward.id), ("thread", winter.id)}
    assert ("thread", covid.id) in find(author, "recovery covid-19")


def test_words_with_numbers_after_a_hyphen_are_found_on_both_databases(
    new_thread, author, find
) -> None:
    # PostgreSQL reads "Covid-19" as "covid" and the signed number "-19"; SQLite as "covid" and
    # "19". Either way, what the reader types finds it.
    covid = new_thread("Covid-19 recovery plans", "Our plan for 2024-25.")
    for words in ["covid-19", "covid 19", '"covid-19"', '"covid 19"', "2024-25", '"2024 25"']:
        assert find(author, words) == [("thread", covid.id)], words
    assert find(author, "recovery -covid-19") == []
