"""Shared helpers for membership flows tests."""

import html
import re

from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.spaces.models import (
    MemberRole,
    Membership,
    Space,
)
from tests.accounts.pages import Page
from tests.conftest import Client

SECRET = "Our draft QMS maturity self-assessment"


def owner_of(space: Space) -> User:
    return next(m.user for m in space.memberships if m.role is MemberRole.owner)


def membership(space: Space, user: User) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(Membership.space_id == space.id, Membership.user_id == user.id)
    )


def last_audit(action: str) -> AuditEntry:
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )
    assert entry is not None, f"no {action} in the audit log"
    return entry


def assert_audited(action: str, *, actor: User, subject: User, space: Space) -> AuditEntry:
    entry = last_audit(action)
    assert (entry.actor_id, entry.subject_id, entry.space_id) == (actor.id, subject.id, space.id)
    assert entry.ip_address == "127.0.0.1"
    return entry


def page(client: Client, path: str) -> Page:
    result = Page(client.get(path))
    assert result.status == 200, (path, result.status)
    return result


def after(client: Client, response) -> Page:
    """The page a POST redirected to, with its confirmation message."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return page(client, response.location)


def buttons(result: Page) -> list[str]:
    """The accessible names of the page's buttons: their aria-label, or else their text."""
    names = []
    for attributes, text in re.findall(r"<button([^>]*)>(.*?)</button>", result.html, re.S):
        label = re.search(r'aria-label="([^"]*)"', attributes)
        names.append(html.unescape(label.group(1) if label else re.sub(r"\s+", " ", text).strip()))
    return names
