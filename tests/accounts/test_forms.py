"""Every accounts form, given bad input: the message is beside the field and in the error summary,
what was typed is kept (never a password), and nothing in the database changes."""

import pytest
from sqlalchemy import select, text

from peerlearn.accounts.models import User
from peerlearn.extensions import db
from tests.accounts.pages import Page
from tests.conftest import PASSWORD

EMAIL_FORMAT = "Enter an e-mail address in the correct format, like name@example.nhs.uk"


def snapshot() -> list[tuple]:
    """Everything stored about people and what they did."""
    rows = []
    for table in ("users", "audit_entries", "allowed_email_domains"):
        rows.extend(db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all())  # noqa: S608
    return [tuple(row) for row in rows]


@pytest.fixture
def signed_in(client, make_user, login):
    user = make_user("Sam Patel", email="sam@trust.nhs.uk")
    login(client, user)
    return user


@pytest.fixture
def reset_link(client, make_user, outbox):
    make_user(email="forgetful@trust.nhs.uk")
    client.post("/password/forgot", data={"email": "forgetful@trust.nhs.uk"})
    return outbox.last("forgetful@trust.nhs.uk").link("/password/reset/")


# Each case: the page, what is sent, the heading, {field id: message}, {field: value kept}.
CASES = {
    "register": (
        "/register",
        {"email": "not-an-email", "display_name": "", "job_title": "J" * 121,
         "organisation_id": "", "password": ""},
        "Create an account",
        {"email": EMAIL_FORMAT, "display_name": "Enter your full name",
         "job_title": "Job title must be 120 characters or fewer",
         "organisation_id": "Choose your organisation", "password": "Enter a password"},
        {"email": "not-an-email", "job_title": "J" * 121, "password": ""},
    ),
    "register-unknown-organisation": (
        "/register",
        {"email": "ok@trust.nhs.uk", "display_name": "Ann New", "job_title": "Lead",
         "organisation_id": "987654", "password": "plum tractor wisely orbit"},
        "Create an account",
        {"organisation_id": "Choose your organisation from the list"},
        {"email": "ok@trust.nhs.uk", "display_name": "Ann New", "password": ""},
    ),
    "register-only-spaces": (
        "/register",
        {"email": "ok@trust.nhs.uk", "display_name": "   ", "job_title": " \t ",
         "organisation_id": "", "password": "plum tractor wisely orbit"},
        "Create an account",
        {"display_name": "Enter your full name", "job_title": "Enter your job title",
         "organisation_id": "Choose your organisation"},
        {"email": "ok@trust.nhs.uk", "display_name": "   ", "password": ""},
    ),
    # The password's own problems are told with the others', not only once they are put right.
    "register-weak-password-among-other-mistakes": (
        "/register",
        {"email": "ok@trust.nhs.uk", "display_name": "Ann New", "job_title": "",
         "organisation_id": "", "password": "ann new 2026"},
        "Create an account",
        {"job_title": "Enter your job title", "organisation_id": "Choose your organisation",
         "password": "That password is too easy to guess. Try a few unrelated words together, "
         "and avoid your name or e-mail address"},
        {"display_name": "Ann New", "password": ""},
    ),
    "register-short-password-among-other-mistakes": (
        "/register",
        {"email": "not-an-email", "display_name": "Ann New", "job_title": "Lead",
         "organisation_id": "", "password": "short"},
        "Create an account",
        {"email": EMAIL_FORMAT, "organisation_id": "Choose your organisation",
         "password": "Password must be 12 characters or more"},
        {"email": "not-an-email", "password": ""},
    ),
    "resend-confirmation": (
        "/confirm/resend", {"email": ""}, "Get a new confirmation link",
        {"email": "Enter your e-mail address"}, {"email": ""},
    ),
    "sign-in": (
        "/login", {"email": "sam at trust", "password": ""}, "Sign in",
        {"email": EMAIL_FORMAT, "password": "Enter your password"}, {"email": "sam at trust"},
    ),
    "forgot-password": (
        "/password/forgot", {"email": "forgetful@"}, "Reset your password",
        {"email": EMAIL_FORMAT}, {"email": "forgetful@"},
    ),
    "reset-password": (
        "RESET", {"password": "short"}, "Choose a new password",
        {"password": "Password must be 12 characters or more"}, {"password": ""},
    ),
    "settings": (
        "/account",
        {"display_name": "", "job_title": "Improvement Lead", "organisation_id": "987654",
         "bio": "B" * 4001},
        "Account settings",
        {"display_name": "Enter your full name",
         "organisation_id": "Choose your organisation from the list",
         "bio": "About you must be 4,000 characters or fewer"},
        {"display_name": "", "job_title": "Improvement Lead", "bio": "B" * 4001},
    ),
    "settings-only-spaces": (
        "/account",
        {"display_name": "   ", "job_title": "  ", "organisation_id": ""},
        "Account settings",
        {"display_name": "Enter your full name", "job_title": "Enter your job title",
         "organisation_id": "Choose your organisation"},
        {"display_name": "   ", "job_title": "  "},
    ),
    "change-password": (
        "/account/password", {"current_password": PASSWORD, "password": "x" * 129},
        "Change your password",
        {"password": "Password must be 128 characters or fewer"},
        {"current_password": "", "password": ""},
    ),
    "change-email": (
        "/account/email", {"email": "nobody@", "password": ""}, "Change your e-mail address",
        {"email": EMAIL_FORMAT, "password": "Enter your password"}, {"email": "nobody@"},
    ),
}  # fmt: skip
SIGNED_IN = {"settings", "settings-only-spaces", "change-password", "change-email"}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_explained_beside_each_field_and_nothing_changes(
    request, client, organisation, outbox, case
):
    path, data, heading, errors, kept = CASES[case]
    if case in SIGNED_IN:
        request.getfixturevalue("signed_in")
    if path == "RESET":
        path = request.getfixturevalue("reset_link")
    mails_before = len(outbox.messages())
    before = snapshot()

    page = Page(client.post(path, data=data))

    assert page.status == 200
    assert page.h1 == heading
    assert page.html.count('class="nhsuk-error-summary"') == 1
    assert "<title>Error: " in page.html
    for field_id, message in errors.items():
        assert page.error_for(field_id) == message, field_id
        assert page.summary_has(message, field_id), field_id
    assert set(page.field_errors) == set(errors)
    for name, value in kept.items():
        assert page.values[name] == value, name
    assert snapshot() == before
    assert len(outbox.messages()) == mails_before


def test_pages_without_mistakes_show_no_errors(client):
    for path in ("/register", "/login", "/confirm/resend", "/password/forgot"):
        page = Page(client.get(path))
        assert page.field_errors == {}
        assert page.summary == []
        assert "<title>Error: " not in page.html


def test_what_was_typed_is_shown_back_as_text_never_as_markup(client, organisation):
    typed = '"><b id="injected">bold</b>'
    page = Page(client.post("/register", data={
        "email": "a@trust.nhs.uk", "display_name": typed, "job_title": typed,
        "organisation_id": str(organisation.id), "password": "short",
    }))  # fmt: skip
    assert not [attrs for _tag, attrs in page.tags if attrs.get("id") == "injected"]
    assert page.values["display_name"] == page.values["job_title"] == typed
    assert db.session.scalar(select(User)) is None


def test_a_name_with_markup_in_it_is_shown_as_text_in_the_header(client, make_user, login):
    login(client, make_user('<b id="injected">Mallory</b>'))
    page = Page(client.get("/about"))
    assert not [attrs for _tag, attrs in page.tags if attrs.get("id") == "injected"]
    assert '&lt;b id="injected"&gt;Mallory&lt;/b&gt;' in page.html.replace("&#34;", '"')
