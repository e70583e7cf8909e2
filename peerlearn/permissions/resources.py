"""The resource library's rules in the one permission policy: who may see, change and flag a
resource (:func:`resource_allows`) and download each of its versions
(:func:`version_downloadable`), and the same rule as SQL for lists and search
(:func:`resource_filter`), kept side by side so they cannot drift apart."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from peerlearn.permissions import (
    Action,
    Actor,
    has_moderator_role,
    member_space_ids,
    membership_of,
    moderated_space_ids,
    readable_space_ids,
    reads,
    signed_in,
    space_allows,
)
from peerlearn.resources.models import (
    Classification,
    Resource,
    ResourceVersion,
    ResourceVisibility,
)
from peerlearn.spaces.models import Membership, MemberState, Space, Visibility

#: The space visibility whose readers a resource's own visibility setting reaches.
_RESOURCE_READERS = {
    ResourceVisibility.space: Visibility.private,
    ResourceVisibility.network: Visibility.network,
    ResourceVisibility.public: Visibility.public,
}


def resource_readers(resource: Resource) -> Visibility:
    """Who the resource's own settings let read it: its visibility, except that OFFICIAL-SENSITIVE
    material only ever reaches the space's members. (The space's visibility narrows it further:
    see :func:`resource_allows`.)"""
    if resource.classification is Classification.official_sensitive:
        return Visibility.private
    return _RESOURCE_READERS[resource.visibility]


def _reaches(user: Actor, resource: Resource, membership: Membership | None) -> bool:
    """Whether the resource's own settings let the user read it (:func:`resource_readers`).
    OFFICIAL-SENSITIVE material reaches the space's active members only, on a need-to-know
    basis: a network administrator is not one of its readers unless they are a member (they
    may still act on reports about it without reading it: :data:`UNREAD_MODERATION`)."""
    if resource.classification is Classification.official_sensitive:
        return _reads_sensitive(user, membership)
    return reads(user, resource_readers(resource), membership)


def _reads_sensitive(user: Actor, membership: Membership | None) -> bool:
    return (
        signed_in(user) is not None
        and membership is not None
        and (membership.state is MemberState.active)
    )


def reads_sensitive(user: Actor, space: Space) -> bool:
    """Whether OFFICIAL-SENSITIVE material in the space reaches the user: its active members.
    Only they may share it there (or mark a resource so), or they would share what they could
    then not read."""
    return _reads_sensitive(user, membership_of(user, space))


def reads_material(user: Actor, resource: Resource) -> bool:
    """Whether the resource's classification lets its material (files, links, version notes)
    reach the user: all of it, unless it is OFFICIAL-SENSITIVE and they are not among the
    space's active members (:func:`reads_sensitive`)."""
    return not resource.classification.sensitive or reads_sensitive(user, resource.space)


#: What a network administrator may do to OFFICIAL-SENSITIVE material they may not read (in a
#: space they are not a member of): deal with reports about it (hide, restore, dismiss, withdraw
#: a version) and remove it, from a page that shows what a report shows (its title, its space,
#: who shared it), never its description or its files.
UNREAD_MODERATION = frozenset({Action.moderate, Action.delete})


def resource_allows(
    user: Actor, action: Action | str, resource: Resource, membership: Membership | None
) -> bool:
    """Rules for a library resource, given the user's membership of its space. Pure: no database
    access.

    Readers are those who may read the space *and* whom the resource's visibility reaches, so a
    resource is never wider than its space. Hidden resources are seen by the space's moderators
    and their uploader only; removed ones by nobody. The uploader edits, adds versions
    (``edit``) and removes (``delete``) while they may post in the space; moderators may always.
    """
    if resource.deleted_at is not None:
        return False
    return _allows_while_there(user, Action(action), resource, membership)


def version_downloadable(user: Actor, version: ResourceVersion) -> bool:
    """Whether the user may download this version of a file: whoever may view its resource,
    except a version a moderator withdrew, which only the space's moderators may (to review it
    or put things right)."""
    resource = version.resource
    membership = membership_of(user, resource.space)
    if not resource_allows(user, Action.view, resource, membership):
        return False
    return version.withdrawn_at is None or resource_allows(
        user, Action.moderate, resource, membership
    )


def removal_shown_to(user: Actor, resource: Resource) -> bool:
    """Whether the user may be told that this removed resource has been removed, rather than
    that nothing is there: those who could remove it while it was there (its uploader, the
    space's moderators), so that pressing "Remove it" again is answered. Nobody else is told it
    existed."""
    return resource.deleted_at is not None and _allows_while_there(
        user, Action.delete, resource, membership_of(user, resource.space)
    )


def _allows_while_there(
    user: Actor, action: Action, resource: Resource, membership: Membership | None
) -> bool:
    """:func:`resource_allows` for a resource that has not been removed."""
    space = resource.space
    person = signed_in(user)
    own = person is not None and resource.created_by_id == person.id
    if action in {Action.view, Action.list}:
        return (
            space_allows(user, Action.view, space, membership)
            and _reaches(user, resource, membership)
            and (resource.hidden_at is None or own or has_moderator_role(user, membership))
        )
    moderator = space_allows(user, Action.moderate, space, membership)
    if not _allows_while_there(user, Action.view, resource, membership):
        # Only an administrator kept from OFFICIAL-SENSITIVE material moderates what they
        # cannot read; everyone else acts only on what they may see.
        return action in UNREAD_MODERATION and moderator and person is not None and person.is_admin
    writer = own and space_allows(user, Action.post, space, membership)
    if action in {Action.moderate, Action.manage}:
        return moderator
    if action is Action.edit:
        return moderator or (writer and resource.hidden_at is None)
    if action is Action.delete:
        return moderator or writer
    if action is Action.flag:
        return person is not None and not own and not space.archived and resource.hidden_at is None
    return False


def resource_filter(user: Actor) -> ColumnElement[bool]:
    """SQL condition on :class:`Resource` matching exactly the resources :func:`can` lets the
    user view: not removed, in a space they may read, reaching them by its own visibility and
    classification, and not hidden unless they moderate the space or uploaded it."""
    person = signed_in(user)
    readable = Resource.space_id.in_(readable_space_ids(user))
    shareable = Resource.classification == Classification.official
    if person is None:
        reaches: ColumnElement[bool] = and_(
            shareable, Resource.visibility == ResourceVisibility.public
        )
        unhidden: ColumnElement[bool] = Resource.hidden_at.is_(None)
    else:
        if person.is_admin:
            reaches = or_(
                shareable, Resource.space_id.in_(member_space_ids(person, MemberState.active))
            )
        else:
            reaches = or_(
                and_(shareable, Resource.visibility == ResourceVisibility.public),
                and_(
                    shareable,
                    Resource.visibility == ResourceVisibility.network,
                    Resource.space_id.not_in(member_space_ids(person, MemberState.banned)),
                ),
                Resource.space_id.in_(member_space_ids(person, MemberState.active)),
            )
        unhidden = or_(
            Resource.hidden_at.is_(None),
            Resource.created_by_id == person.id,
            Resource.space_id.in_(moderated_space_ids(user)),
        )
    return and_(Resource.deleted_at.is_(None), readable, reaches, unhidden)
