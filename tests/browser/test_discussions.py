"""Discussions in a real browser: one member starts a thread, another replies quoting it and
mentioning them; the first sees their notification count change without reloading (even after
signing out on another computer) and follows the notification to the reply. Every page shown is checked with axe-core."""

import re

import pytest
from playwright.sync_api import Page, expect

from .browser_support import DEMO_PASSWORD, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

A = "aisha-khan@peerlearn.example"  # member of the QMS SIG
B = "rachel-moss@peerlearn.example"  # member of the QMS SIG
TITLE = "How are you reporting QMS maturity to your board?"


def header_count(page: Page) -> int:
    return int(page.locator("[data-notification-count]").first.inner_text())


def test_a_reply_with_a_mention_reaches_the_author_live(new_context: NewContext) -> None:
    a = new_context().new_page()
    sign_in(a, A, DEMO_PASSWORD)

    # A starts a thread in the QMS special interest group, tagged with IMPACT component 5.
    a.goto("/spaces/qms/threads")
    check_accessibility(a)
    a.get_by_role("link", name="Start a thread").click()
    expect(a.get_by_role("heading", level=1, name="Start a thread")).to_be_visible()
    check_accessibility(a)
    a.get_by_label("Title").fill(TITLE)
    a.get_by_label("Your message").fill("We use a **quarterly** maturity matrix. What do you use?")
    a.get_by_label(re.compile("Embedding improvement into management systems")).check()
    a.get_by_role("button", name="Preview").click()
    expect(a.get_by_role("heading", name="Preview", exact=True)).to_be_visible()
    check_accessibility(a)
    a.get_by_role("button", name="Post thread").click()
    expect(a.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    check_accessibility(a)
    thread_url = a.url
    before = header_count(a)

    # A signs in on another computer and signs out there: the server closes the room of A's live
    # counts, and this page connects again, still signed in.
    elsewhere = new_context().new_page()
    sign_in(elsewhere, A, DEMO_PASSWORD)
    elsewhere.get_by_role("link", name="Sign out").click()
    check_accessibility(elsewhere)
    elsewhere.get_by_role("button", name="Sign out").click()
    expect(elsewhere.get_by_role("link", name="Sign in").first).to_be_visible()
    check_accessibility(elsewhere)

    # B opens it, quotes A's post and mentions A.
    b = new_context().new_page()
    sign_in(b, B, DEMO_PASSWORD)
    b.goto(thread_url)
    check_accessibility(b)
    b.get_by_role("link", name=re.compile("^Quote Aisha Khan")).first.click()
    body = b.get_by_label("Your reply")
    expect(body).to_have_value(re.compile(r"^Aisha Khan wrote:\n> We use a \*\*quarterly\*\*"))
    check_accessibility(b)
    body.press("End")
    body.type("\nWe report SPC charts each quarter, @aisha-khan.")
    b.get_by_role("button", name="Post reply").click()
    expect(b.get_by_text("We report SPC charts each quarter")).to_be_visible()
    check_accessibility(b)
    reply_id = re.search(r"#post-(\d+)", b.url).group(1)

    # A's header count goes up while A's page stays where it was (no reload).
    expect(a.locator("[data-notification-count]").first).to_have_text(str(before + 1))
    assert a.url == thread_url

    # A opens the notifications and follows the link to B's reply.
    a.get_by_role("link", name=re.compile("^Notifications")).first.click()
    expect(a.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    check_accessibility(a)
    a.get_by_role(
        "link", name=re.compile(f"Rachel Moss mentioned you in {re.escape(TITLE)}")
    ).click()
    expect(a).to_have_url(re.compile(f"#post-{reply_id}$"))
    expect(a.locator(f"#post-{reply_id}")).to_contain_text("We report SPC charts each quarter")
    expect(a.locator(f"#post-{reply_id} blockquote")).to_contain_text("We use a quarterly")
    check_accessibility(a)
    assert header_count(a) == before
