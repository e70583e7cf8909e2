"""A member banned from the space while their connection is down, with a message waiting to be
sent, in a real browser: the chat refuses to take them back, and the message they wrote comes
back to its box, read-only, saying it was not sent, instead of "Sending…" for ever. Every page
shown is checked with axe-core. The member banned is one no other browser test uses (the served
app is shared by them all)."""

import re

import pytest
from playwright.sync_api import expect

from .browser_support import NewContext, check_accessibility
from .live_support import MODERATOR, drop_connection, member_on, open_event, send

pytestmark = pytest.mark.browser

FIONA = "fiona-mcleod@peerlearn.example"  # member of the QMS SIG


def test_a_message_waiting_to_be_sent_comes_back_to_its_box_when_the_chat_refuses_a_rejoin(
    new_context: NewContext,
) -> None:
    url = open_event(new_context, "Live chat: banned while offline")
    fiona = member_on(new_context, FIONA, url)
    user_id = fiona.locator("[data-live-chat]").get_attribute("data-me")

    drop_connection(fiona)
    send(fiona, "Could we share the pilot's run charts?")
    expect(fiona.locator(".pl-chat__message--pending")).to_be_visible()

    moderator = new_context(signed_in_as=MODERATOR).request
    members = moderator.get("/spaces/qms/members").text()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', members).group(1)
    banned = moderator.post(
        f"/spaces/qms/members/{user_id}/ban",
        form={"csrf_token": token, "reason": "Testing the live chat"},
        max_redirects=0,
    )
    assert banned.status == 302, banned.text()

    fiona.context.set_offline(False)
    expect(fiona.locator("[data-live-status]")).to_contain_text("The live chat is not available")
    expect(fiona.locator(".pl-chat__message--pending")).to_have_count(0)
    box = fiona.get_by_label("Your message")
    expect(box).to_have_value("Could we share the pilot's run charts?")
    expect(fiona.locator("#message-body-error")).to_contain_text("Not sent")
    check_accessibility(fiona)
