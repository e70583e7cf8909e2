"""Helpful marks and answers: a member marks a post helpful (once, never their own), and a reply
is marked as the answer to a question. Each change waits for any other to the same post or thread
(:func:`~peerlearn.core.db.hold`), is refused in a space archived a moment ago
(:func:`~peerlearn.discussions.holds.hold_open`), and sends
:data:`~peerlearn.core.signals.post_marked` once it is committed, so the post's author hears of
it.
"""

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from peerlearn.accounts.models import User
from peerlearn.core.db import hold
from peerlearn.core.signals import post_marked, thread_changed
from peerlearn.discussions.holds import DiscussionError, hold_open
from peerlearn.discussions.models import HelpfulMark, Post, Thread, ThreadKind
from peerlearn.discussions.removal import hold_thread
from peerlearn.extensions import db


def set_helpful(user: User, post: Post, helpful: bool) -> None:
    """Mark (or unmark) a post as helpful: one mark per member per post, never your own.

    A post's marks are changed one at a time (:func:`~peerlearn.core.db.hold`), so that no
    other mark is given between this one and the count. Without it, eight members marking a post
    at the same moment each counted before the others had written, and the post showed fewer
    marks than it had. Its space is held before it (:func:`hold_open`): no mark is given or
    taken back in a space archived a moment ago."""
    hold_open(post.thread.space)
    hold(db.session, Post.helpful_count, Post.id == post.id)
    mark = db.session.get(HelpfulMark, (post.id, user.id))
    if helpful == (mark is not None):
        return
    if helpful:
        db.session.add(HelpfulMark(post_id=post.id, user_id=user.id))
    else:
        db.session.delete(mark)
    db.session.flush()
    post.helpful_count = db.session.scalar(
        select(func.count()).select_from(HelpfulMark).where(HelpfulMark.post_id == post.id)
    )
    try:
        db.session.commit()
    except IntegrityError:  # the same click twice at once
        db.session.rollback()
        return
    post_marked.send(post, how="helpful" if helpful else "unhelpful", by=user)


def helpful_marked_by(user: User, posts: Iterable[Post]) -> set[int]:
    """Which of these posts the member has marked helpful."""
    ids = [post.id for post in posts]
    if not ids or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        db.session.scalars(
            select(HelpfulMark.post_id).where(
                HelpfulMark.user_id == user.id, HelpfulMark.post_id.in_(ids)
            )
        )
    )


def set_solution(actor: User, thread: Thread, post: Post | None) -> None:
    """Mark a reply as the answer to a question (or clear it). The choice stands over an answer
    hidden by a moderator (:func:`~peerlearn.discussions.removal.recount`): restored, that post
    is not the answer again."""
    if thread.kind is not ThreadKind.question:
        raise DiscussionError("Only questions can be marked as solved")
    hold_thread(thread)  # checked once held: a post a moderator hid a moment ago is not marked
    hold_open(thread.space)  # nor one in a space archived a moment ago
    if post is not None:
        db.session.refresh(post, ["deleted_at", "hidden_at"])
    if post is not None and (post.thread_id != thread.id or post.root_id is None or post.removed):
        raise DiscussionError("Choose a reply in this thread as the answer")
    thread.solved_post_id = post.id if post is not None else None
    thread.hidden_answer_post_id = None  # a choice made since a hidden answer stands over it
    db.session.commit()
    thread_changed.send(thread)
    if post is not None:
        post_marked.send(post, how="solved", by=actor)
