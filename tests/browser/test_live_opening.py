"""The live chat opens and closes by itself, in real browsers, on screens already showing the
event: nobody reloads, and each screen says what changed. Every page shown is checked with
axe-core."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from .browser_support import LiveServer, NewContext, check_accessibility
from .live_support import MODERATOR, WINDOW, B, joined, open_event, reschedule

pytestmark = pytest.mark.browser

#: How soon after the pages have started loading a test has the chat open or close by itself: time
#: for them to load and show the chat as it was (doubled until they manage it; see
#: ``loaded_before_the_chat_changes``).
CHANGE_AFTER = timedelta(seconds=5)
#: How long a test waits for the chat to open or close by itself once its pages have shown it as
#: it was: the change is due within ``CHANGE_AFTER`` of their loading, and the wait ends as soon as
#: it shows, so it can be generous for a busy machine.
BY_ITSELF_MS = 60_000


def loaded_before_the_chat_changes(
    live_server: LiveServer,
    url: str,
    pages: list[Page],
    times: Callable[[datetime], tuple[datetime, datetime]],
    show_it_as_it_was: Callable[[], bool],
) -> None:
    """Have the chat open or close by itself a few seconds from now, then load ``pages`` on the
    event: ``times`` gives the event's start and end for that moment; ``show_it_as_it_was`` says
    whether the pages, now loaded, still show the chat as it was before it. A page learns when the
    change comes as it loads, so the time is set first; on a machine so busy that the change came
    before the pages were ready, the test tries again with twice as long, since what it proves
    needs the pages to show both the before and the after."""
    after = CHANGE_AFTER
    while True:
        reschedule(live_server, url, *times(datetime.now(UTC) + after))
        for page in pages:
            page.goto(url)
        if show_it_as_it_was():
            return
        assert after < timedelta(minutes=1), "the pages took over a minute to load"
        for page in pages:
            check_accessibility(page)  # (every page shown is checked, this one too)
        after *= 2


def test_the_chat_closes_by_itself_on_a_screen_showing_it(
    new_context: NewContext, live_server: LiveServer
) -> None:
    url = open_event(new_context, "Live chat: closing by itself")
    b = new_context(signed_in_as=B).new_page()
    moderator = new_context(signed_in_as=MODERATOR).new_page()

    def open_on_both() -> bool:
        joined(b)
        joined(moderator)
        return (
            b.get_by_label("Your message").is_visible()
            and b.locator("[data-closed-notice]").is_hidden()
            and moderator.get_by_role("button", name="Close the chat").is_visible()
        )

    # The chat's window ends a few seconds after the screens load; nobody does anything then.
    loaded_before_the_chat_changes(
        live_server, url, [b, moderator],
        lambda closes: (closes - WINDOW - timedelta(hours=1), closes - WINDOW), open_on_both,
    )  # fmt: skip

    notice = b.locator("[data-closed-notice]")
    expect(notice).to_be_visible(timeout=BY_ITSELF_MS)  # the same notice as a moderator's close
    expect(b.get_by_label("Your message")).to_be_hidden()
    expect(b.get_by_label("Your question")).to_be_hidden()
    expect(b.locator("[data-announcer]")).to_contain_text("The chat has closed")
    check_accessibility(b)
    # Its time is up: the moderator is offered neither closing nor reopening it.
    expect(moderator.locator("[data-closed-notice]")).to_be_visible(timeout=BY_ITSELF_MS)
    expect(moderator.get_by_role("button", name="Close the chat")).to_be_hidden()
    expect(moderator.get_by_role("button", name="Reopen the chat")).to_be_hidden()
    check_accessibility(moderator)


def test_the_chat_opens_by_itself_on_a_screen_showing_the_event(
    new_context: NewContext, live_server: LiveServer
) -> None:
    url = open_event(new_context, "Live chat: opening by itself")
    b = new_context(signed_in_as=B).new_page()
    notice = b.get_by_text("The live chat and Q&A open on this page at")

    # The chat's window starts a few seconds after the page loads.
    loaded_before_the_chat_changes(
        live_server, url, [b],
        lambda opens: (opens + WINDOW, opens + WINDOW + timedelta(hours=1)), notice.is_visible,
    )  # fmt: skip
    expect(b.get_by_role("heading", name="Live chat", exact=True)).to_have_count(0)
    check_accessibility(b)

    # Without anything done on the page, it says the chat is open, with the way to it.
    expect(b.get_by_text("The live chat and Q&A are open now")).to_be_visible(timeout=BY_ITSELF_MS)
    b.get_by_role("link", name="show the live chat").click()
    expect(b.locator("[data-presence-summary]")).to_contain_text("here now")
    expect(b.get_by_label("Your message")).to_be_visible()
    check_accessibility(b)
