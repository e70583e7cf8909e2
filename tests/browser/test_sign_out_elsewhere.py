"""Signing out of every other browser, in two real browsers signed in as the same member: the
laptop signs the phone out (a wrong password first, told beside the field), stays signed in
itself, and the phone, kept signed in for 30 days, finds itself signed out on its next page.
Every page shown is checked with axe-core."""

import re

import pytest
from playwright.sync_api import Page, expect

from .browser_support import DEMO_PASSWORD, LiveServer, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

#: A demo member no other browser test signs in: signing their other browsers out must not end
#: a sign-in another test relies on.
EMAIL = "ben-carter@peerlearn.example"


def sign_in_remembered(page: Page) -> None:
    """Sign in ticking "Keep me signed in", as on a phone one carries."""
    page.goto("/login")
    check_accessibility(page)
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_label("Keep me signed in on this device for 30 days").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    check_accessibility(page)


def test_a_member_signs_out_of_their_other_browser_and_stays_signed_in_here(
    new_context: NewContext, live_server: LiveServer
) -> None:
    laptop = new_context().new_page()
    phone = new_context().new_page()
    sign_in(laptop, EMAIL, DEMO_PASSWORD)
    sign_in_remembered(phone)

    laptop.goto("/account")
    expect(laptop.get_by_role("heading", level=1, name="Account settings")).to_be_visible()
    expect(laptop.get_by_text("Signed in on 1 other browser")).to_be_visible()
    check_accessibility(laptop)
    laptop.get_by_role("link", name="Sign out of every other browser").click()
    heading = laptop.get_by_role("heading", level=1, name="Sign out of every other browser")
    expect(heading).to_be_visible()
    check_accessibility(laptop)

    # A wrong password: told beside the field and in the summary, and nothing changes.
    laptop.get_by_label("Your password").fill("not my password")
    laptop.get_by_role("button", name="Sign out of every other browser").click()
    expect(laptop.locator(".nhsuk-error-message")).to_contain_text("Your password is not correct")
    summary = laptop.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("link", name="Your password is not correct")).to_be_visible()
    check_accessibility(laptop)

    laptop.get_by_label("Your password").fill(DEMO_PASSWORD)
    laptop.get_by_role("button", name="Sign out of every other browser").click()
    expect(laptop).to_have_url(re.compile(r"/account$"))
    expect(laptop.get_by_text("You have signed out of 1 other browser.")).to_be_visible()
    expect(laptop.get_by_text("Not signed in anywhere else")).to_be_visible()
    check_accessibility(laptop)
    mail = live_server.mail(EMAIL, "Your peerlearn account was signed out of other browsers")
    assert "signed out of every browser except the one used to do it" in mail.text

    # The phone's next page: signed out, remember-me cookie and all.
    phone.goto("/account")
    expect(phone).to_have_url(re.compile(r"/login\?next="))
    expect(phone.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(phone.get_by_role("link", name="Sign out")).to_have_count(0)
    check_accessibility(phone)

    # The laptop is still signed in on its next page.
    laptop.goto("/")
    expect(laptop.get_by_role("link", name="Sign out")).to_be_visible()
    check_accessibility(laptop)
