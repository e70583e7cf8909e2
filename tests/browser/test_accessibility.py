"""Every main page passes axe-core's WCAG 2.2 AA checks, as the person who would see it."""

from collections.abc import Callable
from itertools import pairwise

import pytest
from playwright.sync_api import Page, expect

from .browser_support import check_accessibility

pytestmark = pytest.mark.browser

#: Who looks at a page: nobody signed in, or a demo account.
ACCOUNTS = {
    "member": "aisha-khan@peerlearn.example",
    "moderator": "kwame-mensah@peerlearn.example",
    "admin": "admin@peerlearn.example",
}

PAGES = [
    # path, who, expected status
    ("/", None, 200),
    ("/login", None, 200),
    ("/register", None, 200),
    ("/about", None, 200),
    ("/accessibility", None, 200),
    ("/spaces", None, 200),
    ("/spaces/impact-commons", None, 200),
    ("/no-such-page", None, 404),
    ("/", "member", 200),
    ("/spaces", "member", 200),
    ("/spaces/qms", "member", 200),
    ("/spaces/measurement-for-improvement", "member", 200),
    ("/people", "member", 200),
    ("/organisations", "member", 200),
    ("/account", "member", 200),
    ("/notifications", "member", 200),
    ("/spaces/qms/members", "moderator", 200),
    ("/spaces/qms/events/new", "moderator", 200),
    ("/admin", "admin", 200),
    ("/admin/users", "admin", 200),
    ("/admin/organisations", "admin", 200),
    ("/spaces/new", "admin", 200),
    ("/admin/audit", "admin", 200),
]


@pytest.mark.parametrize(
    ("path", "who", "status"),
    [pytest.param(*row, id=f"{row[0]} as {row[1] or 'visitor'}") for row in PAGES],
)
def test_page_is_accessible(
    path: str,
    who: str | None,
    status: int,
    tab_as: Callable[[str | None], Page],
) -> None:
    tab = tab_as(ACCOUNTS[who] if who else None)
    response = tab.goto(path)
    assert response is not None
    assert response.status == status
    expect(tab.get_by_role("heading", level=1)).to_have_count(1)
    assert tab.title().endswith(" – peerlearn")
    check_accessibility(tab)


def test_a_profile_and_an_organisation_are_accessible(
    tab_as: Callable[[str | None], Page],
) -> None:
    tab = tab_as(ACCOUNTS["member"])
    tab.goto("/people?q=Owen")
    check_accessibility(tab)
    tab.get_by_role("link", name="Owen Davies").click()
    expect(tab.get_by_role("heading", level=1, name="Owen Davies")).to_be_visible()
    check_accessibility(tab)
    tab.get_by_role("link", name="Barts Health NHS Trust").click()
    expect(tab.get_by_role("heading", level=1, name="Barts Health NHS Trust")).to_be_visible()
    check_accessibility(tab)


def test_form_errors_are_accessible(tab_as: Callable[[str | None], Page]) -> None:
    page = tab_as(None)
    page.goto("/register")
    check_accessibility(page)
    page.get_by_role("button", name="Create account").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    # The NHS.UK frontend script moves focus to the summary, so screen readers announce it.
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    expect(summary.get_by_role("link", name="Enter your e-mail address")).to_be_visible()
    expect(page).to_have_title("Error: Create an account – peerlearn")
    check_accessibility(page)


#: Pages with a list or posts under their title, as the person who would see them.
LISTS = [
    ("/events", "member"),
    ("/events?when=past", "member"),
    ("/spaces/qms/events", "member"),
    ("/threads", "member"),
    ("/library/saved", "member"),
]


@pytest.mark.parametrize(("path", "who"), LISTS, ids=[path for path, _ in LISTS])
def test_headings_never_skip_a_level(
    path: str, who: str, tab_as: Callable[[str | None], Page]
) -> None:
    tab = tab_as(ACCOUNTS[who])
    tab.goto(path)
    check_accessibility(tab)
    assert_headings_in_order(tab)


def test_a_threads_posts_sit_under_its_headings(tab_as: Callable[[str | None], Page]) -> None:
    tab = tab_as(ACCOUNTS["member"])
    tab.goto("/threads")
    check_accessibility(tab)
    tab.get_by_role(
        "link",
        name="Quality planning vs quality control: where do your divisions get stuck?",
        exact=True,
    ).click()
    expect(tab.get_by_role("heading", level=2, name="Replies")).to_be_visible()
    check_accessibility(tab)
    assert_headings_in_order(tab)


def assert_headings_in_order(tab: Page) -> None:
    """Each heading is at most one level below the one before it (axe's heading-order)."""
    levels = tab.evaluate(
        "[...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1])"
    )
    skips = [(before, after) for before, after in pairwise(levels) if after > before + 1]
    assert not skips, f"headings skip a level on {tab.url}: {levels}"
