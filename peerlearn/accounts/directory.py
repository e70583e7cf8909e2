"""Who the network lists: the people directory, and the one condition for whom it lists, credits
and links to (mentions, authors, owners, invitations, organisations' people)."""

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.accounts.services import normalise_email
from peerlearn.core.db import contains_pattern
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation


def listed_people() -> ColumnElement[bool]:
    """SQL condition on :class:`User` for the people the network lists, counts and links to (the
    people directory, an organisation's people and its member count, profiles, mentions):
    active, with a confirmed address (one never confirmed may not even be its registrant's)."""
    return User.active.is_(True) & User.email_confirmed_at.is_not(None)


def people_query(
    *, q: str = "", organisation_id: int | None = None, region: str | None = None
) -> Select[tuple[User]]:
    """Active, confirmed members by name, filtered by name, organisation and region."""
    query = (
        select(User)
        .where(listed_people())
        .options(selectinload(User.organisation))
        .order_by(func.lower(User.display_name), User.id)
    )
    if q:
        query = query.where(User.display_name.ilike(contains_pattern(q), escape="\\"))
    if organisation_id:
        query = query.where(User.organisation_id == organisation_id)
    if region:
        query = query.join(User.organisation).where(Organisation.region == region)
    return query


def find_listed_person(email: str) -> User | None:
    """The person with this e-mail address if the network lists them (:func:`listed_people`):
    the only people who may be invited to a space or named its owner."""
    return db.session.scalar(
        select(User).where(User.email == normalise_email(email), listed_people())
    )
