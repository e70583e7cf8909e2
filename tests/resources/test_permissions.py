"""The permission policy for library resources, role by role: who may see a resource for each
space visibility, resource visibility and classification; who may edit, remove, report and
moderate it; hidden and removed resources; and the list filter agreeing with the single-item
check."""

from __future__ import annotations

import itertools

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from peerlearn.extensions import db
from peerlearn.permissions import can, removal_shown_to, resource_filter
from peerlearn.resources.models import Classification, Resource, ResourceVisibility
from peerlearn.spaces.models import MemberRole, Visibility
from tests.roles import ACTIVE, EVERYONE, ROLES, SIGNED_IN, STATES

MEMBERS = ACTIVE | {"admin"}
NETWORK = SIGNED_IN - {"banned"}
MODERATORS = {"moderator", "owner", "admin"}
NOBODY: set[str] = set()

#: space visibility -> resource visibility -> who may see an OFFICIAL resource. A resource is
#: never seen more widely than its space.
READERS: dict[Visibility, dict[ResourceVisibility, set[str]]] = {
    Visibility.public: {
        ResourceVisibility.space: MEMBERS,
        ResourceVisibility.network: NETWORK,
        ResourceVisibility.public: EVERYONE,
    },
    Visibility.network: {
        ResourceVisibility.space: MEMBERS,
        ResourceVisibility.network: NETWORK,
        ResourceVisibility.public: NETWORK,
    },
    Visibility.private: {
        ResourceVisibility.space: MEMBERS,
        ResourceVisibility.network: MEMBERS,
        ResourceVisibility.public: MEMBERS,
    },
}


def expected_readers(space: Visibility, resource: ResourceVisibility, c: Classification) -> set:
    # OFFICIAL-SENSITIVE material only ever reaches the space's members, whatever was chosen:
    # need to know, so a network administrator reads it only as a member.
    return ACTIVE if c is Classification.official_sensitive else READERS[space][resource]


@pytest.mark.parametrize("classification", list(Classification))
@pytest.mark.parametrize("resource_visibility", list(ResourceVisibility))
@pytest.mark.parametrize("space_visibility", list(Visibility))
@pytest.mark.parametrize("role", ROLES)
def test_who_may_see_a_resource(
    role, space_visibility, resource_visibility, classification, make_space, person_in,
    make_resource,
):  # fmt: skip
    space = make_space(visibility=space_visibility)
    resource = make_resource(space, visibility=resource_visibility, classification=classification)
    actor = person_in(role, space)
    allowed = role in expected_readers(space_visibility, resource_visibility, classification)
    assert can(actor, "view", resource) is allowed
    assert can(actor, "list", resource) is allowed


#: resource -> action -> roles allowed, for a network-visible resource in a network space.
#: "another's" was uploaded by another member; "own" by the actor (whatever their standing now).
ACTIONS: dict[str, dict[str, set[str]]] = {
    "another's": {
        "edit": MODERATORS,
        "delete": MODERATORS,
        "flag": NETWORK,
        "moderate": MODERATORS,
    },
    "own": {
        "edit": MEMBERS,
        "delete": MEMBERS,
        "flag": NOBODY,
        "moderate": MODERATORS,
    },
    "hidden": {
        "view": MODERATORS,
        "edit": MODERATORS,
        "delete": MODERATORS,
        "flag": NOBODY,
        "moderate": MODERATORS,
    },
    # The uploader sees their hidden resource (to learn it is hidden) but may not change it.
    "own hidden": {
        "view": NETWORK,
        "edit": MODERATORS,
        "delete": MEMBERS,
        "flag": NOBODY,
    },
    "removed": {"view": NOBODY, "edit": NOBODY, "delete": NOBODY, "moderate": NOBODY},
    # OFFICIAL-SENSITIVE, for the space's members only: a network administrator who is not one
    # may not read it, but still deals with reports about it and may remove it, unread.
    "sensitive": {"view": ACTIVE, "edit": MODERATORS - {"admin"}, "delete": MODERATORS,
                  "flag": ACTIVE, "moderate": MODERATORS},
    "own sensitive": {"view": ACTIVE, "edit": ACTIVE, "delete": MEMBERS, "flag": NOBODY,
                      "moderate": MODERATORS},
    "hidden sensitive": {"view": MODERATORS - {"admin"}, "edit": MODERATORS - {"admin"},
                         "delete": MODERATORS, "flag": NOBODY, "moderate": MODERATORS},
}  # fmt: skip


@pytest.mark.parametrize(
    ("case", "action"), [(case, action) for case, rules in ACTIONS.items() for action in rules]
)
@pytest.mark.parametrize("role", ROLES)
def test_who_may_act_on_a_resource(role, case, action, make_space, person_in, make_resource):
    space = make_space(visibility=Visibility.network)
    actor = person_in(role, space)
    own = case.startswith("own") and role != "anonymous"
    resource = make_resource(
        space,
        by=actor if own else None,
        hidden="hidden" in case,
        deleted=case == "removed",
        **(SENSITIVE if "sensitive" in case else {}),
    )
    assert can(actor, action, resource) is (role in ACTIONS[case][action])


#: What makes a resource OFFICIAL-SENSITIVE (shared with its space's members, as it must be).
SENSITIVE = {
    "visibility": ResourceVisibility.space,
    "classification": Classification.official_sensitive,
}


@pytest.mark.parametrize("case", ["another's", "own", "sensitive"])
@pytest.mark.parametrize("role", ROLES)
def test_who_is_told_a_resource_has_been_removed(role, case, make_space, person_in, make_resource):
    """Those who could remove it while it was there hear that it has gone; to anyone else a
    removed resource is not there at all."""
    space = make_space(visibility=Visibility.network)
    actor = person_in(role, space)
    own = case == "own" and role != "anonymous"
    resource = make_resource(
        space,
        by=actor if own else None,
        deleted=True,
        **(SENSITIVE if case == "sensitive" else {}),
    )
    assert removal_shown_to(actor, resource) is (role in ACTIONS[case]["delete"])


def test_archived_space_resources_are_read_only(make_space, person_in, make_resource):
    space = make_space(visibility=Visibility.network, archived=True)
    member = person_in("member", space)
    mine = make_resource(space, by=member)
    assert can(member, "view", mine)
    assert not can(member, "edit", mine)
    assert not can(person_in("outsider", space), "flag", mine)
    assert not can(person_in("moderator", space), "moderate", mine)


def test_list_filter_agrees_with_single_item_check(
    make_space, make_user, add_member, make_resource
):
    """One world with resources of every visibility, classification and state in spaces of every
    visibility, and every kind of actor: the SQL filter used by lists, counts and search holds
    exactly what the single-item check allows."""
    spaces = [make_space(visibility=v) for v, _ in itertools.product(Visibility, range(2))]
    for space in spaces:
        for visibility, classification, state in itertools.product(
            ResourceVisibility, Classification, ("live", "hidden", "removed")
        ):
            make_resource(
                space,
                visibility=visibility,
                classification=classification,
                hidden=state == "hidden",
                deleted=state == "removed",
                commit=False,
            )
    db.session.commit()

    actors: list[object] = [AnonymousUserMixin(), make_user("Admin", admin=True)]
    for role, (member_role, state) in STATES.items():
        user = make_user(f"Someone {role}")
        # The same person holds this standing in half the spaces and none in the others.
        for space in spaces[::2]:
            add_member(space, user, member_role, state)
        actors.append(user)
    actors.append(make_user("Outsider"))
    former = make_user("Deactivated moderator", active=False)
    for space in spaces:
        add_member(space, former, MemberRole.moderator)
    actors.append(former)
    # Each signed-in actor also uploaded a resource that was then hidden, in every space.
    for actor in actors[1:]:
        for space in spaces:
            make_resource(space, by=actor, hidden=True, commit=False)
    db.session.commit()

    resources = db.session.scalars(select(Resource)).all()
    disagreements = []
    for actor in actors:
        listed = set(db.session.scalars(select(Resource.id).where(resource_filter(actor))))
        allowed = {resource.id for resource in resources if can(actor, "view", resource)}
        for resource in resources:
            if (resource.id in listed) != (resource.id in allowed):
                disagreements.append(
                    f"{actor!r}: {resource.space.visibility} space, {resource.visibility}, "
                    f"{resource.classification}, hidden={resource.hidden}, "
                    f"removed={resource.deleted}: listed={resource.id in listed}, "
                    f"allowed={resource.id in allowed}"
                )
    assert not disagreements, "\n".join(disagreements)
