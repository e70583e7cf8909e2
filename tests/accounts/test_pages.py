"""Every accounts and home page renders, and keeps the house rules a screen-reader or keyboard user
relies on: one <h1>, headings in order, labelled controls, CSRF tokens on every POST form, no
inline styles or unsigned scripts (the CSP forbids them) and links that say where they go."""

from collections import Counter, defaultdict

import pytest

from peerlearn.spaces.models import MemberState, Visibility
from tests.accounts.pages import Page
from tests.conftest import PASSWORD


@pytest.fixture
def pages(client, new_client, make_user, make_space, add_member, login, outbox, organisation):
    """(name, response) for every page the accounts and home features render."""
    me = make_user("Sam Patel", email="sam@trust.nhs.uk", organisation=organisation)
    make_user("Unconfirmed Person", email="new@trust.nhs.uk", confirmed=False)
    public = make_space("Flow coaching academy", visibility=Visibility.public)
    mine = make_space("QMS special interest group")
    invited = make_space("Directors' circle", visibility=Visibility.private)
    add_member(mine, me)
    add_member(invited, me, state=MemberState.invited)
    add_member(public, me, state=MemberState.requested)

    visitor = new_client()
    visitor.post("/password/forgot", data={"email": "sam@trust.nhs.uk"})
    reset_link = outbox.last("sam@trust.nhs.uk").link("/password/reset/")
    anonymous = {
        "landing": visitor.get("/"),
        "about": visitor.get("/about"),
        "accessibility": visitor.get("/accessibility"),
        "register": visitor.get("/register"),
        "check-email": visitor.post("/register", data={
            "email": "someone@trust.nhs.uk", "display_name": "Some One", "job_title": "Lead",
            "organisation_id": str(organisation.id), "password": "plum tractor wisely orbit"}),
        "resend-confirmation": visitor.get("/confirm/resend"),
        "check-email-resent": visitor.post("/confirm/resend", data={"email": "new@trust.nhs.uk"}),
        "login": visitor.get("/login?next=/spaces"),
        "login-to-confirm": visitor.get(outbox.last("someone@trust.nhs.uk").link("/confirm/")),
        "login-failed": visitor.post("/login", data={"email": "sam@trust.nhs.uk", "password": "x"}),
        "unconfirmed": visitor.post("/login", data={"email": "new@trust.nhs.uk",
                                                    "password": PASSWORD}),
        "forgot-password": visitor.get("/password/forgot"),
        "reset-sent": visitor.post("/password/forgot", data={"email": "x@trust.nhs.uk"}),
        "reset-password": visitor.get(reset_link),
        "link-invalid-confirm": visitor.get("/confirm/nope"),
        "link-invalid-reset": visitor.get("/password/reset/nope"),
        "link-invalid-change": visitor.get("/account/email/confirm/nope"),
        "register-errors": visitor.post("/register", data={"email": "bad"}),
    }  # fmt: skip
    login(client, me)
    signed_in = {
        "dashboard": client.get("/"),
        "logout": client.get("/logout"),
        "settings": client.get("/account"),
        "settings-errors": client.post("/account", data={"display_name": ""}),
        "change-password": client.get("/account/password"),
        "change-email": client.get("/account/email"),
        "sign-out-elsewhere": client.get("/account/sign-out-elsewhere"),
        "sign-out-elsewhere-errors": client.post("/account/sign-out-elsewhere",
                                                 data={"password": "not mine"}),
        "check-email-change": client.post("/account/email", data={
            "email": "sam.new@trust.nhs.uk", "password": PASSWORD}),
        "directory": client.get("/people"),
        "directory-filtered": client.get("/people?q=sam&region=north-west"),
        "directory-empty": client.get("/people?q=nobody"),
        "profile-mine": client.get(f"/people/{me.handle}"),
        "about-signed-in": client.get("/about"),
    }  # fmt: skip
    return {**anonymous, **signed_in}


EXPECTED_STATUS = {"link-invalid-confirm": 400, "link-invalid-reset": 400,
                   "link-invalid-change": 400}  # fmt: skip


def test_every_page_renders_and_keeps_the_house_rules(pages):
    problems = []
    for name, response in pages.items():
        page = Page(response)
        expected = EXPECTED_STATUS.get(name, 200)
        if page.status != expected:
            problems.append(f"{name}: status {page.status}, expected {expected}")
            continue
        problems.extend(f"{name}: {problem}" for problem in house_rule_problems(page))
    assert problems == []


def house_rule_problems(page: Page) -> list[str]:
    problems = []
    ones = [text for level, text in page.headings if level == 1]
    if len(ones) != 1:
        problems.append(f"{len(ones)} <h1> headings: {ones}")
    previous = 1
    for level, text in page.headings:
        if level > previous + 1:
            problems.append(f"heading skips from h{previous} to h{level}: {text!r}")
        previous = level

    labelled = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
    ids = Counter(attrs["id"] for _tag, attrs in page.tags if "id" in attrs)
    problems.extend(f"id {i!r} used {n} times" for i, n in ids.items() if n > 1)
    for tag, attrs in page.tags:
        if "style" in attrs:
            problems.append(f"inline style on <{tag}>")
        if tag == "script" and "src" not in attrs and "nonce" not in attrs:
            problems.append("inline <script> without the CSP nonce")
        control = tag in {"select", "textarea"} or (
            tag == "input" and attrs.get("type") not in {"hidden", "submit", "button"}
        )
        if control and attrs.get("id") not in labelled:
            problems.append(f"<{tag} name={attrs.get('name')!r}> has no label")
        if tag == "th" and attrs.get("scope") not in {"col", "row"}:
            problems.append("<th> without scope")

    # Every POST form carries its CSRF token.
    forms, current = [], None
    for tag, attrs in page.tags:
        if tag == "form":
            current = {"method": attrs.get("method", "get").lower(), "csrf": False}
            forms.append(current)
        elif tag == "input" and attrs.get("name") == "csrf_token" and current is not None:
            current["csrf"] = True
    problems.extend("a POST form without a CSRF token"
                    for form in forms if form["method"] == "post" and not form["csrf"])  # fmt: skip

    # Links with the same words must go to the same place.
    targets = defaultdict(set)
    for href, text in page.main_links:
        targets[text].add(href)
    problems.extend(f"link text {text!r} leads to {sorted(hrefs)}"
                    for text, hrefs in targets.items() if len(hrefs) > 1)  # fmt: skip
    return problems


def test_page_titles_name_the_page_and_the_service(pages):
    for name, response in pages.items():
        page = Page(response)
        title = page.html.split("<title>", 1)[1].split("</title>", 1)[0]
        assert title.endswith(" – peerlearn"), name
        assert title.removeprefix("Error: ").removesuffix(" – peerlearn") in page.h1, name
