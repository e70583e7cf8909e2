"""The admin area is for network administrators only: everyone else is turned away, and nothing
they send there changes anything."""

import itertools
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.spaces.models import MemberRole
from tests.accounts.pages import Page

#: Every admin page, with {user}, {organisation} and {space} standing for ids.
PAGES = [
    "/admin",
    "/admin/users",
    "/admin/organisations",
    "/admin/organisations/new",
    "/admin/organisations/{organisation}/edit",
    "/admin/spaces",
    "/spaces/new",
    "/admin/domains",
    "/admin/audit",
]

#: Every admin action, with the form it sends.
ACTIONS = [
    ("/admin/users/{user}/deactivate", {}),
    ("/admin/users/{user}/reactivate", {}),
    ("/admin/users/{user}/make-admin", {}),
    ("/admin/users/{user}/remove-admin", {}),
    ("/admin/organisations/new", {"name": "New Trust", "kind": "trust"}),
    ("/admin/organisations/{organisation}/edit", {"name": "Renamed", "kind": "trust"}),
    (
        "/spaces/new",
        {
            "kind": "community",
            "name": "New",
            "slug": "new",
            "visibility": "network",
            "join_policy": "open",
        },
    ),
    ("/admin/spaces/{space}/archive", {}),
    ("/admin/spaces/{space}/unarchive", {}),
    ("/admin/domains", {"domain": "nhs.net"}),
    ("/admin/domains/remove", {"domain": "nhs.net"}),
]


@pytest.fixture
def ids(make_user, make_organisation, make_space):
    return {
        "user": make_user("Tess Target").id,
        "organisation": make_organisation("Leeds Teaching Hospitals NHS Trust").id,
        "space": make_space("Flow Coaching SIG").id,
    }


def audit_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action.startswith("admin."))
    ) + db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action.startswith("space."))
    )


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, ids, path):
    path = path.format(**ids)
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == "/login?" + urlencode({"next": path})


@pytest.mark.parametrize(("path", "data"), ACTIONS)
def test_anonymous_visitors_cannot_act(client, ids, path, data):
    response = client.post(path.format(**ids), data=data)
    assert response.status_code == 302
    assert response.location.startswith("/login?")
    assert audit_count() == 0


@pytest.fixture
def space_owner(client, login, make_user, add_member, ids):
    """A signed-in member who owns a space: powerful there, but not a network administrator."""
    from peerlearn.spaces.models import Space

    owner = make_user("Olive Owner")
    add_member(db.session.get(Space, ids["space"]), owner, MemberRole.owner)
    login(client, owner)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_members_who_are_not_administrators_are_refused(space_owner, ids, path):
    page = Page(space_owner.get(path.format(**ids)))
    assert page.status == 403
    assert page.h1 == "You do not have permission to do that"


@pytest.mark.parametrize(("path", "data"), ACTIONS)
def test_members_who_are_not_administrators_cannot_act(space_owner, ids, path, data):
    assert space_owner.post(path.format(**ids), data=data).status_code == 403
    assert audit_count() == 0


def test_the_admin_link_is_only_shown_to_administrators(space_owner, new_client, login, admin):
    assert ("/admin", "Admin") not in Page(space_owner.get("/spaces")).links
    admin_client = new_client()
    login(admin_client, admin)
    assert ("/admin", "Admin") in Page(admin_client.get("/spaces")).links


@pytest.mark.parametrize("path", PAGES)
def test_administrators_can_open_every_page_with_its_headings_in_order(admin_client, ids, path):
    page = Page(admin_client.get(path.format(**ids)))
    assert page.status == 200
    page.h1  # exactly one  # noqa: B018
    levels = [level for level, _text in page.headings]
    assert levels[0] == 1, page.headings
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, page.headings


def test_the_admin_home_page_counts_and_links_to_each_area(admin_client, ids, make_user):
    make_user("Dee Activated", active=False)
    page = Page(admin_client.get("/admin"))
    assert page.h1 == "Administration"
    # Ada, Tess and the space's owner; not Dee. Everyone made here has an organisation of their own.
    assert "3 active accounts." in page.main_text
    assert "5 organisations in the directory." in page.main_text
    assert "1 open space." in page.main_text
    for text, href in [
        ("Users", "/admin/users"),
        ("Organisations", "/admin/organisations"),
        ("Spaces", "/admin/spaces"),
        ("Allowed e-mail domains", "/admin/domains"),
        ("Reports", "/moderation"),
        ("Audit log", "/admin/audit"),
    ]:
        assert (href, text) in page.links
