"""The live event chat on the ``/live`` namespace (the contract in docs/live-chat.md).

Every client event takes an acknowledgement answered ``{"ok": true, ...}`` or
``{"ok": false, "error": {"code": ..., "message": ...}}``. The permission policy is asked on every
event, not only on joining; a malformed payload gets an error acknowledgement and never reaches
the database. Broadcasts happen only after the change is committed. This module holds the
connection, joining, sending and presence; ``sockets_qa.py`` the Q&A (and which screens are told
what of it), ``sockets_moderation.py`` removing messages, reporting them and the moderators'
tools, and ``sockets_access.py`` dropping people from chats they may no longer read.
"""

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import join_room, leave_room, rooms
from limits import parse

from peerlearn.core.ids import MAX_ID
from peerlearn.events import chat, chat_history, presence, questions
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db, limiter, socketio
from peerlearn.permissions import (
    Action,
    can,
    event_with_membership,
    event_with_membership_and,
    forget_standing,
    signed_in,
)

logger = logging.getLogger(__name__)

NAMESPACE = "/live"
#: Messages (and, separately, questions and votes) one member may send per minute across all
#: chats.
SEND_LIMIT = parse("20/minute")
#: The most hidden messages a rejoining client may ask after (each is a report's: few).
MAX_SHOWN_HIDDEN = 500
#: The keys each client event's payload may have (docs/live-chat.md). Any other is refused, so a
#: misspelt key is not ignored without a word: ``afterId`` on a rejoin would give the latest
#: messages instead of those missed.
FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(keys.split())
    for name, keys in {
        "join": "event_id after_id shown_hidden_ids",
        "catch_up": "event_id after_id",
        "send": "event_id body client_id",
        "delete": "message_id",
        "report_message": "message_id reason note",
        "leave": "event_id",
        "ask": "event_id body client_id",
        "vote": "question_id up",
        "answer": "question_id status",
        "remove_question": "question_id",
        "pin": "message_id pinned",
        "mute": "event_id user_id muted",
        "slow_mode": "event_id seconds",
        "close": "event_id",
        "reopen": "event_id",
    }.items()
}


def room(event_id: int) -> str:
    """The Socket.IO room of one event's chat."""
    return f"event:{event_id}"


class Refused(Exception):
    """Stop handling an event and acknowledge with this error (and, when waiting helps, in how
    many seconds to try again: ``retry_after``)."""

    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


def acknowledged(
    handler: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """Answer every event: the handler's result with ``ok``, or an error; never raise to the client.
    The handler's name is its event's, whose payload keys are in :data:`FIELDS`."""
    fields = FIELDS[handler.__name__]

    @functools.wraps(handler)
    def wrapper(data: Any = None, *_: Any) -> dict[str, Any]:
        try:
            if signed_in(current_user) is None:
                raise Refused("unauthorised", "Sign in to use the chat")
            if not isinstance(data, dict):
                raise Refused("bad_request", "Send a JSON object")
            unknown = sorted(str(key) for key in data if key not in fields)
            if unknown:
                raise Refused(
                    "bad_request",
                    f"Unknown field {', '.join(unknown[:3])[:100]}: {handler.__name__} takes "
                    f"{', '.join(sorted(fields))}",
                )
            return {"ok": True, **handler(data)}
        except (Refused, chat.ChatError) as error:
            detail: dict[str, Any] = {"code": error.code, "message": error.message}
            if getattr(error, "retry_after", None) is not None:
                detail["retry_after"] = error.retry_after
            return {"ok": False, "error": detail}
        except Exception:  # a bug must not break the connection or other clients
            logger.exception("chat handler failed")
            db.session.rollback()
            return {
                "ok": False,
                "error": {"code": "server_error", "message": "Something went wrong"},
            }

    return wrapper


def whole_number(data: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    """``data[key]`` as a non-negative id-sized int (never a bool), or a ``bad_request``."""
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise Refused("bad_request", f"{key} must be a whole number")
    return value


def whole_numbers(data: dict[str, Any], key: str, *, most: int) -> list[int]:
    """``data[key]``, if given, as a list of at most ``most`` ids, or a ``bad_request``."""
    value = data.get(key, [])
    if (
        not isinstance(value, list)
        or len(value) > most
        or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_ID for v in value)
    ):
        raise Refused("bad_request", f"{key} must be a list of at most {most} whole numbers")
    return value


def boolean(data: dict[str, Any], key: str) -> bool:
    """``data[key]`` as a real true/false (not 0 or 1), or a ``bad_request``."""
    value = data.get(key)
    if not isinstance(value, bool):
        raise Refused("bad_request", f"{key} must be true or false")
    return value


def text(data: dict[str, Any], key: str) -> str:
    """``data[key]`` as text, or a ``bad_request`` (its length is the service's rule). A NUL
    character is refused, as in any request (``core.security``): PostgreSQL cannot store it."""
    value = data.get(key)
    if not isinstance(value, str) or "\x00" in value:
        raise Refused("bad_request", f"{key} must be text without NUL characters")
    return value


def client_id(data: dict[str, Any]) -> str:
    """The sender's ``client_id``: text of 1 to 64 characters (none of them NUL)."""
    value = data.get("client_id")
    if not isinstance(value, str) or not 0 < len(value) <= chat.MAX_CLIENT_ID or "\x00" in value:
        raise Refused("bad_request", "client_id must be text of 1 to 64 characters")
    return value


def allowed(event: Event | None, action: Action, what: str = "event") -> Event:
    """The event if the current user may see it and do ``action``; otherwise ``not_found`` (what
    they may not see is never confirmed to exist) or ``forbidden``."""
    if event is None or not can(current_user, Action.view, event):
        raise Refused("not_found", f"No such {what}")
    if not can(current_user, action, event):
        if action is Action.post and event.cancelled:
            raise Refused("chat_closed", chat.why_not_open(event))
        if action is Action.moderate:
            raise Refused("forbidden", "Only the space's moderators can do that")
        raise Refused("forbidden", "Only members of the space can take part in this chat")
    return event


def event_from(data: dict[str, Any], action: Action = Action.view) -> Event:
    """The event named by ``data["event_id"]``, checked against the policy for ``action``."""
    event_id: int = whole_number(data, "event_id")  # type: ignore[assignment]
    return allowed(event_with_membership(current_user, event_id), action)


def message_from(data: dict[str, Any], action: Action = Action.view) -> tuple[ChatMessage, Event]:
    """The message named by ``data["message_id"]`` and its event, checked for ``action``."""
    message = db.session.get(ChatMessage, whole_number(data, "message_id"))
    event = event_with_membership(current_user, message.event_id) if message is not None else None
    return message, allowed(event, action, "message")  # type: ignore[return-value]


def rate_limit(bucket: str) -> None:
    """Refuse the current user's ``bucket`` action when over :data:`SEND_LIMIT`."""
    if limiter.enabled and not limiter.limiter.hit(SEND_LIMIT, bucket, str(current_user.id)):
        raise Refused("rate_limited", "You are sending too quickly: wait a moment")


def broadcast(name: str, payload: dict[str, Any], event_id: int) -> None:
    """Send an event to everyone in the event's chat (on every server process)."""
    socketio.emit(name, payload, to=room(event_id), namespace=NAMESPACE)


def broadcast_by_reader(
    event_id: int,
    readers: Callable[[set[int]], set[int]],
    shown: tuple[str, dict[str, Any]],
    others: tuple[str, dict[str, Any]],
) -> None:
    """Send ``shown`` (an event's name and payload) only to the connections in the event's room of
    the people ``readers`` picks from those presence lists there now, and ``others`` to every
    other connection in the room: what only some may see never reaches anyone else's screen,
    and if presence misses a connection, that connection is told too little, never too much."""
    connections = presence.store().connections(event_id)
    allowed = readers(set(connections.values()))
    told = [sid for sid, user_id in connections.items() if user_id in allowed]
    socketio.emit(*others, to=room(event_id), skip_sid=told, namespace=NAMESPACE)
    if told:
        socketio.emit(*shown, to=told, namespace=NAMESPACE)


def broadcast_presence(
    event_id: int, people: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Send the event's whole presence list to its room now; return it."""
    if people is None:
        people = presence.people(event_id)
    broadcast("presence", {"event_id": event_id, "people": people}, event_id)
    return people


#: Past this many people in a room, the gap between its presence lists grows in proportion...
PEOPLE_PER_INTERVAL = 100
#: ... up to this many intervals (half a minute by default).
LONGEST_GAP = 30


class PresenceAnnouncer:
    """Tells a room its presence list at most once every ``interval`` seconds, and less often in
    big rooms.

    Each join or leave changes the list for everyone in the room. Sent at once every time, the
    people arriving at the start of a 2,000-person event would cost 2,000 lists of up to 2,000
    people, each to up to 2,000 connections: millions of packets, gigabytes, queued ahead of the
    chat's messages. So the first change is told at once, and the changes that follow within
    the interval are gathered into one list sent when it ends (always the whole list, read when
    it is sent, so the last one is right). Every copy of the list grows with the room, and so
    does the number of copies, so past :data:`PEOPLE_PER_INTERVAL` people the gap after a list
    grows in proportion, up to :data:`LONGEST_GAP` intervals: a room of 2,000 is told at most
    every 20 intervals. Each process gathers its own changes; the list itself is shared.
    ``PEERLEARN_PRESENCE_INTERVAL`` sets the interval (0 tells every change at once)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        #: When each room may next be told (monotonic seconds); rooms told they are empty are
        #: forgotten.
        self._next: dict[int, float] = {}
        self._pending: set[int] = set()

    def changed(self, event_id: int, people: list[dict[str, Any]] | None = None) -> None:
        """The event's presence changed (``people``: the new list, when the caller has it)."""
        if not self._take(event_id):
            return
        self._tell(event_id, people)

    def _take(self, event_id: int) -> bool:
        """Whether to tell the room now; otherwise a telling is (or already was) scheduled."""
        now = self._clock()
        with self._lock:
            if event_id in self._pending:
                return False  # already to be told, with whatever the list is then
            wait = self._next.get(event_id, now) - now
            if wait <= 0:
                # Taken before anything yields: changes arriving while the list is read and
                # sent are gathered into the next one.
                self._next[event_id] = now + self.interval
                return True
            self._pending.add(event_id)
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        socketio.start_background_task(self._later, app, event_id)
        return False

    def _tell(self, event_id: int, people: list[dict[str, Any]] | None = None) -> None:
        told = broadcast_presence(event_id, people)
        with self._lock:
            if not told and event_id not in self._pending:
                self._next.pop(event_id, None)
            elif len(told) > PEOPLE_PER_INTERVAL:
                stretch = min(len(told) / PEOPLE_PER_INTERVAL, LONGEST_GAP)
                self._next[event_id] = self._clock() + self.interval * stretch

    def _later(self, app: Flask, event_id: int) -> None:
        # Until the room's gap is over, which a list sent meanwhile may have lengthened.
        while True:
            with self._lock:
                now = self._clock()
                wait = self._next.get(event_id, now) - now
                if wait <= 0:
                    self._pending.discard(event_id)
                    self._next[event_id] = now + self.interval
                    break
            socketio.sleep(wait)
        try:
            with app.app_context():
                self._tell(event_id)
        except Exception:  # nobody to answer in a background task: keep the log
            logger.exception("telling a chat its presence failed")


def presence_changed(event_id: int, people: list[dict[str, Any]] | None = None) -> None:
    """Tell the event's room its new presence list, through the app's :class:`PresenceAnnouncer`."""
    app = current_app
    announcer = app.extensions.get("peerlearn_presence_announcer")
    if announcer is None:
        interval = float(app.config["PEERLEARN_PRESENCE_INTERVAL"])
        announcer = app.extensions.setdefault(
            "peerlearn_presence_announcer", PresenceAnnouncer(interval)
        )
    announcer.changed(event_id, people)


def broadcast_state(event: Event) -> None:
    """Send the chat's ``state`` to its room: without ``muted_user_ids``, which only moderators
    see (they keep theirs from the join acknowledgement and ``member_muted``)."""
    shown = chat.state(event, current_user)
    del shown["muted_user_ids"]
    broadcast("state", shown, event.id)


@socketio.on("connect", namespace=NAMESPACE)
def connect(auth: object = None) -> bool:
    """Refuse anonymous connections."""
    return signed_in(current_user) is not None


@socketio.on("disconnect", namespace=NAMESPACE)
def disconnect(reason: object = None) -> None:
    """Take the connection out of the presence of every chat it was in."""
    try:
        for name in rooms():
            if name.startswith("event:"):
                event_id = int(name.removeprefix("event:"))
                presence.store().discard(event_id, request.sid)  # type: ignore[attr-defined]
                presence_changed(event_id)
    except Exception:  # the client has gone: nothing to answer, but keep the log
        logger.exception("chat disconnect failed")
        db.session.rollback()


@socketio.on("join", namespace=NAMESPACE)
@acknowledged
def join(data: dict[str, Any]) -> dict[str, Any]:
    """Enter an event's chat: the messages after ``after_id`` (the latest 200 of them at most, as
    ``catch_up`` gives them) or the latest 50, and whether earlier ones were left out, the ids up
    to ``after_id`` of removed and hidden messages, and of those the client still shows hidden
    (``shown_hidden_ids``) the ones restored meanwhile (a rejoin after a disconnect catches up on
    removals, hiding and restoring too), its state, presence, the questions the member may see
    and pinned messages; everyone in the room gets the new presence list."""
    event = event_from(data)
    after_id = whole_number(data, "after_id", required=False)
    shown_hidden = whole_numbers(data, "shown_hidden_ids", most=MAX_SHOWN_HIDDEN)
    user = current_user._get_current_object()
    join_room(room(event.id))
    presence.store().add(event.id, request.sid, user.id)  # type: ignore[attr-defined]
    still_reading(event, user)
    people = presence.people(event.id)
    presence_changed(event.id, people)
    state = chat.state(event, user)
    moderator = can(user, Action.moderate, event)
    return {
        **_history(event, after_id, moderator),
        "restored": [
            chat.payload(m, moderator) for m in chat_history.restored(event, shown_hidden)
        ],
        "open": state["open"],
        "state": state,
        "presence": people,
        "questions": [questions.payload(q) for q in questions.for_event(event, user)],
        "voted": questions.voted_ids(event, user),
        "pinned": [chat.payload(m) for m in chat.pinned_messages(event)],
        "me": {
            "id": user.id,
            "moderator": moderator,
            "muted": chat.is_muted(event, user),
        },
    }


def still_reading(event: Event, user: Any) -> None:
    """Ask the policy again, as committed now, once the connection is in the event's room: whoever
    was removed, banned or deactivated (or shut out by the space going private) after the join's
    first question but before the joining was not in the room then to be dropped from it
    (``sockets_access``), and would hear everything said there. Refused, the connection leaves
    the room again."""
    forget_standing(user)
    db.session.expire(event.space)
    if signed_in(user) is None or not can(user, Action.view, event):
        leave_room(room(event.id))
        presence.store().discard(event.id, request.sid)  # type: ignore[attr-defined]
        if signed_in(user) is None:
            raise Refused("unauthorised", "Sign in to use the chat")
        raise Refused("not_found", "No such event")


@socketio.on("catch_up", namespace=NAMESPACE)
@acknowledged
def catch_up(data: dict[str, Any]) -> dict[str, Any]:
    """The messages after ``after_id`` and the ids up to it of removed and hidden ones, as
    ``join`` gives them, without joining again (nothing is broadcast): for a client in the room
    that lacks a message before one it was given. Limited like sending, as each answer reads
    up to 200 messages."""
    event = event_from(data)
    after_id: int = whole_number(data, "after_id")  # type: ignore[assignment]
    rate_limit("chat-catch-up")
    return _history(event, after_id, can(current_user, Action.moderate, event))


def _history(event: Event, after_id: int | None, moderator: bool) -> dict[str, Any]:
    """What ``join`` and ``catch_up`` both give of the messages (:mod:`.chat_history`): the
    latest after ``after_id`` (or of all), however old the id, and whether earlier ones were
    left out, as a ``moderator`` or a reader sees them; with ``after_id``, the ids up to it of
    removed and hidden messages."""
    latest = chat_history.history(event, after_id)
    caught_up = after_id is not None
    return {
        "messages": [chat.payload(m, moderator) for m in latest.messages],
        "earlier_left_out": latest.earlier_left_out,
        "deleted_ids": chat_history.deleted_ids(event, after_id) if caught_up else [],
        "hidden_ids": chat_history.hidden_ids(event, after_id) if caught_up else [],
    }


@socketio.on("send", namespace=NAMESPACE)
@acknowledged
def send(data: dict[str, Any]) -> dict[str, Any]:
    """Store a message, acknowledge it, then show it to everyone in the room (once). Whether the
    sender is muted is read with the event (one statement fewer on every send)."""
    user = current_user._get_current_object()
    event_id: int = whole_number(data, "event_id")  # type: ignore[assignment]
    found, (muted,) = event_with_membership_and(user, event_id, chat.MUTED_WHERE_READ)
    event = allowed(found, Action.post)
    body, client = text(data, "body"), client_id(data)
    rate_limit("chat-send")
    message, created = chat.post_message(user, event, body, client, muted=muted)
    shown = chat.payload(message)
    if created:
        broadcast("message", shown, event.id)
    return {"message": shown}


@socketio.on("leave", namespace=NAMESPACE)
@acknowledged
def leave(data: dict[str, Any]) -> dict[str, Any]:
    """Leave an event's chat room; everyone left gets the new presence list."""
    event_id: int = whole_number(data, "event_id")  # type: ignore[assignment]
    if room(event_id) in rooms():
        leave_room(room(event_id))
        presence.store().discard(event_id, request.sid)  # type: ignore[attr-defined]
        presence_changed(event_id)
    return {}


@socketio.on("*", namespace=NAMESPACE)
def unknown_event(name: object, *_: Any) -> dict[str, Any]:
    """Answer an event the chat does not know (a misspelt name, say) rather than leave the
    client waiting for an acknowledgement that would never come."""
    return {
        "ok": False,
        "error": {"code": "bad_request", "message": f"No such event: {str(name)[:50]}"},
    }
