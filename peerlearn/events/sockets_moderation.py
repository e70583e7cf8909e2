"""The moderators' chat tools on the ``/live`` namespace (pin, mute, slow mode, close, reopen),
telling a chat at once when its event is edited or cancelled, and dropping a member removed from
(or banned by) a space from its event chats at once.
Helpers and the acknowledgement rules are those of ``sockets.py``."""

import logging
from typing import Any

from flask_login import current_user
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.core.signals import event_changed, membership_changed
from peerlearn.events import chat, presence
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
    presence_changed,
    room,
    whole_number,
)
from peerlearn.extensions import db, socketio
from peerlearn.permissions import Action
from peerlearn.spaces.models import MemberState, Space

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


@membership_changed.connect
def drop_removed_member(space: Space, user: User, state: MemberState | None, **_: Any) -> None:
    """A member removed from the space (or banned) leaves its event chats at once: each of their
    connections gets ``removed`` and is taken out of the room, on whichever server process it is
    (through the Socket.IO message queue); the others get the new presence list. Anything they
    send afterwards is refused by the policy anyway."""
    if state not in (None, MemberState.banned):
        return
    try:
        event_ids = db.session.scalars(select(Event.id).where(Event.space_id == space.id))
        for event_id in event_ids:
            sids = presence.sids_of(event_id, user.id)
            for sid in sids:
                socketio.emit("removed", {"event_id": event_id}, to=sid, namespace=NAMESPACE)
                socketio.server.leave_room(sid, room(event_id), namespace=NAMESPACE)
                presence.store().discard(event_id, sid)
            if sids:
                presence_changed(event_id)
    except Exception:  # the membership change is committed; never fail the request over this
        logger.exception("dropping a removed member from the chat failed")


@event_changed.connect
def announce_event_change(event: Event, **_: Any) -> None:
    """An event edited (new times) or cancelled tells its chat's room the new ``state`` at once:
    readers' screens open, close or re-time the chat without a reload. Nobody's mutes are in it
    (``broadcast_state``), whoever made the change."""
    try:
        broadcast_state(event)
    except Exception:  # the event is committed; never fail the request over this
        logger.exception("telling the chat about an event change failed")
