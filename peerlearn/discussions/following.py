"""Following: threads followed automatically (on posting or being mentioned) or by choice, muted
threads, and followed spaces. Notifications read these to decide who hears about what.

Each choice is written by one statement that gives way to the same choice made at the same
moment (a double click sends the form twice): an INSERT that does nothing, or updates the
state, when the row is already there, and a DELETE of whatever is there.

A ban from a space ends its member's follows of the space and of its threads: lifted, the ban
leaves them following nothing there, like anyone else (threads they muted stay muted). A follow
made at the same moment as a ban is written either before the ban, which then ends it, or after
it, and refused (:func:`_hold_memberships`, :func:`_ensure_may_follow`)."""

from typing import Any

from sqlalchemy import delete, select

from peerlearn.accounts.models import User
from peerlearn.core.db import insert_into
from peerlearn.core.signals import standing_changing
from peerlearn.discussions.holds import DiscussionError, refuse_if_banned
from peerlearn.discussions.models import FollowState, SpaceSubscription, Thread, ThreadSubscription
from peerlearn.extensions import db
from peerlearn.permissions import Action, can, forget_standing
from peerlearn.spaces.models import Space


def follow_automatically(user: User, thread: Thread) -> None:
    """Follow a thread automatically, unless the member chose to mute it."""
    if thread.id is None:
        db.session.flush()
    db.session.execute(
        insert_into(db.session, ThreadSubscription.__table__)
        .values(user_id=user.id, thread_id=thread.id)
        .on_conflict_do_nothing()
    )


#: The refusal of a follow by someone banned from the space since the page's check.
BANNED = "You are banned from this space, so you cannot follow it or its threads"


def _hold_memberships(space: Space) -> None:
    """Keep the follower's standing in the space from changing until this transaction ends, before
    the follow is written: the space is locked against change (``FOR SHARE``), and every change of
    membership (a ban above all, a member's or an outsider's, whose membership does not exist
    yet) holds the space first (:func:`~peerlearn.spaces.services.hold_space`). A ban then either
    waits for the follow to commit and ends it (:data:`~peerlearn.core.signals.standing_changing`),
    or commits first and is seen by :func:`_ensure_may_follow`. Taken before the follow's row, so
    that a ban deleting that row never waits for it while the follow waits for the space. (SQLite
    lets one transaction write at a time: the follow's write makes it that one, and the check
    after it reads what any ban committed.)"""
    db.session.execute(select(Space.id).where(Space.id == space.id).with_for_update(read=True))


def _ensure_may_follow(user: User, target: Thread | Space) -> None:
    """Once the follow is written (the space held: :func:`_hold_memberships`), ask the policy again
    with the follower's standing as it is now (:func:`~peerlearn.permissions.forget_standing`);
    if they may no longer follow, undo the follow and say why."""
    forget_standing(user)
    if can(user, Action.follow, target):
        return
    space = target if isinstance(target, Space) else target.space
    db.session.rollback()
    refuse_if_banned(user, space, BANNED)
    raise DiscussionError(
        f"You can no longer follow this {'space' if target is space else 'thread'}"
    )


def set_thread_following(user: User, thread: Thread, state: FollowState | None) -> None:
    """Follow, mute, or go back to the default for a thread. Following is refused to someone
    banned from its space a moment ago (:func:`_ensure_may_follow`); muting and going back to the
    default never are."""
    if state is FollowState.following:
        _hold_memberships(thread.space)
    if state is None:
        db.session.execute(
            delete(ThreadSubscription).where(
                ThreadSubscription.user_id == user.id, ThreadSubscription.thread_id == thread.id
            )
        )
    else:
        db.session.execute(
            insert_into(db.session, ThreadSubscription.__table__)
            .values(user_id=user.id, thread_id=thread.id, state=state)
            .on_conflict_do_update(index_elements=["user_id", "thread_id"], set_={"state": state})
        )
    if state is FollowState.following:
        _ensure_may_follow(user, thread)
    db.session.commit()


def thread_follow_state(user: User, thread: Thread) -> FollowState | None:
    """Whether the member follows or has muted the thread."""
    if not getattr(user, "is_authenticated", False):
        return None
    subscription = db.session.get(ThreadSubscription, (user.id, thread.id))
    return subscription.state if subscription is not None else None


def set_space_following(user: User, space: Space, following: bool) -> None:
    """Follow a space (notified of each new thread in it) or stop. Following is refused to
    someone banned from it a moment ago (:func:`_ensure_may_follow`)."""
    if following:
        _hold_memberships(space)
        db.session.execute(
            insert_into(db.session, SpaceSubscription.__table__)
            .values(user_id=user.id, space_id=space.id)
            .on_conflict_do_nothing()
        )
        _ensure_may_follow(user, space)
    else:
        db.session.execute(
            delete(SpaceSubscription).where(
                SpaceSubscription.user_id == user.id, SpaceSubscription.space_id == space.id
            )
        )
    db.session.commit()


def follows_space(user: User, space: Space) -> bool:
    """Whether the member follows the space."""
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(SpaceSubscription, (user.id, space.id)) is not None


def end_follows(user: User, space: Space) -> None:
    """Stop the member following the space and every thread in it (mutes are kept), in the
    caller's unit of work."""
    db.session.execute(
        delete(SpaceSubscription).where(
            SpaceSubscription.user_id == user.id, SpaceSubscription.space_id == space.id
        )
    )
    db.session.execute(
        delete(ThreadSubscription).where(
            ThreadSubscription.user_id == user.id,
            ThreadSubscription.state == FollowState.following,
            ThreadSubscription.thread_id.in_(select(Thread.id).where(Thread.space_id == space.id)),
        )
    )


@standing_changing.connect
def _end_follows_on_ban(user: User, space: Space | None, banned: bool = False, **_: Any) -> None:
    """A ban ends the member's part in the space, following included, in the ban's own unit of
    work: both commit or neither. (The policy already keeps every notification from them while
    banned; this makes lifting the ban start afresh.)"""
    if banned and space is not None:
        end_follows(user, space)
