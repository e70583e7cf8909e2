"""Signing in and out: one answer for every failure, limits, safe redirects, fresh sessions,
remember-me cookies and the audit trail."""

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from peerlearn.accounts.models import SignIn, User
from peerlearn.accounts.passwords import needs_rehash
from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from tests.accounts.pages import Page, normalise_volatile
from tests.conftest import PASSWORD

SIGN_IN_FAILED = "Enter a correct e-mail address and password"


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_sign_in_page_links_to_everything_a_person_might_need(client):
    page = Page(client.get("/login?next=/spaces"))
    assert page.h1 == "Sign in"
    assert page.values["next"] == "/spaces"
    assert page.link("Forgotten your password?") == "/password/forgot"
    assert page.link("Create an account") == "/register"
    assert page.link("Get a new confirmation link") == "/confirm/resend"


def test_signing_in_redirects_home_and_the_session_works(client, make_user):
    user = make_user("Rosa Díaz", email="rosa@trust.nhs.uk")
    response = sign_in(client, "  ROSA@trust.nhs.uk ")
    assert response.status_code == 302
    assert response.location == "/"
    page = Page(client.get("/account"))
    assert page.status == 200
    assert page.h1 == "Account settings"
    assert page.values["display_name"] == user.display_name


@pytest.mark.parametrize(
    ("email", "password"),
    [("nobody@trust.nhs.uk", PASSWORD), ("known@trust.nhs.uk", "not the right password at all")],
    ids=["unknown-email", "wrong-password"],
)
def test_a_failed_sign_in_says_only_that_the_details_are_wrong(client, make_user, email, password):
    make_user(email="known@trust.nhs.uk")
    page = Page(sign_in(client, email, password))
    assert page.status == 200
    assert page.h1 == "Sign in"
    assert page.summary_has(SIGN_IN_FAILED)
    assert page.values["email"] == email
    assert page.values["password"] == ""
    assert client.get("/account").status_code == 302


def test_unknown_email_and_wrong_password_give_the_same_page(client, make_user):
    make_user(email="known@trust.nhs.uk")
    unknown = sign_in(client, "nobody@trust.nhs.uk", "not the right password at all")
    wrong = sign_in(client, "known@trust.nhs.uk", "not the right password at all")
    assert unknown.status_code == wrong.status_code == 200
    unknown_html = normalise_volatile(unknown.get_data(as_text=True))
    wrong_html = normalise_volatile(wrong.get_data(as_text=True))
    assert unknown_html.replace("nobody@trust.nhs.uk", "EMAIL") == wrong_html.replace(
        "known@trust.nhs.uk", "EMAIL"
    )


def test_the_sixth_failed_sign_in_for_one_account_is_refused_with_a_friendly_page(
    client, make_user
):
    make_user(email="known@trust.nhs.uk")
    for attempt in range(5):
        email = "known@trust.nhs.uk" if attempt % 2 else "KNOWN@trust.nhs.uk"
        response = sign_in(client, email, f"wrong password number {attempt}")
        assert response.status_code == 200, attempt
    refused = Page(sign_in(client, "known@trust.nhs.uk"))  # even with the right password
    assert refused.status == 429
    assert refused.h1 == "Too many attempts"
    assert re.search(r"Try again in \d+ minutes\.", refused.main_text)
    assert client.get("/account").status_code == 302


def test_successful_sign_ins_do_not_use_up_the_limit(client, make_user, login):
    user = make_user()
    for _ in range(7):
        login(client, user)
        client.post("/logout")


@pytest.mark.parametrize("where", ["query", "form"])
def test_sign_in_returns_to_the_page_asked_for(client, make_user, where):
    make_user(email="known@trust.nhs.uk")
    if where == "query":
        response = client.post("/login?next=/spaces", data={"email": "known@trust.nhs.uk",
                                                            "password": PASSWORD})  # fmt: skip
    else:
        response = sign_in(client, "known@trust.nhs.uk", next="/spaces")
    assert response.status_code == 302
    assert response.location == "/spaces"


def test_the_page_asked_for_survives_a_failed_attempt(client, make_user):
    make_user(email="known@trust.nhs.uk")
    page = Page(client.post("/login?next=/spaces", data={"email": "known@trust.nhs.uk",
                                                         "password": "wrong"}))  # fmt: skip
    assert page.values["next"] == "/spaces"
    page = Page(sign_in(client, "known@trust.nhs.uk", "wrong again", next="/spaces"))
    assert page.values["next"] == "/spaces"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_off_the_site(client, make_user, target):
    make_user(email="known@trust.nhs.uk")
    response = sign_in(client, "known@trust.nhs.uk", next=target)
    assert response.status_code == 302
    assert response.location == "/"


def test_a_person_signed_in_already_is_sent_on_from_the_sign_in_page(client, make_user, login):
    login(client, make_user())
    response = client.get("/login?next=/people")
    assert response.status_code == 302
    assert response.location == "/people"
    assert client.get("/login?next=//evil.example").location == "/"


def test_signing_in_starts_a_fresh_session(client, make_user, app):
    make_user(email="known@trust.nhs.uk")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone before sign-in"
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    sign_in(client, "known@trust.nhs.uk")
    after = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session


def test_a_password_hashed_with_weaker_settings_is_hashed_again_on_sign_in(
    client, new_client, make_user, app
):
    """Raising the argon2 settings reaches every account as its owner next signs in."""
    user = make_user(email="known@trust.nhs.uk")
    weaker = PasswordHasher(time_cost=1, memory_cost=app.config["ARGON2_MEMORY_COST"] // 2,
                            parallelism=1).hash(PASSWORD)  # fmt: skip
    user.password_hash = weaker
    db.session.commit()
    assert sign_in(client, "known@trust.nhs.uk").status_code == 302
    db.session.expire_all()
    stored = db.session.get(User, user.id).password_hash
    assert stored != weaker and not needs_rehash(stored)
    assert sign_in(new_client(), "known@trust.nhs.uk").status_code == 302  # still the password


def test_a_deactivated_account_cannot_sign_in(client, make_user):
    make_user(email="gone@trust.nhs.uk", active=False)
    page = Page(sign_in(client, "gone@trust.nhs.uk"))
    assert page.status == 200
    assert page.summary_has("This account has been deactivated. Contact a network administrator.")
    assert client.get("/account").status_code == 302
    assert "auth.sign_in_refused" in audit_actions()


def test_sign_ins_and_failures_are_audited(client, make_user):
    user = make_user(email="known@trust.nhs.uk")
    sign_in(client, "known@trust.nhs.uk", "wrong password")
    sign_in(client, "nobody@trust.nhs.uk", "wrong password")
    sign_in(client, "known@trust.nhs.uk")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [entry.action for entry in entries] == [
        "auth.sign_in_failed", "auth.sign_in_failed", "auth.signed_in",
    ]  # fmt: skip
    failed_known, failed_unknown, signed_in = entries
    assert failed_known.subject_id == user.id
    assert failed_unknown.subject_id is None
    assert failed_unknown.detail == {"email": "nobody@trust.nhs.uk"}
    assert signed_in.actor_id == signed_in.subject_id == user.id
    assert signed_in.ip_address == "127.0.0.1"


@pytest.mark.parametrize(
    ("forwarded", "recorded"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8::" + "0:" * 30 + "1", None),  # too long to be an address
        ("<script>" + "x" * 60, None),
        ("fe80::1%" + "eth" * 20, "fe80::1"),  # an IPv6 zone can be any length: not kept
    ],
)
def test_a_forged_forwarded_for_never_stops_signing_in(make_app, make_user, forwarded, recorded):
    """With PEERLEARN_PROXY_COUNT set higher than the proxies really in front, the client's own
    X-Forwarded-For is taken as its address: signing in still works, and the audit keeps only an
    address that is one."""
    make_user(email="known@trust.nhs.uk")
    client = make_app(PEERLEARN_PROXY_COUNT=2).test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = f"{forwarded}, 10.0.0.1"  # the real proxy's
    assert sign_in(client, "known@trust.nhs.uk", "wrong password").status_code == 200
    assert sign_in(client, "known@trust.nhs.uk").status_code == 302
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(entry.action, entry.ip_address) for entry in entries] == [
        ("auth.sign_in_failed", recorded), ("auth.signed_in", recorded),
    ]  # fmt: skip


def test_remember_me_sets_a_long_lived_cookie_scripts_cannot_read(client, make_user, app):
    make_user(email="known@trust.nhs.uk")
    response = sign_in(client, "known@trust.nhs.uk", remember="y")
    name = app.config["REMEMBER_COOKIE_NAME"]
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    assert len(cookies) == 1
    attributes = [part.strip().lower() for part in cookies[0].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert any(part.startswith("expires=") for part in attributes)


def test_without_remember_me_no_remember_cookie_is_set(client, make_user, app):
    make_user(email="known@trust.nhs.uk")
    response = sign_in(client, "known@trust.nhs.uk")
    name = app.config["REMEMBER_COOKIE_NAME"]
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]


def test_a_remember_me_cookie_signs_a_new_browser_session_in(client, new_client, make_user, app):
    make_user(email="known@trust.nhs.uk")
    sign_in(client, "known@trust.nhs.uk", remember="y")
    name = app.config["REMEMBER_COOKIE_NAME"]
    later = new_client()
    later.set_cookie(name, client.get_cookie(name).value)
    assert later.get("/account").status_code == 200


# Signing out ----------------------------------------------------------------------------------


def test_the_sign_out_link_leads_to_a_page_with_a_sign_out_button(client, make_user, login):
    login(client, make_user("Rosa Díaz"))
    page = Page(client.get("/"))
    assert page.link("Sign out") == "/logout"
    page = Page(client.get("/logout"))
    assert page.status == 200
    assert page.h1 == "Sign out"
    assert ("form", {"method": "post", "action": "/logout"}) in page.tags
    assert client.get("/account").status_code == 200  # looking at the page changes nothing


def test_signing_out_ends_the_session(client, make_user, login, app):
    login(client, make_user(), remember=True)
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.location == "/"
    assert "You have signed out" in Page(client.get("/")).main_text
    assert client.get("/account").status_code == 302
    assert client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]) is None
    assert "auth.signed_out" in audit_actions()


def test_cookies_copied_before_signing_out_no_longer_sign_anyone_in(
    client, new_client, make_user, login, app
):
    """Signing out ends the sign-in on the server, not only in this browser: a copy of its
    session cookie or of its remember-me cookie, taken earlier, is refused afterwards."""
    login(client, make_user(), remember=True)
    stolen = {
        name: client.get_cookie(name).value
        for name in (app.config["SESSION_COOKIE_NAME"], app.config["REMEMBER_COOKIE_NAME"])
    }
    client.post("/logout")
    for name, value in stolen.items():
        thief = new_client()
        thief.set_cookie(name, value)
        assert thief.get("/account").status_code == 302, name


def test_signing_out_leaves_the_accounts_other_browsers_signed_in(
    client, new_client, make_user, login
):
    user = make_user()
    laptop, phone = client, new_client()
    login(laptop, user)
    login(phone, user)
    laptop.post("/logout")
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 200


def test_a_sign_in_older_than_the_remember_me_cookie_is_not_honoured(
    client, new_client, make_user, app
):
    make_user(email="known@trust.nhs.uk")
    sign_in(client, "known@trust.nhs.uk", remember="y")
    name = app.config["REMEMBER_COOKIE_NAME"]
    db.session.execute(
        update(SignIn).values(
            created_at=utcnow() - app.config["REMEMBER_COOKIE_DURATION"] - timedelta(minutes=1)
        )
    )
    db.session.commit()
    later = new_client()
    later.set_cookie(name, client.get_cookie(name).value)
    assert later.get("/account").status_code == 302
    assert client.get("/account").status_code == 302


def test_signing_out_without_the_forms_token_is_refused(client, make_user, login):
    login(client, make_user())
    page = Page(client.post("/logout", csrf=False))
    assert page.status == 400
    assert "did not come from this site" in page.main_text
    assert client.get("/account").status_code == 200


def test_anonymous_visitors_on_the_sign_out_page_are_sent_home(client):
    assert client.get("/logout").location == "/"
