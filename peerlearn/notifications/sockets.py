"""The live header count: each signed-in member's pages join their own room on the default
namespace and receive ``notifications`` events ``{"unread": n}``."""

from flask_login import current_user
from flask_socketio import emit, join_room

from peerlearn.extensions import socketio
from peerlearn.notifications.services import unread_count, user_room


@socketio.on("connect")
def connect(auth: object = None) -> bool:
    """Refuse anonymous connections; put a member in their own room and send their count."""
    if not current_user.is_authenticated:
        return False
    join_room(user_room(current_user.id))
    emit("notifications", {"unread": unread_count(current_user)})
    return True
