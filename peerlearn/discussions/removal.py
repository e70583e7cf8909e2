"""Removing posts and keeping a thread's counters right: holding a thread while its posts change,
so replies, removals and restorations happen one at a time; recounting its replies, newest post
and answer after a post is removed, hidden or restored; and removing a post, which leaves a
"removed" placeholder so the reply tree stays whole. Moderation's hiding and restoring use the
same hold and recount.
"""

from sqlalchemy import and_, func, select

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import hold, utcnow
from peerlearn.core.signals import post_removed
from peerlearn.discussions.holds import ensure_may_change, hold_open
from peerlearn.discussions.models import Post, Thread
from peerlearn.extensions import db
from peerlearn.permissions import Action


def hold_thread(thread: Thread) -> None:
    """Make this transaction the only one changing the thread's posts and counters until it ends
    (:func:`~peerlearn.core.db.hold`), before any other write. Replies, removals and
    restorations in one thread then happen one at a time, so none counts the replies or picks
    the newest post while another is being written, and the thread never loses a reply from its
    count or goes back to an older newest post."""
    with db.session.no_autoflush:
        hold(db.session, Thread.reply_count, Thread.id == thread.id)
        # Forget the counters (and the answer) read before: a count equal to a stale one would
        # not be written, and an answer marked a moment ago would be left on a hidden post.
        db.session.expire(thread, ["reply_count", "last_post_id", "last_activity_at",
                                   "solved_post_id", "hidden_answer_post_id"])  # fmt: skip


def recount(thread: Thread) -> None:
    """Bring the thread's counters and answer back in line after a post is removed, hidden or
    restored (the caller holds the thread, :func:`hold_thread`, before it changes the post)."""
    visible = and_(Post.thread_id == thread.id, Post.deleted_at.is_(None), Post.hidden_at.is_(None))
    _keep_answer(thread)
    thread.reply_count = db.session.scalar(
        select(func.count()).select_from(Post).where(visible, Post.root_id.is_not(None))
    )
    newest = db.session.scalars(
        select(Post).where(visible).order_by(Post.id.desc()).limit(1)
    ).first()
    if newest is not None:
        thread.last_post_id = newest.id
        thread.last_activity_at = newest.created_at


def _keep_answer(thread: Thread) -> None:
    """A hidden or removed answer stops being the answer. A hidden one is remembered
    (``hidden_answer_post_id``) and is the answer again once restored, if the question has no
    answer then: a moderator's hiding, undone, does not leave the asker to mark it again. A
    removed one is forgotten, as removal is for good. The answer's author is not told again:
    no :data:`~peerlearn.core.signals.post_marked` is sent."""
    if thread.solved_post_id is not None:
        state = _answer_state(thread.solved_post_id)
        if state != "shown":
            thread.hidden_answer_post_id = thread.solved_post_id if state == "hidden" else None
            thread.solved_post_id = None
    elif thread.hidden_answer_post_id is not None:
        state = _answer_state(thread.hidden_answer_post_id)
        if state == "shown":
            thread.solved_post_id = thread.hidden_answer_post_id
        if state != "hidden":
            thread.hidden_answer_post_id = None


def _answer_state(post_id: int) -> str:
    """Whether the post is ``shown``, ``hidden`` by a moderator, or ``removed``."""
    row = db.session.execute(
        select(Post.deleted_at, Post.hidden_at).where(Post.id == post_id)
    ).one_or_none()
    if row is None or row.deleted_at is not None:
        return "removed"
    return "shown" if row.hidden_at is None else "hidden"


def delete_post(actor: User | None, post: Post) -> None:
    """Remove a post, leaving a "removed" placeholder so the reply tree stays whole (``actor``
    None: removed by peerlearn itself, as a consequence of another change; audited). Its author
    or a moderator removes nothing in a space archived a moment ago (:func:`hold_open`), and
    each is asked again as held: an author banned, or a moderator made a plain member, a moment
    ago removes nothing (:func:`~peerlearn.discussions.holds.ensure_may_change`)."""
    if post.deleted_at is not None:
        return
    hold_thread(post.thread)  # before the post's row, as every writer to the thread does
    if actor is not None:
        hold_open(post.thread.space)
        db.session.refresh(post, ["deleted_at", "hidden_at"])
        if post.deleted_at is not None:  # removed a moment ago (a second click): done already
            db.session.rollback()
            return
        ensure_may_change(actor, Action.delete, post)
    post.deleted_at = utcnow()
    post.deleted_by_id = actor.id if actor is not None else None
    recount(post.thread)
    if actor is None or actor.id != post.author_id:
        record("post.deleted", actor=actor, subject=post.author, space=post.thread.space,
               post_id=post.id)  # fmt: skip
    db.session.commit()
    post_removed.send(post)
