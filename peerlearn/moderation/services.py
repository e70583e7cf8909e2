"""Flags and the moderators' queues."""

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.services import set_post_hidden
from peerlearn.extensions import db
from peerlearn.moderation.models import Flag, FlagOutcome, FlagReason
from peerlearn.permissions import moderated_space_ids
from peerlearn.spaces.models import Space


class ModerationError(ValueError):
    """A rule was broken; ``field`` names the form field the message belongs beside."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def flag_post(reporter: User, post: Post, reason: FlagReason, note: str = "") -> Flag:
    """Report a post. A report of patient-identifiable information hides it at once, pending a
    moderator's review: such data must not stay on screen while someone decides."""
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
    if reason is FlagReason.patient_information and post.hidden_at is None:
        set_post_hidden(reporter, post, True, reason="reported as patient-identifiable information")
    return flag


def queue_query(actor: User, space: Space | None = None) -> Select[tuple[Post]]:
    """Posts with open flags (newest report first) in the spaces the actor moderates."""
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
        .where(Thread.space_id.in_(moderated_space_ids(actor)))
        .options(
            selectinload(Post.author),
            selectinload(Post.thread).selectinload(Thread.space),
        )
        .order_by(newest_flag.c.flagged_at.desc())
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


def resolve(actor: User, post: Post, outcome: FlagOutcome) -> None:
    """Decide on a reported post: hide it, or dismiss the reports (restoring it if a report had
    hidden it)."""
    flags = db.session.scalars(
        select(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
    ).all()
    now = utcnow()
    for flag in flags:
        flag.resolved_at, flag.resolved_by_id, flag.outcome = now, actor.id, outcome
    record("flags.resolved", actor=actor, subject=post.author, space=post.thread.space,
           post_id=post.id, outcome=outcome.value, reports=len(flags))  # fmt: skip
    db.session.commit()
    set_post_hidden(actor, post, outcome is FlagOutcome.hidden)
