"""Thread, Post and everything that hangs off them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from peerlearn.spaces.models import Space


class ImpactComponent(enum.StrEnum):
    """The five components of NHS IMPACT, peerlearn's shared taxonomy."""

    shared_purpose = "shared-purpose"
    people_and_culture = "people-and-culture"
    leadership_behaviours = "leadership-behaviours"
    capability_and_capacity = "capability-and-capacity"
    management_systems = "management-systems"

    @property
    def number(self) -> int:
        return list(ImpactComponent).index(self) + 1

    @property
    def label(self) -> str:
        return {
            "shared-purpose": "Building a shared purpose and vision",
            "people-and-culture": "Investing in people and culture",
            "leadership-behaviours": "Developing leadership behaviours",
            "capability-and-capacity": "Building improvement capability and capacity",
            "management-systems": "Embedding improvement into management systems and processes",
        }[self.value]


class ThreadKind(enum.StrEnum):
    """A discussion, or a question that can be marked solved."""

    discussion = "discussion"
    question = "question"


thread_tags = Table(
    "thread_tags",
    db.metadata,
    Column("thread_id", ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    """A free tag, managed per space."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("space_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    #: Lower-case, hyphenated form of the name, unique within the space.
    slug: Mapped[str] = mapped_column(String(40))


class ThreadComponent(db.Model):
    """An NHS IMPACT component a thread is tagged with."""

    __tablename__ = "thread_components"

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    component: Mapped[ImpactComponent] = mapped_column(primary_key=True)


class Thread(db.Model):
    """A conversation in a space: its opening post and the replies to it."""

    __tablename__ = "threads"
    __table_args__ = (
        # A space's list: pinned first, then latest activity (read backwards along this index).
        Index("ix_threads_space_listing", "space_id", "pinned", "last_activity_at", "id"),
        # The few hidden threads, for the permission policy's filters on the search index
        # (``permissions.copies.hidden_thread_ids``; the condition as each database is sent it).
        Index(
            "ix_threads_hidden",
            "id",
            sqlite_where=text("hidden = 1"),
            postgresql_where=text("hidden"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ThreadKind] = mapped_column(default=ThreadKind.discussion)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Time of the newest visible post; the list's sort key.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Visible replies (the opening post not counted), kept by the services.
    reply_count: Mapped[int] = mapped_column(default=0)
    pinned: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    #: Hidden by a moderator: only moderators of the space can see it.
    hidden: Mapped[bool] = mapped_column(default=False)
    #: For questions: the post marked as the answer.
    solved_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True)
    )
    #: For questions: the answer hidden with its post by a moderator, marked again if that post
    #: is restored while the question has no other answer; forgotten once the answer changes
    #: otherwise or the post is removed.
    hidden_answer_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True)
    )
    #: Slow mode: each member may post once per this many seconds (0 = off).
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    #: Id of the newest visible post: a reader whose read position is below it has unread posts.
    last_post_id: Mapped[int] = mapped_column(default=0)

    space: Mapped[Space] = relationship()
    author: Mapped[User | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=thread_tags, order_by=Tag.name)
    component_rows: Mapped[list[ThreadComponent]] = relationship(
        cascade="all, delete-orphan", order_by=ThreadComponent.component
    )

    @property
    def components(self) -> list[ImpactComponent]:
        return sorted((row.component for row in self.component_rows), key=lambda c: c.number)

    @property
    def solved(self) -> bool:
        return self.solved_post_id is not None


class Post(db.Model):
    """The opening post of a thread, or a reply to the thread or to another post."""

    __tablename__ = "posts"
    __table_args__ = (
        # The same form submitted twice stores one post.
        UniqueConstraint("author_id", "submission_key"),
        Index("ix_posts_thread_path", "thread_id", "path"),
        # The few hidden and removed posts, for the permission policy's filters on the search
        # index (``permissions.copies.post_copy_filter``).
        Index(
            "ix_posts_hidden",
            "id",
            sqlite_where=text("hidden_at IS NOT NULL"),
            postgresql_where=text("hidden_at IS NOT NULL"),
        ),
        Index(
            "ix_posts_removed",
            "id",
            sqlite_where=text("deleted_at IS NOT NULL"),
            postgresql_where=text("deleted_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The post this one answers; None for the opening post and for replies to the thread.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    #: The top-level reply this post descends from (itself for a top-level reply; None for the
    #: opening post). Long threads are paged by top-level reply, so a tree is never split.
    root_id: Mapped[int | None] = mapped_column(index=True)
    #: Ids from the top-level reply down to this post, zero-padded and dot-separated: sorting
    #: by it lists a tree depth-first in one query.
    path: Mapped[str] = mapped_column(String(1000), default="")
    depth: Mapped[int] = mapped_column(default=0)
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    #: Soft delete by the author or a moderator: a "removed" placeholder keeps the tree whole.
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Hidden by a moderator (after a flag, say); restorable.
    hidden_at: Mapped[datetime | None]
    helpful_count: Mapped[int] = mapped_column(default=0)
    #: Random key from the form that wrote the post; a resubmission finds the stored post.
    submission_key: Mapped[str | None] = mapped_column(String(64))

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    parent: Mapped[Post | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @property
    def removed(self) -> bool:
        return self.deleted_at is not None or self.hidden_at is not None


class PostRevision(db.Model):
    """An earlier text of an edited post, kept for anyone who can see the post."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The thread's title at the time, for revisions of an opening post.
    title: Mapped[str | None] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    editor: Mapped[User | None] = relationship()


class HelpfulMark(db.Model):
    """One member finding one post helpful."""

    __tablename__ = "helpful_marks"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThreadRead(db.Model):
    """How far a member has read a thread."""

    __tablename__ = "thread_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: The highest post id the member has seen in the thread.
    last_read_post_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SpaceRead(db.Model):
    """Everything in a space up to a post id counts as read for a member ("mark space read",
    and the moment they joined, so old threads are not all unread), but for a thread whose own
    read position was set after it: a thread moved in since keeps the position it had
    (``discussions.reading``)."""

    __tablename__ = "space_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    read_up_to_post_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FollowState(enum.StrEnum):
    """A member's choice about a thread's notifications."""

    following = "following"
    muted = "muted"


class ThreadSubscription(db.Model):
    """Following (automatically on posting or being mentioned, or by choice) or muting a thread."""

    __tablename__ = "thread_subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[FollowState] = mapped_column(default=FollowState.following)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpaceSubscription(db.Model):
    """Following a whole space: notified of every new thread in it."""

    __tablename__ = "space_subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
