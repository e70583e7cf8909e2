"""Reading discussions: thread lists, the pages of a thread, and how far each member has read.

Kept apart from :mod:`peerlearn.discussions.services` (which writes), so lists and pages can be
read, measured and changed without touching the transactions.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.core.db import UTCDateTime, insert_into, utcnow
from peerlearn.core.signals import membership_changed
from peerlearn.discussions.models import (
    FollowState,
    ImpactComponent,
    Post,
    SpaceRead,
    Tag,
    Thread,
    ThreadComponent,
    ThreadRead,
    ThreadSubscription,
)
from peerlearn.extensions import db
from peerlearn.permissions import post_filter, thread_filter
from peerlearn.spaces.models import Membership, MemberState, Space

#: Top-level replies per page of a thread; each comes with all its replies, so trees never split.
ROOTS_PER_PAGE = 20
#: Deeper replies are drawn at this depth with an "in reply to …" link.
MAX_VISUAL_DEPTH = 4


# Read tracking ----------------------------------------------------------------------------------


def _upsert(model: type, values: dict[str, object], keys: list[str], column: str) -> None:
    """Insert or raise ``column`` to ``values[column]`` (never lower), on both databases."""
    now = utcnow()
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert_into(db.session, table).values(**values, read_at=now)
    db.session.execute(_raising(statement, keys, column, now))


def _raising(statement: Any, keys: list[str], column: str, now: datetime) -> Any:
    """An INSERT of read positions that, for a row already there, raises ``column`` to the new
    value and never lowers it: a page read a moment ago is never undone by one read before."""
    excluded, current = getattr(statement.excluded, column), getattr(statement.table.c, column)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={column: case((excluded > current, excluded), else_=current), "read_at": now},
    )


def mark_read(user: User, thread: Thread, up_to_post_id: int, *, commit: bool = True) -> None:
    """Record that the member has read the thread up to a post."""
    _upsert(
        ThreadRead,
        {"user_id": user.id, "thread_id": thread.id, "last_read_post_id": up_to_post_id},
        ["user_id", "thread_id"],
        "last_read_post_id",
    )
    if commit:
        db.session.commit()


def mark_seen(
    user: User,
    thread: Thread,
    newest: int,
    *,
    read_before: int,
    shown: ColumnElement[bool] | None = None,
    commit: bool = True,
) -> None:
    """Raise the member's read position over ``newest``, the newest post just shown to them,
    up to the first unread post of someone else's that they were not shown (``shown``: SQL on
    :class:`Post` for what the page showed; nothing but their own post when None), or to the
    thread's newest post when there is none. A thread is paged by its top-level replies, so a
    new answer deep in page 1's first tree has a higher id than a new top-level reply on page
    2: the one read position must stop short of the latter, or reading page 1 would count it
    as read, and so would posting a reply. Their own posts are never news to them, so the
    position passes over them."""
    if newest <= read_before:
        return
    unseen = select(func.min(Post.id)).where(
        Post.thread_id == thread.id,
        Post.id > read_before,
        Post.deleted_at.is_(None),
        Post.hidden_at.is_(None),
        Post.author_id.is_distinct_from(user.id),
    )
    if shown is not None:
        unseen = unseen.where(~shown)
    gap = db.session.scalar(unseen)
    up_to = max(newest, thread.last_post_id) if gap is None else gap - 1
    if up_to > read_before:
        mark_read(user, thread, up_to, commit=commit)


def mark_space_read(user: User, space: Space) -> None:
    """Everything in the space so far counts as read."""
    newest = db.session.scalar(
        select(func.coalesce(func.max(Thread.last_post_id), 0)).where(Thread.space_id == space.id)
    )
    _upsert(
        SpaceRead,
        {"user_id": user.id, "space_id": space.id, "read_up_to_post_id": newest},
        ["user_id", "space_id"],
        "read_up_to_post_id",
    )
    db.session.commit()


def _read_position():  # type: ignore[no-untyped-def]
    """SQL for a member's read position in each thread (joined per thread by the caller): the
    higher of the thread's own and its space's, unless the thread's was set after the space's.
    Reading a thread only ever sets its position above both, so that exception is a thread
    moved in since the space was marked read (:func:`keep_read_positions`): the marking was of
    the threads the space held then, and the thread keeps the position it had."""
    thread_read = func.coalesce(ThreadRead.last_read_post_id, 0)
    space_read = func.coalesce(SpaceRead.read_up_to_post_id, 0)
    return case(
        (ThreadRead.read_at > SpaceRead.read_at, thread_read),
        (thread_read > space_read, thread_read),
        else_=space_read,
    )


def _with_reads(query, user_id: int):  # type: ignore[no-untyped-def]
    return query.outerjoin(
        ThreadRead, and_(ThreadRead.thread_id == Thread.id, ThreadRead.user_id == user_id)
    ).outerjoin(
        SpaceRead, and_(SpaceRead.space_id == Thread.space_id, SpaceRead.user_id == user_id)
    )


def read_positions(user: User, thread_ids: list[int]) -> dict[int, int]:
    """The highest post id the member has read in each thread."""
    if not thread_ids or not getattr(user, "is_authenticated", False):
        return {}
    query = _with_reads(select(Thread.id, _read_position()), user.id).where(
        Thread.id.in_(thread_ids)
    )
    return {thread_id: position for thread_id, position in db.session.execute(query)}


def read_position(user: User, thread: Thread) -> int:
    """The highest post id the member has read in the thread (0: none)."""
    return read_positions(user, [thread.id]).get(thread.id, 0)


def unread_counts(user: User, thread_ids: list[int]) -> dict[int, int]:
    """Unread posts per thread (others' visible posts past the member's read position)."""
    if not thread_ids or not getattr(user, "is_authenticated", False):
        return {}
    query = (
        _with_reads(select(Thread.id, func.count(Post.id)), user.id)
        .join(Post, Post.thread_id == Thread.id)
        .where(
            Thread.id.in_(thread_ids),
            Post.id > _read_position(),
            Post.deleted_at.is_(None),
            Post.hidden_at.is_(None),
            Post.author_id.is_distinct_from(user.id),
        )
        .group_by(Thread.id)
    )
    return {thread_id: count for thread_id, count in db.session.execute(query)}


def unread_threads_by_space(user: User, space_ids: list[int]) -> dict[int, int]:
    """How many threads have unread posts, per space the member belongs to."""
    if not space_ids or not getattr(user, "is_authenticated", False):
        return {}
    member_of = select(Membership.space_id).where(
        Membership.user_id == user.id, Membership.state == MemberState.active
    )
    query = (
        _with_reads(select(Thread.space_id, func.count(Thread.id)), user.id)
        .where(
            Thread.space_id.in_(space_ids),
            Thread.space_id.in_(member_of),
            Thread.hidden.is_(False),
            Thread.last_post_id > _read_position(),
            Thread.author_id.is_distinct_from(user.id) | (Thread.reply_count > 0),
        )
        .group_by(Thread.space_id)
    )
    return {space_id: count for space_id, count in db.session.execute(query)}


def first_unread_post_id(user: User, thread: Thread) -> int | None:
    """The first visible post past the member's read position, if any: someone else's, as
    :func:`unread_counts` counts them."""
    return db.session.scalar(
        select(func.min(Post.id)).where(
            Post.thread_id == thread.id,
            Post.id > read_position(user, thread),
            Post.deleted_at.is_(None),
            Post.hidden_at.is_(None),
            Post.author_id.is_distinct_from(user.id),
        )
    )


def keep_read_positions(thread: Thread, target: Space) -> None:
    """In the caller's unit of work, before ``thread`` moves to ``target``: set each reader's
    position in the thread to what it is now, for everyone who has marked either space read (or
    joined it). Their unread posts in it then follow the thread: what they had read in the
    space it left (marking that space read included) stays read, and a marking of ``target``
    made before the thread came in does not count it read. One statement, raising a position
    only, as reading does, so a page read at the same moment is not undone."""
    readers = (
        select(SpaceRead.user_id)
        .where(SpaceRead.space_id.in_([thread.space_id, target.id]))
        .distinct()
        .subquery()
    )
    now = utcnow()
    # The readers' positions as the thread's present space counts them.
    positions = (
        select(readers.c.user_id, literal(thread.id), _read_position(), literal(now, UTCDateTime()))
        .select_from(readers)
        .outerjoin(
            ThreadRead,
            and_(ThreadRead.thread_id == thread.id, ThreadRead.user_id == readers.c.user_id),
        )
        .outerjoin(
            SpaceRead,
            and_(SpaceRead.space_id == thread.space_id, SpaceRead.user_id == readers.c.user_id),
        )
        # SQLite reads the ON of an upsert's SELECT as its own unless a WHERE comes between.
        .where(readers.c.user_id.is_not(None))
    )
    statement = insert_into(db.session, ThreadRead.__table__).from_select(
        ["user_id", "thread_id", "last_read_post_id", "read_at"], positions
    )
    db.session.execute(_raising(statement, ["user_id", "thread_id"], "last_read_post_id", now))


@membership_changed.connect
def _start_reading_on_join(space: Space, user: User, state: MemberState | None) -> None:
    """A new member starts with the space's history read, so only new posts count as unread."""
    if state is MemberState.active and db.session.get(SpaceRead, (user.id, space.id)) is None:
        mark_space_read(user, space)


# Reading threads --------------------------------------------------------------------------------


class ThreadFilter(enum.StrEnum):
    """The thread list's filters."""

    unanswered = "unanswered"
    solved = "solved"
    mine = "mine"
    followed = "followed"


def threads_query(
    viewer: object,
    *,
    space: Space | None = None,
    tag: str | None = None,
    component: ImpactComponent | None = None,
    only: ThreadFilter | None = None,
) -> Select[tuple[Thread]]:
    """Threads the viewer may see: in one space pinned first, then by latest activity."""
    query = (
        select(Thread)
        .where(thread_filter(viewer))
        .options(
            selectinload(Thread.author).selectinload(User.organisation),
            selectinload(Thread.tags),
            selectinload(Thread.component_rows),
        )
    )
    if space is not None:
        # Each row's space is this one, already loaded: no query for it.
        query = query.where(Thread.space_id == space.id).order_by(Thread.pinned.desc())
    else:
        query = query.options(selectinload(Thread.space))
    query = query.order_by(Thread.last_activity_at.desc(), Thread.id.desc())
    if tag:
        query = query.where(Thread.tags.any(Tag.slug == tag))
    if component is not None:
        query = query.where(Thread.component_rows.any(ThreadComponent.component == component))
    user_id = getattr(viewer, "id", None) if getattr(viewer, "is_authenticated", False) else None
    if only is ThreadFilter.unanswered:
        query = query.where(Thread.reply_count == 0)
    elif only is ThreadFilter.solved:
        query = query.where(Thread.solved_post_id.is_not(None))
    elif only is ThreadFilter.mine:
        query = query.where(
            (Thread.author_id == user_id)
            | Thread.id.in_(select(Post.thread_id).where(Post.author_id == user_id))
        )
    elif only is ThreadFilter.followed:
        query = query.where(
            Thread.id.in_(
                select(ThreadSubscription.thread_id).where(
                    ThreadSubscription.user_id == user_id,
                    ThreadSubscription.state == FollowState.following,
                )
            )
        )
    return query


def opening_post(thread: Thread) -> Post:
    """The thread's first post."""
    return db.session.scalars(
        select(Post)
        # Only the opening post has an empty path: this uses the (thread_id, path) index.
        .where(Post.thread_id == thread.id, Post.path == "", Post.root_id.is_(None))
        .options(selectinload(Post.author).selectinload(User.organisation))
        .order_by(Post.id)
        .limit(1)
    ).one()


def roots_query(thread: Thread) -> Select[tuple[Post]]:
    """The thread's top-level replies, oldest first: the unit a long thread is paged by."""
    return (
        select(Post).where(Post.thread_id == thread.id, Post.root_id == Post.id).order_by(Post.id)
    )


def posts_under(thread: Thread, root_ids: list[int]) -> list[Post]:
    """Every post in the given top-level replies' trees, depth-first, in one query.

    Each post's parent is in the same tree, or is the opening post: both are loaded already
    (the opening post by the page, or by one query on later pages), so parents need no query.
    """
    if not root_ids:
        return []
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.thread_id == thread.id, Post.root_id.in_(root_ids))
            .options(selectinload(Post.author).selectinload(User.organisation))
            .order_by(Post.path)
        )
    )


def shown_on_page(page: int, root_ids: list[int]) -> ColumnElement[bool]:
    """SQL on :class:`Post` for the posts a page of the thread shows: the trees of its top-level
    replies, and on page 1 the opening post."""
    in_trees = and_(Post.root_id.is_not(None), Post.root_id.in_(root_ids))
    return or_(Post.root_id.is_(None), in_trees) if page == 1 else in_trees


def page_of(post: Post) -> int:
    """The page of its thread a post appears on."""
    if post.root_id is None:
        return 1
    before = db.session.scalar(
        select(func.count())
        .select_from(Post)
        .where(Post.thread_id == post.thread_id, Post.root_id == Post.id, Post.id < post.root_id)
    )
    return before // ROOTS_PER_PAGE + 1


def recent_posts_by(author: User, viewer: object, limit: int = 10) -> list[Post]:
    """An author's latest visible posts that the viewer may read (for their profile)."""
    return list(
        db.session.scalars(
            select(Post)
            .where(
                Post.author_id == author.id,
                post_filter(viewer),
                Post.deleted_at.is_(None),
                Post.hidden_at.is_(None),
            )
            .options(selectinload(Post.thread).selectinload(Thread.space))
            .order_by(Post.id.desc())
            .limit(limit)
        )
    )
