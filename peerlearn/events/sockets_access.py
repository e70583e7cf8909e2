"""Keeping each event chat's room to the people who may read it. Broadcasts go to the room
without asking the permission policy again, so when who may read changes, the connections of
those who no longer may are dropped at once: a member removed from (or banned by) the space, an
outsider once the space is made private, an account deactivated or no longer an administrator.
Each dropped connection gets ``removed`` and is taken out of the room, on whichever server process
it is (presence says where everyone is; the Socket.IO message queue reaches the others); the room
gets the new presence list. Anything they send afterwards is refused by the policy anyway.
Helpers are those of ``sockets.py``."""

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from peerlearn.accounts.models import User
from peerlearn.core.signals import (
    account_changed,
    membership_changed,
    sign_ins_ended,
    space_changed,
)
from peerlearn.events import presence
from peerlearn.events.models import Event
from peerlearn.events.sockets import NAMESPACE, presence_changed, room
from peerlearn.extensions import db, socketio
from peerlearn.permissions import event_readers
from peerlearn.spaces.models import MemberState, Space

logger = logging.getLogger(__name__)


def present_events(space: Space | None = None) -> list[Event]:
    """The events whose chat someone is in now (of one space, when given)."""
    event_ids = presence.store().event_ids()
    if not event_ids:
        return []
    query = select(Event).options(joinedload(Event.space)).where(Event.id.in_(event_ids))
    if space is not None:
        query = query.where(Event.space_id == space.id)
    return list(db.session.scalars(query))


def drop(event_id: int, sids: Iterable[str]) -> None:
    """Tell these connections they have left the event's chat, and take them out of its room and
    its presence."""
    dropped = list(sids)
    for sid in dropped:
        socketio.emit("removed", {"event_id": event_id}, to=sid, namespace=NAMESPACE)
        socketio.server.leave_room(sid, room(event_id), namespace=NAMESPACE)
        presence.store().discard(event_id, sid)
    if dropped:
        presence_changed(event_id)


def drop_those_who_may_not_read(events: Iterable[Event], user: User | None = None) -> None:
    """Ask the permission policy about everyone in each event's chat (only ``user``, when given)
    and drop the connections of those who may no longer read it."""
    for event in events:
        connections = presence.store().connections(event.id)
        if user is not None:
            connections = {sid: who for sid, who in connections.items() if who == user.id}
        readers = event_readers(event, connections.values())
        drop(event.id, [sid for sid, who in connections.items() if who not in readers])


@membership_changed.connect
def drop_removed_member(space: Space, user: User, state: MemberState | None, **_: Any) -> None:
    """A member removed from the space (or banned) leaves its event chats at once, even those they
    could still follow as an outsider (a space open to the whole network): they rejoin as one by
    reloading the page."""
    if state not in (None, MemberState.banned):
        return
    try:
        for event in present_events(space):
            drop(event.id, presence.sids_of(event.id, user.id))
    except Exception:  # the membership change is committed; never fail the request over this
        db.session.rollback()
        logger.exception("dropping a removed member from the chat failed")


@space_changed.connect
def drop_new_outsiders(space: Space, **_: Any) -> None:
    """A space's settings changed: everyone in its events' chats who may no longer read them
    (outsiders, once the space is private) leaves at once."""
    try:
        drop_those_who_may_not_read(present_events(space))
    except Exception:  # the space is committed; never fail the request over this
        db.session.rollback()
        logger.exception("dropping outsiders from a space's chats failed")


@account_changed.connect
def drop_closed_account(user: User, **_: Any) -> None:
    """An account deactivated, or no longer an administrator's, leaves every chat it may no
    longer read at once."""
    try:
        drop_those_who_may_not_read(present_events(), user)
    except Exception:  # the account is committed; never fail the request over this
        db.session.rollback()
        logger.exception("dropping an account from the chats it may no longer read failed")


@sign_ins_ended.connect
def reconnect_account(user: User, **_: Any) -> None:
    """A sign-in of the account ended (signing out, here or of every other browser, a password
    changed or reset). A chat connection keeps the sign-in it was opened with, and which of the
    account's connections belong to the ended one is not known here, so all of them are closed:
    the browsers still signed in reconnect at once (the client does so when the server closes it)
    and catch up on what they missed, and one whose sign-in ended, such as a copied cookie's,
    cannot connect again and receives nothing more."""
    try:
        for event in present_events():
            for sid in presence.sids_of(event.id, user.id):
                socketio.server.disconnect(sid, namespace=NAMESPACE)
    except Exception:  # the sign-in has ended; never fail the request over this
        db.session.rollback()
        logger.exception("closing an account's chat connections failed")
