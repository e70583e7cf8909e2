"""Shared helpers for moderation tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.discussions.models import Post, Thread
from peerlearn.extensions import db
from peerlearn.spaces.models import Space
from tests.concurrency import WRITES, one_inside_another


def page(response) -> str:
    return response.get_data(as_text=True)


def audit() -> list[str]:
    """The audit log's actions, oldest first (signing in aside)."""
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.not_like("auth.%"))
            .order_by(AuditEntry.id)
        )
    )


def follow(client, response) -> str:
    """The page a redirect leads to (through the post's permalink), with its messages."""
    assert response.status_code == 302, response.status_code
    return page(client.get(response.headers["Location"], follow_redirects=True))


def audit_entry(action: str) -> AuditEntry:
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    ).first()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@dataclass
class Discussion:
    """A thread in the QMS SIG with a reply, the people around it, and their browsers."""

    space: Space
    thread: Thread
    reply: Post
    author: User
    replier: User
    reader: User
    moderator: User


def report(client, post: Post, reason: str, note: str = ""):
    return client.post(f"/posts/{post.id}/report", data={"reason": reason, "note": note})


def overtaken(app, client, path: str, data: dict[str, str], change: Callable[[], object]):
    """The browser's form sent to ``path``, overtaken by ``change`` (committed in a request of
    its own) after the page's checks, just before the write's first statement; its response."""
    responses = []
    one_inside_another(app, lambda: responses.append(client.post(path, data=data)), change, WRITES)
    (response,) = responses
    return response
