"""Running an event in a real browser: a moderator of the QMS SIG schedules an event, cancels it
after a confirmation page and takes the cancellation back, all with JavaScript switched off; and
a double click on "Schedule event" schedules one event, with JavaScript or without; a member
answers an event and finds its calendar pages. Every page shown is checked with axe-core."""

import contextlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import APIResponse, Locator, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from .browser_support import DEMO_PASSWORD, NewContext, check_accessibility, sign_in

pytestmark = pytest.mark.browser

MODERATOR = "kwame-mensah@peerlearn.example"  # a moderator of the QMS SIG


def fill_in_event(page: Page, title: str) -> None:
    """Open the QMS SIG's form for a new event and fill it in for tomorrow afternoon."""
    page.goto("/spaces/qms/events")
    check_accessibility(page)
    page.get_by_role("link", name="Schedule an event").click()
    expect(page.get_by_role("heading", level=1, name="Schedule an event")).to_be_visible()
    check_accessibility(page)
    tomorrow = datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Date", exact=True).fill(f"{tomorrow:%d/%m/%Y}")
    page.get_by_label("Start time").fill("14:00")
    page.get_by_label("End time").fill("15:00")
    page.get_by_label("Joining link (optional)").fill("https://meet.example.org/qms-browser")


def test_cancelling_asks_first_and_can_be_taken_back_without_javascript(
    new_context: NewContext,
) -> None:
    title = "QMS huddle to cancel and reinstate"
    moderator = new_context(java_script_enabled=False).new_page()
    sign_in(moderator, MODERATOR, DEMO_PASSWORD)
    fill_in_event(moderator, title)
    moderator.get_by_role("button", name="Schedule event").click()
    expect(moderator.get_by_role("heading", level=1, name=title)).to_be_visible()
    check_accessibility(moderator)

    moderator.get_by_role("link", name="Cancel the event").click()
    expect(moderator.get_by_role("heading", level=1, name=f"Cancel {title}?")).to_be_visible()
    check_accessibility(moderator)
    moderator.get_by_role("link", name="No, keep it").click()
    expect(moderator.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(moderator.get_by_text("This event was cancelled")).to_have_count(0)
    check_accessibility(moderator)

    moderator.get_by_role("link", name="Cancel the event").click()
    check_accessibility(moderator)
    moderator.get_by_role("button", name="Yes, cancel the event").click()
    expect(moderator.get_by_text("The event has been cancelled.")).to_be_visible()
    expect(moderator.get_by_text("This event was cancelled")).to_be_visible()
    check_accessibility(moderator)

    moderator.get_by_role("button", name="Reinstate the event").click()
    expect(moderator.get_by_text("The event has been reinstated")).to_be_visible()
    expect(moderator.get_by_text("This event was cancelled")).to_have_count(0)
    check_accessibility(moderator)


def double_click(page: Page, button: Locator) -> int:
    """Click the button twice as a person does: the second click once the first has sent the
    form (within the second NHS.UK's button waits), before the browser has had the answer (a
    busy or slow network). Each answer is held back until the second click has done what it
    does. Returns how many times the form was sent."""
    sent: list[Route] = []
    answered: list[tuple[Route, APIResponse]] = []

    def hold(route: Route) -> None:
        sent.append(route)
        answered.append((route, route.fetch(max_redirects=0)))  # the server has it

    def wait_until(done: Callable[[], bool], seconds: float) -> None:
        for _ in range(int(seconds * 50)):
            if done():
                return
            page.wait_for_timeout(20)

    sending = re.compile(r".*/events/new$")
    page.route(sending, hold)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    wait_until(lambda: bool(sent), seconds=10)
    assert sent, "the first click did not send the form"
    page.mouse.click(x, y)
    wait_until(lambda: len(sent) > 1, seconds=2)  # if the second click sends it again
    wait_until(lambda: len(answered) == len(sent), seconds=30)
    page.unroute(sending, hold)
    for route, response in answered:
        with contextlib.suppress(PlaywrightError):  # one the second sending took over from
            route.fulfill(response=response)
    return len(sent)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_double_click_on_schedule_event_schedules_one_event(
    new_context: NewContext, javascript: bool
) -> None:
    """With JavaScript the button ignores a second click within a second; without it, both
    sendings reach the server and the form's one-time key makes the second return the first's
    event."""
    title = f"QMS huddle scheduled with a double click ({'with' if javascript else 'no'} script)"
    moderator = new_context(java_script_enabled=javascript).new_page()
    sign_in(moderator, MODERATOR, DEMO_PASSWORD)
    fill_in_event(moderator, title)

    sent = double_click(moderator, moderator.get_by_role("button", name="Schedule event"))

    assert sent == (1 if javascript else 2)  # with JavaScript, the second click is ignored

    expect(moderator.get_by_role("heading", level=1, name=title)).to_be_visible()
    check_accessibility(moderator)
    moderator.goto("/spaces/qms/events")
    expect(moderator.get_by_role("link", name=title)).to_have_count(1)
    check_accessibility(moderator)


MEMBER = "aisha-khan@peerlearn.example"  # a member of the QMS SIG


def test_a_member_answers_an_event_and_subscribes_to_it(new_context: NewContext) -> None:
    """Saving no answer shows the error beside the choices and focuses the summary; an answer
    saved, the member's calendar settings and the space's subscription page follow, every one
    checked with axe-core."""
    title = "QMS huddle to answer"
    moderator = new_context().new_page()
    sign_in(moderator, MODERATOR, DEMO_PASSWORD)
    fill_in_event(moderator, title)
    moderator.get_by_role("button", name="Schedule event").click()
    expect(moderator.get_by_role("heading", level=1, name=title)).to_be_visible()
    check_accessibility(moderator)

    member = new_context().new_page()
    sign_in(member, MEMBER, DEMO_PASSWORD)
    member.goto(moderator.url)
    check_accessibility(member)
    member.get_by_role("button", name="Save my answer").click()
    expect(member.locator(".nhsuk-error-summary")).to_be_focused()
    expect(member).to_have_title(f"Error: {title} – peerlearn")
    member.get_by_role("link", name="Choose whether you are going").click()
    expect(member.get_by_role("radio", name="Going", exact=True)).to_be_focused()
    check_accessibility(member)
    member.get_by_role("radio", name="Going", exact=True).check()
    member.get_by_role("button", name="Save my answer").click()
    expect(member.get_by_text("Your answer is saved: going.")).to_be_visible()
    check_accessibility(member)

    member.goto("/account/calendar")
    expect(
        member.get_by_role("heading", level=1, name="Your events in your calendar")
    ).to_be_visible()
    check_accessibility(member)
    member.goto("/spaces/qms/events/calendar")
    expect(
        member.get_by_role("heading", level=1, name="Subscribe to this space's events")
    ).to_be_visible()
    check_accessibility(member)


def test_an_event_named_after_a_long_address_reflows_on_a_phone(new_context: NewContext) -> None:
    """A title with nowhere to wrap (the address of a recording) breaks in the heading and in the
    links that name it, on the event page, the lists of events and the transcript, rather than
    make the page scroll sideways at 320 CSS pixels (WCAG 1.4.10)."""
    title = "Recording: https://www.england.nhs.uk/nhsimpact/quality-management-systems-webinar"
    moderator = new_context(signed_in_as=MODERATOR).new_page()
    fill_in_event(moderator, title)
    moderator.get_by_role("button", name="Schedule event").click()
    expect(moderator.get_by_role("heading", level=1, name=title)).to_be_visible()
    check_accessibility(moderator)
    event_path = urlsplit(moderator.url).path
    moderator.set_viewport_size({"width": 320, "height": 800})
    for path in (event_path, "/events", "/spaces/qms/events", f"{event_path}/transcript"):
        moderator.goto(path)
        expect(moderator.get_by_text(title).first).to_be_visible()
        check_accessibility(moderator)
        overflow = moderator.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0, f"{path} scrolls sideways by {overflow} px"
