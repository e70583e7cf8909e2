"""Moderation: members' reports and the moderators' queues, hiding and restoring posts, and
pinning, locking, hiding, slowing and moving threads. Every action is audited."""

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import change_if, utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.signals import post_removed, post_restored, thread_changed
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.removal import hold_thread, recount
from peerlearn.discussions.services import tags_for
from peerlearn.extensions import db
from peerlearn.moderation.models import Flag, FlagOutcome, FlagReason
from peerlearn.permissions import Action, can, moderated_space_ids
from peerlearn.spaces.models import Space

#: The slow-mode settings moderators can choose: seconds between one member's posts.
SLOW_MODE_OPTIONS = [(0, "Off"), (60, "1 minute"), (300, "5 minutes"), (900, "15 minutes"),
                     (3600, "1 hour")]  # fmt: skip


class ModerationError(RuleError):
    """A rule about moderation was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


def flag_post(reporter: User, post: Post, reason: FlagReason, note: str = "") -> Flag:
    """Report a post. A report of patient-identifiable information hides it at once, pending a
    moderator's review: such data must not stay on screen while someone decides. So that hiding
    is not a tool for anyone with an account, it takes a reporter who may post in the space
    (answerable to its moderators), or a second person's report; until then the report waits
    in the queue like any other."""
    flag = Flag(post_id=post.id, reporter_id=reporter.id, reason=reason, note=note.strip()[:1000])
    db.session.add(flag)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ModerationError("You have already reported this post") from None
    record("post.flagged", actor=reporter, subject=post.author, space=post.thread.space,
           post_id=post.id, reason=reason.value)  # fmt: skip
    db.session.commit()
    if (
        reason is FlagReason.patient_information
        and post.hidden_at is None
        and (can(reporter, Action.post, post.thread.space) or _reporters(post, reason) > 1)
    ):
        set_post_hidden(reporter, post, True, reason="reported as patient-identifiable information")
    return flag


def _reporters(post: Post, reason: FlagReason) -> int:
    """How many people have an open report of ``post`` for ``reason``."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Flag)
            .where(Flag.post_id == post.id, Flag.reason == reason, Flag.resolved_at.is_(None))
        )
        or 0
    )


def queue_query(actor: User, space: Space | None = None) -> Select[tuple[Post]]:
    """Posts with open flags (newest report first) in the spaces the actor may moderate now."""
    newest_flag = (
        select(Flag.post_id, func.max(Flag.created_at).label("flagged_at"))
        .where(Flag.resolved_at.is_(None))
        .group_by(Flag.post_id)
        .subquery()
    )
    query = (
        select(Post)
        .join(newest_flag, newest_flag.c.post_id == Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Thread.space_id.in_(moderated_space_ids(actor, archived=False)))
        .options(
            selectinload(Post.author),
            selectinload(Post.thread).selectinload(Thread.space),
        )
        .order_by(newest_flag.c.flagged_at.desc(), Post.id.desc())  # a stable order to page
    )
    if space is not None:
        query = query.where(Thread.space_id == space.id)
    return query


def open_flags(posts: list[Post]) -> dict[int, list[Flag]]:
    """The open reports on each post, oldest first, in one query."""
    if not posts:
        return {}
    flags: dict[int, list[Flag]] = {}
    for flag in db.session.scalars(
        select(Flag)
        .where(Flag.post_id.in_([p.id for p in posts]), Flag.resolved_at.is_(None))
        .options(selectinload(Flag.reporter))
        .order_by(Flag.id)
    ):
        flags.setdefault(flag.post_id, []).append(flag)
    return flags


def open_flag_count(actor: User, space: Space | None = None) -> int:
    """How many posts wait in the actor's queue."""
    query = queue_query(actor, space)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def resolve(
    actor: User, post: Post, outcome: FlagOutcome, *, only_if_reported: bool = False
) -> int:
    """Decide on a reported post: hide it, or dismiss the reports and show it again. Returns
    how many open reports the decision closed. Decisions on one post are made one at a time,
    each reading the reports still open once it holds the thread; with ``only_if_reported``
    (dismissing the reports a moderator was shown) nothing changes when none is open any
    more: another moderator has just decided, and that decision stands."""
    hold_thread(post.thread)  # before the reports' rows, as every writer to the thread does
    flags = db.session.scalars(
        select(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
    ).all()
    if not flags and only_if_reported:
        db.session.rollback()
        return 0
    now = utcnow()
    for flag in flags:
        flag.resolved_at, flag.resolved_by_id, flag.outcome = now, actor.id, outcome
    if flags:
        record("flags.resolved", actor=actor, subject=post.author, space=post.thread.space,
               post_id=post.id, outcome=outcome.value, reports=len(flags))  # fmt: skip
    changed = _change_hidden(actor, post, outcome is FlagOutcome.hidden)
    db.session.commit()
    _announce(post, changed)
    return len(flags)


# Posts and threads ------------------------------------------------------------------------------


def set_post_hidden(actor: User, post: Post, hidden: bool, reason: str = "") -> None:
    """A moderator hides a post (it becomes a placeholder for everyone else) or restores it."""
    if (post.hidden_at is not None) == hidden:
        return
    hold_thread(post.thread)  # before the post's row, as every writer to the thread does
    changed = _change_hidden(actor, post, hidden, reason)
    db.session.commit()
    _announce(post, changed)


def _change_hidden(actor: User, post: Post, hidden: bool, reason: str = "") -> bool:
    """Hide or restore the post in the caller's transaction, audited, unless it is so already.
    The caller holds the thread (:func:`hold_thread`), and the post is read again after that:
    another moderator may have just done it. Returns whether it changed."""
    db.session.refresh(post, ["hidden_at"])
    if (post.hidden_at is not None) == hidden:
        return False
    post.hidden_at = utcnow() if hidden else None
    recount(post.thread)
    record("post.hidden" if hidden else "post.restored", actor=actor, subject=post.author,
           space=post.thread.space, post_id=post.id, reason=reason[:500] or None)  # fmt: skip
    return True


def _announce(post: Post, changed: bool) -> None:
    """Tell the rest of peerlearn (search, notifications) a committed hiding or restoring."""
    if changed:
        (post_removed if post.hidden_at is not None else post_restored).send(post)


def set_thread_flag(actor: User | None, thread: Thread, name: str, value: bool) -> bool:
    """Pin, lock or hide a thread (``name`` is ``pinned``, ``locked`` or ``hidden``), audited
    (``actor`` None: done by peerlearn itself, as a consequence of another change). One
    statement changes it only if it is not so already, so the same change made twice at once
    (two moderators, a double click) is made and audited once. Returns whether it changed."""
    if name not in {"pinned", "locked", "hidden"}:
        raise ValueError(name)
    if not change_if(db.session, thread, getattr(Thread, name) != value, **{name: value}):
        return False
    verb = {"pinned": ("pinned", "unpinned"), "locked": ("locked", "unlocked"),
            "hidden": ("hidden", "restored")}[name][0 if value else 1]  # fmt: skip
    record(f"thread.{verb}", actor=actor, space=thread.space, thread_id=thread.id,
           title=thread.title)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)
    return True


def set_slow_mode(actor: User, thread: Thread, seconds: int) -> None:
    """Allow each member one post per ``seconds`` in the thread (0 switches it off)."""
    if seconds < 0 or seconds > 24 * 3600:
        raise ModerationError("Choose a slow mode between off and 24 hours", field="seconds")
    thread.slow_mode_seconds = seconds
    record("thread.slow_mode", actor=actor, space=thread.space, thread_id=thread.id,
           seconds=seconds)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)


def move_thread(actor: User, thread: Thread, target: Space) -> None:
    """Move a thread to another space (the view checks the actor moderates both)."""
    if target.id == thread.space_id:
        raise ModerationError("The thread is already in that space", field="space_id")
    if target.archived:
        raise ModerationError("You cannot move a thread into an archived space", field="space_id")
    source = thread.space
    thread.space = target
    # Free tags belong to a space: carry them over by name.
    thread.tags = tags_for(target, [tag.name for tag in thread.tags])
    record("thread.moved", actor=actor, space=source, thread_id=thread.id,
           to_space=target.slug, title=thread.title)  # fmt: skip
    db.session.commit()
    thread_changed.send(thread)
