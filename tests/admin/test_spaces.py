"""Creating communities and special interest groups, and archiving them."""

import pytest
from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    SpaceKind,
    Visibility,
)
from peerlearn.spaces.services import (
    SpaceData,
    SpaceError,
    create_space,
    set_archived,
    update_space,
)
from tests.accounts.pages import Page
from tests.concurrency import at_once, first_writes_meet, one_inside_another


def space_with_slug(slug: str) -> Space | None:
    db.session.expire_all()
    return db.session.scalar(select(Space).where(Space.slug == slug))


def space_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Space))


def owners(space: Space) -> list[int]:
    return list(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.space_id == space.id,
                Membership.role == MemberRole.owner,
                Membership.state == MemberState.active,
            )
        )
    )


@pytest.fixture
def community(make_space):
    return make_space("Improvement Directors Network", kind=SpaceKind.community)


def new_space(admin_client, **changes: str):
    data = {
        "kind": "sig",
        "parent_id": "",
        "name": "QMS SIG",
        "slug": "qms-sig",
        "summary": "Quality management systems in practice.",
        "description": "We share **QMS** tools.",
        "visibility": "network",
        "join_policy": "request",
        "owner_email": "",
        **changes,
    }
    return admin_client.post("/spaces/new", data=data)


def test_the_spaces_page_lists_every_space_including_archived_ones(
    admin_client, make_space, make_user, add_member, community
):
    group = make_space("Flow Coaching SIG", parent=community)
    add_member(group, make_user())
    make_space("Old Pilots SIG", archived=True, visibility=Visibility.private)
    page = Page(admin_client.get("/admin/spaces"))
    assert page.h1 == "Spaces"
    assert page.link("Create a space") == "/spaces/new"
    text = page.main_text
    assert "Improvement Directors Network Community Network Open 1 Open" in text
    assert (
        "Flow Coaching SIG in Improvement Directors Network Special interest group Network Open 2 Open"
    ) in text
    assert "Old Pilots SIG Special interest group Private Open 1 Archived" in text
    assert "Unarchive Old Pilots SIG" in page.html
    assert "Archive Flow Coaching SIG" in page.html


def test_the_new_space_form_starts_with_sensible_choices(admin_client, community):
    page = Page(admin_client.get("/spaces/new"))
    assert page.h1 == "Create a space"
    assert (page.values["kind"], page.values["visibility"], page.values["join_policy"]) == (
        "sig",
        "network",
        "open",
    )
    assert "Improvement Directors Network" in page.main_text


def test_creating_a_special_interest_group_owned_by_someone_else(
    admin_client, admin, make_user, community
):
    olive = make_user("Olive Owner", "olive@trust.nhs.uk")
    response = new_space(
        admin_client, parent_id=str(community.id), owner_email=" Olive@Trust.nhs.uk "
    )
    assert response.status_code == 302
    assert response.location == "/spaces/qms-sig"
    page = Page(admin_client.get(response.location))
    assert "QMS SIG has been created." in page.main_text
    assert page.h1 == "QMS SIG"
    assert "<strong>QMS</strong>" in page.html

    space = space_with_slug("qms-sig")
    assert (space.kind, space.parent_id, space.visibility, space.join_policy) == (
        SpaceKind.sig,
        community.id,
        Visibility.network,
        JoinPolicy.request,
    )
    assert owners(space) == [olive.id]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "space.created"))
    assert (entry.actor_id, entry.subject_id, entry.space_id) == (admin.id, olive.id, space.id)


def test_creating_a_community_owned_by_the_administrator(admin_client, admin):
    response = new_space(admin_client, kind="community", name="Improvement Directors Network",
                         slug="idn")  # fmt: skip
    assert response.location == "/spaces/idn"
    space = space_with_slug("idn")
    assert space.kind is SpaceKind.community and space.parent_id is None
    assert owners(space) == [admin.id]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"parent_id": ""}, "parent_id", "Choose the community this group belongs to"),
        ({"kind": "community", "parent_id": "{community}"}, "parent_id",
         "A community cannot belong to another community"),
        ({"slug": "flow-coaching"}, "slug", "Another space already uses that web address"),
        ({"slug": "QMS SIG!"}, "slug",
         "Web address must use lower-case letters, numbers and single hyphens, like qms-sig"),
        ({"slug": ""}, "slug", "Enter a web address"),
        ({"name": ""}, "name", "Enter a name"),
        ({"name": "   "}, "name", "Enter a name"),
        ({"kind": ""}, "kind", "Choose a kind of space"),
        ({"owner_email": "nobody@trust.nhs.uk"}, "owner_email",
         "Nobody with that e-mail address has an active peerlearn account"),
        ({"owner_email": "not an address"}, "owner_email",
         "Enter an e-mail address in the correct format, like name@example.nhs.uk"),
    ],
)  # fmt: skip
def test_mistakes_in_a_new_space_are_shown_beside_the_field(
    admin_client, make_space, community, changes, field, message
):
    make_space("Flow Coaching SIG").slug = "flow-coaching"
    db.session.commit()
    before = space_count()
    changes = {key: value.format(community=community.id) for key, value in changes.items()}
    changes.setdefault("parent_id", str(community.id))
    page = Page(new_space(admin_client, **{"name": "Typed name", **changes}))
    assert page.status == 200
    assert page.error_for(field) == message
    assert page.summary_has(message, field)
    assert page.values["name"] == changes.get("name", "Typed name")
    assert page.values["description"] == "We share **QMS** tools."
    assert page.values["join_policy"] == "request"
    assert space_count() == before
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "space.created")) is None


@pytest.mark.parametrize(
    "account", [{"active": False}, {"confirmed": False}], ids=["deactivated", "unconfirmed"]
)
def test_only_someone_the_network_lists_can_be_named_the_owner(
    admin_client, make_user, community, account
):
    """The owner must be able to look after the space: not a deactivated account, nor one whose
    address was never confirmed (which may not even be its registrant's)."""
    make_user("Una Unlisted", "una@trust.nhs.uk", **account)
    page = Page(
        new_space(admin_client, parent_id=str(community.id), owner_email="una@trust.nhs.uk")
    )
    message = "Nobody with that e-mail address has an active peerlearn account"
    assert page.status == 200
    assert page.error_for("owner_email") == message
    assert page.summary_has(message, "owner_email")
    assert (page.values["owner_email"], page.values["name"]) == ("una@trust.nhs.uk", "QMS SIG")
    assert space_with_slug("qms-sig") is None


def test_archived_communities_are_not_offered_or_accepted_as_parents(
    admin_client, make_space, community
):
    """A group cannot be added to an archived community: the form does not offer one, and one
    posted anyway is refused beside the field, with what was typed kept."""
    closed = make_space("Old Pilots Network", kind=SpaceKind.community, archived=True)
    page = Page(admin_client.get("/spaces/new"))
    offered = [attrs.get("value") for tag, attrs in page.main_tags if tag == "option"]
    assert str(community.id) in offered
    assert str(closed.id) not in offered
    assert "Old Pilots Network" not in page.main_text

    before = space_count()
    page = Page(new_space(admin_client, parent_id=str(closed.id), name="Typed name"))
    message = "Old Pilots Network is archived. Choose a community that is not archived"
    assert page.status == 200
    assert page.error_for("parent_id") == message
    assert page.summary_has(message, "parent_id")
    assert (page.values["name"], page.values["slug"]) == ("Typed name", "qms-sig")
    assert page.values["description"] == "We share **QMS** tools."
    assert space_count() == before
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "space.created")) is None


def test_a_group_created_as_its_community_is_archived_is_refused_beside_the_field(
    app, admin_client, admin, community
):
    """The form offered the community, and the request found it open; another administrator's
    archiving it is committed before the new group holds it: refused as if it had been archived
    already, beside the field, with what was typed kept."""
    admin_id, community_id = admin.id, community.id
    pages: list[Page] = []

    def create() -> None:
        pages.append(Page(new_space(admin_client, parent_id=str(community_id), name="Typed name")))

    def archive() -> None:
        set_archived(db.session.get(User, admin_id), db.session.get(Space, community_id), True)

    one_inside_another(app, create, archive, "UPDATE spaces")  # the group's hold of its community
    (page,) = pages
    message = "Improvement Directors Network is archived. Choose a community that is not archived"
    assert page.status == 200
    assert page.error_for("parent_id") == message
    assert page.summary_has(message, "parent_id")
    assert (page.values["name"], page.values["parent_id"]) == ("Typed name", str(community_id))
    assert page.values["description"] == "We share **QMS** tools."
    assert space_with_slug("qms-sig") is None


def test_a_group_in_an_archived_community_keeps_it_when_its_settings_are_saved(
    client, login, make_space, make_user
):
    closed = make_space("Old Pilots Network", kind=SpaceKind.community, archived=True)
    owner = make_user("Olive Owner")
    group = make_space("Flow Coaching SIG", parent=closed, owner=owner)
    login(client, owner)
    response = client.post(f"/spaces/{group.slug}/settings", data={
        "name": "Flow Coaching", "summary": "", "description": "", "visibility": "network",
        "join_policy": "open",
    })  # fmt: skip
    assert response.status_code == 302
    assert "The space's settings have been saved." in Page(client.get(response.location)).main_text
    group = space_with_slug(group.slug)
    assert (group.name, group.parent_id) == ("Flow Coaching", closed.id)


def test_the_error_summary_lists_mistakes_in_the_order_of_the_page(admin_client):
    page = Page(new_space(admin_client, kind="", name="", slug="", summary="S" * 281))
    assert [href for href, _text in page.summary] == ["#kind", "#name", "#slug", "#summary"]


def test_archiving_makes_a_space_read_only_until_it_is_unarchived(
    admin_client, admin, new_client, login, make_user, make_space
):
    space = make_space("Flow Coaching SIG")
    response = admin_client.post(f"/admin/spaces/{space.id}/archive")
    assert response.location == "/admin/spaces"
    page = Page(admin_client.get(response.location))
    assert "Flow Coaching SIG is archived and now read-only." in page.main_text
    assert "Unarchive Flow Coaching SIG" in page.html
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "space.archived"))
    assert (entry.actor_id, entry.space_id) == (admin.id, space.id)

    visitor = new_client()
    login(visitor, make_user("Vi Sitor"))
    page = Page(visitor.get(f"/spaces/{space.slug}"))
    assert "This space is archived and read-only" in page.main_text
    assert visitor.post(f"/spaces/{space.slug}/join").status_code == 403
    assert "Flow Coaching SIG" not in Page(visitor.get("/spaces")).main_text

    page = Page(admin_client.get(admin_client.post(f"/admin/spaces/{space.id}/unarchive").location))
    assert "Flow Coaching SIG is open again." in page.main_text
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "space.unarchived"))
    assert visitor.post(f"/spaces/{space.slug}/join").status_code == 302
    assert "This space is archived" not in Page(visitor.get(f"/spaces/{space.slug}")).main_text


def test_archiving_an_unknown_space_is_not_found(admin_client):
    assert admin_client.post("/admin/spaces/999999/archive").status_code == 404


def test_one_space_created_twice_at_once_is_created_once(app, admin):
    """A double click on Create (both checked the address before either wrote): one space is
    made, the other request is told why beside the address, as any clash is."""
    admin_id = admin.id
    refusals: list[tuple[str | None, str]] = []

    def create() -> None:
        data = SpaceData("QMS SIG", "", "", Visibility.network, JoinPolicy.open)
        try:
            create_space(db.session.get(User, admin_id), data, slug="qms-sig",
                         kind=SpaceKind.community)  # fmt: skip
        except SpaceError as refusal:
            refusals.append((refusal.field, refusal.message))

    with first_writes_meet("INSERT INTO spaces", before=True):
        at_once(app, [create, create])
    db.session.rollback()
    assert space_count() == 1
    assert refusals == [("slug", "Another space already uses that web address")]


@pytest.mark.parametrize("archived", [False, True])
def test_a_space_archived_or_restored_twice_at_once_is_audited_once(
    app, admin, make_space, archived
):
    """A double click on Archive (or Unarchive): both requests found the space as it was before
    either wrote; it changes once, and the audit log says so once."""
    space = make_space("Flow Coaching SIG", archived=archived)
    admin_id, space_id = admin.id, space.id

    def change() -> None:
        set_archived(db.session.get(User, admin_id), db.session.get(Space, space_id),
                     archived=not archived)  # fmt: skip

    with first_writes_meet("UPDATE spaces", before=True):
        at_once(app, [change, change])
    db.session.expire_all()
    assert db.session.get(Space, space_id).archived is not archived
    action = "space.unarchived" if archived else "space.archived"
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == action)) == 1


def test_settings_saved_twice_at_once_audit_the_change_once(app, admin, make_space):
    """A double click on Save that makes a space private: both requests read the space as it was
    before either wrote; the audit log records the change of visibility once, not twice, and the
    second save, finding nothing left to change, records nothing."""
    space = make_space("Flow Coaching SIG")
    admin_id, space_id = admin.id, space.id

    def save() -> None:
        data = SpaceData("Flow Coaching SIG", "", "", Visibility.private, JoinPolicy.open)
        update_space(db.session.get(User, admin_id), db.session.get(Space, space_id), data)

    with first_writes_meet("UPDATE spaces", before=True):
        at_once(app, [save, save])
    db.session.expire_all()
    assert db.session.get(Space, space_id).visibility is Visibility.private
    details = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "space.updated")
    ).all()
    assert details == [{"visibility": "network → private"}]
