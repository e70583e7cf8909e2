"""Every page of a space, role by role, agrees with the permission policy's single-item check:
opened when ``can`` allows its action, refused otherwise (anonymous visitors asked to sign in,
others told 403), for every visibility, archived or not."""

import pytest

from peerlearn.permissions import Action, can
from peerlearn.spaces.models import JoinPolicy, Visibility
from tests.roles import ROLES

#: A space's pages, the action each one needs, and whether only signed-in members may open it.
PAGES = {
    "": (Action.list, False),
    "/members": (Action.view, True),
    "/settings": (Action.manage, True),
    "/audit": (Action.audit, True),
    "/moderation": (Action.moderate, True),
}


@pytest.mark.parametrize("archived", [False, True], ids=["live", "archived"])
@pytest.mark.parametrize("visibility", list(Visibility))
@pytest.mark.parametrize("role", ROLES)
def test_each_page_of_a_space_opens_exactly_for_those_the_policy_allows(
    role, visibility, archived, make_space, person_in, client, login
):
    space = make_space(visibility=visibility, join_policy=JoinPolicy.request, archived=archived)
    actor = person_in(role, space)
    if role != "anonymous":
        login(client, actor)
    for path, (action, signed_in_only) in PAGES.items():
        allowed = can(actor, action, space) and not (signed_in_only and role == "anonymous")
        status = client.get(f"/spaces/{space.slug}{path}").status_code
        if allowed:
            assert status == 200, (path, status)
        else:
            assert status == (302 if role == "anonymous" else 403), (path, status)
