"""The demo events: past ones with transcripts, upcoming ones, and one whose chat is open now,
seeded once, and still open when the demo is started again on a later day."""

from datetime import timedelta

from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.demo_events import EVENTS, seed_events
from peerlearn.discussions.models import Post, Thread
from peerlearn.events import chat
from peerlearn.events.models import (
    ChatMessage,
    Event,
    Question,
    QuestionStatus,
    QuestionVote,
    Rsvp,
)
from peerlearn.extensions import db
from peerlearn.spaces.models import Membership, MemberState
from tests.conftest import PASSWORD

COUNTED = (Event, ChatMessage, Question, QuestionVote, Rsvp, Thread, Post)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _messages(event):
    return db.session.scalars(
        select(ChatMessage).where(ChatMessage.event_id == event.id).order_by(ChatMessage.id)
    ).all()


def test_seed_demo_adds_past_upcoming_and_open_events(demo):
    events = db.session.scalars(select(Event)).all()
    assert len(events) == len(EVENTS) == 6
    _past_events_have_believable_transcripts(events, demo.finished)
    upcoming = [e for e in events if e.starts_at > demo.finished]
    assert len(upcoming) == 3 and len({e.space_id for e in upcoming}) == 3
    (live,) = [e for e in events if chat.is_open(e)]
    # Ten minutes before the seeding, to the minute below (however long the seeding took).
    assert demo.started - timedelta(minutes=11) <= live.starts_at
    assert live.starts_at <= demo.finished - timedelta(minutes=10)
    assert live.ends_at == live.starts_at + timedelta(minutes=90)
    assert 3 <= len(_messages(live)) <= 10
    # Each names the one before it, as the chat's own messages do (docs/live-chat.md).
    ids = [m.id for m in _messages(live)]
    assert [m.previous_id for m in _messages(live)] == [None, *ids[:-1]]
    assert all(m.created_at <= demo.finished for m in _messages(live))
    assert f"/events/{live.id}" in demo.output and "is open now" in demo.output


def test_a_member_reads_a_demo_transcript(demo_copy):
    """On a copy of the seeded demo: signing in writes (the audit log, when last seen)."""
    past = db.session.scalars(select(Event).where(Event.record_thread_id.is_not(None))).first()
    client = demo_copy.test_client()
    aisha = db.session.scalar(select(User).where(User.handle == "aisha-khan"))
    signed_in = client.post("/login", data={"email": aisha.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    page = client.get(f"/events/{past.id}/transcript").get_data(as_text=True)
    assert "Message removed" in page and "The record of this event is in the forum" in page


def test_seeding_the_events_again_adds_none_and_keeps_the_drop_in_open_on_a_later_day(
    demo_copy,
):
    """On a copy of the seeded demo: the events' part again, and again on a "later day"."""
    now = utcnow()
    (live,) = [e for e in db.session.scalars(select(Event)) if chat.is_open(e)]
    upcoming = db.session.scalars(select(Event).where(Event.starts_at > now)).all()
    before = {model.__name__: _count(model) for model in COUNTED}
    assert seed_events() == 0
    assert {model.__name__: _count(model) for model in COUNTED} == before

    # A later day: the drop-in (and an upcoming event) are over when the demo starts again.
    later = timedelta(days=3, hours=5)
    live.starts_at, live.ends_at = live.starts_at - later, live.ends_at - later
    for message in _messages(live):
        message.created_at -= later
    first = upcoming[0]
    first.starts_at, first.ends_at = now - timedelta(days=8), now - timedelta(days=8, hours=-1)
    db.session.commit()
    assert seed_events() == 0
    db.session.expire_all()
    assert {model.__name__: _count(model) for model in COUNTED} == before
    live, first = db.session.get(Event, live.id), db.session.get(Event, first.id)
    assert chat.is_open(live) and live.sequence == 1
    assert all(live.starts_at - timedelta(minutes=30) <= m.created_at for m in _messages(live))
    assert first.starts_at > utcnow() and first.sequence == 1


def _past_events_have_believable_transcripts(events, now):
    past = [e for e in events if e.ends_at < now]
    assert len(past) == 2
    for event in past:
        messages = _messages(event)
        assert 15 <= len(messages) <= 30, event.title
        authors = {m.author_id for m in messages}
        assert len(authors) >= 4
        for author_id in authors:  # everyone who spoke is a member of the space
            member = db.session.scalar(
                select(Membership).where(
                    Membership.space_id == event.space_id, Membership.user_id == author_id
                )
            )
            assert member is not None and member.state is MemberState.active
        pinned = [m for m in messages if m.pinned_at is not None]
        assert any("https://" in m.body_html for m in pinned)
        window = chat.window(event)
        assert all(window[0] <= m.created_at <= window[1] for m in messages)
        questions = db.session.scalars(select(Question).where(Question.event_id == event.id))
        questions = questions.all()
        assert {q.status for q in questions} >= {QuestionStatus.answered, QuestionStatus.open}
        for question in questions:
            votes = select(func.count()).where(QuestionVote.question_id == question.id)
            assert question.vote_count == db.session.scalar(votes)
        assert any(q.vote_count >= 2 for q in questions)
    (recorded,) = [e for e in past if e.record_thread_id]
    thread = db.session.get(Thread, recorded.record_thread_id)
    assert thread.title == f"Record: {recorded.title}" and thread.space_id == recorded.space_id
    assert recorded.ends_at < thread.created_at <= now
    opening = db.session.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    answered = db.session.scalars(
        select(Question).where(
            Question.event_id == recorded.id, Question.status == QuestionStatus.answered
        )
    )
    assert all(q.body_source in opening.body_source for q in answered)
    assert "qms-in-practice-slides.pdf" in opening.body_source
