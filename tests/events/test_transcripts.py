"""After the event: the transcript page, its Markdown and CSV downloads, and posting the record
to the space's forum once."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.core.text import render_markdown
from peerlearn.discussions.following import set_space_following
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.services import ThreadDraft, start_thread
from peerlearn.events.models import ChatMessage, Event, Question, QuestionStatus, QuestionVote
from peerlearn.events.transcripts import post_record
from peerlearn.extensions import db
from peerlearn.notifications.models import Notification, NotificationKind
from peerlearn.spaces.models import MemberRole, Visibility
from tests.concurrency import WRITES, at_once, first_writes_meet

#: 14:00 to 15:30 in London on a summer day (BST, so 13:00 UTC).
STARTS = datetime(2026, 7, 9, 13, 0, tzinfo=UTC)
SLIDES = "Slides: https://example.org/qms-slides.pdf"


def _message(event, author, body, minute, *, pinned=False, deleted=False, client_id=None):
    at = event.starts_at + timedelta(minutes=minute)
    message = ChatMessage(
        event_id=event.id,
        author_id=author.id,
        client_id=client_id or f"c-{event.id}-{minute}-{body[:8]}",
        body_source=body,
        body_html=render_markdown(body),
        created_at=at,
        pinned_at=at if pinned else None,
        deleted_at=at + timedelta(minutes=1) if deleted else None,
    )
    db.session.add(message)
    return message


def _question(event, author, body, status, voters):
    question = Question(
        event_id=event.id,
        author_id=author.id,
        client_id=f"q-{body[:12]}",
        body_source=body,
        body_html=render_markdown(body),
        created_at=event.starts_at + timedelta(minutes=20),
        status=status,
        vote_count=len(voters),
    )
    db.session.add(question)
    db.session.flush()
    db.session.add_all(QuestionVote(question_id=question.id, user_id=v.id) for v in voters)
    return question


def _event(space, moderator, title="QMS in practice", starts=STARTS):
    event = Event(
        space=space,
        created_by=moderator,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        joining_url="https://meet.example.org/qms",
    )
    db.session.add(event)
    db.session.commit()
    return event


@pytest.fixture
def past_event(sig, moderator, member):
    """A finished event with a chat (one removed, one pinned message) and a Q&A."""
    event = _event(sig, moderator)
    aisha, tom = member("Aisha Khan"), member("Tom Whitfield")
    _message(event, moderator, "Welcome, everyone. Questions in the Q&A panel, please.", 2)
    _message(event, aisha, "Hello from **Lancashire**!", 5)
    _message(event, tom, "Buy cheap watches at spam.example", 6, deleted=True)
    _message(event, moderator, SLIDES, 7, pinned=True)
    _message(event, tom, '=HYPERLINK("https://evil.example","Click")', 8)
    _message(event, aisha, "+44 1234 and -5 and @SUM(A1)", 9)
    _question(event, aisha, "How did you get the board to own the QMS?", QuestionStatus.answered,
              [tom, moderator])  # fmt: skip
    _question(event, tom, "Which SPC tool do you use?", QuestionStatus.open, [aisha])
    _question(event, tom, "Off-topic question", QuestionStatus.dismissed, [])
    db.session.commit()
    return event


def test_the_transcript_page_shows_the_chat_pins_and_questions_in_london_time(
    client, login, past_event, member
):
    login(client, member())
    response = client.get(f"/events/{past_event.id}/transcript")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    chat = page.split('id="chat"')[1]
    assert chat.index("Welcome, everyone") < chat.index("Lancashire") < chat.index("Slides")
    assert "Hello from <strong>Lancashire</strong>!" in chat
    assert "Message removed" in chat and "spam.example" not in page
    assert ">14:05<" in chat  # 13:05 UTC is 14:05 in London in July
    pinned = page.split('id="pinned"')[1].split('id="questions"')[0]
    assert "qms-slides.pdf" in pinned and "Lancashire" not in pinned
    questions = page.split('id="questions"')[1].split('id="chat"')[0]
    assert questions.index("board to own") < questions.index("SPC tool")  # most votes first
    assert "Answered" in questions and "2 votes" in questions and "1 vote<" in questions
    assert "Not answered" in questions
    # A dismissed question is for the moderators and its asker only.
    assert "Dismissed" not in questions and "Off-topic" not in page
    assert "Post the record to the forum" not in page  # members do not post the record


def test_a_long_chat_is_paged_in_order(client, login, sig, moderator, member):
    event = _event(sig, moderator)
    for minute in range(120):
        _message(event, moderator, f"Message number {minute + 1:03d}", minute)
    db.session.commit()
    login(client, member())
    first = client.get(f"/events/{event.id}/transcript").get_data(as_text=True)
    assert "Message number 001" in first and "Message number 100" in first
    assert "Message number 101" not in first and "Page 2 of 2" in first
    assert 'href="?page=2#chat"' in first  # to the chat, below the pins and questions
    second = client.get(f"/events/{event.id}/transcript?page=2").get_data(as_text=True)
    assert "Message number 101" in second and "Message number 120" in second
    assert "Message number 100" not in second and 'href="?page=1#chat"' in second
    beyond = client.get(f"/events/{event.id}/transcript?page=50").get_data(as_text=True)
    assert "Message number 101" in beyond and "Message number 120" in beyond  # the last page
    assert "Page 49 of 2" not in beyond and "Message number 100" not in beyond


def _download(client, event, extension, mimetype):
    """A transcript download, checked to be an attachment with a readable file name."""
    response = client.get(f"/events/{event.id}/transcript.{extension}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="qms-in-practice-2026-07-09-transcript.{extension}"'
    )
    return response


def _rows(response):
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_csv_download_is_plain_text_safe_in_a_spreadsheet(client, login, past_event, member):
    login(client, member())
    rows = _rows(_download(client, past_event, "csv", "text/csv"))
    assert list(rows[0]) == [
        "id", "time_utc", "time_london", "author", "organisation", "text", "pinned", "deleted",
    ]  # fmt: skip
    assert len(rows) == 6
    hello = rows[1]
    assert hello["text"] == "Hello from **Lancashire**!"  # the source, not HTML
    assert hello["author"] == "Aisha Khan" and hello["organisation"]
    assert hello["time_utc"] == "2026-07-09T13:05:00Z"
    assert hello["time_london"] == "2026-07-09T14:05:00+01:00"
    removed = rows[2]
    assert removed["deleted"] == "yes" and removed["text"] == ""
    assert rows[3]["pinned"] == "yes" and rows[3]["text"] == SLIDES
    assert rows[4]["text"] == '\'=HYPERLINK("https://evil.example","Click")'
    assert rows[5]["text"] == "'+44 1234 and -5 and @SUM(A1)"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_no_csv_cell_can_start_a_formula(client, login, sig, moderator, member, start):
    sneaky = member(f"{start}cmd|' /C calc'!A0")
    event = _event(sig, moderator)
    _message(event, sneaky, f"{start}1+1", 3)
    db.session.commit()
    login(client, sneaky)
    (row,) = _rows(client.get(f"/events/{event.id}/transcript.csv"))
    assert row["text"] == f"'{start}1+1"
    assert row["author"].startswith("'")


def test_the_markdown_download_has_the_pins_questions_and_chat(client, login, past_event, member):
    login(client, member())
    text = _download(client, past_event, "md", "text/markdown").get_data(as_text=True)
    assert text.startswith("# Transcript: QMS in practice\n")
    assert "Thursday 9 July 2026, 14:00 to 15:30 (UK time)" in text
    pinned = text.split("## Pinned messages")[1].split("## Questions")[0]
    assert SLIDES in pinned
    questions = text.split("## Questions")[1].split("## Chat")[0]
    assert "### Answered" in questions and "### Not answered" in questions
    assert "How did you get the board to own the QMS? (asked by Aisha Khan, 2 votes)" in questions
    chat = text.split("## Chat")[1]
    assert "> Hello from **Lancashire**!" in chat
    assert "_Message removed_" in chat and "spam.example" not in text
    assert "**Aisha Khan" in chat and ", 14:05" in chat


def test_a_private_space_keeps_its_transcript_from_outsiders(
    client, new_client, login, make_space, make_user, add_member, moderator
):
    private = make_space("Private group", visibility=Visibility.private)
    add_member(private, moderator, MemberRole.moderator)
    event = _event(private, moderator)
    _message(event, moderator, "Members only", 1)
    db.session.commit()
    login(client, make_user("An Outsider"))
    for suffix in ("", ".md", ".csv"):
        assert client.get(f"/events/{event.id}/transcript{suffix}").status_code == 404
    assert client.post(f"/events/{event.id}/record").status_code == 404
    anonymous = new_client()
    response = anonymous.get(f"/events/{event.id}/transcript.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    insider = new_client()
    login(insider, moderator)
    assert "Members only" in insider.get(f"/events/{event.id}/transcript.csv").get_data(
        as_text=True
    )


def test_a_public_spaces_transcript_is_public_like_its_event(new_client, make_space, moderator):
    public = make_space("Open community", visibility=Visibility.public)
    event = _event(public, moderator)
    _message(event, moderator, "Everyone can read this", 1)
    db.session.commit()
    visitor = new_client()
    assert "Everyone can read this" in visitor.get(f"/events/{event.id}/transcript").get_data(
        as_text=True
    )
    assert visitor.get(f"/events/{event.id}/transcript.md").status_code == 200
    response = visitor.post(f"/events/{event.id}/record")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _threads() -> int:
    return db.session.scalar(select(func.count()).select_from(Thread))


def test_a_moderator_posts_the_record_to_the_forum_once(
    client, login, past_event, moderator, member
):
    follower = member("Space Follower")
    set_space_following(follower, past_event.space, True)
    login(client, moderator)
    transcript = client.get(f"/events/{past_event.id}/transcript").get_data(as_text=True)
    assert "Post the record to the forum" in transcript
    confirm = client.get(f"/events/{past_event.id}/record").get_data(as_text=True)
    assert "Record: QMS in practice" in confirm and "board to own" in confirm
    assert _threads() == 0  # looking is not posting

    response = client.post(f"/events/{past_event.id}/record")
    assert response.status_code == 302
    thread = db.session.scalars(select(Thread)).one()
    assert response.headers["Location"].endswith(f"/threads/{thread.id}")
    assert thread.title == "Record: QMS in practice" and thread.space_id == past_event.space_id
    assert thread.author_id == moderator.id
    body = db.session.scalars(select(Post).where(Post.thread_id == thread.id)).one().body_source
    assert "How did you get the board to own the QMS? (asked by Aisha Khan, 2 votes)" in body
    assert SLIDES in body
    assert "SPC tool" not in body and "Off-topic" not in body  # only answered questions
    assert f"/events/{past_event.id}/transcript" in body
    db.session.expire_all()
    assert db.session.get(Event, past_event.id).record_thread_id == thread.id
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "event.record_posted")
    ).one()
    assert audit.actor_id == moderator.id and audit.detail["thread_id"] == thread.id
    told = select(Notification).where(Notification.user_id == follower.id)
    assert db.session.scalars(told).one().kind is NotificationKind.new_thread
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The record is posted to the forum" in page
    assert 'href="https://example.org/qms-slides.pdf"' in page

    again = client.post(f"/events/{past_event.id}/record", follow_redirects=True)
    assert "already posted to the forum" in again.get_data(as_text=True)
    assert _threads() == 1
    transcript = client.get(f"/events/{past_event.id}/transcript").get_data(as_text=True)
    assert "The record of this event is in the forum" in transcript
    assert f'href="/threads/{thread.id}"' in transcript


def test_names_and_titles_in_the_record_are_plain_text(client, login, sig, moderator, member):
    # The record is the moderator's post: a member's name or the event's title must not become
    # a link or formatting in it (a name is not Markdown anywhere else).
    event = _event(sig, moderator, title="QMS [part 2](https://evil.example/title) *live*")
    trickster = member("[Re-verify your NHS account](https://evil.example/phish)")
    _question(event, trickster, "What about flow?", QuestionStatus.answered, [])
    _message(event, trickster, "The slides", 7, pinned=True)
    db.session.commit()
    login(client, moderator)
    client.post(f"/events/{event.id}/record")
    html = db.session.scalars(select(Post)).one().body_html
    assert "evil.example" not in "".join(re.findall(r'href="([^"]*)"', html))
    assert "<em>" not in html
    assert "asked by [Re-verify your NHS account](https://evil.example/phish), 0 votes" in html
    assert "QMS [part 2](https://evil.example/title) *live*" in html


def test_a_resubmitted_record_finds_the_thread_already_posted(client, login, past_event, moderator):
    login(client, moderator)
    client.post(f"/events/{past_event.id}/record")
    thread = db.session.scalars(select(Thread)).one()
    # As if the second press had been sent before the first had noted its thread on the event.
    db.session.get(Event, past_event.id).record_thread_id = None
    db.session.commit()
    response = client.post(f"/events/{past_event.id}/record", follow_redirects=True)
    assert response.request.path == f"/threads/{thread.id}"
    assert "already posted to the forum" in response.get_data(as_text=True)
    assert _threads() == 1
    db.session.expire_all()
    assert db.session.get(Event, past_event.id).record_thread_id == thread.id


def test_two_moderators_posting_the_record_at_once_post_one(
    app, past_event, moderator, make_user, add_member
):
    second = make_user("Second Moderator")
    add_member(past_event.space, second, MemberRole.moderator)
    event_id, posted = past_event.id, []

    def press(user_id: int) -> None:
        thread, new = post_record(db.session.get(User, user_id), db.session.get(Event, event_id))
        posted.append((thread.id, new))

    # Each has checked for a record, none has written one yet.
    with first_writes_meet(WRITES, before=True):
        at_once(app, [lambda: press(moderator.id), lambda: press(second.id)])
    assert _threads() == 1
    thread_id = db.session.scalars(select(Thread.id)).one()
    assert sorted(posted) == [(thread_id, False), (thread_id, True)]
    db.session.expire_all()
    assert db.session.get(Event, event_id).record_thread_id == thread_id


def test_a_thread_a_member_gave_the_records_key_is_not_taken_for_the_record(
    client, login, past_event, moderator, member
):
    # A form's one-time key is chosen by the browser: a member may send the record's.
    forger = member("Fay Forger")
    forged, _ = start_thread(forger, past_event.space, ThreadDraft(
        title="Not the record", body="Mine", submission_key=f"event-record-{past_event.id}"))  # fmt: skip
    login(client, moderator)
    client.post(f"/events/{past_event.id}/record")
    db.session.expire_all()
    record_id = db.session.get(Event, past_event.id).record_thread_id
    assert record_id not in (None, forged.id)
    assert db.session.get(Thread, record_id).author_id == moderator.id


def test_members_cannot_post_the_record(client, login, past_event, member):
    login(client, member())
    assert client.get(f"/events/{past_event.id}/record").status_code == 403
    assert client.post(f"/events/{past_event.id}/record").status_code == 403
    assert _threads() == 0


def test_there_is_no_record_before_the_chat_opens(client, login, sig, moderator):
    event = _event(sig, moderator, starts=utcnow() + timedelta(days=2))
    login(client, moderator)
    page = client.get(f"/events/{event.id}/transcript").get_data(as_text=True)
    assert "The chat has not opened yet" in page and "Post the record" not in page
    # Nothing is offered that would be empty: no downloads, no "nobody wrote".
    assert "transcript.md" not in page and "Nobody wrote in the chat" not in page
    response = client.post(f"/events/{event.id}/record", follow_redirects=True)
    assert "nothing to record" in response.get_data(as_text=True)
    assert _threads() == 0


PATIENT = "Jane Doe, NHS number 943 476 5919"


@pytest.fixture
def sensitive_event(sig, moderator, member):
    """A finished event whose Q&A holds patient details: in a question its asker withdrew, in one
    answered and then removed by a moderator, and in one a moderator dismissed (asked by
    ``asker``); and an ordinary answered question."""
    event = _event(sig, moderator)
    asker, other = member("Tom Whitfield"), member("Aisha Khan")
    withdrawn = _question(event, asker, f"Withdrawn: {PATIENT}?", QuestionStatus.open, [])
    removed = _question(event, other, f"Removed: {PATIENT}?", QuestionStatus.answered, [asker])
    _question(event, asker, f"Dismissed: {PATIENT}?", QuestionStatus.dismissed, [])
    _question(event, other, "How did you get the board to own the QMS?", QuestionStatus.answered,
              [])  # fmt: skip
    withdrawn.removed_at, withdrawn.removed_by_id = utcnow(), asker.id
    removed.removed_at, removed.removed_by_id = utcnow(), moderator.id
    db.session.commit()
    return event, asker


@pytest.mark.parametrize("viewer", ["member", "asker", "moderator"])
def test_dismissed_questions_are_for_moderators_and_their_asker_and_removed_ones_for_nobody(
    client, login, sensitive_event, member, moderator, viewer
):
    event, asker = sensitive_event
    login(client, {"member": member(), "asker": asker, "moderator": moderator}[viewer])
    page = client.get(f"/events/{event.id}/transcript").get_data(as_text=True)
    text = _download(client, event, "md", "text/markdown").get_data(as_text=True)
    for shown in (page, text):
        assert "Withdrawn:" not in shown and "Removed:" not in shown
        assert "board to own" in shown
        assert ("Dismissed: Jane Doe" in shown) is (viewer != "member")
    questions = text.split("## Questions")[1].split("## Chat")[0]
    assert ("### Dismissed" in questions) is (viewer != "member")
    if viewer != "member":
        assert "shown only to the space's moderators and to the person who asked" in page


def test_the_record_never_copies_a_removed_or_dismissed_question(
    client, login, sensitive_event, moderator
):
    event, _ = sensitive_event
    login(client, moderator)
    confirm = client.get(f"/events/{event.id}/record").get_data(as_text=True)
    assert "board to own" in confirm and "943 476 5919" not in confirm
    client.post(f"/events/{event.id}/record")
    body = db.session.scalars(select(Post)).one().body_source
    assert "board to own" in body and "943 476 5919" not in body


def test_an_asker_withdraws_a_question_from_the_transcript_after_the_event(
    client, new_client, login, sensitive_event, member
):
    event, asker = sensitive_event
    other = new_client()
    login(other, member())
    assert "Withdraw<span" not in other.get(f"/events/{event.id}/transcript").get_data(as_text=True)
    login(client, asker)
    page = client.get(f"/events/{event.id}/transcript").get_data(as_text=True)
    [action] = re.findall(r'action="(/events/\d+/questions/\d+/remove)"', page)
    response = client.post(action, data={"back": "transcript"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Your question has been withdrawn." in page and "943 476 5919" not in page
    withdrawn = select(AuditEntry).where(AuditEntry.action == "chat.question_withdrawn")
    assert db.session.scalars(withdrawn).one().actor_id == asker.id


def test_the_events_help_page_explains_the_chat_rules_and_transcripts(client):
    page = client.get("/help/events").get_data(as_text=True)
    for words in ("2,000 characters", "slow mode", "mute", "500 characters", "transcript",
                  "Post the record to the forum", "calendar", "Withdraw", "dismissed"):  # fmt: skip
        assert words in page
    assert 'href="/help/events"' in client.get("/events").get_data(as_text=True)
