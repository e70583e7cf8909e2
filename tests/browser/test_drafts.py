"""What a member is writing survives a reload or a link followed by mistake, in a real browser:
the reply box and the new-thread form are filled again, with a notice that offers to discard
it; posting forgets it, and so does signing out, so the next person at a shared computer finds
nothing. Every page shown is checked with axe-core."""

import pytest
from playwright.sync_api import Page, expect

from .browser_support import DEMO_PASSWORD, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

A = "aisha-khan@peerlearn.example"  # member of the QMS SIG
DRAFT = "We tried a **weekly** huddle first, then moved to fortnightly because"
NOTICE = "We put back what you were writing here."


def first_thread(page: Page) -> str:
    page.goto("/spaces/qms/threads")
    check_accessibility(page)
    page.locator("a[href^='/threads/']").first.click()
    expect(page.get_by_role("heading", level=2, name="Reply to the thread")).to_be_visible()
    page.wait_for_load_state()  # as a person would: the page has finished loading
    check_accessibility(page)
    return page.url


def test_a_reply_being_written_comes_back_after_a_reload_and_goes_once_posted(
    new_context: NewContext,
) -> None:
    page = new_context(signed_in_as=A).new_page()
    thread = first_thread(page)
    box = page.locator("form.pl-reply-form").get_by_label("Your reply")
    box.fill(DRAFT)

    page.reload()
    expect(box).to_have_value(DRAFT)
    expect(page.get_by_role("status").filter(has_text=NOTICE)).to_be_visible()
    check_accessibility(page)

    # A link followed by mistake, then back by the address: still there.
    page.goto("/spaces/qms")
    check_accessibility(page)
    page.goto(thread)
    expect(box).to_have_value(DRAFT)
    check_accessibility(page)

    # Discarding empties the box, and a reload brings nothing back.
    page.get_by_role("button", name="Discard it").click()
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    page.reload()
    expect(box).to_have_value("")
    expect(page.get_by_text(NOTICE)).to_have_count(0)
    check_accessibility(page)

    # Posted, it is forgotten: the box is empty when the member comes back.
    box.fill(DRAFT + " the ward teams asked for it.")
    page.locator("form.pl-reply-form").get_by_role("button", name="Post reply").click()
    expect(page.get_by_text("the ward teams asked for it.")).to_be_visible()
    check_accessibility(page)
    page.goto(thread)
    expect(box).to_have_value("")
    expect(page.get_by_text(NOTICE)).to_have_count(0)
    check_accessibility(page)


def test_a_new_thread_being_written_is_forgotten_on_signing_out(new_context: NewContext) -> None:
    page = new_context().new_page()
    sign_in(page, A, DEMO_PASSWORD)
    page.goto("/spaces/qms/threads/new")
    check_accessibility(page)
    page.get_by_label("Title").fill("Flow coaching in community services")
    page.get_by_label("Your message").fill(DRAFT)
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("Flow coaching in community services")
    expect(page.get_by_label("Your message")).to_have_value(DRAFT)
    check_accessibility(page)

    # Signing out in this tab forgets it: signing in again, the form is empty.
    page.get_by_role("link", name="Sign out").click()
    check_accessibility(page)
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    check_accessibility(page)
    sign_in(page, A, DEMO_PASSWORD)
    page.goto("/spaces/qms/threads/new")
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_label("Your message")).to_have_value("")
    expect(page.get_by_text(NOTICE)).to_have_count(0)
    check_accessibility(page)


def test_an_edit_put_back_from_a_draft_still_meets_a_change_saved_meanwhile(
    new_context: NewContext,
) -> None:
    """The draft of an edit remembers which saved text it was written over: put back after
    someone else saved the post, saving it is refused as a conflict, with their version shown,
    instead of silently writing over their change."""
    page = new_context(signed_in_as=A).new_page()
    first_thread(page)
    page.locator("form.pl-reply-form").get_by_label("Your reply").fill("Our huddles run at 9.")
    page.locator("form.pl-reply-form").get_by_role("button", name="Post reply").click()
    mine = page.locator("article.pl-post", has_text="Our huddles run at 9.")
    expect(mine).to_be_visible()
    check_accessibility(page)
    mine.get_by_role("link", name="Edit this post").click()
    edit_page = page.url
    check_accessibility(page)
    page.get_by_label("Message").fill("Our huddles run at 9, for ten minutes.")
    page.goto("/spaces/qms")  # a link followed by mistake
    check_accessibility(page)

    other = new_context(signed_in_as=A).new_page()  # another tab: its own drafts
    other.goto(edit_page)
    check_accessibility(other)
    other.get_by_label("Message").fill("Our huddles run at 9.30 now.")
    other.get_by_role("button", name="Save changes").click()
    expect(other.get_by_text("Your changes have been saved.")).to_be_visible()
    check_accessibility(other)

    page.goto(edit_page)
    expect(page.get_by_label("Message")).to_have_value("Our huddles run at 9, for ten minutes.")
    check_accessibility(page)
    page.get_by_role("button", name="Save changes").click()
    expect(
        page.get_by_text("Someone else changed this post while you were editing it.").first
    ).to_be_visible()
    expect(page.get_by_role("region", name="The post as it is now")).to_contain_text("9.30 now")
    expect(page.get_by_label("Message")).to_have_value("Our huddles run at 9, for ten minutes.")
    check_accessibility(page)
