"""Cached HTML (posts, thread rows, the header's count) is never stale and never leaks.

The pages are read twice before each change, so the second read comes from the cache; every
change a reader would notice must show on the next read, and a viewer must only ever get HTML
made for their own rights and their own session.
"""

import itertools
import re
from datetime import timedelta

from flask_login import AnonymousUserMixin

from peerlearn.accounts.models import SiteRole, User
from peerlearn.core.db import utcnow
from peerlearn.discussions import services
from peerlearn.discussions.models import Post, Thread, ThreadKind
from peerlearn.extensions import db
from peerlearn.permissions import Action, post_allows, post_rights_key
from peerlearn.spaces.models import JoinPolicy, Membership, Space, Visibility
from tests.discussions.moderation_helpers import page
from tests.roles import ROLES, STATES


def twice(client, path: str) -> str:
    """The page as a reader sees it on a second visit (its fragments from the cache)."""
    client.get(path)
    return page(client.get(path))


def article(html: str, post: Post) -> str:
    """One post's <article> on a page."""
    found = re.search(rf'<article[^>]*id="post-{post.id}".*?</article>', html, re.S)
    assert found, f"post {post.id} is not on the page"
    return found.group(0)


def test_an_edit_shows_at_once(discussion, browser):
    reader = browser(discussion.reader)
    path = f"/threads/{discussion.thread.id}"
    assert "Ten minutes, at the board" in twice(reader, path)
    browser(discussion.replier).post(
        f"/posts/{discussion.reply.id}/edit", data={"body": "Fifteen minutes, standing up."}
    )
    html = article(page(reader.get(path)), discussion.reply)
    assert "Fifteen minutes, standing up." in html and "Ten minutes" not in html
    assert "edited" in html


def test_a_helpful_mark_updates_the_count_for_everyone(discussion, browser, member):
    reader = browser(discussion.reader)
    path = f"/threads/{discussion.thread.id}"
    assert "Helpful (1)" not in article(twice(reader, path), discussion.reply)
    browser(member("Sam Fan")).post(f"/posts/{discussion.reply.id}/helpful")
    assert "Helpful (1)" in article(page(reader.get(path)), discussion.reply)
    reader.post(f"/posts/{discussion.reply.id}/helpful")
    assert "you marked this helpful" in article(page(reader.get(path)), discussion.reply)


def test_a_hidden_post_disappears_for_members_at_once(discussion, browser):
    reader = browser(discussion.reader)
    path = f"/threads/{discussion.thread.id}"
    twice(reader, path)
    browser(discussion.moderator).post(
        f"/posts/{discussion.reply.id}/moderate", data={"action": "hide"}
    )
    html = article(page(reader.get(path)), discussion.reply)
    assert "This post was hidden by a moderator." in html
    assert "Ten minutes, at the board" not in html


def test_a_member_never_gets_a_moderators_cached_controls(discussion, browser):
    path = f"/threads/{discussion.thread.id}"
    moderator, reader = browser(discussion.moderator), browser(discussion.reader)
    assert "Hide this post" in twice(moderator, path)
    as_member = twice(reader, path)
    assert "Hide this post" not in as_member and f"/posts/{discussion.reply.id}/edit" not in (
        as_member
    )
    # And the other way round: the member's HTML is not what the moderator gets.
    assert "Hide this post" in page(moderator.get(path))


def test_cached_forms_carry_the_viewers_own_token(discussion, browser):
    path = f"/threads/{discussion.thread.id}"
    browser(discussion.author).get(path)  # someone else's visit fills the cache
    reader = browser(discussion.reader)
    html = twice(reader, path)
    own = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    forms = re.findall(r'name="csrf_token" value="([^"]+)"', article(html, discussion.reply))
    assert forms and set(forms) == {own}
    helpful = reader.post(f"/posts/{discussion.reply.id}/helpful", data={"csrf_token": own})
    assert helpful.status_code == 302


def test_a_renamed_author_shows_under_their_posts(discussion, browser):
    reader = browser(discussion.reader)
    path = f"/threads/{discussion.thread.id}"
    twice(reader, path)
    discussion.replier.display_name = "Thomas Reid"
    db.session.commit()
    assert "Thomas Reid" in article(page(reader.get(path)), discussion.reply)


def test_the_thread_list_shows_a_new_reply_and_each_readers_unread_count(
    discussion, browser, member
):
    path = f"/spaces/{discussion.space.slug}/threads"
    reader, author = browser(discussion.reader), browser(discussion.author)
    assert "1 reply" in twice(reader, path)
    twice(author, path)
    services.reply(member("Late Comer"), discussion.thread, "Five minutes is plenty.")
    assert "2 replies" in page(reader.get(path))
    # Same row, each reader's own count: the reader has read nothing, the author their post.
    assert ">3 unread<" in page(reader.get(path))
    assert ">2 unread<" in page(author.get(path))


def header_count(html: str) -> int:
    return int(re.search(r'data-notification-count aria-hidden="true">(\d+)<', html).group(1))


def test_a_new_notification_shows_in_the_header_at_once(app, discussion, browser, monkeypatch):
    # Kept for an hour here, so only clearing it on the write can explain a change.
    monkeypatch.setitem(app.config, "HEADER_COUNT_SECONDS", 3600)
    author = browser(discussion.author)
    before = header_count(twice(author, "/about"))  # the fixture's reply told them once already
    browser(discussion.replier).post(
        f"/threads/{discussion.thread.id}/reply", data={"body": "One more thing."}
    )
    assert header_count(page(author.get("/about"))) == before + 1
    author.post("/notifications/read")
    assert header_count(page(author.get("/about"))) == 0


def test_the_rights_key_decides_every_answer_about_a_post():
    """Two viewers of two posts with equal keys get equal answers, over the role table."""
    answers: dict[tuple[object, ...], tuple[bool, ...]] = {}
    ids = itertools.count(1)
    for (
        role,
        visibility,
        archived,
        hidden,
        locked,
        kind,
        state,
        root,
        own,
        asker,
    ) in itertools.product(
        ROLES,
        list(Visibility),
        (False, True),
        (False, True),
        (False, True),
        list(ThreadKind),
        ("shown", "hidden", "deleted"),
        (False, True),
        (False, True),
        (False, True),
    ):
        viewer: object = AnonymousUserMixin()
        membership = None
        space = Space(
            id=next(ids),
            visibility=visibility,
            join_policy=JoinPolicy.open,
            archived_at=utcnow() if archived else None,
        )
        if role != "anonymous":
            viewer = User(
                id=next(ids),
                active=True,
                site_role=SiteRole.admin if role == "admin" else SiteRole.member,
            )
            if role in STATES:
                membership = Membership(role=STATES[role][0], state=STATES[role][1])
        me = getattr(viewer, "id", None)
        thread = Thread(
            id=next(ids),
            space=space,
            hidden=hidden,
            locked=locked,
            kind=kind,
            author_id=me if asker else -1,
        )
        now = utcnow() - timedelta(hours=1)
        post = Post(
            id=next(ids),
            thread=thread,
            root_id=None if root else 1,
            author_id=me if own else -1,
            hidden_at=now if state == "hidden" else None,
            deleted_at=now if state == "deleted" else None,
        )
        answer = tuple(post_allows(viewer, action, post, membership) for action in Action)
        key = post_rights_key(viewer, post, membership)
        assert answers.setdefault(key, answer) == answer, (role, key)
    assert len(answers) > 100
