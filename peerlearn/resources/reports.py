"""Reports on library resources and their moderation: a member reports a resource (a report of
patient-identifiable information may hide it at once, by the rule reports of posts follow), and
moderators see the open reports, hide or restore a resource, dismiss its reports, or withdraw one
version of a file and restore it. Every change is audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core import signals
from peerlearn.core.db import change_if, utcnow
from peerlearn.extensions import db
from peerlearn.moderation.models import FlagOutcome, FlagReason
from peerlearn.moderation.services import add_report, hides_at_once
from peerlearn.permissions import Action, can, moderated_space_ids
from peerlearn.resources.models import (
    Resource,
    ResourceFlag,
    ResourceFlagReason,
    ResourceVersion,
)
from peerlearn.resources.services import ResourceError, lock_resource
from peerlearn.spaces.models import Space


def flag_resource(
    reporter: User, resource: Resource, reason: ResourceFlagReason, note: str = ""
) -> ResourceFlag:
    """Report a resource. A report of patient-identifiable information hides it at once, pending
    a moderator's review, when moderation's rule for every report says so
    (:func:`~peerlearn.moderation.services.hides_at_once`): a reporter answerable to the
    space's moderators, or a second person's report. The report is committed first, so that of
    two people reporting at the same moment, the later counts the earlier."""
    flag = ResourceFlag(resource_id=resource.id, reporter_id=reporter.id, reason=reason, note=note)
    already = ResourceError("You have already reported this resource", field="reason")
    flag = add_report(flag, ResourceFlag.resource_id == resource.id, reason.hides, already)
    record("resource.flagged", actor=reporter, space=resource.space, resource_id=resource.id,
           reason=reason.value)  # fmt: skip
    db.session.commit()
    if (
        reason.hides
        and resource.hidden_at is None
        and hides_at_once(
            FlagReason.patient_information,
            answerable=can(reporter, Action.post, resource.space),
            reporters=_reporters(resource, reason),
        )
        and _hide_if_shown(reporter, resource, "reported as patient-identifiable information")
    ):
        db.session.commit()
        signals.resource_changed.send(resource)
    return flag


def _reporters(resource: Resource, reason: ResourceFlagReason) -> int:
    """How many people have an open report of ``resource`` for ``reason``."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(ResourceFlag)
            .where(
                ResourceFlag.resource_id == resource.id,
                ResourceFlag.reason == reason,
                ResourceFlag.resolved_at.is_(None),
            )
        )
        or 0
    )


def _hide_if_shown(actor: User, resource: Resource, reason: str) -> bool:
    """Hide the resource, audited, unless it has just been hidden (another report at the same
    moment, or a moderator): one statement, so it is hidden and audited once."""
    if not change_if(db.session, resource, Resource.hidden_at.is_(None),
                     hidden_at=utcnow(), hidden_by_id=actor.id):  # fmt: skip
        return False
    record("resource.hidden", actor=actor, space=resource.space, resource_id=resource.id,
           title=resource.title, reason=reason)  # fmt: skip
    return True


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


def dismiss_flags(actor: User, resource: Resource) -> bool:
    """A moderator found nothing wrong: the open reports are closed and the resource stays (or
    becomes again) visible. False, with nothing recorded, when there was nothing to dismiss (a
    second press, or another moderator dealt with them first)."""
    if resource.hidden_at is not None:
        set_resource_hidden(actor, resource, False)
        return True
    flags = open_resource_flags(resource)
    if not flags:
        return False
    now = utcnow()
    for flag in flags:
        flag.resolved_at, flag.resolved_by_id, flag.outcome = now, actor.id, FlagOutcome.dismissed
    record("resource.flags_dismissed", actor=actor, space=resource.space,
           resource_id=resource.id, reports=len(flags))  # fmt: skip
    db.session.commit()
    return True


def newest_left(
    resource: Resource, version: ResourceVersion | None = None
) -> ResourceVersion | None:
    """The newest version of the resource that is not withdrawn (other than ``version``, when
    given: the one current once ``version`` is withdrawn; None: it is the last one left). This is
    what "latest" means: the version downloaded by default, labelled latest and read by search."""
    query = select(ResourceVersion).where(
        ResourceVersion.resource_id == resource.id, ResourceVersion.withdrawn_at.is_(None)
    )
    if version is not None:
        query = query.where(ResourceVersion.id != version.id)
    return db.session.scalars(query.order_by(ResourceVersion.number.desc())).first()


def _hold(resource: Resource, version: ResourceVersion) -> None:
    """Hold the resource (:func:`~peerlearn.resources.services.lock_resource`, as a new version's
    upload holds it) and read its current version and whether ``version`` is withdrawn afresh, so
    that a withdrawal, a restoration and an upload at the same moment leave the right version
    current."""
    lock_resource(resource)
    db.session.refresh(resource, ["current_version_id", "current_version"])
    db.session.refresh(version, ["withdrawn_at"])


def withdraw_version(
    actor: User, resource: Resource, version: ResourceVersion, reason: str = ""
) -> bool:
    """A moderator withdraws one version of a file (one found to hold patient data, say): from
    then on only moderators may download it, and if it was the current version, the newest one
    left becomes current (and what search reads of the file with it). Audited. The last version
    left is never withdrawn: the resource would have nothing to download. False, changing
    nothing, when the version had already been withdrawn (a double click, or another
    moderator)."""
    _hold(resource, version)
    if version.withdrawn_at is not None:
        db.session.rollback()
        return False
    left = newest_left(resource, version)
    if left is None:
        db.session.rollback()
        raise ResourceError(
            f"Version {version.number} is the only version left to download, so it cannot be "
            "withdrawn. Hide the resource, or remove it from the library, instead"
        )
    version.withdrawn_at, version.withdrawn_by_id = utcnow(), actor.id
    resource.current_version = left
    record("resource.version_withdrawn", actor=actor, space=resource.space,
           resource_id=resource.id, version=version.number, filename=version.filename,
           sha256=version.sha256, current=left.number,
           reason=reason.strip()[:500] or None)  # fmt: skip
    db.session.commit()
    signals.resource_changed.send(resource)
    return True


def restore_version(
    actor: User, resource: Resource, version: ResourceVersion, reason: str = ""
) -> bool:
    """A moderator puts back a version withdrawn by mistake (or put right since): everyone who
    may see the resource may download it again, and if it is newer than the current version, it
    becomes current (and what search reads) again. Audited. False, changing nothing, when the
    version is not withdrawn (a double click, or another moderator was first)."""
    _hold(resource, version)
    if version.withdrawn_at is None:
        db.session.rollback()
        return False
    version.withdrawn_at, version.withdrawn_by_id = None, None
    db.session.flush()
    current = newest_left(resource)
    resource.current_version = current
    record("resource.version_restored", actor=actor, space=resource.space,
           resource_id=resource.id, version=version.number, filename=version.filename,
           sha256=version.sha256, current=current.number,  # type: ignore[union-attr]
           reason=reason.strip()[:500] or None)  # fmt: skip
    db.session.commit()
    signals.resource_changed.send(resource)
    return True


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
