"""The live event chat's rules: when it is open, storing messages exactly once, removing messages,
and the moderators' tools (pin, mute, slow mode, close and reopen). The Socket.IO handlers in
``sockets.py`` and the no-JavaScript forms are thin over this; the history a reader is given on
joining or catching up lives in ``chat_history.py``, the Q&A in ``questions.py``."""

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import and_, bindparam, false, func, select, update
from sqlalchemy.exc import IntegrityError

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import commit_keeping_loaded, utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.templating import local_time
from peerlearn.core.text import render_markdown
from peerlearn.events.chat_history import messages_where
from peerlearn.events.models import ChatMessage, ChatMute, Event, Question
from peerlearn.extensions import db
from peerlearn.permissions import Action, can

MAX_MESSAGE = 2_000
MAX_CLIENT_ID = 64
#: A row stored exactly once per author and client id.
Row = TypeVar("Row", ChatMessage, Question)
#: The longest slow mode a moderator can set.
MAX_SLOW_MODE = 600
#: The first key of the PostgreSQL advisory lock that stores an event's messages one at a time
#: (the second is the event's id); no other lock in the app uses it.
MESSAGE_ORDER_LOCK = 1


class ChatError(RuleError):
    """A refused chat action, with a machine-readable ``code`` for the acknowledgement (the codes
    of docs/live-chat.md) and, for forms, the ``field`` it belongs beside. Slow mode also says
    how many whole seconds to wait (``retry_after``)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = "body",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.code = code
        self.retry_after = retry_after


def window(event: Event) -> tuple[Any, Any]:
    """When the chat opens and closes (minutes before the start and after the end, configurable)."""
    config = current_app.config
    opens = event.starts_at - timedelta(minutes=config["PEERLEARN_CHAT_OPENS_MINUTES"])
    closes = event.ends_at + timedelta(minutes=config["PEERLEARN_CHAT_CLOSES_MINUTES"])
    return opens, closes


def is_open(event: Event, now: datetime | None = None) -> bool:
    """Whether members can post in the chat now (or at ``now``): inside its time window, not
    cancelled, and not closed by a moderator."""
    opens, closes = window(event)
    moment = now or utcnow()
    return not event.cancelled and event.chat_closed_at is None and opens <= moment <= closes


def why_not_open(event: Event, now: datetime | None = None) -> str:
    """Why members cannot post in the chat (not :func:`is_open`), in their words: when it will
    open, or what closed it."""
    if event.cancelled:
        return "The event was cancelled: its chat is closed"
    if event.chat_closed_at is not None:
        return "A moderator has closed the chat"
    opens, _ = window(event)
    if (now or utcnow()) < opens:
        return f"The chat opens at {local_time(opens, '%H:%M on %A %-d %B %Y')}"
    return "The chat has closed: the event is over"


def time_over(event: Event, now: datetime | None = None) -> bool:
    """Whether the chat's time window has ended, so that it stays closed whatever a moderator
    does."""
    return (now or utcnow()) > window(event)[1]


def seconds_until_change(event: Event, now: datetime) -> tuple[int | None, int | None]:
    """In how many whole seconds from ``now`` the chat opens, and closes, by its time window:
    each None when that will not happen by itself (a cancelled event, a chat a moderator closed,
    a moment already past). Relative to the server's clock, so a browser's clock does not matter;
    opening is rounded up and closing down, so a browser following them errs on the closed side."""
    if event.cancelled or event.chat_closed_at is not None:
        return None, None
    opens, closes = window(event)
    opens_in = math.ceil((opens - now).total_seconds()) if now < opens else None
    closes_in = math.floor((closes - now).total_seconds()) if now <= closes else None
    return opens_in, closes_in


def is_muted(event: Event, user: User) -> bool:
    """Whether a moderator has muted ``user`` in this event's chat."""
    return db.session.get(ChatMute, (event.id, user.id)) is not None


#: :func:`is_muted` as an SQL expression over the event's row, for the user bound as ``user_id``:
#: read in the statement that reads the event (``permissions.event_with_membership_and``)
#: rather than in one of its own.
MUTED_WHERE_READ = (
    select(ChatMute.user_id)
    .where(ChatMute.event_id == Event.id, ChatMute.user_id == bindparam("user_id"))
    .exists()
)


def muted_user_ids(event: Event) -> list[int]:
    """The ids of the members muted in this event's chat."""
    return list(
        db.session.scalars(
            select(ChatMute.user_id).where(ChatMute.event_id == event.id).order_by(ChatMute.user_id)
        )
    )


def state(event: Event, viewer: User) -> dict[str, Any]:
    """The chat's state as the contract's ``state`` payload, as of now; only moderators learn
    who is muted."""
    now = utcnow()
    opens_in, closes_in = seconds_until_change(event, now)
    return {
        "event_id": event.id,
        "open": is_open(event, now),
        "closed_by_moderator": event.chat_closed_at is not None,
        "time_over": time_over(event, now),
        "slow_mode_seconds": event.slow_mode_seconds,
        "opens_in_seconds": opens_in,
        "closes_in_seconds": closes_in,
        "muted_user_ids": muted_user_ids(event) if can(viewer, Action.moderate, event) else [],
    }


def payload(message: ChatMessage, moderator: bool = False) -> dict[str, Any]:
    """A message as the Socket.IO contract describes it (removed ones keep their place, empty;
    hidden ones too, except for a ``moderator`` of the space, who reviews them)."""
    hidden = message.hidden_at is not None
    text_shown = message.deleted_at is None and (not hidden or moderator)
    return {
        "id": message.id,
        "event_id": message.event_id,
        "author": author_payload(message.author),
        "body_html": message.body_html if text_shown else "",
        "deleted": message.deleted_at is not None,
        "hidden": hidden,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
        "pinned": message.pinned_at is not None,
        "previous_id": message.previous_id,
    }


def author_payload(author: User | None) -> dict[str, Any]:
    """The contract's ``author`` (and presence ``person``): id, name and organisation."""
    return {
        "id": author.id if author else None,
        "name": author.display_name if author else "A former member",
        "organisation": author.organisation.name if author and author.organisation else None,
    }


def store_once(
    model: type[Row], author: User, event: Event, client_id: str, build: Callable[[], Row]
) -> tuple[Row, bool]:
    """Store what ``build`` makes (it checks the rules and may refuse) and say whether it is new.
    The author's ``client_id`` again returns the stored row instead (a resend after a lost
    acknowledgement), so nothing is ever stored or shown twice, even when two resends race."""

    def existing() -> Row | None:
        stored = db.session.scalar(
            select(model).where(model.author_id == author.id, model.client_id == client_id)
        )
        if stored is not None and stored.event_id != event.id:
            raise ChatError("bad_request", "That client_id was already used in another event")
        return stored

    # A resend is rare, so it is not looked for first: it shows up as a refusal of the rules
    # (slow mode, say, because of the very message it repeats) or as the unique constraint on
    # (author, client_id), and only then is the stored row looked up. Either way the resend
    # gets the stored row, whatever the rules say now.
    try:
        row = build()
    except ChatError:
        previous = existing()
        if previous is None:
            raise
        return previous, False
    db.session.add(row)
    # The caller acknowledges and broadcasts this very row at once: keep what is loaded (the row,
    # its author, the event) rather than read it all back after the commit. Each socket event and
    # each request has a session of its own, so nothing older is kept past this handler.
    try:
        commit_keeping_loaded(db.session())
    except IntegrityError:  # a resend, or the same resend twice at once: the other was stored
        db.session.rollback()
        stored = existing()
        if stored is None:
            raise
        return stored, False
    return row, True


def check_can_write(
    author: User, event: Event, body: str | None, limit: int, what: str, muted: bool | None = None
) -> str:
    """The cleaned text of a message or question, or a refusal: chat not open, author muted,
    empty, or over ``limit`` characters. ``muted``: whether the author is muted, when the caller
    read it in this transaction (with the event); otherwise it is read here."""
    if not is_open(event):
        raise ChatError("chat_closed", why_not_open(event))
    if muted if muted is not None else is_muted(event, author):
        raise ChatError("muted", "A moderator has muted you in this chat")
    text = (body or "").strip()
    if not text:
        raise ChatError("bad_request", "Write something first")
    if len(text) > limit:
        raise ChatError("too_long", f"{what} can be up to {limit:,} characters")
    return text


def _check_slow_mode(author: User, event: Event) -> None:
    """Refuse a message sent sooner than slow mode allows after the author's last one (moderators
    are not slowed)."""
    if not event.slow_mode_seconds or can(author, Action.moderate, event):
        return
    last = db.session.scalar(
        select(func.max(ChatMessage.created_at)).where(
            ChatMessage.event_id == event.id, ChatMessage.author_id == author.id
        )
    )
    if last is None:
        return
    wait = (last + timedelta(seconds=event.slow_mode_seconds) - utcnow()).total_seconds()
    if wait > 0:
        seconds = math.ceil(wait)
        raise ChatError(
            "slow_mode",
            f"Slow mode is on: you can send another message in {seconds} seconds",
            retry_after=seconds,
        )


def _commit_in_id_order(event: Event) -> None:
    """Wait for the event's message being stored, if any, to be committed, and make the next one
    wait for this one: until this transaction ends, nobody else can be given an id in this
    event's chat. So its ids become visible in id order, which catching up after an id
    (:func:`~peerlearn.events.chat_history.history`) relies on.

    PostgreSQL draws an id at INSERT and transactions commit in any order: without this, a
    message could be committed and seen, a reader could catch up after its id, and an earlier
    id committed a moment later would never reach that reader. The lock is PostgreSQL's
    transaction-scoped advisory lock, released by the commit. SQLite lets one connection write
    at a time, so its ids are committed in order already."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_IN_ID_ORDER, {"event_id": event.id})


#: :func:`_commit_in_id_order`'s statement, built once (every message runs it).
_IN_ID_ORDER = select(func.pg_advisory_xact_lock(MESSAGE_ORDER_LOCK, bindparam("event_id")))


def _check_slow_mode_alone(author: User, event: Event) -> None:
    """Check slow mode again, now that no other message of the event can be stored until this
    one is committed (on SQLite, by writing first: :func:`_commit_in_id_order` takes PostgreSQL's
    lock). Two messages an author sends at the same moment (from two tabs, or the plain form and
    a tab) both pass the first check, and only one of them may be stored; the other is refused,
    and the lock let go at once."""
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(update(ChatMessage).where(false()).values(event_id=ChatMessage.event_id))
    try:
        _check_slow_mode(author, event)
    except ChatError:
        db.session.rollback()
        raise


def post_message(
    author: User, event: Event, body: str, client_id: str, *, muted: bool | None = None
) -> tuple[ChatMessage, bool]:
    """Store a message and say whether it is new (see :func:`store_once`): refused when the chat
    is not open, the author is muted (``muted``, when the caller read it with the event in this
    transaction: see :func:`check_can_write`) or slowed, or the text is empty or too long. The
    event's messages are committed in id order (:func:`_commit_in_id_order`)."""

    def build() -> ChatMessage:
        text = check_can_write(author, event, body, MAX_MESSAGE, "Messages", muted)
        _check_slow_mode(author, event)
        message = ChatMessage(event_id=event.id, author_id=author.id, client_id=client_id,
                              body_source=text, body_html=render_markdown(text))  # fmt: skip
        # Last, so that the lock is only held from here to the commit, and never by a refusal.
        _commit_in_id_order(event)
        if event.slow_mode_seconds:
            _check_slow_mode_alone(author, event)
        return message

    return store_once(ChatMessage, author, event, client_id, build)


def delete_message(actor: User, message: ChatMessage) -> None:
    """Remove a message (its author, or a moderator: audited), unless it is removed already, and
    commit the caller's transaction either way (a moderator's closed reports are in it); the
    caller asked the policy (``delete``), so anyone but its author removing it moderates. A
    removed message is unpinned."""
    if message.deleted_at is None:
        message.deleted_at = utcnow()
        message.deleted_by_id = actor.id
        message.pinned_at = message.pinned_by_id = None
        if message.author_id != actor.id:
            event = db.session.get(Event, message.event_id)
            record("chat.message_deleted", actor=actor, subject=message.author,
                   space=event.space if event else None, message_id=message.id)  # fmt: skip
    db.session.commit()


def hold_message(message: ChatMessage) -> None:
    """Lock the message's row until the commit and read it again: a moderator, or reports that
    hide it, may have just changed it (SQLite writes one at a time already)."""
    db.session.refresh(message, with_for_update=True)


# The moderators' tools. Each one checks the policy again (the no-JavaScript forms call them too),
# is audited, and is committed before the caller broadcasts it.


def require_moderator(moderator: User, event: Event) -> None:
    """Refuse anyone who may not moderate the event's space."""
    if not can(moderator, Action.moderate, event):
        raise ChatError("forbidden", "Only the space's moderators can do that", field=None)


def pinned_messages(event: Event) -> list[ChatMessage]:
    """The event's pinned messages, first pinned first: never a removed or hidden one (removing
    or hiding unpins, and a pin is refused once either has happened)."""
    shown_pinned = and_(
        ChatMessage.pinned_at.is_not(None),
        ChatMessage.deleted_at.is_(None),
        ChatMessage.hidden_at.is_(None),
    )
    return messages_where(event, shown_pinned, ChatMessage.pinned_at, ChatMessage.id)


def set_pinned(moderator: User, message: ChatMessage, pinned: bool) -> ChatMessage:
    """Pin a message above the chat, or unpin it (removed messages cannot be pinned)."""
    event = db.session.get_one(Event, message.event_id)
    require_moderator(moderator, event)
    hold_message(message)  # reports may have hidden it a moment ago
    if pinned and message.deleted_at is not None:
        raise ChatError("bad_request", "A removed message cannot be pinned", field=None)
    if pinned and message.hidden_at is not None:
        raise ChatError("bad_request", "A hidden message cannot be pinned", field=None)
    if pinned == (message.pinned_at is not None):
        return message
    message.pinned_at = utcnow() if pinned else None
    message.pinned_by_id = moderator.id if pinned else None
    record(
        "chat.message_pinned" if pinned else "chat.message_unpinned",
        actor=moderator,
        subject=message.author,
        space=event.space,
        event_id=event.id,
        message_id=message.id,
    )
    db.session.commit()
    return message


def set_muted(moderator: User, event: Event, user: User, muted: bool) -> bool:
    """Mute a member in this event's chat (they can still read it), or unmute them. Moderators
    cannot be muted. Says whether anything changed."""
    require_moderator(moderator, event)
    if muted and can(user, Action.moderate, event):
        raise ChatError("forbidden", "Moderators cannot be muted", field=None)
    existing = db.session.get(ChatMute, (event.id, user.id))
    if muted == (existing is not None):
        return False
    if muted:
        db.session.add(ChatMute(event_id=event.id, user_id=user.id, muted_by_id=moderator.id))
    else:
        db.session.delete(existing)
    record(
        "chat.member_muted" if muted else "chat.member_unmuted",
        actor=moderator,
        subject=user,
        space=event.space,
        event_id=event.id,
    )
    try:
        db.session.commit()
    except IntegrityError:  # another moderator muted them at the same moment
        db.session.rollback()
        return False
    return True


def set_slow_mode(moderator: User, event: Event, seconds: int) -> None:
    """Make members wait ``seconds`` (0 to 600; 0 turns it off) between their messages."""
    require_moderator(moderator, event)
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not 0 <= seconds <= MAX_SLOW_MODE
    ):
        raise ChatError(
            "bad_request", f"Slow mode is 0 to {MAX_SLOW_MODE} seconds", field="seconds"
        )
    if event.slow_mode_seconds == seconds:
        return
    event.slow_mode_seconds = seconds
    record("chat.slow_mode", actor=moderator, space=event.space, event_id=event.id, seconds=seconds)
    db.session.commit()


def close(moderator: User, event: Event) -> None:
    """End the chat now: it becomes read-only, whatever its time window says."""
    require_moderator(moderator, event)
    if event.chat_closed_at is not None:
        return
    event.chat_closed_at = utcnow()
    record("chat.closed", actor=moderator, space=event.space, event_id=event.id)
    db.session.commit()


def reopen(moderator: User, event: Event) -> None:
    """Undo :func:`close`; the chat is open again if its time window allows. Once the window
    has ended there is nothing to reopen, and the moderator is told so."""
    require_moderator(moderator, event)
    if event.chat_closed_at is None:
        return
    if time_over(event):
        raise ChatError(
            "chat_closed", "The chat's time is over, so it cannot be reopened", field=None
        )
    event.chat_closed_at = None
    record("chat.reopened", actor=moderator, space=event.space, event_id=event.id)
    db.session.commit()
