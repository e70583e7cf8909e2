"""A new improvement director's first visit, in a real browser: register, confirm, sign in, join an
open group, ask to join a private one and be admitted by its moderator. Then the same basics with
JavaScript switched off. Every page shown is checked with axe-core."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from .browser_support import DEMO_PASSWORD, LiveServer, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

EMAIL = "new.director@peerlearn.example"
NAME = "Morgan Ashworth"
JOB_TITLE = "Director of Improvement"
ORGANISATION = "Lancashire Teaching Hospitals NHS Foundation Trust"
PASSWORD = "lighthouse kettle orchard 1987"

OPEN_GROUP = "Quality Management Systems"
PRIVATE_GROUP = "Measurement for Improvement"
#: A sentence from the private group's description, which only its members may read.
PRIVATE_DESCRIPTION = "share measurement plans and SPC charts"
MODERATOR = "owen-davies@peerlearn.example"
#: The NHS.UK frontend's primary button colour.
NHS_GREEN = "rgb(0, 127, 59)"


def open_group(page: Page, name: str) -> None:
    """From any page, go to the list of communities and groups and open one."""
    page.get_by_role("link", name="Communities and groups").first.click()
    expect(page.get_by_role("heading", level=1, name="Communities and groups")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    check_accessibility(page)


def assert_primary_pair(primary: Locator, secondary: Locator) -> None:
    """Two buttons read as a primary and secondary pair: side by side on one line, the primary
    first and filled in NHS green, the secondary outlined (no fill)."""
    first, second = primary.bounding_box(), secondary.bounding_box()
    assert first and second and first["y"] == second["y"]
    assert first["x"] + first["width"] <= second["x"]
    expect(primary).to_have_css("background-color", NHS_GREEN)
    expect(secondary).to_have_css("background-color", "rgba(0, 0, 0, 0)")


def test_new_director_registers_joins_an_open_group_and_is_admitted_to_a_private_one(
    new_context: NewContext,
    live_server: LiveServer,
) -> None:
    director = new_context().new_page()

    # Registers with a work address, choosing their trust from the list.
    director.goto("/register")
    expect(director.get_by_role("heading", level=1, name="Create an account")).to_be_visible()
    check_accessibility(director)
    director.get_by_label("Work e-mail address").fill(EMAIL)
    director.get_by_label("Full name").fill(NAME)
    director.get_by_label("Job title").fill(JOB_TITLE)
    director.get_by_label("Organisation").select_option(label=ORGANISATION)
    director.get_by_label("Password", exact=True).fill(PASSWORD)
    director.get_by_role("button", name="Create account").click()

    # Is told to check their e-mail.
    expect(director.get_by_role("heading", level=1, name="Check your e-mail")).to_be_visible()
    expect(director.get_by_text(EMAIL)).to_be_visible()
    check_accessibility(director)

    # Follows the link in the e-mail, which leads to the sign-in form, and signs in there,
    # which confirms the address.
    mail = live_server.mail(EMAIL, "Confirm your e-mail address for peerlearn")
    director.goto(mail.link("/confirm/"))
    expect(director.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(director.get_by_text("to confirm your e-mail address")).to_be_visible()
    check_accessibility(director)
    expect(director.get_by_label("E-mail address")).to_have_value(EMAIL)
    director.get_by_label("Password", exact=True).fill(PASSWORD)
    director.get_by_role("button", name="Sign in").click()
    expect(director.get_by_text("Your e-mail address is confirmed")).to_be_visible()
    expect(director.get_by_role("link", name=NAME)).to_be_visible()
    check_accessibility(director)

    # Joins the open group.
    open_group(director, OPEN_GROUP)
    director.get_by_role("button", name="Join this space").click()
    expect(director.get_by_text(f"You are now a member of {OPEN_GROUP}.")).to_be_visible()
    expect(director.get_by_text("You are a member of this space.")).to_be_visible()
    check_accessibility(director)

    # Finds the private group, whose content members alone may read, and asks to join.
    open_group(director, PRIVATE_GROUP)
    expect(director.get_by_text("Only its members can read what is in it.")).to_be_visible()
    expect(director.get_by_text(PRIVATE_DESCRIPTION)).to_have_count(0)
    director.get_by_role("button", name="Ask to join").click()
    expect(director.get_by_text(f"You have asked to join {PRIVATE_GROUP}.")).to_be_visible()
    expect(director.get_by_text("You have asked to join. A moderator")).to_be_visible()
    expect(director.get_by_role("button", name="Withdraw request")).to_be_visible()
    expect(director.get_by_text(PRIVATE_DESCRIPTION)).to_have_count(0)
    check_accessibility(director)

    # The group's moderator, in another browser, approves the request.
    moderator = new_context().new_page()
    sign_in(moderator, MODERATOR, DEMO_PASSWORD)
    open_group(moderator, PRIVATE_GROUP)
    moderator.get_by_role("link", name="1 request waiting").click()
    requests = moderator.get_by_role("table", name=f"People waiting to join {PRIVATE_GROUP}")
    expect(requests.get_by_role("row", name=NAME)).to_be_visible()
    check_accessibility(moderator)
    approve = requests.get_by_role("button", name=f"Approve {NAME}'s request")
    decline = requests.get_by_role("button", name=f"Decline {NAME}'s request")
    assert_primary_pair(approve, decline)
    approve.click()
    expect(moderator.get_by_text(f"{NAME} is now a member.")).to_be_visible()
    expect(requests).to_have_count(0)  # nobody else is waiting
    members = moderator.get_by_role("table", name=f"Members of {PRIVATE_GROUP}")
    expect(members.get_by_role("row", name=NAME)).to_be_visible()
    check_accessibility(moderator)

    # The director is told by e-mail, and now reads the group as a member.
    approval = live_server.mail(EMAIL, f"You have joined {PRIVATE_GROUP} on peerlearn")
    assert "has been approved" in approval.text
    assert approval.link("/spaces/measurement-for-improvement")
    director.reload()
    expect(director.get_by_text(PRIVATE_DESCRIPTION)).to_be_visible()
    expect(director.get_by_text("You are a member of this space.")).to_be_visible()
    expect(director.get_by_text("Only its members can read what is in it.")).to_have_count(0)
    check_accessibility(director)


def test_signing_in_and_joining_an_open_group_work_without_javascript(
    new_context: NewContext,
) -> None:
    member = new_context(java_script_enabled=False).new_page()

    sign_in(member, "tom-whitfield@peerlearn.example", DEMO_PASSWORD)
    expect(member.get_by_role("link", name="Tom Whitfield")).to_be_visible()
    # The NHS.UK page template's first script marks the body; here no script has run.
    expect(member.locator("body")).not_to_have_class(re.compile(r"\bjs-enabled\b"))

    open_group(member, OPEN_GROUP)
    member.get_by_role("button", name="Join this space").click()
    expect(member.get_by_text(f"You are now a member of {OPEN_GROUP}.")).to_be_visible()
    expect(member.get_by_text("You are a member of this space.")).to_be_visible()
    check_accessibility(member)
