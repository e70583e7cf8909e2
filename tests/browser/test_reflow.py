"""Pages reflow at 320 CSS pixels wide (WCAG 1.4.10): nothing makes the page itself scroll
sideways. A wide table may scroll inside its own container; the page around it may not."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .browser_support import check_accessibility

pytestmark = pytest.mark.browser

MEMBER = "aisha-khan@peerlearn.example"
MODERATOR = "kwame-mensah@peerlearn.example"

#: A post with what does not wrap by itself: a long address, a long inline code and a code block.
UNBREAKABLE = (
    "See https://www.england.nhs.uk/nhsimpact/a-very-long-address-that-goes-on-and-on-and-on "
    "and `a_long_inline_code_sample_without_any_spaces_in_it`.\n\n"
    "```\na code block line that is much longer than a phone screen is wide, on one line\n```"
)


def narrow(page: Page) -> Page:
    page.set_viewport_size({"width": 320, "height": 800})
    return page


def page_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it reflows)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/help/discussions", None),  # inline code in the help text
        ("/help/search", None),  # a table of examples
        ("/people", MEMBER),  # the network's directory, a four-column table
        ("/spaces/qms/members", MODERATOR),  # a table with visually hidden text in its cells
    ],
)
def test_page_reflows_at_320_pixels(
    path: str, who: str | None, tab_as: Callable[[str | None], Page]
) -> None:
    tab = narrow(tab_as(who))
    tab.goto(path)
    check_accessibility(tab)
    assert page_overflow(tab) == 0


def test_a_resource_with_its_versions_reflows(tab_as: Callable[[str | None], Page]) -> None:
    tab = narrow(tab_as(MEMBER))
    tab.goto("/library")
    check_accessibility(tab)
    tab.get_by_role("link", name="Divisional quality and performance review agenda").click()
    expect(tab.get_by_role("heading", level=2, name="Versions")).to_be_visible()
    check_accessibility(tab)
    assert page_overflow(tab) == 0


def test_long_links_and_code_in_a_post_wrap(tab_as: Callable[[str | None], Page]) -> None:
    tab = narrow(tab_as(MEMBER))
    tab.goto("/spaces/qms/threads/new")
    check_accessibility(tab)
    tab.get_by_label("Title").fill("Long words")
    tab.get_by_label("Your message").fill(UNBREAKABLE)
    tab.get_by_role("button", name="Preview").click()  # stores nothing
    expect(tab.get_by_role("heading", name="Preview", exact=True)).to_be_visible()
    check_accessibility(tab)
    assert page_overflow(tab) == 0
