"""Changing the e-mail address: confirmed by a link sent to the new address, never revealing
whether another account has it."""

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import AllowedEmailDomain, User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from tests.accounts.conftest import NEW_PASSWORD
from tests.accounts.pages import Page, normalise_volatile
from tests.conftest import PASSWORD


def ask_to_change(client, email, password=PASSWORD):
    return client.post("/account/email", data={"email": email, "password": password})


def test_a_new_address_changes_only_after_its_link_is_followed(client, make_user, login, outbox):
    user = make_user(email="old@trust.nhs.uk")
    login(client, user)
    page = Page(ask_to_change(client, "New@Trust.nhs.uk"))
    assert page.status == 200
    assert page.h1 == "Check your e-mail"
    assert "new@trust.nhs.uk" in page.main_text
    assert db.session.get(User, user.id).email == "old@trust.nhs.uk"
    assert outbox.to("old@trust.nhs.uk") == []

    mail = outbox.last("new@trust.nhs.uk")
    assert "Confirm your new e-mail address" in mail.subject
    response = client.get(mail.link("/account/email/confirm/"))
    assert response.status_code == 302
    assert response.location == "/account"
    assert "Your e-mail address is now new@trust.nhs.uk" in Page(client.get("/account")).main_text
    assert db.session.get(User, user.id).email == "new@trust.nhs.uk"
    assert "account.email_changed" in db.session.scalars(select(AuditEntry.action)).all()

    assert client.get(mail.link("/account/email/confirm/")).status_code == 400  # used up
    client.post("/logout")
    assert client.post("/login", data={"email": "new@trust.nhs.uk",
                                       "password": PASSWORD}).status_code == 302  # fmt: skip


def test_an_address_in_use_gets_no_mail_but_the_same_page(client, make_user, login, outbox):
    user = make_user(email="me@trust.nhs.uk")
    make_user(email="taken@trust.nhs.uk")
    login(client, user)
    free = ask_to_change(client, "free@trust.nhs.uk")
    taken = ask_to_change(client, "taken@trust.nhs.uk")
    assert taken.status_code == free.status_code == 200
    assert normalise_volatile(taken.get_data(as_text=True)).replace(
        "taken@trust.nhs.uk", "EMAIL"
    ) == normalise_volatile(free.get_data(as_text=True)).replace("free@trust.nhs.uk", "EMAIL")
    assert outbox.to("taken@trust.nhs.uk") == []
    assert len(outbox.to("free@trust.nhs.uk")) == 1
    assert db.session.get(User, user.id).email == "me@trust.nhs.uk"


def test_a_change_link_is_refused_if_someone_took_the_address_meanwhile(
    client, make_user, login, outbox
):
    user = make_user(email="me@trust.nhs.uk")
    login(client, user)
    ask_to_change(client, "wanted@trust.nhs.uk")
    make_user(email="wanted@trust.nhs.uk")
    page = Page(client.get(outbox.last("wanted@trust.nhs.uk").link("/account/email/confirm/")))
    assert page.status == 400
    assert page.h1 == "This e-mail change link has expired or is not valid"
    assert page.link("Change your e-mail address again") == "/account/email"
    assert db.session.get(User, user.id).email == "me@trust.nhs.uk"


def test_changing_the_address_needs_the_password_and_a_different_allowed_address(
    client, make_user, login, outbox
):
    user = make_user(email="me@nhs.net")
    login(client, user)
    page = Page(ask_to_change(client, "new@nhs.net", "not my password"))
    assert page.error_for("password") == "Your password is not correct"
    assert page.values["email"] == "new@nhs.net"
    assert page.values["password"] == ""

    page = Page(ask_to_change(client, "ME@nhs.net"))
    assert page.error_for("email") == "That is already your e-mail address"

    db.session.add(AllowedEmailDomain(domain="nhs.net"))
    db.session.commit()
    page = Page(ask_to_change(client, "me@gmail.com"))
    assert page.error_for("email") == "Use a work e-mail address at: nhs.net"
    assert page.summary_has("Use a work e-mail address at: nhs.net", "email")

    assert outbox.messages() == []
    assert db.session.get(User, user.id).email == "me@nhs.net"


@pytest.mark.parametrize(
    ("typed", "refusal"),
    [
        ("ME@nhs.net", "That is already your e-mail address"),
        ("new@gmail.com", "Use a work e-mail address at: nhs.net"),
        ("taken@nhs.net", None),  # another account's: never said, which would reveal it
    ],
)
def test_a_wrong_password_and_an_address_not_allowed_are_told_together(
    client, make_user, login, outbox, typed, refusal
):
    """Every problem in one round, the typed address kept: not the password first and the
    address once the password is right."""
    db.session.add(AllowedEmailDomain(domain="nhs.net"))
    db.session.commit()
    user = make_user(email="me@nhs.net")
    make_user(email="taken@nhs.net")
    login(client, user)
    page = Page(ask_to_change(client, typed, "not my password"))
    assert page.status == 200
    told = {"password": "Your password is not correct"} | ({"email": refusal} if refusal else {})
    assert page.field_errors == told
    assert all(page.summary_has(message, field) for field, message in told.items())
    assert page.values["email"] == typed
    assert page.values["password"] == ""
    assert outbox.messages() == []
    assert db.session.get(User, user.id).email == "me@nhs.net"


def test_a_garbled_change_link_is_refused(client):
    page = Page(client.get("/account/email/confirm/not-a-token"))
    assert page.status == 400
    assert "Your e-mail address has not been changed" in page.main_text


@pytest.mark.parametrize("how", ["reset", "change"])
def test_a_change_link_asked_for_before_the_password_changed_is_refused(
    client, new_client, make_user, login, outbox, how
):
    """Someone who learnt the password and asked to move the account to their own address
    must lose that link when the owner takes the account back with a new password."""
    user = make_user(email="me@trust.nhs.uk")
    intruder = new_client()
    login(intruder, user)
    ask_to_change(intruder, "intruder@trust.nhs.uk")
    link = outbox.last("intruder@trust.nhs.uk").link("/account/email/confirm/")

    if how == "reset":
        client.post("/password/forgot", data={"email": "me@trust.nhs.uk"})
        reset = outbox.last("me@trust.nhs.uk").link("/password/reset/")
        assert client.post(reset, data={"password": NEW_PASSWORD}).status_code == 302
    else:
        login(client, user)
        response = client.post(
            "/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD}
        )
        assert response.status_code == 302

    page = Page(intruder.get(link))
    assert page.status == 400
    assert page.h1 == "This e-mail change link has expired or is not valid"
    assert db.session.get(User, user.id).email == "me@trust.nhs.uk"


def test_the_old_address_is_told_when_the_address_changes(client, make_user, login, outbox):
    """Whoever moved the account away from its owner's address cannot do it unnoticed."""
    user = make_user(email="old@trust.nhs.uk")
    login(client, user)
    ask_to_change(client, "new@trust.nhs.uk")
    assert outbox.to("old@trust.nhs.uk") == []  # asking changes nothing, so tells nothing
    client.get(outbox.last("new@trust.nhs.uk").link("/account/email/confirm/"))

    notice = outbox.last("old@trust.nhs.uk")
    assert "e-mail address was changed" in notice.subject
    assert "new@trust.nhs.uk" in notice.text
    assert notice.link("/password/forgot") == "/password/forgot"


def test_a_change_link_does_nothing_for_a_deactivated_account(client, make_user, login, outbox):
    """An account an administrator closed (perhaps because someone else was using it) keeps
    its address: a change asked for before cannot move it elsewhere."""
    user = make_user(email="me@trust.nhs.uk")
    login(client, user)
    ask_to_change(client, "elsewhere@trust.nhs.uk")
    db.session.get(User, user.id).active = False
    db.session.commit()
    page = Page(client.get(outbox.last("elsewhere@trust.nhs.uk").link("/account/email/confirm/")))
    assert page.status == 400
    assert db.session.get(User, user.id).email == "me@trust.nhs.uk"
