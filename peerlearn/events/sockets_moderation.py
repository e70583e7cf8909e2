"""The moderators' chat tools on the ``/live`` namespace (pin, mute, slow mode, close, reopen), and
telling a chat at once when its event is edited or cancelled.
Helpers and the acknowledgement rules are those of ``sockets.py``."""

import logging
from typing import Any

from flask_login import current_user

from peerlearn.accounts.models import User
from peerlearn.core.signals import event_changed
from peerlearn.events import chat
from peerlearn.events.models import Event
from peerlearn.events.sockets import (
    NAMESPACE,
    Refused,
    acknowledged,
    boolean,
    broadcast,
    broadcast_state,
    event_from,
    message_from,
    whole_number,
)
from peerlearn.extensions import db, socketio
from peerlearn.permissions import Action

logger = logging.getLogger(__name__)


@socketio.on("pin", namespace=NAMESPACE)
@acknowledged
def pin(data: dict[str, Any]) -> dict[str, Any]:
    """Pin a message above the chat, or unpin it."""
    message, event = message_from(data, Action.moderate)
    pinned = boolean(data, "pinned")
    shown = chat.payload(chat.set_pinned(current_user, message, pinned))
    broadcast("message_pinned", {"id": message.id, "pinned": pinned, "message": shown}, event.id)
    return {"message": shown}


@socketio.on("mute", namespace=NAMESPACE)
@acknowledged
def mute(data: dict[str, Any]) -> dict[str, Any]:
    """Mute a member in this event's chat, or unmute them."""
    event = event_from(data, Action.moderate)
    user = db.session.get(User, whole_number(data, "user_id"))
    muted = boolean(data, "muted")
    if user is None:
        raise Refused("not_found", "No such person")
    if chat.set_muted(current_user, event, user, muted):
        broadcast(
            "member_muted", {"event_id": event.id, "user_id": user.id, "muted": muted}, event.id
        )
    return {}


def _state_changed(event: Event) -> dict[str, Any]:
    broadcast_state(event)
    return {"state": chat.state(event, current_user)}


@socketio.on("slow_mode", namespace=NAMESPACE)
@acknowledged
def slow_mode(data: dict[str, Any]) -> dict[str, Any]:
    """Set slow mode: the seconds each member waits between messages (0 turns it off)."""
    event = event_from(data, Action.moderate)
    seconds = whole_number(data, "seconds")
    if seconds > chat.MAX_SLOW_MODE:  # type: ignore[operator]
        raise Refused("bad_request", f"seconds must be 0 to {chat.MAX_SLOW_MODE}")
    chat.set_slow_mode(current_user, event, seconds)  # type: ignore[arg-type]
    return _state_changed(event)


@socketio.on("close", namespace=NAMESPACE)
@acknowledged
def close(data: dict[str, Any]) -> dict[str, Any]:
    """End the chat now: it becomes read-only."""
    event = event_from(data, Action.moderate)
    chat.close(current_user, event)
    return _state_changed(event)


@socketio.on("reopen", namespace=NAMESPACE)
@acknowledged
def reopen(data: dict[str, Any]) -> dict[str, Any]:
    """Open a chat a moderator closed (if its time window allows)."""
    event = event_from(data, Action.moderate)
    chat.reopen(current_user, event)
    return _state_changed(event)


@event_changed.connect
def announce_event_change(event: Event, **_: Any) -> None:
    """An event edited (new times) or cancelled tells its chat's room the new ``state`` at once:
    readers' screens open, close or re-time the chat without a reload. Nobody's mutes are in it
    (``broadcast_state``), whoever made the change."""
    try:
        broadcast_state(event)
    except Exception:  # the event is committed; never fail the request over this
        logger.exception("telling the chat about an event change failed")
