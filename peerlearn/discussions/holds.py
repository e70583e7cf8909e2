"""What a write to a discussion holds before it checks, and the refusal it gives once it holds.

Writers hold in one order, so that two of them never each wait for the other (a deadlock on
PostgreSQL): the thread (:func:`~peerlearn.discussions.removal.hold_thread`), then its space
(:func:`hold_open`), then the posts they change (a helpful mark's count). A write that holds
only some of them keeps that order among those it holds; a move holds its thread, then both
spaces in the order of their ids (:func:`~peerlearn.moderation.services.move_thread`); a follow
shares its space's hold before it writes (:mod:`~peerlearn.discussions.following`).

Once a write holds its space it asks again who may make it (:func:`ensure_may_write`; a
moderator's, :func:`~peerlearn.spaces.memberships.ensure_may_moderate`), with the writer's
standing as committed now: every ban, removal, departure and change of role holds the space
first, so one committed a moment ago, after the page's check, counts, and one made as the write
is under way waits for it to commit (and a ban then ends the follows it made).
"""

from typing import Any

from peerlearn.accounts.models import User
from peerlearn.core.errors import RuleError
from peerlearn.discussions.models import Post, Thread
from peerlearn.permissions import (
    Action,
    banned_from,
    can,
    forget_standing,
    membership_of,
    space_allows,
)
from peerlearn.spaces.memberships import ensure_may_moderate
from peerlearn.spaces.models import Membership, Space
from peerlearn.spaces.services import hold_space

#: The refusal of a post (a reply, an edit, a removal, a mark) in a space archived since the
#: page's check.
ARCHIVED = "This space is archived and read-only: nobody can post in it"
#: The refusal of a write by someone banned from the space since the page's check.
BANNED = "You are banned from this space, so you cannot post in it"
#: The refusal of a write by someone whose membership ended (removed, or they left) since then.
NOT_A_MEMBER = "You are no longer a member of this space, so you cannot post in it"
#: The refusal of a reply to a thread a moderator locked since the page's check.
LOCKED = "This thread is locked: nobody can reply to it"
#: The refusal of an edit of a post removed or hidden since the edit page was loaded.
REMOVED = "That post has been removed, so it cannot be edited"


class DiscussionError(RuleError):
    """A rule about discussions was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


def hold_open(space: Space) -> None:
    """Hold the space a post is written, changed or marked in
    (:func:`~peerlearn.spaces.services.hold_space`), after its thread if the write holds that,
    and refuse the write if the space is archived as held: one archived after the page's check,
    a moment ago, takes no post, edit, removal or mark, and an archive waits for a write under
    way."""
    hold_space(space)
    if space.archived:
        raise DiscussionError(ARCHIVED)


def ensure_may_write(user: Any, action: Action, target: Space | Thread | Post) -> None:
    """Once the write holds its thread and space (:func:`hold_open`), ask the policy again
    whether ``user`` may ``action`` the ``target`` (the space, a thread or a post in it), with
    their account and membership read as committed now
    (:func:`~peerlearn.permissions.forget_standing`), not as the page's check found them; if
    they may no longer, refused, saying why. The caller reads again, as held, what a moderator
    may have changed on the thread or post (locked, hidden, removed)."""
    forget_standing(user)
    if can(user, action, target):
        return
    post = target if isinstance(target, Post) else None
    thread = post.thread if post is not None else target if isinstance(target, Thread) else None
    space = thread.space if thread is not None else target
    membership = refuse_if_banned(user, space, BANNED)
    if not space_allows(user, Action.post, space, membership):
        raise DiscussionError(NOT_A_MEMBER)
    if post is not None and post.removed:
        raise DiscussionError(REMOVED)
    if thread is not None and thread.locked:
        raise DiscussionError(LOCKED)
    raise DiscussionError("This thread has been hidden, so nobody can write in it")


def refuse_if_banned(user: Any, space: Space, refusal: str) -> Membership | None:
    """Refuse ``user`` with ``refusal`` (the words for what they were doing) if they are banned
    from the space as their membership now stands; otherwise their membership (None: they have
    none), for the caller to say why else it refuses. Every write and follow refused after its
    second look at the writer's standing asks this first, so a ban is always named as the
    reason."""
    if banned_from(user, space):
        raise DiscussionError(refusal)
    return membership_of(user, space)  # as banned_from() read it: kept for the request


def ensure_may_change(user: User, action: Action, post: Post) -> None:
    """Ask again, as held, whether ``user`` may ``action`` (edit, delete) the post: someone
    else's as a moderator of its space (:func:`~peerlearn.spaces.memberships.ensure_may_moderate`,
    which every moderator's action asks); their own as its author (:func:`ensure_may_write`):
    an edit as the policy says for the post, a removal while they may post in the space,
    whatever a moderator did to the post a moment ago (removed once hidden, it is both)."""
    if user.id != post.author_id:
        ensure_may_moderate(user, post.thread.space)
    elif action is Action.delete:
        ensure_may_write(user, Action.post, post.thread.space)
    else:
        ensure_may_write(user, action, post)
