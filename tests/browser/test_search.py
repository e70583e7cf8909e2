"""Search in a real browser: a member searches from the header, filters the results, and opens
one. Every page shown is checked with axe-core."""

import re

import pytest
from playwright.sync_api import expect

from .browser_support import DEMO_PASSWORD, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

MEMBER = "aisha-khan@peerlearn.example"


def test_search_from_the_header_filter_and_open_a_result(new_context: NewContext) -> None:
    page = new_context().new_page()
    sign_in(page, MEMBER, DEMO_PASSWORD)
    page.goto("/spaces")
    check_accessibility(page)

    # The header's search box, on every page.
    page.get_by_role("search").get_by_label("Search peerlearn").fill("flow coaching")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1, name="Search results")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/search\?q=flow\+coaching"))
    results = page.get_by_role("list").filter(has=page.locator(".pl-result"))
    expect(results.locator("mark").first).to_be_visible()
    check_accessibility(page)

    # Only discussions.
    page.get_by_label("Show").select_option(label="Discussions")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"kind=thread"))
    expect(
        page.get_by_role("heading", level=2, name=re.compile(r"results? for ‘flow coaching’"))
    ).to_be_visible()
    kinds = page.locator(".pl-result__kind").all_inner_texts()
    assert kinds and all(kind.strip().startswith("Discussion") for kind in kinds)
    check_accessibility(page)

    # And only those tagged with NHS IMPACT component 5: the filters combine, and stay chosen.
    page.get_by_label("NHS IMPACT component").select_option(
        label="5. Embedding improvement into management systems and processes"
    )
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"kind=thread.*component=management-systems"))
    expect(page.get_by_label("Show")).to_have_value("thread")
    narrowed = page.locator(".pl-result__kind").all_inner_texts()
    assert narrowed and len(narrowed) < len(kinds)
    assert all(kind.strip().startswith("Discussion") for kind in narrowed)
    check_accessibility(page)

    # Open the first result.
    first = page.locator(".pl-result h3 a").first
    title = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    check_accessibility(page)


def test_on_a_phone_the_filters_fold_away_under_a_toggle_that_says_when_they_are_in_use(
    new_context: NewContext,
) -> None:
    page = new_context().new_page()
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, MEMBER, DEMO_PASSWORD)
    page.goto("/search?q=flow+coaching")
    results = page.get_by_role("heading", level=2, name=re.compile(r"results? for ‘flow coaching’"))
    filters = page.locator("summary", has_text="Filters")
    # The results come on the first screen; the filters wait under their toggle.
    expect(filters).to_be_visible()
    expect(filters).not_to_contain_text("in use")
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()
    expect(results).to_be_in_viewport()
    check_accessibility(page)

    filters.click()
    page.get_by_label("Show").select_option(label="Discussions")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"kind=thread"))
    # Narrowed, the results still come first, and the toggle says a filter is in use.
    expect(filters).to_contain_text("in use")
    expect(page.get_by_label("Show")).to_be_hidden()
    expect(results).to_be_in_viewport()
    check_accessibility(page)
    filters.click()
    expect(page.get_by_label("Show")).to_have_value("thread")

    # A filter with a mistake in it is shown at once, with its message.
    page.goto("/search?q=flow+coaching&since=2026-02-31")
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()
    check_accessibility(page)

    # On a wider screen the filters sit beside the results, always open, with no toggle.
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto("/search?q=flow+coaching")
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()
    expect(filters).to_be_hidden()
    check_accessibility(page)
