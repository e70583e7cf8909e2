"""User accounts and the registration allow-list."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, delete
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from peerlearn.core.db import utcnow
from peerlearn.core.text import fold_name
from peerlearn.extensions import db

if TYPE_CHECKING:
    from peerlearn.organisations.models import Organisation
    from peerlearn.spaces.models import Membership


def new_session_token() -> str:
    """A fresh random session token."""
    return secrets.token_urlsafe(32)


class SiteRole(enum.StrEnum):
    """A user's role across the whole network."""

    member = "member"
    admin = "admin"


class User(UserMixin, db.Model):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored lower-case, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: Unique, URL-safe name used in profile links and (later) @mentions.
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    #: ``display_name`` folded for matching ``@[Full Name]`` mentions on any database (SQLite's
    #: ``lower()`` only knows ASCII): case-folded, spaces collapsed. Kept by :meth:`_fold_name`.
    name_key: Mapped[str] = mapped_column(String(120), index=True, default="")
    job_title: Mapped[str] = mapped_column(String(120), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    bio_source: Mapped[str] = mapped_column(Text, default="")
    #: ``bio_source`` through the text pipeline.
    bio_html: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    site_role: Mapped[SiteRole] = mapped_column(default=SiteRole.member)
    #: Deactivated accounts cannot sign in and their sessions end.
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user",
        foreign_keys="Membership.user_id",
        cascade="all, delete-orphan",
    )

    @validates("display_name")
    def _fold_name(self, key: str, value: str) -> str:
        self.name_key = fold_name(value)
        return value

    # Flask-Login --------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    #: The token of the sign-in this instance was loaded for, or has just started (never
    #: stored on the row): what Flask-Login puts in the session and remember-me cookies.
    if TYPE_CHECKING:
        sign_in_token: str | None
    else:
        sign_in_token = None  # a plain attribute, not a column

    def get_id(self) -> str:
        return self.sign_in_token or ""

    # Domain ------------------------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.site_role is SiteRole.admin

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def end_every_session(self) -> None:
        """End every sign-in of this account: each browser's session and remember-me cookie
        (after a password change, which then starts one for the browser that made it, or a
        deactivation)."""
        db.session.execute(delete(SignIn).where(SignIn.user_id == self.id))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.handle}>"


class SignIn(db.Model):
    """One browser's sign-in. Its token, not the account's id, is what the session and the
    remember-me cookie carry, and the row is the server's record that it is still valid: signing
    out deletes it, so a copy of either cookie taken before then no longer signs anyone in, and
    the account's other browsers stay signed in."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AllowedEmailDomain(db.Model):
    """A domain registration is open to. An empty table means any domain may register."""

    __tablename__ = "allowed_email_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
