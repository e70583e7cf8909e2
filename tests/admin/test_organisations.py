"""Adding and editing organisations in the directory, and the mistakes the form catches."""

import pytest
from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, OrganisationKind, Region
from peerlearn.organisations.services import OrganisationData, OrganisationError, save_organisation
from tests.accounts.pages import Page
from tests.concurrency import at_once, first_writes_meet


def organisation_named(name: str) -> Organisation | None:
    db.session.expire_all()
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def organisation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def audit_actions() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith("admin."))
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def system(make_organisation):
    return make_organisation(
        "Lancashire and South Cumbria Integrated Care System",
        kind=OrganisationKind.ics,
        region=Region.north_west,
    )


@pytest.fixture
def trust(make_organisation, system):
    return make_organisation(
        "Lancashire Teaching Hospitals NHS Foundation Trust", parent=system, ods_code="RXN"
    )


def test_the_organisations_page_lists_them_with_edit_links(admin_client, system, trust):
    page = Page(admin_client.get("/admin/organisations"))
    assert page.h1 == "Organisations"
    assert page.link("Add an organisation") == "/admin/organisations/new"
    assert (f"/admin/organisations/{trust.id}/edit", f"Edit {trust.name}") in page.links
    # Each value beside its column's heading, as a phone shows the row (a screen reader is
    # given the table's own headers instead).
    assert (
        "Name Lancashire Teaching Hospitals NHS Foundation Trust Kind Trust Region North West "
        "Part of Lancashire and South Cumbria Integrated Care System ODS code RXN Members 0"
    ) in page.main_text


def test_adding_an_organisation(admin_client, admin, system):
    page = Page(admin_client.get("/admin/organisations/new"))
    assert page.h1 == "Add an organisation"
    assert page.values["kind"] == ""

    response = admin_client.post(
        "/admin/organisations/new",
        data={
            "name": "  Blackpool Teaching Hospitals NHS Foundation Trust ",
            "kind": "trust",
            "region": "north-west",
            "parent_id": str(system.id),
            "ods_code": "rxl",
        },
    )
    assert response.status_code == 302
    assert response.location == "/admin/organisations"
    page = Page(admin_client.get(response.location))
    assert "Blackpool Teaching Hospitals NHS Foundation Trust has been saved." in page.main_text

    created = organisation_named("Blackpool Teaching Hospitals NHS Foundation Trust")
    assert (created.kind, created.region, created.parent_id, created.ods_code) == (
        OrganisationKind.trust,
        Region.north_west,
        system.id,
        "RXL",
    )
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "admin.organisation_created")
    )
    assert entry.actor_id == admin.id
    assert entry.detail == {
        "organisation": "Blackpool Teaching Hospitals NHS Foundation Trust",
        "organisation_id": created.id,
    }


def test_a_national_body_needs_no_region_or_parent(admin_client):
    admin_client.post(
        "/admin/organisations/new",
        data={"name": "NHS England", "kind": "national", "region": "", "parent_id": ""},
    )
    created = organisation_named("NHS England")
    assert (created.kind, created.region, created.parent_id, created.ods_code) == (
        OrganisationKind.national,
        None,
        None,
        None,
    )


def test_editing_an_organisation_starts_from_its_details(admin_client, admin, system, trust):
    page = Page(admin_client.get(f"/admin/organisations/{trust.id}/edit"))
    assert page.h1 == f"Edit {trust.name}"
    assert page.values == {
        "csrf_token": page.values["csrf_token"],
        "name": "Lancashire Teaching Hospitals NHS Foundation Trust",
        "kind": "trust",
        "region": "north-west",
        "parent_id": str(system.id),
        "ods_code": "RXN",
    }

    response = admin_client.post(
        f"/admin/organisations/{trust.id}/edit",
        data={
            "name": "Lancashire Teaching Hospitals",
            "kind": "trust",
            "region": "north-west",
            "parent_id": "",
            "ods_code": "RXN",
        },
    )
    assert response.location == "/admin/organisations"
    edited = organisation_named("Lancashire Teaching Hospitals")
    assert edited.id == trust.id
    assert edited.parent_id is None
    assert audit_actions() == ["admin.organisation_updated"]


def post_form(admin_client, path: str, **changes: str) -> Page:
    data = {
        "name": "Blackpool Teaching Hospitals NHS Foundation Trust",
        "kind": "trust",
        "region": "north-west",
        "parent_id": "",
        "ods_code": "",
        **changes,
    }
    return Page(admin_client.post(path, data=data))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the organisation's name"),
        ({"name": "N" * 201}, "name", "Name must be 200 characters or fewer"),
        (
            {"name": "LANCASHIRE teaching hospitals nhs foundation trust"},
            "name",
            "An organisation with that name already exists",
        ),
        ({"kind": ""}, "kind", "Choose what kind of organisation it is"),
        ({"kind": "hospital"}, "kind", "Not a valid choice."),
        ({"region": "mars"}, "region", "Not a valid choice."),
        (
            {"ods_code": "rxn"},
            "ods_code",
            "Lancashire Teaching Hospitals NHS Foundation Trust already has the ODS code RXN",
        ),
        ({"ods_code": "R-1"}, "ods_code", "ODS code must contain only letters and numbers"),
        ({"parent_id": "999999"}, "parent_id", "Choose an organisation from the list"),
    ],
)
def test_mistakes_in_a_new_organisation_are_shown_beside_the_field(
    admin_client, trust, changes, field, message
):
    before = organisation_count()
    page = post_form(admin_client, "/admin/organisations/new", **changes)
    assert page.status == 200
    assert page.error_for(field) == message
    assert page.summary_has(message, field)
    for name, value in changes.items():
        if name not in {"kind", "region", "parent_id"}:  # a select offers only its choices
            assert page.values[name] == value
    assert organisation_count() == before
    assert audit_actions() == []


def test_an_organisation_cannot_belong_to_itself_or_to_one_of_its_own_members(
    admin_client, make_organisation, system, trust
):
    ward = make_organisation("Ward Collaborative", kind=OrganisationKind.partner, parent=trust)
    for parent in (system, trust, ward):
        page = post_form(
            admin_client,
            f"/admin/organisations/{system.id}/edit",
            name=system.name,
            kind="ics",
            parent_id=str(parent.id),
        )
        message = "An organisation cannot belong to itself or to one of its own members"
        assert page.error_for("parent_id") == message
        assert page.values["parent_id"] == str(parent.id)
        assert page.values["kind"] == "ics"
    db.session.expire_all()
    assert db.session.get(Organisation, system.id).parent_id is None
    assert audit_actions() == []


def test_keeping_an_organisations_own_name_and_code_is_not_a_duplicate(admin_client, trust):
    page = post_form(
        admin_client,
        f"/admin/organisations/{trust.id}/edit",
        name=trust.name,
        ods_code="RXN",
        region="london",
    )
    assert page.status == 302
    db.session.expire_all()
    assert db.session.get(Organisation, trust.id).region is Region.london


def test_editing_an_unknown_organisation_is_not_found(admin_client):
    assert admin_client.get("/admin/organisations/999999/edit").status_code == 404


@pytest.mark.parametrize("clash", ["name", "ods_code"])
def test_one_organisation_added_twice_at_once_is_added_once(app, admin, clash):
    """Two administrators adding the same organisation at the same moment (both checked before
    either wrote): one is added, the other is told why beside the field, as any clash is."""
    admin_id = admin.id
    refusals: list[tuple[str | None, str]] = []

    def add(name: str) -> None:
        data = OrganisationData(
            name if clash == "ods_code" else "Mid Cheshire Hospitals NHS Foundation Trust",
            OrganisationKind.trust, Region.north_west, None, "RBT",
        )  # fmt: skip
        try:
            save_organisation(db.session.get(User, admin_id), data)
        except OrganisationError as refusal:
            refusals.append((refusal.field, refusal.message))

    with first_writes_meet("INSERT INTO organisations", before=True):
        at_once(app, [lambda: add("Mid Cheshire"), lambda: add("Leighton Hospital")])
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Organisation.ods_code == "RBT")) == 1
    [(field, message)] = refusals
    assert field == clash
    assert "already" in message
