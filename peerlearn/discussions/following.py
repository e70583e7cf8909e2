"""Following: threads followed automatically (on posting or being mentioned) or by choice, muted
threads, and followed spaces. Notifications read these to decide who hears about what."""

from peerlearn.accounts.models import User
from peerlearn.discussions.models import FollowState, SpaceSubscription, Thread, ThreadSubscription
from peerlearn.extensions import db
from peerlearn.spaces.models import Space


def follow_automatically(user: User, thread: Thread) -> None:
    """Follow a thread automatically, unless the member chose to mute it."""
    if thread.id is None:
        db.session.flush()
    if db.session.get(ThreadSubscription, (user.id, thread.id)) is None:
        db.session.add(ThreadSubscription(user_id=user.id, thread_id=thread.id))


def set_thread_following(user: User, thread: Thread, state: FollowState | None) -> None:
    """Follow, mute, or go back to the default for a thread."""
    subscription = db.session.get(ThreadSubscription, (user.id, thread.id))
    if state is None:
        if subscription is not None:
            db.session.delete(subscription)
    elif subscription is None:
        db.session.add(ThreadSubscription(user_id=user.id, thread_id=thread.id, state=state))
    else:
        subscription.state = state
    db.session.commit()


def thread_follow_state(user: User, thread: Thread) -> FollowState | None:
    """Whether the member follows or has muted the thread."""
    if not getattr(user, "is_authenticated", False):
        return None
    subscription = db.session.get(ThreadSubscription, (user.id, thread.id))
    return subscription.state if subscription is not None else None


def set_space_following(user: User, space: Space, following: bool) -> None:
    """Follow a space (notified of each new thread in it) or stop."""
    subscription = db.session.get(SpaceSubscription, (user.id, space.id))
    if following and subscription is None:
        db.session.add(SpaceSubscription(user_id=user.id, space_id=space.id))
    elif not following and subscription is not None:
        db.session.delete(subscription)
    db.session.commit()


def follows_space(user: User, space: Space) -> bool:
    """Whether the member follows the space."""
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(SpaceSubscription, (user.id, space.id)) is not None
