"""Space and Membership models and their vocabularies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.extensions import db


class SpaceKind(enum.StrEnum):
    """A community, or a special interest group inside one."""

    community = "community"
    sig = "sig"

    @property
    def label(self) -> str:
        return {"community": "Community", "sig": "Special interest group"}[self.value]


class Visibility(enum.StrEnum):
    """Who may read a space's content."""

    public = "public"  #: anyone, signed in or not
    network = "network"  #: any signed-in member of the network
    private = "private"  #: the space's own members; its name may be listed, its content never

    @property
    def label(self) -> str:
        return {
            "public": "Public: anyone can read it",
            "network": "Network: any signed-in member can read it",
            "private": "Private: only its members can read it",
        }[self.value]


class JoinPolicy(enum.StrEnum):
    """How people become members."""

    open = "open"
    request = "request"
    invite = "invite"

    @property
    def label(self) -> str:
        return {
            "open": "Open: anyone who can see it can join",
            "request": "By request: moderators approve each request",
            "invite": "Invite only: moderators invite members",
        }[self.value]


class MemberRole(enum.StrEnum):
    """What a member may do in a space."""

    owner = "owner"
    moderator = "moderator"
    member = "member"


class MemberState(enum.StrEnum):
    """Where a membership stands."""

    active = "active"
    requested = "requested"  #: asked to join, waiting for a moderator
    invited = "invited"  #: invited by a moderator, waiting for the person to accept
    banned = "banned"


class Space(db.Model):
    """A community or special interest group."""

    __tablename__ = "spaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SpaceKind]
    #: The community a special interest group belongs to.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="RESTRICT"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: One line shown in lists (plain text).
    summary: Mapped[str] = mapped_column(String(280), default="")
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(default=Visibility.network)
    join_policy: Mapped[JoinPolicy] = mapped_column(default=JoinPolicy.open)
    #: When set, the space is read-only.
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    parent: Mapped[Space | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Space]] = relationship(back_populates="parent", order_by="Space.name")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="space", cascade="all, delete-orphan", order_by="Membership.id"
    )

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Space {self.id} {self.slug}>"


class Membership(db.Model):
    """A person's standing in one space: role and state."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("space_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(default=MemberRole.member)
    state: Mapped[MemberState] = mapped_column(default=MemberState.active)
    #: The moderator who sent an invitation, when the membership began as one.
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    space: Mapped[Space] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_active(self) -> bool:
        return self.state is MemberState.active

    def __repr__(self) -> str:
        return f"<Membership space={self.space_id} user={self.user_id} {self.role} {self.state}>"
