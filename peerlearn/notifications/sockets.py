"""The live header count: each signed-in member's pages join their own room on the default
namespace and receive ``notifications`` events ``{"unread": n}``.

When one of a member's sign-ins ends (signing out, here or of every other browser, a password
changed or reset) or their account changes (deactivated, say), their room is closed: its
connections, whichever sign-in they were opened with, hear nothing more. Each is first sent
``sign_in_changed``, on which the page connects again: a browser still signed in rejoins the room
at once, and one whose sign-in ended (a copied cookie's, say) is refused."""

import logging
from typing import Any

from flask_login import current_user
from flask_socketio import emit, join_room

from peerlearn.accounts.models import User
from peerlearn.core.signals import account_changed, sign_ins_ended
from peerlearn.extensions import socketio
from peerlearn.notifications.services import unread_count, user_room

logger = logging.getLogger(__name__)


@socketio.on("connect")
def connect(auth: object = None) -> bool:
    """Refuse anonymous connections; put a member in their own room and send their count."""
    if not current_user.is_authenticated:
        return False
    join_room(user_room(current_user.id))
    emit("notifications", {"unread": unread_count(current_user)})
    return True


@sign_ins_ended.connect
@account_changed.connect
def close_member_room(user: User, **_: Any) -> None:
    """Close the member's room (on every server process), asking its connections to connect
    again first."""
    room = user_room(user.id)
    try:
        socketio.emit("sign_in_changed", {}, to=room, namespace="/")
        socketio.close_room(room, namespace="/")
    except Exception:  # the change is committed; never fail the request over this
        logger.exception("closing a member's header-count room failed")
