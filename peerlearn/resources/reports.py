"""Reports on library resources and their moderation: a member reports a resource (a report of
patient-identifiable information hides it at once), and moderators see the open reports, hide or
restore a resource, or dismiss its reports. Every change is audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core import signals
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from peerlearn.moderation.models import FlagOutcome
from peerlearn.permissions import moderated_space_ids
from peerlearn.resources.models import Resource, ResourceFlag, ResourceFlagReason
from peerlearn.resources.services import ResourceError
from peerlearn.spaces.models import Space


def flag_resource(
    reporter: User, resource: Resource, reason: ResourceFlagReason, note: str = ""
) -> ResourceFlag:
    """Report a resource. A report of patient-identifiable information hides it at once, pending
    a moderator's review."""
    flag = ResourceFlag(
        resource_id=resource.id, reporter_id=reporter.id, reason=reason, note=note.strip()[:1000]
    )
    db.session.add(flag)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ResourceError("You have already reported this resource", field="reason") from None
    record("resource.flagged", actor=reporter, space=resource.space, resource_id=resource.id,
           reason=reason.value)  # fmt: skip
    hides = reason.hides and resource.hidden_at is None
    if hides:
        _set_hidden(reporter, resource, True, "reported as patient-identifiable information")
    db.session.commit()
    if hides:
        signals.resource_changed.send(resource)
    return flag


def open_resource_flags(resource: Resource) -> list[ResourceFlag]:
    """The reports on a resource no moderator has dealt with yet, oldest first."""
    return list(
        db.session.scalars(
            select(ResourceFlag)
            .where(ResourceFlag.resource_id == resource.id, ResourceFlag.resolved_at.is_(None))
            .order_by(ResourceFlag.id)
        )
    )


def _set_hidden(actor: User, resource: Resource, hidden: bool, reason: str = "") -> None:
    resource.hidden_at = utcnow() if hidden else None
    resource.hidden_by_id = actor.id if hidden else None
    record("resource.hidden" if hidden else "resource.restored", actor=actor,
           space=resource.space, resource_id=resource.id, title=resource.title,
           reason=reason[:500] or None)  # fmt: skip


def set_resource_hidden(actor: User, resource: Resource, hidden: bool) -> None:
    """A moderator hides a resource (only moderators and its uploader then see it) or restores
    it; open reports are resolved either way."""
    if (resource.hidden_at is not None) == hidden:
        return
    now = utcnow()
    for flag in open_resource_flags(resource):
        flag.resolved_at, flag.resolved_by_id = now, actor.id
        flag.outcome = FlagOutcome.hidden if hidden else FlagOutcome.dismissed
    _set_hidden(actor, resource, hidden)
    db.session.commit()
    signals.resource_changed.send(resource)


def dismiss_flags(actor: User, resource: Resource) -> None:
    """A moderator found nothing wrong: the open reports are closed and the resource stays (or
    becomes again) visible."""
    if resource.hidden_at is not None:
        set_resource_hidden(actor, resource, False)
        return
    flags = open_resource_flags(resource)
    now = utcnow()
    for flag in flags:
        flag.resolved_at, flag.resolved_by_id, flag.outcome = now, actor.id, FlagOutcome.dismissed
    record("resource.flags_dismissed", actor=actor, space=resource.space,
           resource_id=resource.id, reports=len(flags))  # fmt: skip
    db.session.commit()


def reported_resources(
    actor: User, space: Space | None = None
) -> list[tuple[Resource, list[ResourceFlag]]]:
    """The resources with reports no moderator has dealt with, in the spaces ``actor``
    may moderate now (or only in ``space``), most recently reported first, each with its open
    reports."""
    query = (
        select(ResourceFlag)
        .join(Resource, Resource.id == ResourceFlag.resource_id)
        .where(
            Resource.space_id.in_(moderated_space_ids(actor, archived=False)),
            Resource.deleted_at.is_(None),
            ResourceFlag.resolved_at.is_(None),
        )
        .options(selectinload(ResourceFlag.resource).selectinload(Resource.space))
        .order_by(ResourceFlag.created_at.desc(), ResourceFlag.id.desc())
    )
    if space is not None:
        query = query.where(Resource.space_id == space.id)
    flags = db.session.scalars(query).all()
    grouped: dict[int, tuple[Resource, list[ResourceFlag]]] = {}
    for flag in flags:
        grouped.setdefault(flag.resource_id, (flag.resource, []))[1].append(flag)
    return list(grouped.values())
