"""Administration that belongs to no other feature: the registration allow-list."""

from peerlearn.accounts.models import AllowedEmailDomain, User
from peerlearn.audit.services import record
from peerlearn.extensions import db


def add_domain(actor: User, domain: str) -> bool:
    """Allow registration from a domain; False when it was already allowed."""
    if db.session.get(AllowedEmailDomain, domain) is not None:
        return False
    db.session.add(AllowedEmailDomain(domain=domain))
    record("admin.domain_allowed", actor=actor, domain=domain)
    db.session.commit()
    return True


def remove_domain(actor: User, domain: str) -> bool:
    """Stop allowing a domain; False when it was not on the list."""
    row = db.session.get(AllowedEmailDomain, domain)
    if row is None:
        return False
    db.session.delete(row)
    record("admin.domain_removed", actor=actor, domain=domain)
    db.session.commit()
    return True
