"""Signing out of every other browser (OWASP ASVS 3.3.4): settings say how many other browsers
are signed in; the member's password ends every one of them, remembered ones and copies of this
browser's cookies included, while this browser stays signed in; it is audited and e-mailed."""

from datetime import timedelta

from sqlalchemy import select, update

from peerlearn.accounts.models import SignIn, User
from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from tests.accounts.pages import Page
from tests.conftest import PASSWORD

PATH = "/account/sign-out-elsewhere"


def other_browsers_row(client) -> str:
    page = Page(client.get("/account"))
    text = page.main_text
    return text.split("Other browsers", 1)[1].split("Sign out", 1)[0].strip()


def test_settings_say_how_many_other_browsers_are_signed_in(
    app, client, new_client, make_user, login
):
    user = make_user()
    login(client, user)
    assert other_browsers_row(client) == "Not signed in anywhere else"
    login(new_client(), user)
    assert other_browsers_row(client) == "Signed in on 1 other browser"
    login(new_client(), user, remember=True)
    assert other_browsers_row(client) == "Signed in on 2 other browsers"
    # Another person's sign-ins are not counted, nor one too old to be used any more.
    login(new_client(), make_user("Someone Else"))
    assert other_browsers_row(client) == "Signed in on 2 other browsers"
    first_other = select(SignIn.id).where(SignIn.user_id == user.id).order_by(SignIn.id)
    db.session.execute(
        update(SignIn)
        .where(SignIn.id == db.session.scalar(first_other.offset(1)))
        .values(created_at=utcnow() - app.config["REMEMBER_COOKIE_DURATION"] - timedelta(1))
    )
    db.session.commit()
    assert other_browsers_row(client) == "Signed in on 1 other browser"
    page = Page(client.get("/account"))
    assert page.main_link("Sign out of every other browser") == PATH


def test_every_other_browser_is_signed_out_and_this_one_stays(
    app, client, new_client, make_user, login
):
    user = make_user()
    login(client, user)
    laptop, phone = new_client(), new_client()
    login(laptop, user)
    login(phone, user, remember=True)
    remembered = phone.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value
    # A copy of this browser's own cookie (taken from it, say) is another browser too.
    copied = new_client()
    cookie = app.config["SESSION_COOKIE_NAME"]
    copied.set_cookie(cookie, client.get_cookie(cookie).value)
    page = Page(client.get(PATH))
    assert page.h1 == "Sign out of every other browser"
    assert "signed in on 2 other browsers or devices" in page.main_text

    response = client.post(PATH, data={"password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/account"
    page = Page(client.get("/account"))
    assert page.status == 200
    assert "You have signed out of 2 other browsers. You are still signed in here." in (
        page.main_text
    )
    assert other_browsers_row(client) == "Not signed in anywhere else"

    for other in (laptop, phone, copied):
        assert other.get("/account").location.startswith("/login")
    stolen = new_client()
    stolen.set_cookie(app.config["REMEMBER_COOKIE_NAME"], remembered)
    assert stolen.get("/account").location.startswith("/login")
    # The password is unchanged: the others can sign in again with it.
    login(laptop, user)
    assert laptop.get("/account").status_code == 200


def test_a_remembered_browser_stays_remembered_after_signing_out_the_others(
    app, client, new_client, make_user, login
):
    user = make_user()
    login(client, user, remember=True)
    client.post(PATH, data={"password": PASSWORD})
    renewed = client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value
    later = new_client()
    later.set_cookie(app.config["REMEMBER_COOKIE_NAME"], renewed)
    assert later.get("/account").status_code == 200


def test_a_wrong_or_missing_password_is_told_beside_the_field_and_nothing_changes(
    client, new_client, make_user, login, outbox
):
    user = make_user()
    login(client, user)
    other = new_client()
    login(other, user)
    before = set(db.session.scalars(select(SignIn.token)))
    for typed, message in [
        ("not my password", "Your password is not correct"),
        ("", "Enter your password"),
    ]:
        page = Page(client.post(PATH, data={"password": typed}))
        assert page.status == 200
        assert page.h1 == "Sign out of every other browser"
        assert page.summary == [("#password", message)]
        assert page.error_for("password") == message
        assert page.values["password"] == ""
    assert set(db.session.scalars(select(SignIn.token))) == before
    assert other.get("/account").status_code == 200
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "auth.signed_out_elsewhere" not in actions
    assert outbox.to(user.email) == []


def test_it_needs_the_csrf_token(client, new_client, make_user, login):
    user = make_user()
    login(client, user)
    other = new_client()
    login(other, user)
    assert client.post(PATH, data={"password": PASSWORD}, csrf=False).status_code == 400
    assert other.get("/account").status_code == 200


def test_guessing_the_password_here_shares_the_limit_of_every_form_that_asks_for_it(
    client, new_client, make_user, login
):
    """A stolen session gets ten tries an hour at the password, on this form and the others
    together, and cannot sign the owner out with a guess that finally fits."""
    user = make_user()
    login(client, user)
    owner = new_client()
    login(owner, user)
    wrong = {"current_password": "not my password", "password": "plum tractor wisely orbit"}
    answers = [client.post("/account/password", data=wrong).status_code for _ in range(5)]
    answers += [client.post(PATH, data={"password": f"guess {n}"}).status_code for n in range(6)]
    assert answers == [200] * 10 + [429]
    assert client.post(PATH, data={"password": PASSWORD}).status_code == 429
    assert owner.get("/account").status_code == 200


def test_it_is_audited_and_the_owner_is_told_by_e_mail(
    client, new_client, make_user, login, outbox
):
    user = make_user(email="known@trust.nhs.uk")
    login(client, user)
    login(new_client(), user)
    client.post(PATH, data={"password": PASSWORD})

    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "auth.signed_out_elsewhere")
    )
    assert (entry.actor_id, entry.subject_id, entry.detail) == (user.id, user.id, {"browsers": 1})
    told = outbox.last("known@trust.nhs.uk")
    assert told.subject == "Your peerlearn account was signed out of other browsers"
    assert "If you did not, someone else may know your password" in told.text
    assert told.link("/password/forgot") == "/password/forgot"


def test_with_no_other_browser_it_says_so(client, make_user, login):
    login(client, make_user())
    assert "not signed in on any other browser" in Page(client.get(PATH)).main_text
    client.post(PATH, data={"password": PASSWORD})
    page = Page(client.get("/account"))
    assert "No other browser was signed in to your account. You are still signed in here." in (
        page.main_text
    )


def test_it_needs_a_signed_in_member(client):
    for response in (client.get(PATH), client.post(PATH, data={"password": PASSWORD})):
        assert response.status_code == 302
        assert response.location.startswith("/login?next=")
    assert db.session.scalars(select(User)).all() == []
