"""Pages reflow at 320 CSS pixels wide (WCAG 1.4.10): nothing makes the page itself scroll
sideways. A wide table may scroll inside its own container; the page around it may not."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from .browser_support import NewContext, check_accessibility

pytestmark = pytest.mark.browser

MEMBER = "aisha-khan@peerlearn.example"
MODERATOR = "kwame-mensah@peerlearn.example"
FLOW_MODERATOR = "hannah-price@peerlearn.example"
#: Not in the Flow Coaching group (which people ask to join), nor in any other browser test.
FLOW_APPLICANT = "lucy-chen@peerlearn.example"

#: A post with what does not wrap by itself: a long address, a long inline code and a code block.
UNBREAKABLE = (
    "See https://www.england.nhs.uk/nhsimpact/a-very-long-address-that-goes-on-and-on-and-on "
    "and `a_long_inline_code_sample_without_any_spaces_in_it`.\n\n"
    "```\na code block line that is much longer than a phone screen is wide, on one line\n```"
)


def narrow(page: Page) -> Page:
    page.set_viewport_size({"width": 320, "height": 800})
    return page


#: How far an element's table scrolls sideways, or could (0 when it fits its container).
TABLE_SCROLLED_SIDEWAYS = """element => {
  const container = element.closest('.nhsuk-table-container');
  return container.scrollWidth - container.clientWidth + container.scrollLeft;
}"""


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


def assert_within_reach(tab: Page, button: Locator) -> None:
    """The button shows inside the window as the page is laid out, in a table that does not
    scroll sideways to reach it, and nothing covers it (Playwright's checks before a click)."""
    width = tab.viewport_size["width"] if tab.viewport_size else 0
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert button.evaluate(TABLE_SCROLLED_SIDEWAYS) == 0
    button.click(trial=True)  # checks only: visible, enabled, not covered


def test_a_moderator_on_a_phone_reaches_every_row_s_actions(new_context: NewContext) -> None:
    """The members page's tables reflow into one block per person at phone widths, so a
    moderator sees Approve beside a request and Remove beside a member without scrolling the
    table sideways, and the page reads the same to a screen reader (axe)."""
    applicant = new_context(signed_in_as=FLOW_APPLICANT).new_page()
    applicant.goto("/spaces/flow-coaching")
    check_accessibility(applicant)
    applicant.get_by_role("button", name="Ask to join").click()
    expect(applicant.get_by_text("You have asked to join Flow Coaching.")).to_be_visible()
    check_accessibility(applicant)

    moderator = new_context(signed_in_as=FLOW_MODERATOR).new_page()
    requests = moderator.get_by_role("table", name="People waiting to join Flow Coaching")
    members = moderator.get_by_role("table", name="Members of Flow Coaching")
    approve = requests.get_by_role("button", name="Approve Lucy Chen's request")
    remove = members.get_by_role("button", name="Remove Tom Whitfield from Flow Coaching")
    for width in (360, 320):
        moderator.set_viewport_size({"width": width, "height": 800})
        moderator.goto("/spaces/flow-coaching/members")
        check_accessibility(moderator)
        assert page_overflow(moderator) == 0
        # Still a table to a screen reader, each cell under its column's header, which it
        # does not repeat (the heading shown beside it on a phone is hidden from it).
        request = requests.get_by_role("row", name="Lucy Chen")
        expect(request).to_be_visible()
        expect(requests.get_by_role("columnheader")).to_have_text(
            ["Name", "Organisation", "Asked", "Actions"]
        )
        expect(request.get_by_role("cell")).to_have_count(4)
        expect(request.get_by_role("cell").first).to_have_accessible_name(
            "Lucy Chen Deputy Director of Nursing and Quality"
        )
        assert_within_reach(moderator, approve)
        assert_within_reach(moderator, remove)

    approve.click()
    expect(moderator.get_by_text("Lucy Chen is now a member.")).to_be_visible()
    expect(members.get_by_role("row", name="Lucy Chen")).to_be_visible()
    check_accessibility(moderator)
    assert page_overflow(moderator) == 0


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


@pytest.mark.parametrize(
    ("path", "who", "table", "row", "headings"),
    [
        (
            "/people",
            MEMBER,
            "Members of the network",
            "Aisha Khan",
            ["Name", "Job title", "Organisation", "Region"],
        ),
        (
            "/admin/organisations",
            "admin@peerlearn.example",
            "Organisations in the directory",
            "Barts Health NHS Trust",
            ["Name", "Kind", "Region", "Part of", "ODS code", "Members", "Actions"],
        ),
        (
            "/admin/users",
            "admin@peerlearn.example",
            "Accounts",
            "Eleanor Hughes",
            ["Name", "E-mail address", "Organisation", "Role", "Status", "Actions"],
        ),
    ],
)
def test_a_directory_on_a_phone_shows_each_row_whole(
    path: str,
    who: str,
    table: str,
    row: str,
    headings: list[str],
    tab_as: Callable[[str | None], Page],
) -> None:
    """A directory's table reflows into one block per row at phone widths, so its last column
    (a person's region, an organisation's Edit link) is in view without scrolling the table
    sideways, and it is still a table to a screen reader (axe)."""
    tab = tab_as(who)
    rows = tab.get_by_role("table", name=table).get_by_role("row", name=row)
    for width in (375, 320):
        tab.set_viewport_size({"width": width, "height": 740})
        tab.goto(path)
        check_accessibility(tab)
        assert page_overflow(tab) == 0
        expect(tab.get_by_role("table", name=table).get_by_role("columnheader")).to_have_text(
            headings
        )
        last = rows.first.get_by_role("cell").nth(len(headings) - 1)
        expect(last).to_be_visible()
        box = last.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert last.evaluate(TABLE_SCROLLED_SIDEWAYS) == 0


#: Each "·" between two pieces of information that starts a line of its own, with the text
#: around it: a separator belongs at the end of the line it follows, never at a line's start.
SEPARATORS_STARTING_A_LINE = """() => {
  const shown = (node) => {
    const element = node.parentElement;
    return element && !element.closest('.nhsuk-u-visually-hidden, [hidden], script, style');
  };
  const box = (node, offset) => {
    const range = document.createRange();
    range.setStart(node, offset);
    range.setEnd(node, offset + 1);
    return range.getBoundingClientRect();
  };
  const found = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  let before = null;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!shown(node)) continue;
    for (let i = 0; i < node.data.length; i++) {
      const character = node.data[i];
      if (!character.trim()) continue;
      const here = box(node, i);
      if (here.width === 0) continue;
      if (character === '·' && before && here.top >= before.bottom - 2) {
        found.push(node.parentElement.textContent.replace(/\\s+/g, ' ').trim().slice(0, 80));
      }
      before = here;
    }
  }
  return found;
}"""


def assert_separators_in_place(tab: Page, width: int) -> None:
    """No "·" opens a line, and none has a double gap before it (a space and a no-break space)."""
    assert tab.evaluate(SEPARATORS_STARTING_A_LINE) == [], (tab.url, width)
    assert " \u00a0·" not in tab.inner_text("main"), (tab.url, width)


#: Pages opened from a list: the list, the link to follow and a heading the page opened shows.
OPENED_FROM_A_LIST = [
    ("/library", "Divisional quality and performance review agenda", "Versions"),
    (
        "/threads",
        "Quality planning vs quality control: where do your divisions get stuck?",
        "Replies",
    ),
]


def test_separators_never_start_a_line(tab_as: Callable[[str | None], Page]) -> None:
    """On a phone, the "·" between a file's name, type and size (or a post's author and time,
    or a space's members and join policy) stays at the end of a line, never opening the next."""
    tab = tab_as(MEMBER)
    for width in (375, 320):
        tab.set_viewport_size({"width": width, "height": 740})
        for path in ("/", "/spaces", "/events", "/library", "/spaces/qms/library"):
            tab.goto(path)
            check_accessibility(tab)
            assert_separators_in_place(tab, width)
        for path, link, heading in OPENED_FROM_A_LIST:
            tab.goto(path)
            check_accessibility(tab)
            tab.get_by_role("link", name=link, exact=True).click()
            expect(tab.get_by_role("heading", level=2, name=heading)).to_be_visible()
            check_accessibility(tab)
            assert_separators_in_place(tab, width)


#: Whether each of a paragraph's links is on its first line or starts where the paragraph does.
LINKS_LINE_UP = """element => {
  const start = element.getBoundingClientRect().left;
  const firstLine = element.getClientRects()[0].top;
  return [...element.querySelectorAll('a')].every((link) => {
    const box = link.getBoundingClientRect();
    return box.top < firstLine + 8 || Math.abs(box.left - start) < 1;
  });
}"""


def test_the_question_sort_choices_line_up_when_they_wrap(
    tab_as: Callable[[str | None], Page],
) -> None:
    """On a phone "order asked" wraps under "Sort questions by:", starting where it starts
    rather than indented by the gap that separates the choices on one line."""
    tab = narrow(tab_as(MEMBER))
    tab.goto("/events?when=past")
    check_accessibility(tab)
    tab.get_by_role(
        "link", name="QMS in practice: learning from Lancashire and South Cumbria"
    ).click()
    sort = tab.locator("p").filter(has_text="Sort questions by:")
    expect(sort.get_by_role("link", name="order asked")).to_be_visible()
    check_accessibility(tab)
    assert page_overflow(tab) == 0
    # The live script marks the current order once it runs, which can rewrap the line.
    tab.wait_for_function(LINKS_LINE_UP, arg=sort.element_handle())
