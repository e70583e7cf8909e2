"""Thread and post rules and transactions: starting, replying, editing, removing, marking,
moderating, following, and read tracking.

Views ask the permission policy first; these functions enforce what remains (locked threads, slow
mode, replies to removed posts, double submissions), keep counters and the reply tree's paths
right, write one transaction, and send a signal once it is committed.
"""

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.core.signals import (
    membership_changed,
    post_created,
    post_edited,
    post_marked,
    post_removed,
    post_restored,
    thread_changed,
)
from peerlearn.core.text import MentionTarget, mention_keys, render_markdown
from peerlearn.discussions.models import (
    FollowState,
    HelpfulMark,
    ImpactComponent,
    Post,
    PostRevision,
    SpaceRead,
    SpaceSubscription,
    Tag,
    Thread,
    ThreadComponent,
    ThreadKind,
    ThreadRead,
    ThreadSubscription,
)
from peerlearn.extensions import db
from peerlearn.permissions import (
    Action,
    can,
    post_filter,
    space_allows,
    thread_allows,
    thread_filter,
)
from peerlearn.spaces.models import Membership, MemberState, Space
from peerlearn.spaces.services import memberships_in

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_TAGS = 5
#: Top-level replies per page of a thread; each comes with all its replies, so trees never split.
ROOTS_PER_PAGE = 20
#: Deeper replies are drawn at this depth with an "in reply to …" link.
MAX_VISUAL_DEPTH = 4


class DiscussionError(ValueError):
    """A rule was broken; ``field`` names the form field the message belongs beside."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Text and mentions ------------------------------------------------------------------------------


@dataclass
class Rendered:
    """A post's text through the pipeline, and whom it mentions."""

    html: str
    #: Mentioned members who can see the thread: they are linked and notified.
    mentioned: list[User] = field(default_factory=list)
    #: Mentioned members who cannot see it: linked, never notified (the author is told).
    unreachable: list[User] = field(default_factory=list)


def _check_body(body: str) -> str:
    if not body or not body.strip():
        raise DiscussionError("Enter your message", field="body")
    if len(body) > MAX_BODY:
        raise DiscussionError(
            f"Your message must be {MAX_BODY:,} characters or fewer (it is {len(body):,})",
            field="body",
        )
    return body


def render_post(source: str, space: Space, thread: Thread | None = None) -> Rendered:
    """Render post text, resolving ``@handle`` and ``@[Full Name]`` mentions to members."""
    keys = mention_keys(source)
    if not keys:
        return Rendered(render_markdown(source))
    handles = {key for key in keys if not key.startswith("name:")}
    names = {key[5:] for key in keys if key.startswith("name:")}
    users: dict[str, User] = {}
    if handles:
        for user in db.session.scalars(select(User).where(User.handle.in_(handles), User.active)):
            users[user.handle] = user
    if names:
        by_name: dict[str, list[User]] = {}
        for user in db.session.scalars(select(User).where(User.name_key.in_(names), User.active)):
            by_name.setdefault(user.name_key, []).append(user)
        for name, people in by_name.items():
            if len(people) == 1:  # an ambiguous name links nobody; the handle is unambiguous
                users["name:" + name] = people[0]
    targets = {key: MentionTarget(u.handle, u.display_name) for key, u in users.items()}
    rendered = Rendered(render_markdown(source, targets))
    people = {user.id: user for user in users.values()}
    memberships = memberships_in(space, list(people))
    for user in people.values():
        membership = memberships.get(user.id)
        if thread is not None:
            allowed = thread_allows(user, Action.view, thread, membership)
        else:  # a new thread is visible exactly as its space is
            allowed = space_allows(user, Action.view, space, membership)
        (rendered.mentioned if allowed else rendered.unreachable).append(user)
    return rendered


# Tags -------------------------------------------------------------------------------------------


def tag_slug(name: str) -> str:
    """``Board assurance`` → ``board-assurance``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]


def parse_tags(text: str) -> list[str]:
    """Free tags typed as a comma-separated list, tidied and de-duplicated."""
    seen: dict[str, str] = {}
    for raw in text.split(","):
        name = " ".join(raw.split())[:40]
        slug = tag_slug(name)
        if slug and slug not in seen:
            seen[slug] = name
    if len(seen) > MAX_TAGS:
        raise DiscussionError(f"Use {MAX_TAGS} tags or fewer", field="tags")
    return list(seen.values())


def _tags_for(space: Space, names: Iterable[str]) -> list[Tag]:
    tags = []
    for name in names:
        slug = tag_slug(name)
        tag = db.session.scalar(select(Tag).where(Tag.space_id == space.id, Tag.slug == slug))
        if tag is None:
            tag = Tag(space_id=space.id, name=name, slug=slug)
            db.session.add(tag)
        tags.append(tag)
    return tags


def space_tags(space: Space) -> list[Tag]:
    """The free tags used in a space, by name."""
    return list(db.session.scalars(select(Tag).where(Tag.space_id == space.id).order_by(Tag.name)))


# Starting threads and replying ------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadDraft:
    """What a member writes to start a thread."""

    title: str
    body: str
    kind: ThreadKind = ThreadKind.discussion
    components: tuple[ImpactComponent, ...] = ()
    tags: tuple[str, ...] = ()
    #: The form's one-time key: submitting the same form twice stores one thread.
    submission_key: str | None = None


def _resubmitted(author: User, key: str | None) -> Post | None:
    if not key:
        return None
    return db.session.scalar(
        select(Post).where(Post.author_id == author.id, Post.submission_key == key)
    )


def _pad(post_id: int) -> str:
    return f"{post_id:010d}"


def start_thread(author: User, space: Space, draft: ThreadDraft) -> tuple[Thread, Rendered]:
    """Start a thread with its opening post; the author follows it."""
    previous = _resubmitted(author, draft.submission_key)
    if previous is not None:
        return previous.thread, Rendered(previous.body_html)
    title = " ".join(draft.title.split())
    if not title:
        raise DiscussionError("Enter a title", field="title")
    if len(title) > MAX_TITLE:
        raise DiscussionError(f"Title must be {MAX_TITLE} characters or fewer", field="title")
    body = _check_body(draft.body)
    rendered = render_post(body, space)
    now = utcnow()
    thread = Thread(
        space=space,
        author=author,
        title=title,
        kind=draft.kind,
        created_at=now,
        last_activity_at=now,
        tags=_tags_for(space, draft.tags),
        component_rows=[ThreadComponent(component=c) for c in dict.fromkeys(draft.components)],
    )
    post = Post(
        thread=thread,
        author=author,
        body_source=body,
        body_html=rendered.html,
        created_at=now,
        submission_key=draft.submission_key,
    )
    db.session.add_all([thread, post])
    db.session.flush()
    thread.last_post_id = post.id
    _follow(author, thread)
    for user in rendered.mentioned:
        _follow(user, thread)
    _commit_post(author, draft.submission_key)
    post_created.send(post, mentioned=rendered.mentioned, new_thread=True)
    return thread, rendered


def reply(
    author: User,
    thread: Thread,
    body: str,
    *,
    parent: Post | None = None,
    submission_key: str | None = None,
) -> tuple[Post, Rendered]:
    """Reply to the thread, or to one of its posts."""
    previous = _resubmitted(author, submission_key)
    if previous is not None:
        return previous, Rendered(previous.body_html)
    body = _check_body(body)
    if parent is not None:
        if parent.thread_id != thread.id:
            raise DiscussionError("You can only reply to a post in this thread")
        if parent.removed:
            raise DiscussionError("That post has been removed, so you cannot reply to it")
    if thread.locked and not can(author, Action.moderate, thread):
        raise DiscussionError("This thread is locked: nobody can reply to it")
    _check_slow_mode(author, thread)
    rendered = render_post(body, thread.space, thread)
    now = utcnow()
    post = Post(
        thread=thread,
        author=author,
        body_source=body,
        body_html=rendered.html,
        created_at=now,
        submission_key=submission_key,
    )
    db.session.add(post)
    db.session.flush()
    # Replies to the opening post are top-level replies too.
    if parent is None or parent.root_id is None:
        post.parent_id = parent.id if parent is not None else None
        post.root_id = post.id
        post.path = _pad(post.id)
        post.depth = 0
    else:
        post.parent_id = parent.id
        post.root_id = parent.root_id
        post.path = f"{parent.path}.{_pad(post.id)}"
        post.depth = parent.depth + 1
    thread.reply_count = Thread.reply_count + 1
    thread.last_activity_at = now
    thread.last_post_id = post.id
    _follow(author, thread)
    for user in rendered.mentioned:
        _follow(user, thread)
    mark_read(author, thread, post.id, commit=False)
    _commit_post(author, submission_key)
    db.session.refresh(thread)
    post_created.send(post, mentioned=rendered.mentioned, new_thread=False)
    return post, rendered


def _commit_post(author: User, submission_key: str | None) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # Two submissions of one form raced; the other one was stored.
        db.session.rollback()
        if _resubmitted(author, submission_key) is None:
            raise
        raise DiscussionError("That was already posted") from None


def _check_slow_mode(author: User, thread: Thread) -> None:
    if not thread.slow_mode_seconds or can(author, Action.moderate, thread):
        return
    last = db.session.scalar(
        select(func.max(Post.created_at)).where(
            Post.thread_id == thread.id, Post.author_id == author.id
        )
    )
    if last is None:
        return
    if isinstance(last, str):  # SQLite hands aggregates back untyped
        last = datetime.fromisoformat(last)
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    wait = last + timedelta(seconds=thread.slow_mode_seconds) - utcnow()
    if wait.total_seconds() > 0:
        minutes = max(1, round(wait.total_seconds() / 60))
        raise DiscussionError(
            f"This thread is in slow mode. You can post again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}",
            field="body",
        )


# Editing and removing ---------------------------------------------------------------------------


def edit_post(editor: User, post: Post, body: str, title: str | None = None) -> Rendered:
    """Change a post, keeping its previous text as a revision anyone who sees it can read."""
    body = _check_body(body)
    thread = post.thread
    opening = post.root_id is None
    if title is not None and opening:
        title = " ".join(title.split())
        if not title:
            raise DiscussionError("Enter a title", field="title")
        if len(title) > MAX_TITLE:
            raise DiscussionError(f"Title must be {MAX_TITLE} characters or fewer", field="title")
    if body == post.body_source and (title is None or not opening or title == thread.title):
        return Rendered(post.body_html)
    before = {user.id for user in render_post(post.body_source, thread.space, thread).mentioned}
    rendered = render_post(body, thread.space, thread)
    db.session.add(
        PostRevision(
            post_id=post.id,
            editor_id=editor.id,
            title=thread.title if opening else None,
            body_source=post.body_source,
            body_html=post.body_html,
            created_at=post.edited_at or post.created_at,
        )
    )
    post.body_source, post.body_html, post.edited_at = body, rendered.html, utcnow()
    if title is not None and opening:
        thread.title = title
    if editor.id != post.author_id:
        record("post.edited_by_moderator", actor=editor, subject=post.author, space=thread.space,
               post_id=post.id)  # fmt: skip
    newly = [user for user in rendered.mentioned if user.id not in before]
    for user in newly:
        _follow(user, thread)
    db.session.commit()
    post_edited.send(post, mentioned=newly)
    return rendered


def revisions(post: Post) -> list[PostRevision]:
    """A post's earlier texts, newest first."""
    return list(
        db.session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .options(selectinload(PostRevision.editor))
            .order_by(PostRevision.id.desc())
        )
    )


def _recount(thread: Thread) -> None:
    """Bring the thread's counters back in line after a post is removed or restored."""
    visible = and_(Post.thread_id == thread.id, Post.deleted_at.is_(None), Post.hidden_at.is_(None))
    thread.reply_count = db.session.scalar(
        select(func.count()).select_from(Post).where(visible, Post.root_id.is_not(None))
    )
    newest = db.session.scalars(
        select(Post).where(visible).order_by(Post.id.desc()).limit(1)
    ).first()
    if newest is not None:
        thread.last_post_id = newest.id
        thread.last_activity_at = newest.created_at


def delete_post(actor: User, post: Post) -> None:
    """Remove a post, leaving a "removed" placeholder so the reply tree stays whole."""
    if post.deleted_at is not None:
        return
    post.deleted_at = utcnow()
    post.deleted_by_id = actor.id
    if post.thread.solved_post_id == post.id:
        post.thread.solved_post_id = None
    _recount(post.thread)
    if actor.id != post.author_id:
        record("post.deleted", actor=actor, subject=post.author, space=post.thread.space,
               post_id=post.id)  # fmt: skip
    db.session.commit()
    post_removed.send(post)


def set_post_hidden(actor: User, post: Post, hidden: bool, reason: str = "") -> None:
    """A moderator hides a post (it becomes a placeholder for everyone else) or restores it."""
    if (post.hidden_at is not None) == hidden:
        return
    post.hidden_at = utcnow() if hidden else None
    _recount(post.thread)
    record("post.hidden" if hidden else "post.restored", actor=actor, subject=post.author,
           space=post.thread.space, post_id=post.id, reason=reason[:500] or None)  # fmt: skip
    db.session.commit()
    (post_removed if hidden else post_restored).send(post)


# Helpful and solved -----------------------------------------------------------------------------


def set_helpful(user: User, post: Post, helpful: bool) -> None:
    """Mark (or unmark) a post as helpful: one mark per member per post, never your own."""
    if post.author_id == user.id:
        raise DiscussionError("You cannot mark your own post as helpful")
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
    if helpful:
        post_marked.send(post, how="helpful", by=user)


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
    """Mark a reply as the answer to a question (or clear it)."""
    if thread.kind is not ThreadKind.question:
        raise DiscussionError("Only questions can be marked as solved")
    if post is not None and (post.thread_id != thread.id or post.root_id is None or post.removed):
        raise DiscussionError("Choose a reply in this thread as the answer")
    thread.solved_post_id = post.id if post is not None else None
    db.session.commit()
    thread_changed.send(thread)
    if post is not None:
        post_marked.send(post, how="solved", by=actor)


# Moderating threads -----------------------------------------------------------------------------


def set_thread_flag(actor: User, thread: Thread, name: str, value: bool) -> None:
    """Pin, lock or hide a thread (``name`` is ``pinned``, ``locked`` or ``hidden``), audited."""
    if name not in {"pinned", "locked", "hidden"}:
        raise ValueError(name)
    if getattr(thread, name) == value:
        return
    setattr(thread, name, value)
    verb = {"pinned": ("pinned", "unpinned"), "locked": ("locked", "unlocked"),
            "hidden": ("hidden", "restored")}[name][0 if value else 1]  # fmt: skip
    record(f"thread.{verb}", actor=actor, space=thread.space, thread_id=thread.id,
           title=thread.title)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)


def set_slow_mode(actor: User, thread: Thread, seconds: int) -> None:
    """Allow each member one post per ``seconds`` in the thread (0 switches it off)."""
    if seconds < 0 or seconds > 24 * 3600:
        raise DiscussionError("Choose a slow mode between off and 24 hours", field="seconds")
    thread.slow_mode_seconds = seconds
    record("thread.slow_mode", actor=actor, space=thread.space, thread_id=thread.id,
           seconds=seconds)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)


def move_thread(actor: User, thread: Thread, target: Space) -> None:
    """Move a thread to another space (the view checks the actor moderates both)."""
    if target.id == thread.space_id:
        raise DiscussionError("The thread is already in that space", field="space_id")
    if target.archived:
        raise DiscussionError("You cannot move a thread into an archived space", field="space_id")
    source = thread.space
    thread.space = target
    # Free tags belong to a space: carry them over by name.
    thread.tags = _tags_for(target, [tag.name for tag in thread.tags])
    record("thread.moved", actor=actor, space=source, thread_id=thread.id,
           to_space=target.slug, title=thread.title)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)


# Following --------------------------------------------------------------------------------------


def _follow(user: User, thread: Thread) -> None:
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


# Read tracking ----------------------------------------------------------------------------------


def _upsert(model: type, values: dict[str, object], keys: list[str], column: str) -> None:
    """Insert or raise ``column`` to ``values[column]`` (never lower), on both databases."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(**values, read_at=utcnow())
    excluded = getattr(statement.excluded, column)
    current = getattr(table.c, column)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={column: case((excluded > current, excluded), else_=current), "read_at": utcnow()},
    )
    db.session.execute(statement)


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


def _read_position(user_id: int):  # type: ignore[no-untyped-def]
    """SQL for a member's read position in each thread (joined per thread by the caller)."""
    thread_read = func.coalesce(ThreadRead.last_read_post_id, 0)
    space_read = func.coalesce(SpaceRead.read_up_to_post_id, 0)
    return case((thread_read > space_read, thread_read), else_=space_read)


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
    query = _with_reads(select(Thread.id, _read_position(user.id)), user.id).where(
        Thread.id.in_(thread_ids)
    )
    return {thread_id: position for thread_id, position in db.session.execute(query)}


def unread_counts(user: User, thread_ids: list[int]) -> dict[int, int]:
    """Unread posts per thread (others' visible posts past the member's read position)."""
    if not thread_ids or not getattr(user, "is_authenticated", False):
        return {}
    query = (
        _with_reads(select(Thread.id, func.count(Post.id)), user.id)
        .join(Post, Post.thread_id == Thread.id)
        .where(
            Thread.id.in_(thread_ids),
            Post.id > _read_position(user.id),
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
            Thread.last_post_id > _read_position(user.id),
            Thread.author_id.is_distinct_from(user.id) | (Thread.reply_count > 0),
        )
        .group_by(Thread.space_id)
    )
    return {space_id: count for space_id, count in db.session.execute(query)}


def first_unread_post_id(user: User, thread: Thread) -> int | None:
    """The first visible post past the member's read position, if any."""
    position = read_positions(user, [thread.id]).get(thread.id, 0)
    return db.session.scalar(
        select(func.min(Post.id)).where(
            Post.thread_id == thread.id,
            Post.id > position,
            Post.deleted_at.is_(None),
            Post.hidden_at.is_(None),
        )
    )


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
            selectinload(Thread.space),
        )
    )
    if space is not None:
        query = query.where(Thread.space_id == space.id).order_by(Thread.pinned.desc())
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
        .where(Post.thread_id == thread.id, Post.root_id.is_(None))
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
    """Every post in the given top-level replies' trees, depth-first, in one query."""
    if not root_ids:
        return []
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.thread_id == thread.id, Post.root_id.in_(root_ids))
            .options(
                selectinload(Post.author).selectinload(User.organisation),
                selectinload(Post.parent).selectinload(Post.author),
            )
            .order_by(Post.path)
        )
    )


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
