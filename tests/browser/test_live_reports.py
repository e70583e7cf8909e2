"""Reporting a chat message in real browsers: a member reports a message with patient-identifiable
information as it arrives live, and it goes from the other members' screens at once while the
moderator keeps it, marked Hidden, to review; restored from the moderators' queue, it comes back
to every screen at once. A message hidden while a reader was away is hidden on their screen when
they come back. Every page shown is checked with axe-core."""

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from .browser_support import LiveServer, NewContext, check_accessibility
from .live_support import (
    MODERATOR,
    A,
    B,
    drop_connection,
    event_id_of,
    member_on,
    open_event,
    send,
    store_without_broadcast,
)

pytestmark = pytest.mark.browser

PATIENT = "Jane Doe, NHS number 943 476 5919, was on the ward round today"


TITLE = "Live chat: reporting a message"
HIDDEN = "Message hidden while a moderator reviews a report"


def test_a_message_reported_as_it_arrives_leaves_every_screen_but_the_moderators(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, TITLE)
    moderator = member_on(new_context, MODERATOR, url)
    a = member_on(new_context, A, url)
    b = member_on(new_context, B, url)
    lists = {page: page.locator("[data-message-list]") for page in (moderator, a, b)}

    send(a, PATIENT)
    message = b.locator("[data-message-list] li", has_text="943 476 5919")
    expect(message).to_be_visible()
    # Nobody is offered a report of their own message.
    own = lists[a].locator("li", has_text="943 476 5919")
    expect(own).to_be_visible()
    expect(own.locator("[data-report-message]")).to_have_count(0)

    message.locator("summary", has_text="Report").click()
    message.get_by_label("Contains patient-identifiable information").check()
    check_accessibility(b)
    message.get_by_role("button", name="Send report").click()

    expect(b.locator("[data-live-status]")).to_contain_text(
        "Thank you. The message is hidden until a moderator has looked at it."
    )
    for page in (a, b):
        expect(lists[page]).not_to_contain_text("943 476 5919")
        expect(lists[page]).to_contain_text(HIDDEN)
    # Nor is it kept in what was announced to a screen reader as it arrived.
    expect(b.locator("[data-announcer]")).not_to_contain_text("943 476 5919")
    # The moderator's screen, never reloaded, keeps the text and marks it as the page would.
    reviewed = lists[moderator].locator("li", has_text="943 476 5919")
    expect(reviewed.locator(".pl-chat__hidden-tag")).to_have_text("Hidden")
    expect(reviewed.get_by_role("button", name=re.compile("^Pin"))).to_have_count(0)
    check_accessibility(a)
    check_accessibility(moderator)

    # A's connection drops before the restore (see test_live_chat.py for how): A is given the
    # message back on rejoining, the others at once.
    a.context.set_offline(True)
    a.evaluate("window.peerlearnLive.socket.io.engine.close()")
    expect(a.locator("[data-live-status]")).to_have_text("Reconnecting…")
    queue = moderator.context.new_page()
    queue.goto(url.split("/events/")[0] + "/spaces/qms/moderation")
    check_accessibility(queue)
    queue.get_by_role("button", name=f"Restore and dismiss: the message in {TITLE}").click()
    expect(queue.locator(".nhsuk-card", has_text="943 476 5919")).to_have_count(0)
    check_accessibility(queue)
    for page in (b, moderator):
        expect(lists[page].locator("li", has_text="943 476 5919")).to_be_visible()
        expect(lists[page]).not_to_contain_text(HIDDEN)
    expect(reviewed.locator(".pl-chat__hidden-tag")).to_have_count(0)
    expect(lists[a]).to_contain_text(HIDDEN)
    a.context.set_offline(False)
    expect(a.locator("[data-live-status]")).to_contain_text("Reconnected")
    expect(lists[a].locator("li", has_text="943 476 5919")).to_be_visible()
    expect(lists[a]).not_to_contain_text(HIDDEN)
    check_accessibility(a)


#: A member of the QMS SIG whom no other browser test uses: this one spends their allowance of
#: catch-ups.
READER = "eleanor-hughes@peerlearn.example"

#: Using up the page's allowance of catch-ups (20 a minute), so that a gap stays open.
USE_UP_CATCH_UPS = """async (eventId) => {
  const socket = window.peerlearnLive.socket;
  for (let n = 0; n < 20; n += 1) {
    await new Promise((answered) => socket.emit("catch_up", { event_id: eventId, after_id: 0 }, answered));
  }
}"""


def test_a_message_hidden_while_a_reader_was_away_is_hidden_when_they_return(
    new_context: NewContext, live_server: LiveServer
) -> None:
    """The reader's screen shows a message that arrived after a gap (a message before it was
    never broadcast, and the reader's catch-ups are used up), so the rejoin brings it again, as
    it now is: hidden by a report while the reader was away. The rejoin's state wins."""
    url = open_event(new_context, "Live chat: hidden while a reader was away")
    a = member_on(new_context, A, url)
    reader = member_on(new_context, READER, url)
    messages = reader.locator("[data-message-list]")
    reader.evaluate(USE_UP_CATCH_UPS, event_id_of(url))
    store_without_broadcast(live_server, url, B, "Stored, but its broadcast was lost")
    send(a, PATIENT)
    expect(messages).to_contain_text("943 476 5919")
    drop_connection(reader)
    with closing(sqlite3.connect(live_server.database)) as database, database:
        database.execute(
            "UPDATE chat_messages SET hidden_at = ? WHERE body_source = ?",
            (f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S.%f}", PATIENT),
        )

    reader.context.set_offline(False)
    expect(reader.locator("[data-live-status]")).to_contain_text("Reconnected")
    expect(messages).to_contain_text("Stored, but its broadcast was lost")
    expect(messages).not_to_contain_text("943 476 5919")
    expect(messages.locator("li", has_text=HIDDEN)).to_have_count(1)
    expect(messages.locator("[data-report-message]")).to_have_count(1)  # only the other one's
    check_accessibility(reader)


def test_without_javascript_a_report_with_no_reason_comes_back_with_the_error(
    new_context: NewContext,
) -> None:
    """The plain form beside the message: no browser bubble (the form is ``novalidate``), but
    the service's page with the NHS error summary, the message, and the reasons again."""
    url = open_event(new_context, "Live chat: reporting without JavaScript")
    send(member_on(new_context, A, url), PATIENT)
    page = new_context(signed_in_as=B, java_script_enabled=False).new_page()
    page.goto(url)
    check_accessibility(page)
    message = page.locator("[data-message-list] li", has_text="943 476 5919")
    message.locator("summary", has_text="Report").click()
    message.get_by_role("button", name="Send report").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Report a chat message")
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name="Choose why you are reporting")).to_be_visible()
    expect(page.locator(".pl-quoted")).to_contain_text("943 476 5919")
    check_accessibility(page)
    page.get_by_label("Contains patient-identifiable information").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("[data-message-list]")).not_to_contain_text("943 476 5919")
    expect(
        page.get_by_text("The message is hidden until a moderator has looked at it")
    ).to_be_visible()
    check_accessibility(page)


def test_a_report_of_something_else_is_told_to_say_what_beside_its_note(
    new_context: NewContext,
) -> None:
    """Over the live chat, as on the plain form: a report with no reason is told to choose one;
    "Something else" with no note is refused, the message beside the note (which takes the
    focus) and the choice kept; with a note it is sent, the report's form goes, and the focus
    stays on the message."""
    url = open_event(new_context, "Live chat: reporting something else")
    send(member_on(new_context, A, url), "Join my paid course on flow, half price today")
    b = member_on(new_context, B, url)
    message = b.locator("[data-message-list] li", has_text="paid course")
    message.locator("summary", has_text="Report").click()
    # No reason: said in the question, as on the plain form's page, not by the browser.
    message.get_by_role("button", name="Send report").click()
    expect(message.locator("fieldset")).to_have_accessible_description(
        "Error: Choose why you are reporting this message"
    )
    expect(message.get_by_label("Spam or advertising")).to_be_focused()
    message.get_by_label("Something else").check()
    message.get_by_role("button", name="Send report").click()

    note = message.get_by_label("Anything the moderators should know")
    expect(note).to_be_focused()
    expect(note).to_have_accessible_description(
        re.compile("Say what is wrong, so that the moderators know what to look for")
    )
    expect(message.locator(".nhsuk-form-group--error .nhsuk-error-message")).to_have_text(
        "Error: Say what is wrong, so that the moderators know what to look for"
    )
    expect(message.get_by_label("Something else")).to_be_checked()
    check_accessibility(b)
    note.fill("Advertising a paid course")
    message.get_by_role("button", name="Send report").click()
    expect(b.locator("[data-live-status]")).to_contain_text(
        "Thank you. The space's moderators will look at your report."
    )
    expect(message.locator("[data-report-message]")).to_have_count(0)
    expect(message).to_be_focused()  # not lost to the page's top with the form that went
    check_accessibility(b)
