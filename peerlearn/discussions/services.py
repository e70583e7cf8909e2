"""Thread and post rules and transactions: starting threads, replying and editing posts, with the
text, mentions and tags they carry. Removing a post (and holding a thread while its posts change)
is in :mod:`peerlearn.discussions.removal`; helpful marks and answers in
:mod:`peerlearn.discussions.marks`; what each write holds, and in which order, in
:mod:`peerlearn.discussions.holds`.

Views ask the permission policy first; these functions enforce what remains (locked threads, slow
mode, replies to removed posts, double submissions), ask the policy again once they hold the
thread and space (a ban, a removal or a lock committed since the page's check counts), keep
counters and the reply tree's paths right, write one transaction, and send a signal once it is
committed.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.directory import listed_people
from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import insert_into, utcnow
from peerlearn.core.signals import post_created, post_edited
from peerlearn.core.text import MentionTarget, mention_keys, render_markdown
from peerlearn.discussions.following import follow_automatically
from peerlearn.discussions.holds import (
    REMOVED,
    DiscussionError,
    ensure_may_change,
    ensure_may_write,
    hold_open,
)
from peerlearn.discussions.models import (
    ImpactComponent,
    Post,
    PostRevision,
    Tag,
    Thread,
    ThreadComponent,
    ThreadKind,
    thread_tags,
)
from peerlearn.discussions.reading import mark_seen, read_position
from peerlearn.discussions.removal import hold_thread
from peerlearn.extensions import db
from peerlearn.permissions import (
    Action,
    can,
    forget_standing,
    space_allows,
    thread_allows,
    thread_filter,
)
from peerlearn.spaces.models import Space
from peerlearn.spaces.services import memberships_in

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_TAGS = 5
#: The refusal of a reply to a post that is not in the thread (or to an id that names no post).
NOT_IN_THREAD = "You can only reply to a post in this thread"
#: The refusal of a reply to a post removed or hidden (the reply page says it before it is written).
PARENT_REMOVED = "That post has been removed, so you cannot reply to it"


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
        for user in db.session.scalars(
            select(User).where(User.handle.in_(handles), listed_people())
        ):
            users[user.handle] = user
    if names:
        by_name: dict[str, list[User]] = {}
        for user in db.session.scalars(
            select(User).where(User.name_key.in_(names), listed_people())
        ):
            by_name.setdefault(user.name_key, []).append(user)
        for name, people in by_name.items():
            if len(people) == 1:  # an ambiguous name links nobody; the handle is unambiguous
                users["name:" + name] = people[0]
    targets = {key: MentionTarget(u.handle, u.display_name) for key, u in users.items()}
    rendered = Rendered(render_markdown(source, targets))
    # Those mentioned only inside a quote are linked, but told nothing (nor is the author).
    own = mention_keys(source, quoted=False)
    people = {user.id: user for key, user in users.items() if key in own}
    _sort_mentions(rendered, list(people.values()), space, thread)
    return rendered


def _sort_mentions(
    rendered: Rendered, people: list[User], space: Space, thread: Thread | None
) -> None:
    """Sort the people a post mentions into those it notifies and those it cannot reach."""
    rendered.mentioned, rendered.unreachable = [], []
    memberships = memberships_in(space, [user.id for user in people])
    for user in people:
        membership = memberships.get(user.id)
        if thread is not None:
            allowed = thread_allows(user, Action.follow, thread, membership)
        else:  # a new thread is followed exactly as its space is
            allowed = space_allows(user, Action.follow, space, membership)
        (rendered.mentioned if allowed else rendered.unreachable).append(user)


def _sort_mentions_as_held(rendered: Rendered, space: Space, thread: Thread | None = None) -> None:
    """Once the post holds its space, sort its mentions again with each person's standing as
    committed now (:func:`~peerlearn.permissions.forget_standing`): someone banned a moment
    ago, after the text was rendered, is neither made to follow the thread nor notified, and
    the author is told so, as of anyone a mention cannot reach."""
    people = [*rendered.mentioned, *rendered.unreachable]
    if not people:
        return
    for user in people:
        forget_standing(user)
    _sort_mentions(rendered, people, space, thread)


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


def tags_for(space: Space, names: Iterable[str]) -> list[Tag]:
    """The space's tags of these names, made if they are new. A tag two members make at the same
    moment is made once, and both threads wear it (an INSERT that gives way to the other's).
    They are written in the order of their slugs: a new tag another member is making waits for
    their commit, and two members typing the same new tags in different orders would each wait
    for the other (a deadlock on PostgreSQL)."""
    names = list(names)
    for name in sorted(names, key=tag_slug):
        db.session.execute(
            insert_into(db.session, Tag.__table__)
            .values(space_id=space.id, name=name, slug=tag_slug(name))
            .on_conflict_do_nothing(index_elements=["space_id", "slug"])
        )
    return [
        db.session.scalars(select(Tag).where(Tag.space_id == space.id, Tag.slug == slug)).one()
        for slug in map(tag_slug, names)
    ]


def space_tags(viewer: object, space: Space) -> list[Tag]:
    """The free tags on the space's threads that the viewer may see, by name: a hidden thread's
    tags, and those left behind by a thread moved away, are not offered to whoever cannot see
    it (the tag filter's options are a list of what the space holds)."""
    seen = (
        select(thread_tags.c.tag_id)
        .join(Thread, Thread.id == thread_tags.c.thread_id)
        .where(Thread.space_id == space.id, thread_filter(viewer))
    )
    return list(
        db.session.scalars(
            select(Tag).where(Tag.space_id == space.id, Tag.id.in_(seen)).order_by(Tag.name)
        )
    )


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
    rendered = render_post(body, space)  # before the hold: other posts in the space wait on it
    hold_open(space)
    # Again once held: a copy of the form sent at the same moment (a double click) may have
    # been stored while this one waited.
    previous = _resubmitted(author, draft.submission_key)
    if previous is not None:
        db.session.rollback()
        return previous.thread, Rendered(previous.body_html)
    ensure_may_write(author, Action.post, space)  # as held: a ban a moment ago counts
    _sort_mentions_as_held(rendered, space)
    now = utcnow()
    thread = Thread(
        space=space,
        author=author,
        title=title,
        kind=draft.kind,
        created_at=now,
        last_activity_at=now,
        tags=tags_for(space, draft.tags),
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
    follow_automatically(author, thread)
    for user in rendered.mentioned:
        follow_automatically(user, thread)
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
    if parent is not None and parent.thread_id != thread.id:
        raise DiscussionError(NOT_IN_THREAD)
    _hold_to_write(thread)
    previous = _resubmitted(author, submission_key)  # stored while this copy waited
    if previous is not None:
        db.session.rollback()
        return previous, Rendered(previous.body_html)
    # Checked once the thread is held, so that a removal committed a moment ago counts.
    if parent is not None:
        db.session.refresh(parent, ["deleted_at", "hidden_at"])
        if parent.removed:
            raise DiscussionError(PARENT_REMOVED)
    ensure_may_write(author, Action.post, thread)  # a ban, a removal or a lock a moment ago
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
    follow_automatically(author, thread)
    for user in rendered.mentioned:
        follow_automatically(user, thread)
    # Their own post is read; what others wrote meanwhile elsewhere in the thread is not.
    mark_seen(author, thread, post.id, read_before=read_position(author, thread), commit=False)
    _commit_post(author, submission_key)
    db.session.refresh(thread)
    post_created.send(post, mentioned=rendered.mentioned, new_thread=False)
    return post, rendered


def _hold_to_write(thread: Thread) -> None:
    """Hold the thread, then its space (:mod:`~peerlearn.discussions.holds`), and read again
    what a moderator may have changed since the page's check: whether the thread is locked or
    hidden."""
    hold_thread(thread)
    hold_open(thread.space)
    db.session.refresh(thread, ["locked", "hidden"])


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


# Editing ----------------------------------------------------------------------------------------


class EditConflict(DiscussionError):
    """Someone else saved the post after the editor loaded it (``edit_post``'s ``based_on``)."""


EDIT_CONFLICT = (
    "Someone else changed this post while you were editing it. Their version is shown above the"
    " box and your text is still in it: copy what you need from both, then save again."
)


def post_version(post: Post) -> str:
    """Which saved text of a post an edit starts from: changes with every saved edit."""
    return post.edited_at.isoformat() if post.edited_at else "original"


def edit_post(
    editor: User, post: Post, body: str, title: str | None = None, based_on: str | None = None
) -> Rendered:
    """Change a post, keeping its previous text as a revision anyone who sees it can read. The
    thread and its space are held first (:mod:`~peerlearn.discussions.holds`), and the post and
    the editor's standing read again as held: an edit of a post removed or hidden a moment ago,
    after the edit page was loaded, is refused, as is one in a space archived, by an author
    banned or by a moderator made a plain member a moment ago
    (:func:`~peerlearn.discussions.holds.ensure_may_change`); nothing is changed and no
    revision written. With ``based_on`` (the :func:`post_version` the editor's form was filled
    from), an edit of a post someone else saved since is refused too (:class:`EditConflict`),
    rather than silently putting the other change behind it in the history."""
    body = _check_body(body)
    thread = post.thread
    opening = post.root_id is None
    if title is not None and opening:
        title = " ".join(title.split())
        if not title:
            raise DiscussionError("Enter a title", field="title")
        if len(title) > MAX_TITLE:
            raise DiscussionError(f"Title must be {MAX_TITLE} characters or fewer", field="title")
    if _unchanged(post, body, title):
        return Rendered(post.body_html)
    before = {user.id for user in render_post(post.body_source, thread.space, thread).mentioned}
    rendered = render_post(body, thread.space, thread)  # before the holds, as a thread's is
    _hold_to_write(thread)
    db.session.refresh(post, ["deleted_at", "hidden_at", "body_source", "body_html", "edited_at"])
    if post.removed:
        raise DiscussionError(REMOVED)
    ensure_may_change(editor, Action.edit, post)
    if based_on is not None and based_on != post_version(post):
        db.session.refresh(thread, ["title"])
        if _unchanged(post, body, title):  # their own double click, saved a moment ago
            db.session.rollback()
            return Rendered(post.body_html)
        raise EditConflict(EDIT_CONFLICT, field="body")
    _sort_mentions_as_held(rendered, thread.space, thread)
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
        follow_automatically(user, thread)
    db.session.commit()
    post_edited.send(post, mentioned=newly, by=editor)
    return rendered


def _unchanged(post: Post, body: str, title: str | None) -> bool:
    """Whether saving this text (and title, for an opening post) would change nothing."""
    opening = post.root_id is None
    return body == post.body_source and (title is None or not opening or title == post.thread.title)


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
