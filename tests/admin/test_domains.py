"""The registration allow-list: which e-mail domains may create accounts."""

from sqlalchemy import select

from peerlearn.accounts.models import AllowedEmailDomain, User
from peerlearn.admin.services import add_domain, remove_domain
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from tests.accounts.pages import Page
from tests.concurrency import at_once, first_writes_meet

#: A password that passes every rule and is nobody's factory password.
NEW_PASSWORD = "quartz lantern meadow bicycle"


def allowed() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AllowedEmailDomain.domain).order_by("domain")))


def audited(action: str) -> list[dict]:
    return [
        entry.detail
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    ]


def test_an_empty_list_means_anyone_can_register(admin_client):
    page = Page(admin_client.get("/admin/domains"))
    assert page.h1 == "Allowed e-mail domains"
    assert "The list is empty, so anyone can register with any e-mail address." in page.main_text


def test_adding_and_removing_domains(admin_client, admin):
    response = admin_client.post("/admin/domains", data={"domain": " @NHS.net "})
    assert response.status_code == 302
    page = Page(admin_client.get(response.location))
    assert "People with nhs.net addresses can now register." in page.main_text
    admin_client.post("/admin/domains", data={"domain": "nhs.uk"})
    assert allowed() == ["nhs.net", "nhs.uk"]
    assert audited("admin.domain_allowed") == [{"domain": "nhs.net"}, {"domain": "nhs.uk"}]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "admin.domain_allowed"))
    assert entry.actor_id == admin.id

    page = Page(admin_client.get("/admin/domains"))
    assert "anyone can register" not in page.main_text
    assert 'aria-label="Remove nhs.net"' in page.html
    assert 'aria-label="Remove nhs.uk"' in page.html

    page = Page(
        admin_client.get(admin_client.post("/admin/domains", data={"domain": "nhs.net"}).location)
    )
    assert "nhs.net was already allowed." in page.main_text
    assert len(audited("admin.domain_allowed")) == 2

    response = admin_client.post("/admin/domains/remove", data={"domain": "nhs.net"})
    page = Page(admin_client.get(response.location))
    assert "nhs.net has been removed from the list." in page.main_text
    assert allowed() == ["nhs.uk"]
    assert audited("admin.domain_removed") == [{"domain": "nhs.net"}]

    page = Page(
        admin_client.get(
            admin_client.post("/admin/domains/remove", data={"domain": "nhs.net"}).location
        )
    )
    assert "That domain was not on the list." in page.main_text
    assert len(audited("admin.domain_removed")) == 1


def test_a_badly_formed_domain_is_refused_beside_the_field(admin_client):
    for typed, message in [
        ("nhs", "Enter a domain in the correct format, like nhs.net"),
        ("nhs..net", "Enter a domain in the correct format, like nhs.net"),
        ("-nhs.net", "Enter a domain in the correct format, like nhs.net"),
        ("name@nhs.net", "Enter a domain in the correct format, like nhs.net"),
        ("", "Enter a domain, like nhs.net"),
    ]:
        page = Page(admin_client.post("/admin/domains", data={"domain": typed}))
        assert page.status == 200
        assert page.error_for("domain") == message, typed
        assert page.summary_has(message, "domain")
        assert page.values["domain"] == typed.strip().lower()
    assert allowed() == []
    assert audited("admin.domain_allowed") == []


def register(client, organisation, email: str) -> Page:
    return Page(
        client.post(
            "/register",
            data={
                "email": email,
                "display_name": "Nia Newcomer",
                "job_title": "Improvement Lead",
                "organisation_id": str(organisation.id),
                "password": NEW_PASSWORD,
            },
        )
    )


def test_registration_honours_the_list(admin_client, new_client, make_organisation):
    organisation = make_organisation("Leeds Teaching Hospitals NHS Trust")
    admin_client.post("/admin/domains", data={"domain": "nhs.net"})
    admin_client.post("/admin/domains", data={"domain": "nhs.uk"})

    visitor = new_client()
    page = register(visitor, organisation, "nia@gmail.com")
    assert page.status == 200
    assert (
        page.error_for("email")
        == "Use your work e-mail address. Registration is open to: nhs.net, nhs.uk"
    )
    assert page.values["email"] == "nia@gmail.com"
    assert db.session.scalar(select(User).where(User.email == "nia@gmail.com")) is None

    page = register(visitor, organisation, "nia@lthtr.nhs.uk")  # a subdomain of nhs.uk
    assert page.h1 == "Check your e-mail"
    assert db.session.scalar(select(User).where(User.email == "nia@lthtr.nhs.uk")) is not None

    # Once the list is empty again, any address may register.
    admin_client.post("/admin/domains/remove", data={"domain": "nhs.net"})
    admin_client.post("/admin/domains/remove", data={"domain": "nhs.uk"})
    assert register(new_client(), organisation, "nia@gmail.com").h1 == "Check your e-mail"


def test_one_domain_added_twice_at_once_is_added_once(app, admin):
    """A double click on Add (both checked the list before either wrote): the domain is allowed
    once and audited once, and the second request is told it was already allowed."""
    admin_id = admin.id
    answers: list[bool] = []

    def add() -> None:
        answers.append(add_domain(db.session.get(User, admin_id), "nhs.net"))

    with first_writes_meet("INSERT INTO allowed_email_domains", before=True):
        at_once(app, [add, add])
    db.session.rollback()
    assert allowed() == ["nhs.net"]
    assert sorted(answers) == [False, True]
    assert audited("admin.domain_allowed") == [{"domain": "nhs.net"}]


def test_one_domain_removed_twice_at_once_is_removed_once(app, admin):
    """A double click on Remove: the domain goes, one removal is audited, and the second request
    is told it was not on the list."""
    add_domain(admin, "nhs.net")
    admin_id = admin.id
    answers: list[bool] = []

    def remove() -> None:
        answers.append(remove_domain(db.session.get(User, admin_id), "nhs.net"))

    with first_writes_meet("DELETE FROM allowed_email_domains", before=True):
        at_once(app, [remove, remove])
    db.session.rollback()
    assert allowed() == []
    assert sorted(answers) == [False, True]
    assert audited("admin.domain_removed") == [{"domain": "nhs.net"}]
