"""The live event chat's history: the latest messages for a newcomer, and, for a reader catching
up after the id up to which it has every message (a rejoin, or a gap filled in the room), the
messages since, the removals and hidings before it, and the hidden messages restored meanwhile.
The messages sent are bounded, however long the chat or however old the id (the lists of
removed and hidden message ids are not: ids only, and a reader needs them all to show the chat
right); the transcript (``transcripts.py``) is where the whole chat is read. The chat's rules
are in ``chat.py``."""

from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from peerlearn.accounts.models import User
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db

#: How many of the latest messages a newcomer to the chat is given (and the event page shows).
HISTORY = 50
#: The most messages a reader catching up after an id is given at once: the latest of those after
#: it. Without a bound, ``after_id`` 0 would send a whole chat in one answer.
CATCH_UP = 200


class Latest(NamedTuple):
    """The latest messages of an event's chat, in order, and whether earlier ones (after the id
    caught up after, if any) were left out of them: the transcript has those."""

    messages: list[ChatMessage]
    earlier_left_out: bool


def history(event: Event, after_id: int | None = None) -> Latest:
    """The messages after ``after_id``, in order, up to the latest :data:`CATCH_UP` of them;
    without ``after_id``, the latest :data:`HISTORY`. One statement: one more message than
    that is read, to tell whether earlier ones were left out."""
    most = HISTORY if after_id is None else CATCH_UP
    after = true() if after_id is None else ChatMessage.id > after_id
    newest_first = messages_where(event, after, ChatMessage.id.desc(), most=most + 1)
    return Latest(newest_first[:most][::-1], len(newest_first) > most)


def messages_where(
    event: Event,
    condition: ColumnElement[bool],
    *order: ColumnElement[Any] | InstrumentedAttribute[Any],
    most: int | None = None,
) -> list[ChatMessage]:
    """The event's messages that meet ``condition``, in ``order`` (``most`` of them at the
    most), with their authors and the authors' organisations, as payloads show them."""
    return list(
        db.session.scalars(
            select(ChatMessage)
            .where(ChatMessage.event_id == event.id, condition)
            .options(selectinload(ChatMessage.author).selectinload(User.organisation))
            .order_by(*order)
            .limit(most)
        )
    )


def deleted_ids(event: Event, up_to: int) -> list[int]:
    """The ids, up to ``up_to``, of the event's removed messages, in order: a reader catching up
    after ``up_to`` marks those it still shows as removed (the messages after it say so
    themselves). Not capped: each removal is one person's deliberate act, so even a busy chat has
    few, and they are only ids."""
    return _ids_up_to(event, up_to, ChatMessage.deleted_at.is_not(None))


def hidden_ids(event: Event, up_to: int) -> list[int]:
    """The ids, up to ``up_to``, of the event's messages hidden pending a moderator's review, in
    order: like :func:`deleted_ids`, for a reader catching up (few: each is a report's)."""
    return _ids_up_to(
        event, up_to, ChatMessage.hidden_at.is_not(None) & ChatMessage.deleted_at.is_(None)
    )


def restored(event: Event, ids: list[int]) -> list[ChatMessage]:
    """Of the event's messages with these ids (those a rejoining reader still shows hidden),
    the ones a moderator has restored since, in order, to show again as they are now."""
    if not ids:
        return []
    shown_again = and_(
        ChatMessage.id.in_(ids), ChatMessage.hidden_at.is_(None), ChatMessage.deleted_at.is_(None)
    )
    return messages_where(event, shown_again, ChatMessage.id)


def _ids_up_to(event: Event, up_to: int, condition: ColumnElement[bool]) -> list[int]:
    return list(
        db.session.scalars(
            select(ChatMessage.id)
            .where(ChatMessage.event_id == event.id, ChatMessage.id <= up_to, condition)
            .order_by(ChatMessage.id)
        )
    )
