"""An event's Q&A: members ask (stored exactly once, like chat messages) and vote questions up,
one vote each and retractable; moderators mark them answered or dismissed; askers withdraw their
own questions and moderators remove any. Asking and voting need the chat to be open and the member
not muted; who sees which question is the permission policy's (``question_allows``): a dismissed
question only its asker and the space's moderators, a removed one nobody. The Socket.IO handlers
and forms are thin over this."""

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
from peerlearn.permissions import Action, Actor, can, question_filter, signed_in

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


def for_event(
    event: Event, viewer: Actor, order: Literal["votes", "time"] = "votes"
) -> list[Question]:
    """The event's questions ``viewer`` may see (None: those everyone may see): most votes first
    (then oldest), or oldest first."""
    query = (
        select(Question)
        .where(question_filter(viewer, event))
        .options(selectinload(Question.author).selectinload(User.organisation))
    )
    if order == "votes":
        query = query.order_by(Question.vote_count.desc(), Question.id)
    else:
        query = query.order_by(Question.id)
    return list(db.session.scalars(query))


def voted_ids(event: Event, user: User) -> list[int]:
    """The ids of the event's questions ``user`` has voted for (of those they may see)."""
    return list(
        db.session.scalars(
            select(QuestionVote.question_id)
            .join(Question, Question.id == QuestionVote.question_id)
            .where(question_filter(user, event), QuestionVote.user_id == user.id)
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


def check(user: Actor, action: Action, question: Question) -> None:
    """Refuse ``user`` doing ``action`` to a question, as the policy says
    (:func:`~peerlearn.permissions.question_allows`): ``not_found`` when they may not see it
    (what they may not see is never confirmed to exist: removed, or dismissed and not theirs),
    ``forbidden`` with the reason when they may see it but not do this."""
    if not can(user, Action.view, question):
        raise ChatError("not_found", "No such question", field=None)
    if can(user, action, question):
        return
    person = signed_in(user)
    own = person is not None and question.author_id == person.id
    if action is Action.vote and question.status is QuestionStatus.dismissed:
        reason = "A dismissed question cannot be voted for"
    elif action is Action.delete and not own:
        reason = "You can only withdraw your own questions"
    elif action is Action.moderate:
        reason = "Only the space's moderators can do that"
    else:
        reason = "Only members of the space can take part in this chat"
    raise ChatError("forbidden", reason, field=None)


def vote(user: User, question: Question, up: bool) -> Question:
    """Vote for a question (``up``) or retract the vote. One vote per member: voting twice or
    retracting a vote never given changes nothing. A dismissed or removed question takes no votes,
    even one dismissed or removed while the vote was on its way. The count is updated in SQL, so
    votes arriving at once from several processes are all counted."""
    event = db.session.get_one(Event, question.event_id)
    if not chat.is_open(event):
        raise ChatError("chat_closed", "The Q&A is closed", field=None)
    if chat.is_muted(event, user):
        raise ChatError("muted", "A moderator has muted you in this chat", field=None)
    check(user, Action.vote, question)
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
        counted = db.session.execute(
            update(Question)
            .where(
                Question.id == question.id,
                Question.removed_at.is_(None),
                Question.status != QuestionStatus.dismissed,
            )
            .values(vote_count=Question.vote_count + change)
        )
        if not counted.rowcount:  # type: ignore[attr-defined]
            db.session.rollback()  # dismissed or removed since it was read: the vote goes too
            db.session.refresh(question)
            check(user, Action.vote, question)
    db.session.commit()
    db.session.refresh(question)
    return question


def remove(actor: User, question: Question) -> bool:
    """Take a question out of the Q&A for good: its asker withdraws it, or a moderator removes it
    (:func:`~peerlearn.permissions.question_allows`), even after the chat has closed. From then on
    it is shown to nobody, moderators included; its row and text are kept, with who removed it
    and when, and the removal is audited (``chat.question_withdrawn`` by its asker,
    ``chat.question_removed`` by a moderator), never with its text. Says whether it was removed
    now: pressing again, or two people removing it at once, changes nothing more. The caller
    tells the room once this is committed."""
    if question.removed_at is not None and question.removed_by_id == actor.id:
        return False  # the same press again
    check(actor, Action.delete, question)
    done = db.session.execute(
        update(Question)
        .where(Question.id == question.id, Question.removed_at.is_(None))
        .values(removed_at=utcnow(), removed_by_id=actor.id)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()  # removed a moment ago by someone else: it has gone anyway
        return False
    own = question.author_id == actor.id
    _audit("chat.question_withdrawn" if own else "chat.question_removed", actor, question)
    db.session.commit()
    db.session.refresh(question)
    return True


def set_status(moderator: User, question: Question, status: QuestionStatus) -> Question:
    """Mark a question answered or dismissed, or open it again (moderators; audited). A dismissed
    question is shown only to the space's moderators and its asker; a removed one cannot be
    marked."""
    event = db.session.get_one(Event, question.event_id)
    chat.require_moderator(moderator, event)
    if question.removed_at is not None:
        raise ChatError("not_found", "No such question", field=None)
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
    opened = status is QuestionStatus.open
    _audit("chat.question_reopened" if opened else f"chat.question_{status}", moderator, question)
    db.session.commit()
    return question


def _audit(action: str, actor: User, question: Question) -> None:
    """Add ``action`` on the question to the audit log: who, whose question, which event; never
    its text."""
    event = db.session.get_one(Event, question.event_id)
    record(action, actor=actor, subject=question.author, space=event.space, event_id=event.id,
           question_id=question.id)  # fmt: skip
