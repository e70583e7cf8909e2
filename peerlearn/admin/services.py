"""Administration that belongs to no other feature: the registration allow-list.

Each change is one statement that gives way to the same change made at the same moment (a
double click sends the form twice): the second is told the list already says so, and only the
change that happened is audited."""

from sqlalchemy import delete

from peerlearn.accounts.models import AllowedEmailDomain, User
from peerlearn.audit.services import record
from peerlearn.core.db import insert_into
from peerlearn.extensions import db


def add_domain(actor: User, domain: str) -> bool:
    """Allow registration from a domain; False when it was already allowed."""
    added = db.session.scalar(
        insert_into(db.session, AllowedEmailDomain.__table__)
        .values(domain=domain)
        .on_conflict_do_nothing()
        .returning(AllowedEmailDomain.domain)
    )
    if added is None:
        db.session.rollback()
        return False
    record("admin.domain_allowed", actor=actor, domain=domain)
    db.session.commit()
    return True


def remove_domain(actor: User, domain: str) -> bool:
    """Stop allowing a domain; False when it was not on the list."""
    removed = db.session.scalar(
        delete(AllowedEmailDomain)
        .where(AllowedEmailDomain.domain == domain)
        .returning(AllowedEmailDomain.domain)
    )
    if removed is None:
        db.session.rollback()
        return False
    record("admin.domain_removed", actor=actor, domain=domain)
    db.session.commit()
    return True
