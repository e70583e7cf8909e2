"""Taking questions out of the live Q&A in real browsers: a member withdraws a question that should
never have been asked and it disappears from the other members' and the moderator's screens at
once; a question the moderator dismisses leaves the other members' screens but stays, marked, on
its asker's, until the moderator removes it. Every page shown is checked with axe-core."""

import pytest
from playwright.sync_api import expect

from .browser_support import NewContext, check_accessibility
from .live_support import MODERATOR, A, B, drop_connection, member_on, open_event

pytestmark = pytest.mark.browser

PATIENT = "Can we discuss Jane Doe, NHS number 943 476 5919, before the panel?"


def test_a_withdrawn_or_removed_question_disappears_from_every_other_screen(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live Q&A: taking questions back")
    moderator = member_on(new_context, MODERATOR, url)
    a = member_on(new_context, A, url)
    b = member_on(new_context, B, url)
    lists = {page: page.locator("[data-question-list]") for page in (moderator, a, b)}

    a.get_by_label("Your question").fill(PATIENT)
    a.get_by_role("button", name="Ask question").click()
    for page in (moderator, b):
        expect(lists[page]).to_contain_text("NHS number 943 476 5919")
    check_accessibility(b)

    # A withdraws it: gone from B's and the moderator's screens without a reload.
    a.once("dialog", lambda dialog: dialog.accept())
    a.get_by_role("button", name="Withdraw your question").click()
    expect(a.locator("[data-announcer]")).to_contain_text("Your question has been withdrawn.")
    expect(a.get_by_role("heading", name="Questions for the speakers")).to_be_focused()
    for page in (moderator, a, b):
        expect(lists[page]).not_to_contain_text("943 476 5919")
        expect(page.locator("[data-no-questions]")).to_be_visible()
        # Nor is it kept in what was announced to a screen reader as it arrived.
        expect(page.locator("[data-announcer]")).not_to_contain_text("943 476 5919")
    check_accessibility(a)
    check_accessibility(b)

    # B's question, dismissed: it leaves A's screen, and stays, marked, on B's and the moderator's.
    b.get_by_label("Your question").fill("Could the panel discuss my ward's incident from today?")
    b.get_by_role("button", name="Ask question").click()
    for page in (moderator, a):
        expect(lists[page]).to_contain_text("my ward's incident")
    moderator.get_by_role("button", name="Dismiss the question by Rachel Moss").click()
    expect(lists[a]).not_to_contain_text("my ward's incident")
    for page in (moderator, b):
        expect(lists[page].locator("li", has_text="my ward's incident")).to_contain_text(
            "Dismissed"
        )
    check_accessibility(b)

    # The moderator removes it: gone from B's screen too.
    moderator.once("dialog", lambda dialog: dialog.accept())
    moderator.get_by_role("button", name="Remove the question by Rachel Moss").click()
    for page in (moderator, a, b):
        expect(lists[page]).not_to_contain_text("my ward's incident")
    check_accessibility(moderator)


def test_a_question_withdrawn_while_a_reader_was_offline_is_not_left_to_read_on_their_return(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live Q&A: withdrawn while a reader was away")
    a, b = (member_on(new_context, who, url) for who in (A, B))
    a.get_by_label("Your question").fill(PATIENT)
    a.get_by_role("button", name="Ask question").click()
    expect(b.locator("[data-announcer]")).to_contain_text("NHS number 943 476 5919")

    drop_connection(b)  # while A withdraws it
    a.once("dialog", lambda dialog: dialog.accept())
    a.get_by_role("button", name="Withdraw your question").click()
    expect(a.locator("[data-announcer]")).to_contain_text("Your question has been withdrawn.")

    b.context.set_offline(False)
    expect(b.locator("[data-live-status]")).to_contain_text("Reconnected")
    expect(b.locator("[data-question-list]")).not_to_contain_text("943 476 5919")
    expect(b.locator("[data-announcer]")).not_to_contain_text("943 476 5919")
    check_accessibility(b)
