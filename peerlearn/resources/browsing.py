"""Finding resources: the library lists (network-wide and per space), their filters and sorts, and
the counts shown beside each resource.

Every list is filtered in SQL by :func:`~peerlearn.permissions.resource_filter`, so pages, totals
and counts only ever hold what the reader may see. The counts for a page of resources are a fixed
number of grouped queries, however many resources the page shows.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, distinct, exists, func, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, Region
from peerlearn.permissions import Actor, resource_filter, signed_in
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    Resource,
    ResourceComponent,
    ResourceKind,
    ResourceQmsElement,
    ResourceType,
    ResourceUse,
    SavedResource,
)


class Sort(enum.StrEnum):
    """How a library list is ordered."""

    newest = "newest"
    downloads = "downloads"
    used = "used"

    @property
    def label(self) -> str:
        return {
            "newest": "Newest first",
            "downloads": "Most downloaded",
            "used": "Used by the most organisations",
        }[self.value]


@dataclass(frozen=True)
class LibraryFilters:
    """What the reader narrowed the library to; None means "any"."""

    space_id: int | None = None
    type: ResourceType | None = None
    kind: ResourceKind | None = None
    component: ImpactComponent | None = None
    qms_element: QmsElement | None = None
    organisation_id: int | None = None
    region: Region | None = None
    licence: Licence | None = None
    classification: Classification | None = None
    sort: Sort = Sort.newest

    @property
    def narrowed(self) -> bool:
        """Whether any filter (not the sort) is set."""
        return any(value is not None for name, value in self.__dict__.items() if name != "sort")


def standing_use() -> ColumnElement[bool]:
    """A "we're using this" that still stands: its member's account is active and they are
    still in the organisation they spoke for. Once they leave it (a closed account, a move to
    another organisation) nobody there vouches for it any more, and it never moves with them to
    an organisation that has not said so."""
    return exists().where(
        User.id == ResourceUse.user_id,
        User.active,
        User.organisation_id == ResourceUse.organisation_id,
    )


def uses_by_organisation() -> Select[tuple[int, int]]:
    """Resource id and the number of distinct organisations that said "we're using this", by
    the uses that still stand (:func:`standing_use`)."""
    return (
        select(
            ResourceUse.resource_id,
            func.count(distinct(ResourceUse.organisation_id)).label("uses"),
        )
        .where(standing_use())
        .group_by(ResourceUse.resource_id)
    )


def _conditions(filters: LibraryFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.space_id is not None:
        conditions.append(Resource.space_id == filters.space_id)
    if filters.type is not None:
        conditions.append(Resource.type == filters.type)
    if filters.kind is not None:
        conditions.append(Resource.kind == filters.kind)
    if filters.component is not None:
        conditions.append(
            exists().where(
                ResourceComponent.resource_id == Resource.id,
                ResourceComponent.component == filters.component,
            )
        )
    if filters.qms_element is not None:
        conditions.append(
            exists().where(
                ResourceQmsElement.resource_id == Resource.id,
                ResourceQmsElement.element == filters.qms_element,
            )
        )
    if filters.organisation_id is not None:
        conditions.append(Resource.organisation_id == filters.organisation_id)
    if filters.region is not None:
        in_region = select(Organisation.id).where(Organisation.region == filters.region)
        conditions.append(Resource.organisation_id.in_(in_region))
    if filters.licence is not None:
        conditions.append(Resource.licence == filters.licence)
    if filters.classification is not None:
        conditions.append(Resource.classification == filters.classification)
    return conditions


def library_query(user: Actor, filters: LibraryFilters) -> Select[tuple[Resource]]:
    """The resources ``user`` may see that match ``filters``, in the chosen order, with what a
    list row shows loaded alongside (space, organisation, components)."""
    query = (
        select(Resource)
        .where(resource_filter(user), *_conditions(filters))
        .options(
            selectinload(Resource.space),
            selectinload(Resource.organisation),
            selectinload(Resource.component_rows),
        )
    )
    if filters.sort is Sort.downloads:
        query = query.order_by(Resource.download_count.desc())
    elif filters.sort is Sort.used:
        uses = uses_by_organisation().subquery()
        query = query.outerjoin(uses, uses.c.resource_id == Resource.id).order_by(
            func.coalesce(uses.c.uses, 0).desc()
        )
    return query.order_by(Resource.created_at.desc(), Resource.id.desc())


def saved_query(user: Actor) -> Select[tuple[Resource]]:
    """The resources the member saved and may still see, most recently saved first."""
    person = signed_in(user)
    return (
        select(Resource)
        .join(SavedResource, SavedResource.resource_id == Resource.id)
        .where(SavedResource.user_id == (person.id if person else None), resource_filter(user))
        .options(
            selectinload(Resource.space),
            selectinload(Resource.organisation),
            selectinload(Resource.component_rows),
        )
        .order_by(SavedResource.created_at.desc(), Resource.id.desc())
    )


@dataclass(frozen=True)
class Adapted:
    """How often a resource was adapted, counting only the adaptations a reader may see."""

    #: Adaptations, whoever shared them (a member with no organisation on their profile too).
    times: int = 0
    #: Distinct organisations the adaptations came from (those that name one).
    organisations: int = 0


NOT_ADAPTED = Adapted()


@dataclass
class Counts:
    """What a list shows beside its resources, looked up for a whole page at once."""

    #: Resource id → distinct organisations using it.
    used_by: dict[int, int]
    #: Resource id → its adaptations the reader may see (absent: none).
    adapted: dict[int, Adapted]
    #: Ids of the resources the reader saved.
    saved: set[int]


def counts_for(user: Actor, resources: Iterable[Resource]) -> Counts:
    """Use, adaptation and saved counts for these resources: three queries for any number."""
    ids = [resource.id for resource in resources]
    if not ids:
        return Counts({}, {}, set())
    used_by = dict(
        db.session.execute(uses_by_organisation().where(ResourceUse.resource_id.in_(ids))).all()
    )
    return Counts(used_by, adapted(user, ids), saved_ids(user, ids))


def adapted(user: Actor, ids: list[int]) -> dict[int, Adapted]:
    """For each resource adapted at all, how many times and by how many distinct organisations,
    counting only the adaptations ``user`` may see. An adaptation that names no organisation
    (shared by a member with none on their profile, or from one since removed) counts as a time,
    not as an organisation."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            Resource.adapted_from_id,
            func.count(Resource.id),
            func.count(distinct(Resource.organisation_id)),
        )
        .where(Resource.adapted_from_id.in_(ids), resource_filter(user))
        .group_by(Resource.adapted_from_id)
    )
    return {
        resource_id: Adapted(times, organisations) for resource_id, times, organisations in rows
    }


def saved_ids(user: Actor, ids: list[int]) -> set[int]:
    """Which of these resources the member saved."""
    person = signed_in(user)
    if person is None or not ids:
        return set()
    return set(
        db.session.scalars(
            select(SavedResource.resource_id).where(
                SavedResource.user_id == person.id, SavedResource.resource_id.in_(ids)
            )
        )
    )
