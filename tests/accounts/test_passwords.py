"""Forgotten passwords and changing a password: links that work once and expire, every other
session ended when the password changes, and every problem with a new password told at once."""

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.accounts.password_changes import password_fingerprint
from peerlearn.accounts.tokens import address_mark
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from tests.accounts.conftest import NEW_PASSWORD
from tests.accounts.pages import Page, normalise_volatile
from tests.conftest import PASSWORD


def sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def ask_for_reset(client, email):
    return client.post("/password/forgot", data={"email": email})


# Forgotten passwords -------------------------------------------------------------------------


def test_a_reset_link_is_emailed_only_to_an_account_holder_and_the_page_is_the_same_either_way(
    client, make_user, outbox
):
    make_user(email="known@trust.nhs.uk")
    known = ask_for_reset(client, "Known@trust.nhs.uk")
    unknown = ask_for_reset(client, "nobody@trust.nhs.uk")
    page = Page(known)
    assert page.status == 200
    assert page.h1 == "Check your e-mail"
    assert normalise_volatile(known.get_data(as_text=True)).replace(
        "known@trust.nhs.uk", "EMAIL"
    ) == normalise_volatile(unknown.get_data(as_text=True)).replace("nobody@trust.nhs.uk", "EMAIL")
    assert outbox.to("nobody@trust.nhs.uk") == []
    mail = outbox.last("known@trust.nhs.uk")
    assert "expires in 1 hour" in mail.text and "works once" in mail.text
    assert mail.link("/password/reset/")


def test_a_mail_server_that_is_down_does_not_tell_who_has_an_account(
    app, client, make_user, caplog, refused_port
):
    """Account e-mail goes out after the page is answered: with the mail server refusing
    connections, a known and an unknown address get the same page (not an error page for the
    known one, whose e-mail failed), and the failure is logged."""
    make_user(email="known@trust.nhs.uk")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=refused_port)
    try:
        known = ask_for_reset(client, "known@trust.nhs.uk")
        unknown = ask_for_reset(client, "nobody@trust.nhs.uk")
    finally:
        app.config.update(MAIL_SERVER="")
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert Page(known).h1 == Page(unknown).h1 == "Check your e-mail"
    assert "account e-mail 'Reset your peerlearn password' failed" in caplog.text


def test_one_address_gets_a_limited_number_of_reset_links_however_many_ask(
    new_client, make_user, outbox
):
    """Asking from many addresses (each under its own limit) cannot fill one person's inbox:
    five reset links an hour to one account, and the page never changes."""
    make_user(email="known@trust.nhs.uk")
    for number in range(8):
        client = new_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        page = Page(ask_for_reset(client, "known@trust.nhs.uk"))
        assert page.status == 200
        assert page.h1 == "Check your e-mail"
    assert len(outbox.to("known@trust.nhs.uk")) == 5


def test_deactivated_accounts_get_no_reset_link(client, make_user, outbox):
    make_user(email="gone@trust.nhs.uk", active=False)
    assert Page(ask_for_reset(client, "gone@trust.nhs.uk")).h1 == "Check your e-mail"
    assert outbox.messages() == []


def test_a_reset_link_sets_a_new_password_once(client, make_user, outbox):
    make_user(email="known@trust.nhs.uk")
    ask_for_reset(client, "known@trust.nhs.uk")
    link = outbox.last("known@trust.nhs.uk").link("/password/reset/")

    page = Page(client.get(link))
    assert page.status == 200
    assert page.h1 == "Choose a new password"
    response = client.post(link, data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.location == "/login"
    assert "Your password has been changed" in Page(client.get("/login")).main_text

    assert sign_in(client, "known@trust.nhs.uk", PASSWORD).status_code == 200  # old one refused
    assert sign_in(client, "known@trust.nhs.uk", NEW_PASSWORD).status_code == 302
    assert "auth.password_reset" in db.session.scalars(select(AuditEntry.action)).all()

    used = Page(client.get(link))
    assert used.status == 400
    assert used.h1 == "This password reset link has expired or has already been used"
    assert used.link("Get a new password reset link") == "/password/forgot"
    assert client.post(link, data={"password": "another fine passphrase here"}).status_code == 400


def test_a_reset_link_refuses_a_weak_password_and_stays_usable(client, make_user, outbox):
    user = make_user(email="known@trust.nhs.uk")
    before = user.password_hash
    ask_for_reset(client, "known@trust.nhs.uk")
    link = outbox.last("known@trust.nhs.uk").link("/password/reset/")
    page = Page(client.post(link, data={"password": "password1234"}))
    assert page.status == 200
    assert page.error_for("password") == (
        "That password is too common. Choose a password that other people do not use"
    )
    assert page.values["password"] == ""
    assert db.session.get(User, user.id).password_hash == before
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302


#: Not a common password, and not easy to guess for most people: but for Zebedee Okonkwo, whose
#: name it holds, it is.
NAMESAKE_PASSWORD = "QuentinOkonkwo"
TOO_EASY = (
    "That password is too easy to guess. Try a few unrelated words together, "
    "and avoid your name or e-mail address"
)


def test_a_reset_link_refuses_a_password_made_of_the_account_holders_name(
    client, make_user, outbox
):
    user = make_user("Zebedee Okonkwo", email="zebedee.okonkwo@trust.nhs.uk")
    before = user.password_hash
    ask_for_reset(client, user.email)
    link = outbox.last(user.email).link("/password/reset/")
    page = Page(client.post(link, data={"password": NAMESAKE_PASSWORD}))
    assert page.status == 200
    assert page.summary == [("#password", TOO_EASY)]
    assert page.error_for("password") == TOO_EASY
    assert db.session.get(User, user.id).password_hash == before
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302


def expired_reset_token(app, user: User) -> str:
    """A reset token exactly as the site makes them, but made two hours ago."""

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="peerlearn.reset-password", signer=TwoHoursAgo
    )
    return serializer.dumps(
        {"uid": user.id, "pw": password_fingerprint(user), "to": address_mark(user.email)}
    )


def test_an_expired_or_garbled_reset_link_is_refused(app, client, make_user):
    user = make_user()
    for token in (expired_reset_token(app, user), "garbage", "a" * 300):
        page = Page(client.get(f"/password/reset/{token}"))
        assert page.status == 400, token
        assert page.h1 == "This password reset link has expired or has already been used"
        refused = client.post(f"/password/reset/{token}", data={"password": NEW_PASSWORD})
        assert refused.status_code == 400
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_resetting_the_password_signs_out_every_existing_session(
    client, new_client, make_user, login, outbox, app
):
    user = make_user(email="known@trust.nhs.uk")
    laptop, phone = new_client(), new_client()
    login(laptop, user)
    login(phone, user, remember=True)
    remembered = phone.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value

    ask_for_reset(client, "known@trust.nhs.uk")
    client.post(outbox.last("known@trust.nhs.uk").link("/password/reset/"),
                data={"password": NEW_PASSWORD})  # fmt: skip

    assert laptop.get("/account").location.startswith("/login")
    assert phone.get("/account").location.startswith("/login")
    fresh = new_client()
    fresh.set_cookie(app.config["REMEMBER_COOKIE_NAME"], remembered)
    assert fresh.get("/account").status_code == 302


# Changing the password -----------------------------------------------------------------------


WRONG_CURRENT = "Your current password is not correct"


@pytest.mark.parametrize(
    ("new_password", "problems"),
    [
        (NEW_PASSWORD, [("#current_password", WRONG_CURRENT)]),
        # Both in one round: not the current password's alone, and the new one's after it.
        (NAMESAKE_PASSWORD, [("#current_password", WRONG_CURRENT), ("#password", TOO_EASY)]),
    ],
    ids=["a good new one", "a weak new one too"],
)
def test_changing_the_password_needs_the_current_one(
    client, make_user, login, new_password, problems
):
    user = make_user("Zebedee Okonkwo", email="zebedee.okonkwo@trust.nhs.uk")
    before = user.password_hash
    login(client, user)
    page = Page(client.post("/account/password", data={
        "current_password": "not my password", "password": new_password,
    }))  # fmt: skip
    assert page.status == 200
    assert page.h1 == "Change your password"
    assert page.summary == problems
    for field, message in problems:
        assert page.error_for(field.removeprefix("#")) == message
    assert page.values["current_password"] == page.values["password"] == ""
    assert db.session.get(User, user.id).password_hash == before


def test_the_new_password_must_differ_from_the_current_one(client, make_user, login, outbox):
    """Nothing would change, yet every other session would end and the owner be e-mailed."""
    user = make_user()
    login(client, user)
    before = user.password_hash
    page = Page(
        client.post("/account/password", data={"current_password": PASSWORD, "password": PASSWORD})
    )
    assert page.summary == [
        ("#password", "Your new password must be different from your current one")
    ]
    assert db.session.get(User, user.id).password_hash == before
    assert not [m for m in outbox.to(user.email) if "password was changed" in m.subject]


def test_a_missing_current_password_and_a_short_new_one_are_told_at_once(client, make_user, login):
    user = make_user()
    login(client, user)
    page = Page(
        client.post("/account/password", data={"current_password": "", "password": "short"})
    )
    assert page.summary == [
        ("#current_password", "Enter your current password"),
        ("#password", "Password must be 12 characters or more"),
    ]


def test_guessing_the_current_password_is_limited(client, make_user, login):
    """Someone with a stolen session cannot try passwords until one fits."""
    user = make_user()
    login(client, user)
    wrong = {"current_password": "not my password", "password": NEW_PASSWORD}
    answers = [client.post("/account/password", data=wrong).status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]
    right = {"current_password": PASSWORD, "password": NEW_PASSWORD}
    refused = client.post("/account/password", data=right)
    assert refused.status_code == 429
    assert db.session.get(User, user.id).password_hash == user.password_hash
    # The page says how long, as Retry-After does: the limit is ten an hour.
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert "Try again in about an hour." in Page(refused).main_text


def test_guessing_the_password_is_limited_across_every_form_that_asks_for_it(
    client, make_user, login, outbox
):
    """Changing the e-mail address asks for the password too: with a stolen session, guesses
    there, from however many addresses, share the same ten an hour."""
    user = make_user()
    login(client, user)
    answers = []
    for number in range(6):
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        answers.append(client.post("/account/email", data={
            "email": "new@trust.nhs.uk", "password": f"guess number {number}",
        }).status_code)  # fmt: skip
    wrong = {"current_password": "not my password", "password": NEW_PASSWORD}
    answers += [client.post("/account/password", data=wrong).status_code for _ in range(5)]
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    answers.append(client.post("/account/email", data={
        "email": "new@trust.nhs.uk", "password": PASSWORD,
    }).status_code)  # fmt: skip
    assert answers == [200] * 10 + [429, 429]
    assert outbox.messages() == []


def test_changing_the_password_keeps_this_browser_signed_in_and_signs_out_the_others(
    client, new_client, make_user, login, app
):
    user = make_user()
    other = new_client()
    login(client, user)
    login(other, user)
    remembering = new_client()
    login(remembering, user, remember=True)
    old_cookie = remembering.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value

    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD,
    })  # fmt: skip
    assert response.status_code == 302
    assert response.location == "/account"
    page = Page(client.get("/account"))
    assert page.status == 200
    assert "You have been signed out everywhere else" in page.main_text

    assert other.get("/account").location.startswith("/login")
    assert remembering.get("/account").location.startswith("/login")
    stolen = new_client()
    stolen.set_cookie(app.config["REMEMBER_COOKIE_NAME"], old_cookie)
    assert stolen.get("/account").location.startswith("/login")

    assert sign_in(new_client(), user.email, NEW_PASSWORD).status_code == 302
    assert "auth.password_changed" in db.session.scalars(select(AuditEntry.action)).all()


def test_a_remembered_browser_stays_remembered_after_changing_its_own_password(
    client, new_client, make_user, login, app
):
    user = make_user()
    login(client, user, remember=True)
    client.post("/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD})
    renewed = client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value
    later = new_client()
    later.set_cookie(app.config["REMEMBER_COOKIE_NAME"], renewed)
    assert later.get("/account").status_code == 200


def test_password_pages_need_a_signed_in_person(client):
    for path in ("/account", "/account/password", "/account/email"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.startswith("/login?next=")


def test_the_owner_is_told_by_e_mail_when_the_password_is_changed_or_reset(
    client, make_user, login, outbox
):
    user = make_user(email="known@trust.nhs.uk")
    login(client, user)
    client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD,
    })  # fmt: skip
    changed = outbox.last("known@trust.nhs.uk")
    assert "password was changed" in changed.subject
    assert changed.link("/password/forgot") == "/password/forgot"

    client.post("/logout")
    ask_for_reset(client, "known@trust.nhs.uk")
    link = outbox.last("known@trust.nhs.uk").link("/password/reset/")
    client.post(link, data={"password": "another fine passphrase here"})
    assert "password was changed" in outbox.last("known@trust.nhs.uk").subject
    assert len(outbox.to("known@trust.nhs.uk")) == 3  # notice, reset link, notice


def test_a_reset_link_sent_to_an_address_the_account_has_left_no_longer_works(
    client, make_user, login, outbox
):
    """Whoever still reads the old mailbox cannot use a reset link it was sent before the move."""
    user = make_user(email="old@trust.nhs.uk")
    ask_for_reset(client, "old@trust.nhs.uk")
    link = outbox.last("old@trust.nhs.uk").link("/password/reset/")
    login(client, user)
    client.post("/account/email", data={"email": "new@trust.nhs.uk", "password": PASSWORD})
    client.get(outbox.last("new@trust.nhs.uk").link("/account/email/confirm/"))
    client.post("/logout")

    assert Page(client.get(link)).status == 400
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 400
    assert sign_in(client, "new@trust.nhs.uk", PASSWORD).status_code == 302
