"""The live event chat in real browsers: two members in one chat see each other's messages; one
loses the connection while the other sends three, then comes back and sees exactly those three,
once, in order (and what they sent while offline arrives once); a message whose broadcast was
lost is fetched when the next one arrives; one away for longer than a rejoin brings back is shown
the latest messages and told where the others are; a Q&A vote changes the order on
both screens; without JavaScript the plain form posts a message, which live readers see at once;
what a moderator removes or pins while a member is offline is shown when they come back. The chat
opening and closing by itself is in test_live_opening.py. Every page shown is checked with
axe-core."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .browser_support import LiveServer, NewContext, check_accessibility
from .live_support import (
    MODERATOR,
    WINDOW,
    A,
    B,
    chat_texts,
    drop_connection,
    event_id_of,
    member_on,
    open_event,
    reschedule,
    send,
    store_without_broadcast,
)

pytestmark = pytest.mark.browser


def test_a_member_who_loses_the_connection_catches_up_on_every_missed_message_once(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live chat: catching up after a dropped connection")
    a = member_on(new_context, A, url)
    b = member_on(new_context, B, url)
    expect(a.locator("[data-presence-list]")).to_contain_text("Rachel Moss")

    send(a, "Hello from Lancashire, everyone")
    expect(b.locator("[data-message-list]")).to_contain_text("Hello from Lancashire, everyone")
    expect(b.locator("[data-announcer]")).to_contain_text("Aisha Khan: Hello from Lancashire")
    expect(a.get_by_role("button", name="Send message")).to_be_focused()  # focus is not moved
    check_accessibility(b)

    # B's network goes. Chromium's offline mode does not cut a WebSocket that is already open, so
    # the test closes B's connection too (as a dropped Wi-Fi would); while offline it cannot come
    # back. Meanwhile B writes a message, which waits in B's queue.
    b.context.set_offline(True)
    b.evaluate("window.peerlearnLive.socket.io.engine.close()")
    expect(b.locator("[data-live-status]")).to_have_text("Reconnecting…")
    send(b, "Sorry, my Wi-Fi dropped")
    expect(b.locator(".pl-chat__message--pending")).to_contain_text("Sorry, my Wi-Fi dropped")
    missed = ["First while you were away", "Second while you were away", "Third, with **bold**"]
    for text in missed:
        send(a, text)
    expect(a.locator("[data-message-list]")).to_contain_text("Third, with bold")
    assert "First while you were away" not in chat_texts(b)

    # B comes back: every missed message once, in order, and B's own message sent once.
    b.context.set_offline(False)
    expect(b.locator("[data-live-status]")).to_contain_text("Reconnected")
    expect(b.locator("[data-message-list]")).to_contain_text("Sorry, my Wi-Fi dropped")
    expect(a.locator("[data-message-list]")).to_contain_text("Sorry, my Wi-Fi dropped")
    expect(b.locator(".pl-chat__message--pending")).to_have_count(0)
    shown = chat_texts(b)
    assert [t for t in shown if "away" in t or "bold" in t] == [
        "First while you were away",
        "Second while you were away",
        "Third, with bold",
    ]
    assert shown.count("Sorry, my Wi-Fi dropped") == 1
    assert chat_texts(a).count("Sorry, my Wi-Fi dropped") == 1
    assert shown == chat_texts(a)
    check_accessibility(b)

    # Reloading shows the same chat, rendered by the server.
    b.reload()
    check_accessibility(b)
    expect(b.locator("[data-message-list] .pl-chat__message")).to_have_count(len(shown))

    # A reader who has scrolled up is left where they are, with a button to the new messages.
    expect(b.locator("[data-presence-summary]")).to_contain_text("here now")
    messages = b.locator("[data-message-scroll]")
    messages.evaluate("(box) => { box.scrollTop = 0; }")
    for n in range(1, 4):
        send(a, f"Later message {n}")
    expect(b.locator("[data-message-list]")).to_contain_text("Later message 3")
    assert messages.evaluate("(box) => box.scrollTop") == 0
    b.get_by_role("button", name="New messages below").click()
    expect(b.get_by_role("button", name="New messages below")).to_be_hidden()
    assert messages.evaluate("(box) => box.scrollHeight - box.scrollTop - box.clientHeight < 2")
    check_accessibility(b)


def test_a_message_that_was_never_broadcast_is_fetched_when_the_next_one_arrives(
    new_context: NewContext, live_server: LiveServer
) -> None:
    """Each message names the one before it: a screen given a message whose previous one it lacks
    asks the server for what it missed, without a reload or a dropped connection."""
    url = open_event(new_context, "Live chat: a message that was never broadcast")
    a = member_on(new_context, A, url)
    b = member_on(new_context, B, url)
    send(a, "Before the silent one")
    expect(b.locator("[data-message-list]")).to_contain_text("Before the silent one")
    store_without_broadcast(live_server, url, B, "Stored, but its broadcast was lost")
    send(a, "After the silent one")
    expected = [
        "Before the silent one",
        "Stored, but its broadcast was lost",
        "After the silent one",
    ]
    for page in (a, b):
        expect(page.locator("[data-message-list] .pl-chat__body")).to_have_text(expected)
    expect(a.locator("[data-announcer]")).to_contain_text("Rachel Moss: Stored, but its broadcast")
    check_accessibility(b)


def test_a_member_away_for_a_long_busy_while_sees_the_latest_and_where_the_rest_are(
    new_context: NewContext, live_server: LiveServer
) -> None:
    """A rejoin brings at most the latest 200 missed messages: a note takes the place of the
    earlier ones, with a link to the transcript that has them, and the status says so."""
    url = open_event(new_context, "Live chat: away for a long, busy while")
    b = member_on(new_context, B, url)
    send(b, "Back in a while")
    expect(b.locator("[data-message-list] li[data-message-id]")).to_have_count(1)
    drop_connection(b)
    store_without_broadcast(live_server, url, A, *(f"Missed message {n}" for n in range(1, 206)))

    b.context.set_offline(False)
    expect(b.locator("[data-live-status]")).to_have_text(
        "Reconnected. The latest 200 messages you missed are shown; "
        "the full transcript has the earlier ones."
    )
    shown = chat_texts(b)
    assert shown == ["Back in a while", *(f"Missed message {n}" for n in range(6, 206))]
    note = b.locator("[data-message-list] [data-left-out]")
    expect(note).to_have_text(
        "Earlier messages you missed are not shown here. Read them in the full transcript."
    )
    # In their place: after the message before them, before the first of the latest.
    expect(note.locator("xpath=following-sibling::li[1]")).to_contain_text("Missed message 6")
    expect(note.locator("xpath=preceding-sibling::li[1]")).to_contain_text("Back in a while")
    link = note.get_by_role("link", name="Read them in the full transcript")
    expect(link).to_have_attribute("href", f"/events/{event_id_of(url)}/transcript")
    check_accessibility(b)


def test_a_vote_reorders_the_questions_on_every_screen(new_context: NewContext) -> None:
    url = open_event(new_context, "Live chat: questions for the panel")
    a = member_on(new_context, A, url)
    b = member_on(new_context, B, url)

    questions_a = a.locator("[data-question-list] > li .pl-user-content")
    questions_b = b.locator("[data-question-list] > li .pl-user-content")
    in_order = ["How do you report QMS maturity to the board?", "Which SPC software do you use?"]
    # Sent empty, a question or a message is told so beside its box, which takes the focus (the
    # box is described by the message, so a screen reader reads it out).
    for label, button, said in [
        ("Your question", "Ask question", "Write your question"),
        ("Your message", "Send message", "Write a message"),
    ]:
        a.get_by_role("button", name=button).click()
        expect(a.get_by_label(label)).to_be_focused()
        expect(a.get_by_label(label)).to_have_accessible_description(re.compile(said))
    check_accessibility(a)
    a.get_by_label("Your question").fill(in_order[0])
    a.get_by_role("button", name="Ask question").click()
    expect(questions_b).to_have_text(in_order[:1])  # asked first: stored before B asks
    b.get_by_label("Your question").fill(in_order[1])
    b.get_by_role("button", name="Ask question").click()
    expect(questions_a).to_have_text(in_order)
    expect(questions_b).to_have_text(in_order)
    check_accessibility(a)

    # A votes for B's question: it moves to the top on both screens, A's button shows the vote.
    vote = a.get_by_role("button", name="Vote for the question by Rachel Moss")
    expect(vote).to_have_attribute("aria-pressed", "false")
    vote.click()
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(vote).to_be_focused()  # the button moved up with its question, focus kept
    expect(questions_a).to_have_text(in_order[::-1])
    expect(questions_b).to_have_text(in_order[::-1])
    expect(b.locator("[data-question-list] > li").first.locator("[data-vote-count]")).to_have_text(
        "1"
    )
    check_accessibility(a)
    check_accessibility(b)

    # Sorted in the order asked, B's screen goes back; A taking the vote back reorders A's.
    b.get_by_role("link", name="order asked").click()
    expect(questions_b).to_have_text(in_order)
    expect(b).to_have_url(re.compile(r"\?qa=time$"))  # kept on reloading
    check_accessibility(b)
    vote.click()
    expect(vote).to_have_attribute("aria-pressed", "false")
    expect(questions_a).to_have_text(in_order)


def test_without_javascript_the_plain_form_posts_a_message_live_readers_see(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live chat: without JavaScript")
    b = member_on(new_context, B, url)

    plain = new_context(java_script_enabled=False, signed_in_as=A).new_page()
    plain.goto(url)
    check_accessibility(plain)
    expect(plain.get_by_role("heading", name="Live chat", exact=True)).to_be_visible()

    # An empty message: the error beside the box and in the summary.
    plain.get_by_role("button", name="Send message").click()
    expect(plain.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(plain.locator("#message-body-error")).to_contain_text("Write a message")
    check_accessibility(plain)

    plain.get_by_label("Your message").fill("Posted from a browser without JavaScript")
    plain.get_by_role("button", name="Send message").click()
    expect(plain.get_by_text("Your message has been posted.")).to_be_visible()
    expect(plain.locator("[data-message-list]")).to_contain_text(
        "Posted from a browser without JavaScript"
    )
    check_accessibility(plain)
    expect(b.locator("[data-message-list]")).to_contain_text(
        "Posted from a browser without JavaScript"
    )


def test_without_javascript_a_message_sent_after_the_chat_closed_is_kept_to_copy(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live chat: closed while a plain form was written")
    plain = new_context(java_script_enabled=False, signed_in_as=A).new_page()
    plain.goto(url)
    check_accessibility(plain)
    plain.get_by_label("Your message").fill("What did the flow pilot change first?")
    # Nobody has written in the chat when its moderator closes it.
    moderator = member_on(new_context, MODERATOR, url)
    moderator.once("dialog", lambda dialog: dialog.accept())
    moderator.get_by_role("button", name="Close the chat").click()
    expect(moderator.locator("[data-closed-notice]")).to_be_visible()

    plain.get_by_role("button", name="Send message").click()
    expect(plain.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(plain.locator(".nhsuk-error-summary")).to_contain_text("A moderator has closed the chat")
    expect(plain.locator("#message-body-error")).to_contain_text("A moderator has closed the chat")
    box = plain.get_by_label("Your message")
    expect(box).to_have_value("What did the flow pilot change first?")
    expect(box).not_to_be_editable()
    expect(plain.get_by_text("Your message has not been sent.")).to_be_visible()
    expect(plain.get_by_role("button", name="Send message")).to_be_hidden()
    check_accessibility(plain)


def test_what_the_moderator_does_reaches_the_members_screen_at_once(
    new_context: NewContext, live_server: LiveServer
) -> None:
    url = open_event(new_context, "Live chat: moderating")
    moderator = member_on(new_context, MODERATOR, url)
    a = member_on(new_context, A, url)
    expect(moderator.get_by_role("heading", name="Moderate the chat")).to_be_visible()
    expect(a.get_by_role("heading", name="Moderate the chat")).to_be_hidden()

    # Pin a key link: it shows above the chat on A's screen.
    send(a, "The slides: https://example.org/slides")
    slides = moderator.locator("[data-message-list] li", has_text="The slides")
    slides.get_by_role("button", name="Pin").click()
    expect(a.locator("[data-pinned-list]")).to_contain_text("The slides")
    check_accessibility(a)

    # Slow mode: A's next message, too soon, is refused beside the box with the text kept.
    moderator.get_by_label("Slow mode").select_option("30")
    moderator.get_by_role("button", name="Set slow mode").click()
    expect(a.locator("[data-slow-mode-notice]")).to_contain_text("every 30 seconds")
    send(a, "Too soon after the slides")
    expect(a.locator("#message-body-error")).to_contain_text("Slow mode is on: wait")
    expect(a.get_by_label("Your message")).to_have_value("Too soon after the slides")
    check_accessibility(a)

    # Mute A: A can read but not post (the refused text stays, read-only, to copy); the
    # moderator sees A marked muted.
    slides.get_by_role("button", name="Mute Aisha Khan").click()
    expect(a.locator("[data-muted-notice]")).to_be_visible()
    expect(a.get_by_label("Your message")).not_to_be_editable()
    expect(a.get_by_label("Your message")).to_have_value("Too soon after the slides")
    expect(a.get_by_role("button", name="Send message")).to_be_hidden()
    expect(a.get_by_label("Your question")).to_be_hidden()
    expect(moderator.locator("[data-presence-list]")).to_contain_text("Muted")
    expect(slides.get_by_role("button", name="Unmute Aisha Khan")).to_be_visible()

    # Delete the message: removed on A's screen, and from the pinned list.
    moderator.once("dialog", lambda dialog: dialog.accept())
    slides.get_by_role("button", name="Delete").click()
    expect(a.locator("[data-message-list]")).to_contain_text("Message removed")
    expect(a.locator("[data-pinned]")).to_be_hidden()
    expect(moderator.locator("[data-message-list]")).to_contain_text("Message removed")

    # Close the chat: read-only for everyone.
    moderator.once("dialog", lambda dialog: dialog.accept())
    moderator.get_by_role("button", name="Close the chat").click()
    expect(a.locator("[data-closed-notice]")).to_be_visible()
    expect(moderator.get_by_role("button", name="Reopen the chat")).to_be_visible()
    expect(moderator.get_by_label("Your message")).to_be_hidden()
    check_accessibility(a)
    check_accessibility(moderator)

    # Once the chat's time is over there is nothing to reopen: the button is no longer offered.
    ended = datetime.now(UTC) - WINDOW - timedelta(minutes=1)
    reschedule(live_server, url, ended - timedelta(hours=1), ended)
    moderator.reload()
    expect(moderator.locator("[data-closed-notice]")).to_be_visible()
    # (the tools show once the page has joined the chat and has the server's state)
    expect(moderator.get_by_role("button", name="Set slow mode")).to_be_visible()
    expect(moderator.get_by_role("button", name="Reopen the chat")).to_be_hidden()
    expect(moderator.get_by_role("button", name="Close the chat")).to_be_hidden()
    check_accessibility(moderator)


def test_a_draft_and_the_focus_survive_the_chat_closing_while_members_type(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live chat: closing while members type")
    moderator = member_on(new_context, MODERATOR, url)
    a, b = member_on(new_context, A, url), member_on(new_context, B, url)
    draft = "A long, half-written question about how flow coaching started"
    b_box = b.get_by_label("Your message")
    b_box.click()
    b_box.press_sequentially(draft)
    a.get_by_label("Your message").focus()  # nothing typed yet

    moderator.once("dialog", lambda dialog: dialog.accept())
    moderator.get_by_role("button", name="Close the chat").click()
    # B's draft stays where it was, read-only and still focused, with a note that it was not sent.
    expect(b.locator("[data-closed-notice]")).to_be_visible()
    expect(b_box).to_be_visible()
    expect(b_box).to_have_value(draft)
    expect(b_box).not_to_be_editable()
    expect(b_box).to_be_focused()
    expect(b.locator("#message-body-held")).to_have_text(
        "Your message has not been sent. It stays here so that you can copy it."
    )
    expect(b.get_by_role("button", name="Send message")).to_be_hidden()
    expect(b.locator("[data-announcer]")).to_contain_text("The chat has closed")
    expect(b.locator("[data-announcer]")).to_contain_text("Your message has not been sent")
    # A's empty box goes; A's focus goes to the notice saying why, not to the page's body.
    expect(a.get_by_label("Your message")).to_be_hidden()
    expect(a.locator("[data-closed-notice]")).to_be_focused()
    # The moderator's focus, on the close button that has gone, goes to the notice too.
    expect(moderator.locator("[data-closed-notice]")).to_be_focused()
    for page in (a, b, moderator):
        check_accessibility(page)

    # Reopened: B's draft can be finished and sent.
    moderator.get_by_role("button", name="Reopen the chat").click()
    expect(b_box).to_be_editable()
    expect(b.locator("#message-body-held")).to_be_hidden()
    b_box.press_sequentially(" first?")
    b.get_by_role("button", name="Send message").click()
    expect(a.locator("[data-message-list]")).to_contain_text(f"{draft} first?")
    check_accessibility(b)


def test_what_a_moderator_removes_or_pins_while_a_member_is_offline_shows_when_they_return(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live chat: moderated while offline")
    moderator = member_on(new_context, MODERATOR, url)
    b = member_on(new_context, B, url)
    send(moderator, "The slides: https://example.org/slides")
    send(moderator, "A message posted by mistake")
    expect(b.locator("[data-message-list]")).to_contain_text("A message posted by mistake")

    # B's connection drops (as in the catching-up test); meanwhile the moderator removes one
    # message and pins the other.
    b.context.set_offline(True)
    b.evaluate("window.peerlearnLive.socket.io.engine.close()")
    expect(b.locator("[data-live-status]")).to_have_text("Reconnecting…")
    # (li[data-message-id]: a stored message, not the one still "Sending…")
    mistake = moderator.locator("[data-message-list] li[data-message-id]", has_text="by mistake")
    mistake_id = f"#message-{mistake.get_attribute('data-message-id')}"
    moderator.once("dialog", lambda dialog: dialog.accept())
    mistake.get_by_role("button", name="Delete").click()
    expect(moderator.locator(mistake_id)).to_contain_text("Message removed")
    slides = moderator.locator("[data-message-list] li[data-message-id]", has_text="The slides")
    slides.get_by_role("button", name="Pin").click()
    expect(slides.get_by_role("button", name="Unpin")).to_be_visible()
    expect(b.locator("[data-message-list]")).to_contain_text("A message posted by mistake")

    # B comes back: the removed message is removed, the pinned one pinned, in the chat itself.
    b.context.set_offline(False)
    expect(b.locator("[data-live-status]")).to_contain_text("Reconnected")
    expect(b.locator(mistake_id)).to_contain_text("Message removed")
    expect(b.locator("[data-message-list]")).not_to_contain_text("A message posted by mistake")
    b_slides = b.locator("[data-message-list] li", has_text="The slides")
    expect(b_slides.locator(".pl-chat__pinned-tag")).to_have_text("Pinned")
    expect(b.locator("[data-pinned-list]")).to_contain_text("The slides")
    check_accessibility(b)
