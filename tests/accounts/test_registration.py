"""Creating an account: confirmation by e-mail, no account enumeration, the domain allow-list and
the password rules."""

import pytest
from sqlalchemy import func, select

from peerlearn.accounts.models import AllowedEmailDomain, User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from tests.accounts.conftest import NEW_PASSWORD
from tests.accounts.pages import Page, normalise_volatile


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def find(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_registration_page_asks_for_everything_it_needs(client, organisation):
    page = Page(client.get("/register"))
    assert page.status == 200
    assert page.h1 == "Create an account"
    assert set(page.values) >= {"csrf_token", "email", "display_name", "job_title",
                                "organisation_id", "password"}  # fmt: skip
    assert organisation.name in page.main_text
    assert page.link("Sign in") == "/login"


def test_registering_creates_an_unconfirmed_account_and_emails_a_link_that_confirms_it(
    client, register, outbox, organisation
):
    page = Page(register(email="  Ann.New@NHS.net "))
    assert page.status == 200
    assert page.h1 == "Check your e-mail"
    assert "ann.new@nhs.net" in page.main_text

    user = find("ann.new@nhs.net")
    assert user is not None and not user.email_confirmed
    assert (user.display_name, user.job_title, user.organisation_id) == (
        "Ann New", "Head of Quality Improvement", organisation.id,
    )  # fmt: skip
    assert user.handle == "ann-new"
    assert user.password_hash != NEW_PASSWORD

    mail = outbox.last("ann.new@nhs.net")
    assert "Confirm your e-mail address" in mail.subject
    assert "Hello Ann New" in mail.text and mail.text.rstrip().endswith("peerlearn")
    link = mail.link("/confirm/")
    page = Page(client.get(link))
    assert page.h1 == "Sign in"
    assert page.values["email"] == "ann.new@nhs.net"
    token = link.rpartition("/")[2]
    assert page.values["confirm"] == token
    assert not find("ann.new@nhs.net").email_confirmed

    wrong = Page(client.post("/login", data={
        "email": "ann.new@nhs.net", "password": "not the password", "confirm": token,
    }))  # fmt: skip
    assert wrong.summary_has("Enter a correct e-mail address and password")
    assert wrong.values["confirm"] == token  # kept for the next try
    response = client.post("/login", data={
        "email": "ann.new@nhs.net", "password": NEW_PASSWORD, "confirm": token,
    })  # fmt: skip
    assert response.status_code == 302
    assert find("ann.new@nhs.net").email_confirmed
    assert "Your e-mail address is confirmed" in Page(client.get("/account")).main_text
    assert "account.email_confirmed" in db.session.scalars(select(AuditEntry.action)).all()

    client.post("/logout")
    response = client.get(link)  # followed again once confirmed: straight to signing in
    assert response.status_code == 302
    assert response.location == "/login"


def test_sign_in_is_refused_until_the_address_is_confirmed_and_a_new_link_is_sent(
    client, register, outbox
):
    register()
    assert len(outbox.to("ann.new@nhs.net")) == 1
    page = Page(client.post("/login", data={"email": "ann.new@nhs.net", "password": NEW_PASSWORD}))
    assert page.status == 200
    assert page.h1 == "Confirm your e-mail address"
    assert "ann.new@nhs.net" in page.main_text
    assert client.get("/account").status_code == 302  # not signed in
    assert len(outbox.to("ann.new@nhs.net")) == 2

    token = outbox.last("ann.new@nhs.net").link("/confirm/").rpartition("/")[2]
    response = client.post("/login", data={
        "email": "ann.new@nhs.net", "password": NEW_PASSWORD, "confirm": token,
    })  # fmt: skip
    assert response.status_code == 302
    assert client.get("/account").status_code == 200


def test_signing_in_to_an_unconfirmed_account_sends_a_limited_number_of_links(
    client, new_client, register, outbox
):
    """Whoever registered with someone else's address cannot fill their inbox by signing in
    again and again, from one browser or many: five new links an hour, however asked for."""
    register()
    for _ in range(3):
        other = new_client()
        other.post("/login", data={"email": "ann.new@nhs.net", "password": NEW_PASSWORD})
        other.post("/confirm/resend", data={"email": "ann.new@nhs.net"})
    page = Page(client.post("/login", data={"email": "ann.new@nhs.net", "password": NEW_PASSWORD}))
    assert page.h1 == "Confirm your e-mail address"  # the page does not change
    assert len(outbox.to("ann.new@nhs.net")) == 1 + 5


def test_a_confirmation_link_confirms_nothing_until_the_password_chosen_is_given_with_it(
    client, new_client, register, outbox
):
    """Anyone may register any address. Its owner, following the link out of courtesy, must not
    hand the account (in their name, at their address) to the stranger who chose its password:
    the link leads to the sign-in form, and the address is confirmed by signing in there."""
    register(email="owner@nhs.net", password=NEW_PASSWORD)  # by a stranger
    owner = new_client()
    page = Page(owner.get(outbox.last("owner@nhs.net").link("/confirm/")))
    assert page.status == 200
    assert page.h1 == "Sign in"
    assert "Sign in with the password you chose to confirm your e-mail address" in page.main_text
    assert page.values["email"] == "owner@nhs.net"
    assert not find("owner@nhs.net").email_confirmed

    stranger = new_client()
    refused = Page(
        stranger.post("/login", data={"email": "owner@nhs.net", "password": NEW_PASSWORD})
    )
    assert refused.h1 == "Confirm your e-mail address"
    assert stranger.get("/account").status_code == 302


def test_a_confirmation_link_that_is_not_valid_offers_a_new_one(client):
    page = Page(client.get("/confirm/not-a-real-token"))
    assert page.status == 400
    assert page.h1 == "This confirmation link has expired or is not valid"
    assert page.link("Get a new confirmation link") == "/confirm/resend"


def test_asking_for_a_new_confirmation_link_says_the_same_whoever_asks(
    client, register, make_user, outbox
):
    register()
    make_user(email="confirmed@trust.nhs.uk")
    pages = {}
    for email in ("ann.new@nhs.net", "confirmed@trust.nhs.uk", "nobody@trust.nhs.uk"):
        response = client.post("/confirm/resend", data={"email": email})
        pages[email] = normalise_volatile(response.get_data(as_text=True)).replace(email, "EMAIL")
    assert len(set(pages.values())) == 1
    assert len(outbox.to("ann.new@nhs.net")) == 2  # only the unconfirmed account gets a new link
    assert outbox.to("confirmed@trust.nhs.uk") == []
    assert outbox.to("nobody@trust.nhs.uk") == []


def test_registering_an_address_that_has_an_account_shows_the_same_page_and_tells_its_owner(
    client, register, make_user, outbox
):
    first = register(email="someone.else@nhs.net")
    owner = make_user("Existing Person", email="existing@nhs.net")
    count = user_count()

    again = register(email="Existing@nhs.net", display_name="Impostor")

    def same(response, email):
        return normalise_volatile(response.get_data(as_text=True)).replace(email, "EMAIL")

    assert again.status_code == first.status_code == 200
    assert same(again, "existing@nhs.net") == same(first, "someone.else@nhs.net")
    assert user_count() == count
    assert find("existing@nhs.net").display_name == "Existing Person"
    mail = outbox.last(owner.email)
    assert "tried to register" in mail.subject
    assert mail.link("/login") == "/login"
    assert mail.link("/password/forgot") == "/password/forgot"
    assert "/confirm/" not in mail.text


def test_registering_again_and_again_with_an_address_tells_its_owner_a_limited_number_of_times(
    new_client, organisation, make_user, outbox
):
    """Registering with someone's address from many places cannot fill their inbox."""
    owner = make_user("Existing Person", email="existing@nhs.net")
    for number in range(8):
        client = new_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        response = client.post("/register", data={
            "email": "existing@nhs.net", "display_name": "Impostor",
            "job_title": "Head of Quality Improvement",
            "organisation_id": str(organisation.id), "password": NEW_PASSWORD,
        })  # fmt: skip
        assert Page(response).h1 == "Check your e-mail"
    assert len(outbox.to(owner.email)) == 5


def test_registration_is_audited(register):
    register()
    user = find("ann.new@nhs.net")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.registered"))
    assert entry is not None and entry.subject_id == user.id


@pytest.mark.parametrize("email", ["x@nhs.net", "someone@leedsth.nhs.net", "UPPER@NHS.NET"])
def test_the_domain_allow_list_lets_in_its_domains_and_their_subdomains(client, register, email):
    db.session.add(AllowedEmailDomain(domain="nhs.net"))
    db.session.commit()
    assert "nhs.net" in Page(client.get("/register")).main_text
    page = Page(register(email=email))
    assert page.h1 == "Check your e-mail"
    assert find(email.lower()) is not None


@pytest.mark.parametrize(
    "email", ["someone@gmail.com", "someone@notnhs.net", "someone@nhs.net.evil.example"]
)
def test_the_domain_allow_list_refuses_other_domains_beside_the_email_field(
    client, register, email
):
    db.session.add(AllowedEmailDomain(domain="nhs.net"))
    db.session.commit()
    page = Page(register(email=email))
    message = "Use your work e-mail address. Registration is open to: nhs.net"
    assert page.h1 == "Create an account"
    assert page.error_for("email") == message
    assert page.summary_has(message, "email")
    assert page.values["email"] == email
    assert user_count() == 0


def test_a_domain_not_allowed_is_told_along_with_every_other_problem(client, register, outbox):
    """Every problem in one round: not the name and password first and the domain only once
    they are right."""
    db.session.add(AllowedEmailDomain(domain="nhs.net"))
    db.session.commit()
    page = Page(register(email="ann@gmail.com", display_name="", password="short words"))
    told = {
        "email": "Use your work e-mail address. Registration is open to: nhs.net",
        "display_name": "Enter your full name",
        "password": "Password must be 12 characters or more",
    }
    assert page.status == 200
    assert page.h1 == "Create an account"
    assert page.field_errors == told
    assert all(page.summary_has(message, field) for field, message in told.items())
    assert [href for href, _text in page.summary] == ["#email", "#display_name", "#password"]
    assert page.values["email"] == "ann@gmail.com"
    assert page.values["job_title"] == "Head of Quality Improvement"
    assert page.values["password"] == ""  # never sent back
    assert user_count() == 0
    assert outbox.messages() == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short words", "Password must be 12 characters or more"),
        ("password1234", "That password is too common. Choose a password that other people do not use"),
        ("passwordpassword", "That password is too easy to guess. Try a few unrelated words together, "
                            "and avoid your name or e-mail address"),
        ("x" * 129, "Password must be 128 characters or fewer"),
    ],
    ids=["too-short", "too-common", "too-easy-to-guess", "too-long"],
)  # fmt: skip
def test_passwords_that_break_the_rules_are_refused_beside_the_password_field(
    register, outbox, password, message
):
    page = Page(register(password=password))
    assert page.status == 200
    assert page.h1 == "Create an account"
    assert page.error_for("password") == message
    assert page.summary_has(message, "password")
    assert page.values["password"] == ""  # never sent back
    assert page.values["email"] == "ann.new@nhs.net"
    assert page.values["display_name"] == "Ann New"
    assert user_count() == 0
    assert outbox.messages() == []


def test_a_long_passphrase_is_accepted(register):
    passphrase = "the quiet heron waits by the canal lock at dawn " * 2  # 96 characters
    assert Page(register(password=passphrase.strip())).h1 == "Check your e-mail"
    assert find("ann.new@nhs.net") is not None


def test_signed_in_people_are_sent_home_from_the_registration_page(client, make_user, login):
    login(client, make_user())
    response = client.get("/register")
    assert response.status_code == 302
    assert response.location == "/"
