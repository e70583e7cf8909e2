"""The permission policy for spaces, role by role: who may view, list, follow, join, post,
moderate and manage a space of each visibility, and read its audit log; and the list filter
agreeing with the single-item check."""

from __future__ import annotations

import itertools

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from peerlearn.extensions import db
from peerlearn.permissions import Action, can, space_filter
from peerlearn.spaces.models import JoinPolicy, MemberRole, Space, Visibility
from tests.roles import ACTIVE, EVERYONE, ROLES, SIGNED_IN, STATES

#: visibility -> action -> roles allowed, for a live space that anyone may join (open policy).
EXPECTED: dict[str, dict[str, set[str]]] = {
    "public": {
        "view": EVERYONE,
        "list": EVERYONE,
        "follow": SIGNED_IN - {"banned"},  # a banned member may read it, but hears nothing
        "join": {"outsider", "invited", "admin"},
        "post": ACTIVE | {"admin"},
        "moderate": {"moderator", "owner", "admin"},
        "manage": {"owner", "admin"},
        "audit": {"owner", "admin"},
    },
    "network": {
        "view": SIGNED_IN - {"banned"},
        "list": SIGNED_IN,
        "follow": SIGNED_IN - {"banned"},
        "join": {"outsider", "invited", "admin"},
        "post": ACTIVE | {"admin"},
        "moderate": {"moderator", "owner", "admin"},
        "manage": {"owner", "admin"},
        "audit": {"owner", "admin"},
    },
    "private": {
        "view": ACTIVE | {"admin"},
        "list": SIGNED_IN,
        "follow": ACTIVE | {"admin"},
        "join": {"outsider", "invited", "admin"},
        "post": ACTIVE | {"admin"},
        "moderate": {"moderator", "owner", "admin"},
        "manage": {"owner", "admin"},
        "audit": {"owner", "admin"},
    },
}


CASES = [
    (visibility, action, role)
    for visibility, actions in EXPECTED.items()
    for action in actions
    for role in ROLES
]


@pytest.mark.parametrize(("visibility", "action", "role"), CASES)
def test_policy_table(visibility, action, role, make_space, person_in):
    space = make_space(visibility=Visibility(visibility), join_policy=JoinPolicy.open)
    actor = person_in(role, space)
    expected = role in EXPECTED[visibility][action]
    assert can(actor, action, space) is expected


@pytest.mark.parametrize(
    ("policy", "allowed"),
    [
        (JoinPolicy.open, {"outsider", "invited", "admin"}),
        (JoinPolicy.request, {"outsider", "invited", "admin"}),
        (JoinPolicy.invite, {"invited"}),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_join_depends_on_the_join_policy(policy, allowed, role, make_space, person_in):
    space = make_space(visibility=Visibility.network, join_policy=policy)
    assert can(person_in(role, space), Action.join, space) is (role in allowed)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("visibility", list(Visibility))
def test_archived_spaces_are_read_only(role, visibility, make_space, person_in):
    space = make_space(visibility=visibility, archived=True)
    actor = person_in(role, space)
    # Reading (and following what is read, and reading its history) is as before archiving …
    for action in (Action.view, Action.list, Action.follow, Action.audit):
        assert can(actor, action, space) is (role in EXPECTED[visibility.value][action])
    # … but nobody may write, and only an administrator may still change its settings.
    for action in (Action.join, Action.post, Action.moderate):
        assert can(actor, action, space) is False
    assert can(actor, Action.manage, space) is (role == "admin")


#: The target's standing -> who may ``moderate`` their membership (remove or ban them, approve or
#: decline their request, withdraw their invitation, lift their ban) and who may ``manage`` it
#: (change their role). A moderator acts on plain members only; a moderator or an owner is for
#: the space's owners and network administrators.
MEMBERSHIP_EXPECTED: dict[str, dict[str, set[str]]] = {
    "member": {"moderate": {"moderator", "owner", "admin"}, "manage": {"owner", "admin"}},
    "requested": {"moderate": {"moderator", "owner", "admin"}, "manage": {"owner", "admin"}},
    "invited": {"moderate": {"moderator", "owner", "admin"}, "manage": {"owner", "admin"}},
    "banned": {"moderate": {"moderator", "owner", "admin"}, "manage": {"owner", "admin"}},
    "moderator": {"moderate": {"owner", "admin"}, "manage": {"owner", "admin"}},
    "owner": {"moderate": {"owner", "admin"}, "manage": {"owner", "admin"}},
}


@pytest.mark.parametrize("target", list(MEMBERSHIP_EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_who_may_act_on_someones_membership(
    role, target, make_space, make_user, add_member, person_in
):
    space = make_space()
    member_role, state = STATES[target]
    membership = add_member(space, make_user("Tess Target"), member_role, state)
    actor = person_in(role, space)
    for action, allowed in MEMBERSHIP_EXPECTED[target].items():
        assert can(actor, action, membership) is (role in allowed), action
    # Nobody acts on memberships of an archived space (administrators change its settings only).
    space.archived_at = space.created_at
    db.session.commit()
    assert can(actor, Action.moderate, membership) is False


def test_deactivated_users_count_as_anonymous(make_space, make_user, add_member):
    space = make_space(visibility=Visibility.private)
    user = make_user(active=False)
    add_member(space, user, MemberRole.owner)
    assert not can(user, Action.view, space)
    assert not can(user, Action.manage, space)


@pytest.mark.parametrize("action", [Action.view, Action.list])
def test_list_filter_agrees_with_single_item_check(action, make_space, make_user, add_member):
    """Every role against every visibility and join policy, in one world: the SQL filter used by
    list pages must contain exactly the spaces the single-item check allows."""
    spaces = [
        make_space(visibility=visibility, join_policy=policy, archived=archived)
        for visibility, policy, archived in itertools.product(Visibility, JoinPolicy, (False, True))
    ]
    actors: list[object] = [AnonymousUserMixin(), make_user("Admin", admin=True)]
    for role, (member_role, state) in STATES.items():
        user = make_user(f"Someone {role}")
        # The same person holds this standing in some spaces and none in the others.
        for space in spaces[::2]:
            add_member(space, user, member_role, state)
        actors.append(user)
    actors.append(make_user("Outsider"))
    for actor in actors:
        listed = set(db.session.scalars(select(Space.id).where(space_filter(actor, action))))
        allowed = {space.id for space in spaces if can(actor, action, space)}
        # Also the owners' own view of spaces made by the factory is covered by "owner" above.
        assert listed == allowed, (actor, action)


def test_space_filter_refuses_write_actions(make_user):
    with pytest.raises(ValueError, match="view and list only"):
        space_filter(make_user(), Action.post)
