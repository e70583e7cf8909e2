"""The live event chat on the ``/live`` namespace (the contract in DESIGN.md §5).

Every client event takes an acknowledgement answered ``{"ok": true, ...}`` or
``{"ok": false, "error": {"code": ..., "message": ...}}``. The permission policy is asked on every
event, not only on joining; a malformed payload gets an error acknowledgement and never reaches
the database.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask_login import current_user
from flask_socketio import emit, join_room, leave_room
from limits import parse

from peerlearn.events import chat
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db, limiter, socketio
from peerlearn.permissions import Action, can, signed_in

logger = logging.getLogger(__name__)

NAMESPACE = "/live"
#: Messages one member may send per minute across all chats.
SEND_LIMIT = parse("20/minute")


def room(event_id: int) -> str:
    """The Socket.IO room of one event's chat."""
    return f"event:{event_id}"


class Refused(Exception):
    """Stop handling an event and acknowledge with this error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def acknowledged(
    handler: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """Answer every event: the handler's result with ``ok``, or an error; never raise to the client."""

    @functools.wraps(handler)
    def wrapper(data: Any = None, *_: Any) -> dict[str, Any]:
        try:
            if signed_in(current_user) is None:
                raise Refused("unauthorised", "Sign in to use the chat")
            if not isinstance(data, dict):
                raise Refused("bad_request", "Send a JSON object")
            return {"ok": True, **handler(data)}
        except (Refused, chat.ChatError) as error:
            return {"ok": False, "error": {"code": error.code, "message": error.message}}
        except Exception:  # a bug must not break the connection or other clients
            logger.exception("chat handler failed")
            db.session.rollback()
            return {
                "ok": False,
                "error": {"code": "server_error", "message": "Something went wrong"},
            }

    return wrapper


def _int(data: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Refused("bad_request", f"{key} must be a whole number")
    return value


def _event(data: dict[str, Any], action: Action = Action.view) -> Event:
    event = db.session.get(Event, _int(data, "event_id"))
    if event is None or not can(current_user, Action.view, event):
        raise Refused("not_found", "No such event")
    if not can(current_user, action, event):
        raise Refused("forbidden", "Only members of the space can take part in this chat")
    return event


@socketio.on("connect", namespace=NAMESPACE)
def connect(auth: object = None) -> bool:
    """Refuse anonymous connections."""
    return bool(current_user.is_authenticated)


@socketio.on("join", namespace=NAMESPACE)
@acknowledged
def join(data: dict[str, Any]) -> dict[str, Any]:
    """Enter an event's chat: the messages after ``after_id`` (or the latest 50)."""
    event = _event(data)
    after_id = _int(data, "after_id", required=False)
    join_room(room(event.id))
    return {
        "messages": [chat.payload(m) for m in chat.history(event, after_id)],
        "open": chat.is_open(event),
        "presence": [],
    }


@socketio.on("send", namespace=NAMESPACE)
@acknowledged
def send(data: dict[str, Any]) -> dict[str, Any]:
    """Store a message, acknowledge it, then show it to everyone in the room (once)."""
    event = _event(data, Action.post)
    body, client_id = data.get("body"), data.get("client_id")
    if not isinstance(body, str):
        raise Refused("bad_request", "body must be text")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= chat.MAX_CLIENT_ID:
        raise Refused("bad_request", "client_id must be text of 1 to 64 characters")
    if limiter.enabled and not limiter.limiter.hit(SEND_LIMIT, "chat-send", str(current_user.id)):
        raise Refused("rate_limited", "You are sending messages too quickly")
    message, created = chat.post_message(current_user, event, body, client_id)
    shown = chat.payload(message)
    if created:
        emit("message", shown, to=room(event.id), namespace=NAMESPACE)
    return {"message": shown}


@socketio.on("delete", namespace=NAMESPACE)
@acknowledged
def delete(data: dict[str, Any]) -> dict[str, Any]:
    """Remove a message: its author, or the space's moderators."""
    message = db.session.get(ChatMessage, _int(data, "message_id"))
    event = db.session.get(Event, message.event_id) if message is not None else None
    if message is None or event is None or not can(current_user, Action.view, event):
        raise Refused("not_found", "No such message")
    moderator = can(current_user, Action.moderate, event)
    if message.author_id != current_user.id and not moderator:
        raise Refused("forbidden", "You can only remove your own messages")
    chat.delete_message(current_user, message, moderator=moderator)
    emit("message_deleted", {"id": message.id}, to=room(event.id), namespace=NAMESPACE)
    return {}


@socketio.on("leave", namespace=NAMESPACE)
@acknowledged
def leave(data: dict[str, Any]) -> dict[str, Any]:
    """Leave an event's chat room."""
    leave_room(room(_int(data, "event_id")))  # type: ignore[arg-type]
    return {}
