"""An event's Q&A: members ask (stored exactly once, like chat messages) and vote questions up,
one vote each and retractable; moderators mark them answered or dismissed. Asking and voting need
the chat to be open and the member not muted; the Socket.IO handlers and forms are thin over this."""

from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.core.text import render_markdown
from peerlearn.events import chat
from peerlearn.events.chat import ChatError
from peerlearn.events.models import Event, Question, QuestionStatus, QuestionVote
from peerlearn.extensions import db

MAX_QUESTION = 500


def payload(question: Question) -> dict[str, Any]:
    """A question as the Socket.IO contract describes it."""
    return {
        "id": question.id,
        "event_id": question.event_id,
        "author": chat.author_payload(question.author),
        "body_html": question.body_html,
        "created_at": question.created_at.isoformat(),
        "client_id": question.client_id,
        "votes": question.vote_count,
        "status": question.status.value,
    }


def for_event(event: Event, order: Literal["votes", "time"] = "votes") -> list[Question]:
    """All the event's questions: most votes first (then oldest), or oldest first."""
    query = (
        select(Question)
        .where(Question.event_id == event.id)
        .options(selectinload(Question.author).selectinload(User.organisation))
    )
    if order == "votes":
        query = query.order_by(Question.vote_count.desc(), Question.id)
    else:
        query = query.order_by(Question.id)
    return list(db.session.scalars(query))


def voted_ids(event: Event, user: User) -> list[int]:
    """The ids of the event's questions ``user`` has voted for."""
    return list(
        db.session.scalars(
            select(QuestionVote.question_id)
            .join(Question, Question.id == QuestionVote.question_id)
            .where(Question.event_id == event.id, QuestionVote.user_id == user.id)
            .order_by(QuestionVote.question_id)
        )
    )


def ask(author: User, event: Event, body: str, client_id: str) -> tuple[Question, bool]:
    """Store a question and say whether it is new; the same ``client_id`` again returns the
    stored one (see :func:`~peerlearn.events.chat.store_once`)."""

    def build() -> Question:
        text = chat.check_can_write(author, event, body, MAX_QUESTION, "Questions")
        return Question(event_id=event.id, author_id=author.id, client_id=client_id,
                        body_source=text, body_html=render_markdown(text))  # fmt: skip

    return chat.store_once(Question, author, event, client_id, build)


def has_voted(user: User, question: Question) -> bool:
    """Whether ``user`` has voted for ``question``."""
    return db.session.get(QuestionVote, (question.id, user.id)) is not None


def vote(user: User, question: Question, up: bool) -> Question:
    """Vote for a question (``up``) or retract the vote. One vote per member: voting twice or
    retracting a vote never given changes nothing. The count is updated in SQL, so votes arriving
    at once from several processes are all counted."""
    event = db.session.get_one(Event, question.event_id)
    if not chat.is_open(event):
        raise ChatError("chat_closed", "The Q&A is closed", field=None)
    if chat.is_muted(event, user):
        raise ChatError("muted", "A moderator has muted you in this chat", field=None)
    if up:
        db.session.add(QuestionVote(question_id=question.id, user_id=user.id))
        try:
            db.session.flush()
        except IntegrityError:  # already voted
            db.session.rollback()
            return db.session.get_one(Question, question.id)
        change = 1
    else:
        removed = db.session.execute(
            delete(QuestionVote).where(
                QuestionVote.question_id == question.id, QuestionVote.user_id == user.id
            )
        )
        change = -removed.rowcount  # type: ignore[attr-defined]
    if change:
        db.session.execute(
            update(Question)
            .where(Question.id == question.id)
            .values(vote_count=Question.vote_count + change)
        )
    db.session.commit()
    db.session.refresh(question)
    return question


def set_status(moderator: User, question: Question, status: QuestionStatus) -> Question:
    """Mark a question answered or dismissed, or open it again (moderators; audited)."""
    event = db.session.get_one(Event, question.event_id)
    chat.require_moderator(moderator, event)
    try:
        status = QuestionStatus(status)
    except ValueError:
        raise ChatError(
            "bad_request", "Choose answered, dismissed or open", field="status"
        ) from None
    if question.status is status:
        return question
    question.status = status
    question.status_changed_at = utcnow()
    question.status_changed_by_id = moderator.id
    record(
        "chat.question_reopened" if status is QuestionStatus.open else f"chat.question_{status}",
        actor=moderator,
        subject=question.author,
        space=event.space,
        event_id=event.id,
        question_id=question.id,
    )
    db.session.commit()
    return question
