"""Hostile text through every place discussions show it: thread pages and lists, the reply, edit
and history pages, previews, the notification centre and e-mail, tags, mentions and the
moderation queue. Whatever an author writes, it reaches readers as text, never as markup."""

from __future__ import annotations

import email
import email.policy
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from peerlearn.core.text import ALLOWED_TAGS
from peerlearn.discussions import reading, services
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.moderation.models import FlagReason
from peerlearn.moderation.services import flag_post
from peerlearn.notifications.emails import set_email_frequency
from peerlearn.notifications.models import EmailFrequency
from peerlearn.spaces.models import MemberRole, Visibility
from tests.core.test_text import PAYLOADS, assert_safe

#: Tags that never belong inside a page's main content, whoever wrote it.
FOREIGN_TAGS = {
    "script", "style", "svg", "math", "img", "iframe", "object", "embed", "base", "meta", "link",
    "details", "noscript", "frame", "frameset", "applet", "video", "audio", "source", "template",
}  # fmt: skip
#: Attributes that carry a URL a browser may follow or load.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "background", "poster"}
#: The tags of the notification e-mail's own template.
EMAIL_TAGS = {"html", "head", "meta", "title", "body", "p", "h2", "blockquote", "a", "hr"}


class _Tags(HTMLParser):
    """Every start tag in a document, with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def start_tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def _scheme(url: str) -> str:
    """The scheme a browser would see: it trims controls and spaces and drops tabs and newlines
    (percent-escapes are never decoded in a scheme, so they make a relative link)."""
    compact = re.sub(r"[\t\n\r]", "", url.strip("".join(map(chr, range(0x21))))).lower()
    return compact.split(":", 1)[0] if re.match(r"[a-z][a-z0-9+.-]*:", compact) else ""


def assert_no_active_attributes(html: str) -> None:
    """No event handlers and no script URLs in any tag of the document."""
    for tag, attrs in start_tags(html):
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in URL_ATTRIBUTES:
                assert _scheme(value or "") not in {"javascript", "vbscript", "data"}, (tag, value)


def user_content(html: str) -> list[str]:
    """The inner HTML of each block of stored, sanitised user content on a page."""
    return re.findall(r'<div class="pl-user-content[^"]*">(.*?)</div>', html, re.DOTALL)


def assert_page_safe(response, *texts: str) -> None:
    """The page shows ``texts`` only as text: none appears raw, no tag carries a handler or a
    script URL, every script is the app's own (it carries this response's CSP nonce), the main
    content has no foreign tags, and every user-content block passes the sanitiser's oracle."""
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    for text in texts:
        for variant in {text, " ".join(text.split())}:  # titles are stored with spaces tidied
            if "<" in variant:
                assert variant not in html, variant
    assert_no_active_attributes(html)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    for tag, attrs in start_tags(html):
        if tag == "script":
            assert dict(attrs).get("nonce") == nonce, attrs
    main = html[html.index("<main") : html.index("</main>")]
    foreign = [tag for tag, _ in start_tags(main) if tag in FOREIGN_TAGS]
    assert foreign == [], foreign
    for block in user_content(html):
        assert_safe(block)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_payload_list_is_long_enough():
    assert len(PAYLOADS) >= 40


# (a) Threads: title, opening post and replies, on every page that shows them -------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_thread_pages_show_hostile_text_as_text(
    payload, client, sig, member, login, start_thread, post_reply
):
    author = member(payload[:120])  # a hostile display name, too
    login(client, author)
    thread = start_thread(client, sig, title=payload, body=payload)
    reply = post_reply(client, thread, body=payload)
    services.edit_post(author, reply, payload + "\n\n(edited)")

    thread_page = client.get(f"/threads/{thread.id}")
    assert_page_safe(thread_page, payload)
    assert len(user_content(thread_page.get_data(as_text=True))) == 2
    for path in (
        f"/spaces/{sig.slug}/threads",
        "/threads",
        f"/threads/{thread.id}/reply?to={reply.id}&quote=1",  # the post shown and quoted
        f"/posts/{reply.id}/edit",
        f"/posts/{reading.opening_post(thread).id}/edit",  # title and body in form fields
        f"/posts/{reply.id}/history",
    ):
        assert_page_safe(client.get(path), payload)


# (b) and (c) Notifications: the centre and the e-mail ------------------------------------------


@pytest.fixture
def mentioned_in_hostile_thread(sig, member):
    """A member mentioned in a thread whose title, text and author's name are all hostile."""

    def make(payload: str, frequency: EmailFrequency = EmailFrequency.daily):
        reader = member("Rosa Reader")
        set_email_frequency(reader, frequency)
        author = member(payload[:120])
        services.start_thread(
            author, sig, ThreadDraft(title=payload, body=f"@{reader.handle} see below\n\n{payload}")
        )
        return reader

    return make


@pytest.mark.parametrize("payload", PAYLOADS)
def test_notification_centre_shows_hostile_titles_as_text(
    payload, client, login, mentioned_in_hostile_thread
):
    reader = mentioned_in_hostile_thread(payload)
    login(client, reader)
    response = client.get("/notifications")
    assert "mentioned you in" in response.get_data(as_text=True)
    assert_page_safe(response, payload)


def _html_parts(folder: Path, address: str) -> list[str]:
    parts = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            parts.append(message.get_body(preferencelist=("html",)).get_content())
    return parts


@pytest.mark.parametrize("payload", PAYLOADS)
def test_notification_email_shows_hostile_text_as_text(
    payload, app, outbox, mentioned_in_hostile_thread
):
    reader = mentioned_in_hostile_thread(payload, EmailFrequency.immediate)
    outbox.last(reader.email)  # the mention was e-mailed straight away
    (html,) = _html_parts(Path(app.config["MAIL_OUTBOX_DIR"]), reader.email)
    assert "<" not in payload or payload not in html
    assert_no_active_attributes(html)
    tags = {tag for tag, _ in start_tags(html)}
    assert tags <= EMAIL_TAGS | ALLOWED_TAGS, tags - EMAIL_TAGS - ALLOWED_TAGS
    heading = re.search(r"<h2>(.*?)</h2>", html, re.DOTALL).group(1)
    assert "mentioned you in" in heading
    assert_safe(heading)
    quoted = re.search(r"<blockquote>(.*)</blockquote>", html, re.DOTALL).group(1)
    assert "see below" in quoted
    assert_safe(quoted)


# (d) Previews -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_previews_show_hostile_text_as_text(payload, client, sig, member, login):
    author = member()
    login(client, author)
    new_thread = client.post(
        f"/spaces/{sig.slug}/threads/new",
        data={"title": payload, "body": payload, "kind": "discussion", "action": "preview"},
    )
    assert "preview-heading" in new_thread.get_data(as_text=True)
    assert_page_safe(new_thread, payload)

    thread, _ = services.start_thread(author, sig, ThreadDraft("A safe title", "Safe text"))
    reply = client.post(f"/threads/{thread.id}/reply", data={"body": payload, "action": "preview"})
    assert "preview-heading" in reply.get_data(as_text=True)
    assert_page_safe(reply, payload)
    assert _count(Thread) == 1 and _count(Post) == 1  # previews store nothing

    live = client.post("/preview", data={"body": payload})
    assert live.status_code == 200
    assert_safe(live.get_json()["html"])


# (e) Tags and mentions --------------------------------------------------------------------------


def test_tags_and_mentions_with_markup_are_shown_as_text(
    client, make_space, make_user, add_member, login, start_thread, new_client
):
    space = make_space("Private improvement leads", visibility=Visibility.private)
    author, named = make_user("Ada Author"), make_user("<script>alert(1)</script>")
    outsider = make_user("<img src=x onerror=alert(2)>")  # not a member: cannot be notified
    add_member(space, author)
    add_member(space, named)
    hostile_tags = "<img src=x onerror=alert(1)>, <script>alert(3)</script>"
    body = "Thanks @[<script>alert(1)</script>] and @[<img src=x onerror=alert(2)>]"
    texts = (
        "<img src=x onerror=alert(1)>",
        "<script>alert(3)</script>",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(2)>",
    )
    login(client, author)

    preview = client.post(
        f"/spaces/{space.slug}/threads/new",
        data={"title": "Tags", "body": body, "kind": "discussion", "tags": hostile_tags,
              "action": "preview"},
    )  # fmt: skip
    assert "cannot see or take part in this space" in preview.get_data(as_text=True)
    assert_page_safe(preview, *texts)

    thread = start_thread(client, space, title="Tags", body=body, tags=hostile_tags)
    assert sorted(tag.name for tag in thread.tags) == sorted(texts[:2])
    opening = reading.opening_post(thread)
    assert 'class="pl-mention"' in opening.body_html  # the hostile name still links
    thread_page = client.get(f"/threads/{thread.id}")  # with the "not notified" message
    assert (
        "cannot see or take part in this space, so they were not notified"
        in thread_page.get_data(as_text=True)
    )
    assert_page_safe(thread_page, *texts)
    for path in (f"/spaces/{space.slug}/threads", "/threads"):
        assert_page_safe(client.get(path), *texts)

    reader = new_client()
    login(reader, named)
    centre = reader.get("/notifications")
    assert "mentioned you in" in centre.get_data(as_text=True)
    assert_page_safe(centre, *texts)
    assert outsider.id  # mentioned but never notified: they cannot see the space


# The moderation queue ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_moderation_queue_shows_hostile_text_as_text(payload, client, sig, member, login):
    moderator = member("Mo Moderator", role=MemberRole.moderator)
    author, reporter = member(payload[:120]), member(payload[:120] + " 2")
    thread, _ = services.start_thread(author, sig, ThreadDraft(payload, payload))
    post, _ = services.reply(author, thread, payload)
    flag_post(reporter, post, FlagReason.other, note=payload)
    login(client, moderator)
    response = client.get(f"/spaces/{sig.slug}/moderation")
    assert "Reported posts" in response.get_data(as_text=True)
    assert_page_safe(response, payload)
