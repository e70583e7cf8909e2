"""Events' rules in the one permission policy: who may see, answer, attend and run an event
(:func:`event_allows`), and which people in a live chat room may still read it
(:func:`event_readers`); who may see, report and remove a live chat message
(:func:`chat_message_allows`), and which people in the room may see it
(:func:`chat_message_readers`); who may see, vote for, remove and mark a question in its live Q&A
(:func:`question_allows`), the same rule as SQL for the event's list of questions
(:func:`question_filter`), kept side by side so they cannot drift apart, and which people in the
room may see a question (:func:`question_readers`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, false, or_, select

from peerlearn.accounts.models import User
from peerlearn.events.models import ChatMessage, Event, Question, QuestionStatus
from peerlearn.extensions import db
from peerlearn.permissions import (
    Action,
    Actor,
    has_moderator_role,
    membership_of,
    signed_in,
    space_allows,
)
from peerlearn.spaces.models import Membership

#: What a live room's readers are asked about: an event, a chat message or a question.
Target = TypeVar("Target", Event, ChatMessage, Question)


def event_allows(
    user: Actor, action: Action | str, event: Event, membership: Membership | None
) -> bool:
    """Rules for an event, given the user's membership of its space. Pure: no database access.

    Anyone who can read the space can see its events; its members answer them (``post``);
    its moderators edit and cancel them (``moderate``). Those two ``attend``: only they get the
    joining link and see who is going, on the event page and in calendar files alike."""
    action = Action(action)
    space = event.space
    if action in {Action.view, Action.list}:
        return space_allows(user, Action.view, space, membership)
    if action is Action.post:
        return space_allows(user, Action.post, space, membership) and not event.cancelled
    if action in {Action.moderate, Action.manage}:
        return space_allows(user, Action.moderate, space, membership)
    if action is Action.attend:
        return event_allows(user, Action.post, event, membership) or event_allows(
            user, Action.moderate, event, membership
        )
    return False


def _signed_in_with_membership(
    space_id: int, user_ids: Iterable[int]
) -> Iterator[tuple[User, Membership | None]]:
    """Each of these people who is signed in (an active account), with their membership of the
    space: two statements however many people there are."""
    wanted = set(user_ids)
    if not wanted:
        return
    memberships = {
        membership.user_id: membership
        for membership in db.session.scalars(
            select(Membership).where(
                Membership.space_id == space_id, Membership.user_id.in_(wanted)
            )
        )
    }
    for user in db.session.scalars(select(User).where(User.id.in_(wanted))):
        if signed_in(user) is not None:
            yield user, memberships.get(user.id)


def _viewers(
    allows: Callable[[User, Action, Target, Membership | None], bool],
    target: Target,
    space_id: int,
    user_ids: Iterable[int],
) -> set[int]:
    """The ids of those of these people, signed in, whom the rule ``allows`` lets ``view`` the
    target in its space, given their membership of it (:func:`_signed_in_with_membership`)."""
    return {
        user.id
        for user, membership in _signed_in_with_membership(space_id, user_ids)
        if allows(user, Action.view, target, membership)
    }


def event_readers(event: Event, user_ids: Iterable[int]) -> set[int]:
    """Which of these people may read the event now from a live connection: signed in (an active
    account) and allowed to ``view`` it by :func:`event_allows`. For a whole chat room at once,
    in two statements however many people are in it: the live chat asks it when who may read
    changes."""
    return _viewers(event_allows, event, event.space_id, user_ids)


def chat_message_allows(
    user: Actor, action: Action | str, message: ChatMessage, membership: Membership | None
) -> bool:
    """Rules for a message in an event's live chat, given the user's membership of the event's
    space. Pure: no database access.

    Those who may see the event read its chat; a hidden message's text only the space's
    moderators (by role, as hidden posts are). ``delete`` removes it: its author while they may
    answer the event (``post``), or a moderator. ``flag`` reports it to the moderators: anyone
    signed in who reads it, but not its author, and not once it is removed or hidden (nothing is
    left to report), nor in an archived space (nobody could deal with it). ``moderate`` hides,
    restores or pins it."""
    action = Action(action)
    event = message.event
    if not event_allows(user, Action.view, event, membership):
        return False
    if action in {Action.view, Action.list}:
        return message.hidden_at is None or has_moderator_role(user, membership)
    moderator = event_allows(user, Action.moderate, event, membership)
    if action is Action.moderate:
        return moderator
    person = signed_in(user)
    own = person is not None and message.author_id == person.id
    if action is Action.delete:  # a removed one again: nothing happens
        return moderator or (own and event_allows(user, Action.post, event, membership))
    if message.deleted_at is not None:
        return False
    if action is Action.flag:
        return (
            person is not None
            and not own
            and message.hidden_at is None
            and not event.space.archived
        )
    return False


def chat_message_readers(message: ChatMessage, user_ids: Iterable[int]) -> set[int]:
    """Which of these people may see the message now (:func:`chat_message_allows`), in two
    statements however many there are: the live chat asks it to tell a hidden message's text only
    to those who may still read it (the space's moderators)."""
    return _viewers(chat_message_allows, message, message.event.space_id, user_ids)


def question_allows(
    user: Actor, action: Action | str, question: Question, membership: Membership | None
) -> bool:
    """Rules for a question in an event's Q&A, given the user's membership of the event's space.
    Pure: no database access.

    A removed question (withdrawn by its asker, or removed by a moderator) is shown to nobody,
    moderators included, and nobody may act on it. A dismissed one is shown only to the space's
    moderators (by role, as hidden threads are) and to its asker, and nobody votes for it.
    ``vote`` is for those who may answer the event (``post``); ``delete`` removes it: its asker
    withdraws it while a member of the space (even once the chat has closed, they were muted or
    the event was cancelled: they may always take back what they wrote), or a moderator removes
    it; ``moderate`` marks it answered, dismissed or open again."""
    action = Action(action)
    event = question.event
    if question.removed_at is not None or not event_allows(user, Action.view, event, membership):
        return False
    person = signed_in(user)
    own = person is not None and question.author_id == person.id
    dismissed = question.status is QuestionStatus.dismissed
    if action in {Action.view, Action.list}:
        return not dismissed or own or has_moderator_role(user, membership)
    if action is Action.vote:
        return not dismissed and event_allows(user, Action.post, event, membership)
    moderator = event_allows(user, Action.moderate, event, membership)
    if action is Action.delete:
        return moderator or (own and space_allows(user, Action.post, event.space, membership))
    if action is Action.moderate:
        return moderator
    return False


def question_filter(user: Actor, event: Event) -> ColumnElement[bool]:
    """SQL condition on :class:`Question` matching exactly the questions of ``event`` that
    :func:`question_allows` lets the user ``view``: none that was removed, and dismissed ones
    only for the space's moderators and their askers."""
    membership = membership_of(user, event.space)
    if not event_allows(user, Action.view, event, membership):
        return false()
    kept = and_(Question.event_id == event.id, Question.removed_at.is_(None))
    if has_moderator_role(user, membership):
        return kept
    person = signed_in(user)
    shown: ColumnElement[bool] = Question.status != QuestionStatus.dismissed
    if person is not None:
        shown = or_(shown, Question.author_id == person.id)
    return and_(kept, shown)


def question_readers(question: Question, user_ids: Iterable[int]) -> set[int]:
    """Which of these people may see the question now (:func:`question_allows`), in two
    statements however many there are: the live Q&A asks it to tell a dismissed question only to
    those who may still see it."""
    return _viewers(question_allows, question, question.event.space_id, user_ids)
