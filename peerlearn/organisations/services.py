"""Reading and changing the organisation directory."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from peerlearn.accounts.directory import listed_people
from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core import signals
from peerlearn.core.db import contains_pattern
from peerlearn.core.errors import RuleError
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, OrganisationKind, Region


class OrganisationError(RuleError):
    """A rule about organisations was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


def organisation_choices(placeholder: str = "Choose your organisation") -> list[SelectChoice]:
    """Select options for every organisation, by name, after a placeholder."""
    rows = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(
            func.lower(Organisation.name), Organisation.id
        )
    )
    return [SelectChoice("", placeholder), *(SelectChoice(str(i), name) for i, name in rows)]


def region_choices(placeholder: str = "Any region") -> list[SelectChoice]:
    """Select options for the seven NHS England regions, after a placeholder."""
    return [SelectChoice("", placeholder), *(SelectChoice(r.value, r.label) for r in Region)]


def list_organisations(
    *, kind: OrganisationKind | None = None, region: Region | None = None, q: str = ""
) -> list[tuple[Organisation, int]]:
    """Organisations with their member counts (the people their pages list), filtered, by name."""
    members = (
        select(User.organisation_id, func.count().label("members"))
        .where(listed_people())
        .group_by(User.organisation_id)
        .subquery()
    )
    query = (
        select(Organisation, func.coalesce(members.c.members, 0))
        .outerjoin(members, members.c.organisation_id == Organisation.id)
        .options(selectinload(Organisation.parent))
        .order_by(func.lower(Organisation.name), Organisation.id)
    )
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if region is not None:
        query = query.where(Organisation.region == region)
    if q:
        query = query.where(Organisation.name.ilike(contains_pattern(q), escape="\\"))
    return [(org, count) for org, count in db.session.execute(query)]


@dataclass(frozen=True)
class OrganisationData:
    """The editable facts about an organisation."""

    name: str
    kind: OrganisationKind
    region: Region | None
    parent_id: int | None
    ods_code: str | None


def _check(data: OrganisationData, organisation: Organisation | None) -> None:
    same_name = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == data.name.strip().lower())
    )
    if same_name is not None and same_name is not organisation:
        raise OrganisationError("An organisation with that name already exists", field="name")
    if data.ods_code:
        same_code = db.session.scalar(
            select(Organisation).where(Organisation.ods_code == data.ods_code.strip().upper())
        )
        if same_code is not None and same_code is not organisation:
            raise OrganisationError(
                f"{same_code.name} already has the ODS code {same_code.ods_code}", field="ods_code"
            )
    if data.parent_id is None:
        return
    parent = db.session.get(Organisation, data.parent_id)
    if parent is None:
        raise OrganisationError("Choose an organisation from the list", field="parent_id")
    if organisation is not None:
        while parent is not None:
            if parent.id == organisation.id:
                raise OrganisationError(
                    "An organisation cannot belong to itself or to one of its own members",
                    field="parent_id",
                )
            parent = parent.parent


def save_organisation(
    actor: User, data: OrganisationData, organisation: Organisation | None = None
) -> Organisation:
    """Create an organisation, or update one, and audit it."""
    _check(data, organisation)
    creating = organisation is None
    old_name = organisation.name if organisation is not None else None
    if organisation is None:
        organisation = Organisation(name=data.name.strip(), kind=data.kind)
        db.session.add(organisation)
    organisation.name = data.name.strip()
    organisation.kind = data.kind
    organisation.region = data.region
    organisation.parent_id = data.parent_id
    organisation.ods_code = data.ods_code.strip().upper() if data.ods_code else None
    try:
        db.session.flush()
    except IntegrityError:
        # Another administrator saved the same name or ODS code a moment ago, after the check:
        # checked again, it names the field like any other clash.
        db.session.rollback()
        _check(data, None if creating else organisation)
        raise
    record(
        "admin.organisation_created" if creating else "admin.organisation_updated",
        actor=actor,
        organisation=organisation.name,
        organisation_id=organisation.id,
    )
    db.session.commit()
    if not creating and organisation.name != old_name:
        signals.organisation_changed.send(organisation)
    return organisation
