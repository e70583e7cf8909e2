"""After the event, in the browser: the transcript, the record's preview and the events help page
are accessible (axe-core, WCAG 2.2 AA) to the people who would see them."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .browser_support import check_accessibility

pytestmark = pytest.mark.browser

MEMBER = "aisha-khan@peerlearn.example"
FLOW_MODERATOR = "hannah-price@peerlearn.example"


def _open_past_event(tab: Page, title: str) -> str:
    tab.goto("/events?when=past")
    check_accessibility(tab)
    tab.get_by_role("link", name=title).click()
    expect(tab.get_by_role("heading", level=1, name=title)).to_be_visible()
    check_accessibility(tab)
    return tab.url


def test_a_member_reads_a_past_events_transcript(tab_as: Callable[[str | None], Page]) -> None:
    tab = tab_as(MEMBER)
    event_url = _open_past_event(tab, "QMS in practice: learning from Lancashire and South Cumbria")
    tab.goto(event_url + "/transcript")
    expect(tab.get_by_role("heading", level=1, name="Transcript")).to_be_visible()
    expect(tab.get_by_text("Message removed")).to_be_visible()
    expect(
        tab.get_by_role("link", name="Download the chat as a spreadsheet (.csv)")
    ).to_be_visible()
    expect(tab.get_by_text("The record of this event is in the forum")).to_be_visible()
    check_accessibility(tab)
    tab.get_by_role("link", name="About transcripts and the record").click()
    expect(
        tab.get_by_role("heading", level=1, name="How events and the live chat work")
    ).to_be_visible()
    check_accessibility(tab)


def test_a_moderator_previews_the_record_before_posting_it(
    tab_as: Callable[[str | None], Page],
) -> None:
    tab = tab_as(FLOW_MODERATOR)
    event_url = _open_past_event(tab, "Flow coaching clinic: making daily huddles stick")
    tab.goto(event_url + "/transcript")
    check_accessibility(tab)
    tab.get_by_role("link", name="Post the record to the forum").click()
    expect(tab.get_by_role("heading", level=1, name="Post the record to the forum")).to_be_visible()
    expect(
        tab.get_by_text("Record: Flow coaching clinic: making daily huddles stick")
    ).to_be_visible()
    expect(tab.get_by_role("button", name="Post the record")).to_be_visible()
    check_accessibility(tab)
