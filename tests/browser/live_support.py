"""What the live chat's browser tests share: the demo members who take part, an event whose chat
is open now, a member's own browser joined to it, and ways to send, read and move the event."""

import re
import secrets
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from .browser_support import LiveServer, NewContext, check_accessibility

MODERATOR = "kwame-mensah@peerlearn.example"  # moderates the QMS SIG
A = "aisha-khan@peerlearn.example"  # member of the QMS SIG
B = "rachel-moss@peerlearn.example"  # member of the QMS SIG

#: The chat's time window in the served app (the defaults): it opens this long before the start
#: and closes this long after the end.
WINDOW = timedelta(minutes=30)


def open_event(new_context: NewContext, title: str) -> str:
    """The address of an event the QMS SIG's moderator scheduled for the whole of today (London
    time), so its chat is open now. The moderator's browser posts the schedule form without
    showing it: showing and checking it took every test here a few seconds, and
    test_accessibility.py checks it once."""
    request = new_context(signed_in_as=MODERATOR).request
    path = "/spaces/qms/events/new"
    form = request.get(path).text()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', form).group(1)
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London"))
    scheduled = request.post(
        path,
        form={
            "csrf_token": token, "title": title, "date": f"{today:%d/%m/%Y}",
            "start_time": "00:00", "end_time": "23:59",
            "joining_url": "https://meet.example.org/qms-live",
        },
        max_redirects=0,
    )  # fmt: skip
    assert scheduled.status == 302, scheduled.text()
    return scheduled.headers["location"]


def reschedule(live_server: LiveServer, url: str, starts_at: datetime, ends_at: datetime) -> None:
    """Move the event at ``url`` to these times, to the second: the form sets whole minutes, and
    a test of the chat opening or closing by itself cannot wait for the next one. Stored as the
    app stores times in SQLite (UTC, without the zone)."""
    event_id = int(re.search(r"/events/(\d+)", url).group(1))
    stored = "%Y-%m-%d %H:%M:%S.%f"
    with closing(sqlite3.connect(live_server.database)) as database, database:
        database.execute(
            "UPDATE events SET starts_at = ?, ends_at = ? WHERE id = ?",
            (f"{starts_at:{stored}}", f"{ends_at:{stored}}", event_id),
        )


def joined(page: Page) -> None:
    """Wait until the page has joined the chat and shows the state the server gave it (a page
    served once the chat's time was over has no live chat to join)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-live-chat]') || window.peerlearnLive?.joined"
    )


def member_on(new_context: NewContext, email: str, url: str) -> Page:
    """A member's own browser on the event page, live (joined the chat)."""
    page = new_context(signed_in_as=email).new_page()
    page.goto(url)
    expect(page.locator("[data-presence-summary]")).to_contain_text("here now")
    check_accessibility(page)
    return page


def drop_connection(page: Page) -> None:
    """Take the page's network away, and its chat's connection with it. Chromium's offline mode
    does not cut a WebSocket that is already open, so the connection is closed too (as a dropped
    Wi-Fi would); while offline it cannot come back."""
    page.context.set_offline(True)
    page.evaluate("window.peerlearnLive.socket.io.engine.close()")
    expect(page.locator("[data-live-status]")).to_have_text("Reconnecting…")


def send(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send message").click()


def chat_texts(page: Page) -> list[str]:
    return page.locator("[data-message-list] .pl-chat__body").all_inner_texts()


def event_id_of(url: str) -> int:
    return int(re.search(r"/events/(\d+)", url).group(1))


def store_without_broadcast(live_server: LiveServer, url: str, email: str, *texts: str) -> None:
    """Store chat messages as a server does, in order, and stop before broadcasting them (as a
    server that stopped between its commit and its broadcast would leave them)."""
    event_id = event_id_of(url)
    with closing(sqlite3.connect(live_server.database)) as database, database:
        database.executemany(
            "INSERT INTO chat_messages (event_id, author_id, client_id, body_source, body_html,"
            " created_at, previous_id) SELECT ?, users.id, ?, ?, ?, ?, (SELECT max(id) FROM"
            " chat_messages WHERE event_id = ?) FROM users WHERE users.email = ?",
            [(event_id, f"never-broadcast-{secrets.token_hex(8)}", text, f"<p>{text}</p>",
              f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S.%f}", event_id, email) for text in texts],
        )  # fmt: skip
