"""Removing a message on the ``/live`` namespace (``delete``: its author, or a moderator, whose
removal closes its reports as the queue does), the moderators' chat tools (pin, mute, slow mode,
close, reopen), members' reports of messages to them (``report_message``), and telling a chat at
once when its event is edited or cancelled, or a message is hidden, restored or removed by a
moderation decision.
Helpers and the acknowledgement rules are those of ``sockets.py``."""

import logging
from typing import Any

from flask_login import current_user

from peerlearn.accounts.models import User
from peerlearn.core.errors import RuleError
from peerlearn.core.forms import single_line_breaks
from peerlearn.core.signals import chat_message_changed, event_changed
from peerlearn.events import chat
from peerlearn.events.models import ChatMessage, Event
from peerlearn.events.sockets import (
    NAMESPACE,
    Refused,
    acknowledged,
    boolean,
    broadcast,
    broadcast_by_reader,
    broadcast_state,
    event_from,
    message_from,
    text,
    whole_number,
)
from peerlearn.extensions import db, socketio
from peerlearn.moderation import services as moderation
from peerlearn.moderation.limits import over_allowance, take_report
from peerlearn.moderation.models import FlagReason
from peerlearn.permissions import Action, can, chat_message_readers

logger = logging.getLogger(__name__)


@socketio.on("delete", namespace=NAMESPACE)
@acknowledged
def delete(data: dict[str, Any]) -> dict[str, Any]:
    """Remove a message: its author, or the space's moderators (the policy's ``delete``). A
    moderator's removal of someone else's message is their decision on it, as from the queue
    (:func:`~peerlearn.moderation.services.resolve_chat_message`): its open reports are closed
    and audited, the moderator is asked again as the space stands, and the removal reaches
    every screen through ``chat_message_changed`` (:func:`announce_message_change`)."""
    message, event = message_from(data)
    if not can(current_user, Action.delete, message):
        if message.author_id != current_user.id:
            raise Refused("forbidden", "You can only remove your own messages")
        raise Refused("forbidden", "Only members of the space can take part in this chat")
    if message.author_id != current_user.id and can(current_user, Action.moderate, event):
        try:
            moderation.resolve_chat_message(current_user, message, "delete")
        except RuleError as error:  # no longer a moderator, as the space now stands
            db.session.rollback()
            raise Refused("forbidden", error.message) from None
        return {}
    chat.delete_message(current_user, message)
    broadcast("message_deleted", {"id": message.id}, event.id)
    return {}


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


def reason_from(data: dict[str, Any]) -> FlagReason:
    """``data["reason"]``: one of the report reasons, or a ``bad_request`` naming them."""
    value = text(data, "reason")
    try:
        return FlagReason(value)
    except ValueError:
        names = ", ".join(r.value for r in FlagReason)
        raise Refused("bad_request", f"reason must be one of {names}") from None


def may_report(message: ChatMessage, reason: FlagReason, note: str) -> None:
    """Refuse a report the policy does not allow (``flag``), saying why; then one whose note is
    missing (something else) or too long, as the report forms do; then one over the reporter's
    allowance of reports, which the report forms draw on too
    (:func:`~peerlearn.moderation.limits.take_report`), saying when they may report again."""
    if not can(current_user, Action.flag, message):
        if message.author_id == current_user.id:
            raise Refused("forbidden", "You cannot report your own message")
        if message.deleted_at is not None or message.hidden_at is not None:
            raise Refused("gone", "That message has already been removed or hidden")
        raise Refused("forbidden", "You cannot report messages in this chat")
    if len(note) > moderation.REPORT_NOTE_LENGTH:
        raise Refused("note", moderation.NOTE_TOO_LONG)
    if moderation.says_too_little(reason.value, note):
        raise Refused("note", moderation.SAY_WHAT)
    wait = take_report()
    if wait is not None:
        raise Refused("rate_limited", over_allowance(wait), retry_after=wait)


@socketio.on("report_message", namespace=NAMESPACE)
@acknowledged
def report_message(data: dict[str, Any]) -> dict[str, Any]:
    """Report a message to the space's moderators (once per person and message). A member's
    report of patient-identifiable information hides it at once (``message_hidden``)."""
    message, _ = message_from(data)
    reason = reason_from(data)
    # A line break counts once, as in the report forms (a browser sends a textarea's as CRLF).
    note = single_line_breaks(text(data, "note")) if data.get("note") is not None else ""
    may_report(message, reason, note)
    try:
        moderation.flag_chat_message(current_user, message, reason, note)
    except moderation.ModerationError as error:
        raise Refused("already_reported", error.message) from None
    return {"hidden": message.hidden_at is not None}


@chat_message_changed.connect
def announce_message_change(message: ChatMessage, **_: Any) -> None:
    """A message hidden, restored or removed by a report or a moderation decision goes from (or
    comes back to) every screen in its room at once. Hidden, it goes as ``message_hidden``
    ``{id}`` to every screen but those of the people who may still read it (the space's
    moderators), which are sent ``{id, message}``, its text with it, to mark it hidden."""
    try:
        if message.deleted_at is not None:
            broadcast("message_deleted", {"id": message.id}, message.event_id)
        elif message.hidden_at is not None:
            gone = {"id": message.id}
            broadcast_by_reader(
                message.event_id,
                lambda people: chat_message_readers(message, people),
                ("message_hidden", {**gone, "message": chat.payload(message, moderator=True)}),
                ("message_hidden", gone),
            )
        else:
            shown = chat.payload(message)
            broadcast("message_restored", {"id": message.id, "message": shown}, message.event_id)
    except Exception:  # the decision is committed; never fail the request over this
        logger.exception("telling the chat about a moderation decision failed")


@event_changed.connect
def announce_event_change(event: Event, **_: Any) -> None:
    """An event edited (new times) or cancelled tells its chat's room the new ``state`` at once:
    readers' screens open, close or re-time the chat without a reload. Nobody's mutes are in it
    (``broadcast_state``), whoever made the change."""
    try:
        broadcast_state(event)
    except Exception:  # the event is committed; never fail the request over this
        logger.exception("telling the chat about an event change failed")
