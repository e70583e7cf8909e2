"""Access to discussions as pages and lists enforce it: the SQL filters agree with the
single-item check for every actor, and the HTTP answers for the cases people meet."""

from __future__ import annotations

import itertools

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, null, select

from peerlearn.core.db import utcnow
from peerlearn.discussions import reading, removal, services
from peerlearn.discussions.models import Post, Thread, ThreadKind
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.permissions import (
    can,
    post_copy_filter,
    post_filter,
    thread_and_post_filter,
    thread_copy_filter,
    thread_filter,
)
from peerlearn.spaces.models import MemberRole, MemberState, Visibility
from tests.accounts.pages import Page
from tests.roles import ACTIVE, STATES

WRITERS = ACTIVE | {"admin"}
MODERATORS = {"moderator", "owner", "admin"}
NOBODY: set[str] = set()


# The list filters agree with the single-item check ---------------------------------------------


def test_list_filters_agree_with_single_item_check(make_space, make_user, add_member):
    """One world with threads and posts in every state in every kind of space, and every kind of
    actor: the SQL filters used by lists, and those search applies to its copy of each thing's
    space, contain exactly what the single-item check allows."""
    spaces = [
        make_space(visibility=visibility, archived=False)
        for visibility, _ in itertools.product(Visibility, (False, True))
    ]
    for space in spaces:
        author = space.memberships[0].user
        for state in ("open", "question", "locked", "pinned", "hidden"):
            kind = ThreadKind.question if state == "question" else ThreadKind.discussion
            thread, _ = services.start_thread(author, space, ThreadDraft(state, "Body", kind))
            live, _ = services.reply(author, thread, "A live reply")
            services.reply(author, thread, "A nested reply", parent=live)
            deleted, _ = services.reply(author, thread, "A deleted reply")
            removal.delete_post(author, deleted)
            hidden, _ = services.reply(author, thread, "A hidden reply")
            moderation.set_post_hidden(author, hidden, True)
            if state in {"locked", "pinned", "hidden"}:
                moderation.set_thread_flag(author, thread, state, True)
    for space in spaces[1::2]:  # every visibility both live and archived
        space.archived_at = utcnow()
    db.session.commit()

    actors: list[object] = [AnonymousUserMixin(), make_user("Admin", admin=True)]
    for role, (member_role, state) in STATES.items():
        # Two people per standing: one holds it in the live spaces, one in the archived ones.
        for half in (spaces[0::2], spaces[1::2]):
            user = make_user(f"Someone {role}")
            for space in half:
                add_member(space, user, member_role, state)
            actors.append(user)
    actors.append(make_user("Outsider"))
    former = make_user("Deactivated moderator", active=False)
    for space in spaces:
        add_member(space, former, MemberRole.moderator)
    actors.append(former)

    threads = db.session.scalars(select(Thread)).all()
    posts = db.session.scalars(select(Post)).all()
    assert len(threads) == 30 and len(posts) == 150
    disagreements = []
    for actor in actors:
        listed = set(db.session.scalars(select(Thread.id).where(thread_filter(actor))))
        allowed = {thread.id for thread in threads if can(actor, "view", thread)}
        disagreements += _describe(actor, listed, allowed, threads)
        # The search index's filters, on the real tables' own ids and spaces.
        listed = set(
            db.session.scalars(
                select(Thread.id).where(thread_copy_filter(actor, Thread.id, Thread.space_id))
            )
        )
        disagreements += _describe(actor, listed, allowed, threads)
        # The notification centre's, about a thread itself (no post) and about each of its posts.
        listed = set(
            db.session.scalars(select(Thread.id).where(thread_and_post_filter(actor, null())))
        )
        disagreements += _describe(actor, listed, allowed, threads)
        listed = set(db.session.scalars(select(Post.id).where(post_filter(actor))))
        allowed = {post.id for post in posts if can(actor, "view", post)}
        disagreements += _describe(actor, listed, allowed, posts)
        listed = set(
            db.session.scalars(
                select(Post.id)
                .join(Thread, Thread.id == Post.thread_id)
                .where(post_copy_filter(actor, Post.id, Post.thread_id, Thread.space_id))
            )
        )
        disagreements += _describe(actor, listed, allowed, posts)
        listed = set(
            db.session.scalars(
                select(Post.id)
                .join(Thread, Thread.id == Post.thread_id)
                .where(thread_and_post_filter(actor, Post.id))
            )
        )
        disagreements += _describe(actor, listed, allowed, posts)
    assert not disagreements, "\n".join(disagreements)


def _describe(actor, listed: set[int], allowed: set[int], items) -> list[str]:
    """One line per item the filter and the single-item check disagree on."""
    lines = []
    for item in items:
        if (item.id in listed) == (item.id in allowed):
            continue
        thread = item if isinstance(item, Thread) else item.thread
        what = "the thread" if item is thread else f"post {item.body_source!r} in"
        where = f"{thread.space.visibility.value}{' archived' if thread.space.archived else ''}"
        who = getattr(actor, "display_name", "anonymous")
        side = "only the filter" if item.id in listed else "only can()"
        lines.append(f"{who}: {what} {thread.title!r} ({where}) is allowed by {side}")
    return lines


# The same rules through HTTP -------------------------------------------------------------------


def _count_posts() -> int:
    return db.session.scalar(select(func.count()).select_from(Post))


@pytest.fixture
def private_thread(make_space):
    """A thread in a private space, by its owner."""
    space = make_space("Private network leads", visibility=Visibility.private)
    thread, _ = services.start_thread(
        space.memberships[0].user, space, ThreadDraft("Confidential board paper", "Do not share.")
    )
    return thread


def test_non_members_get_not_found_for_a_private_thread(client, private_thread, make_user, login):
    login(client, make_user())
    assert client.get(f"/threads/{private_thread.id}").status_code == 404
    assert client.get(f"/threads/{private_thread.id}/reply").status_code == 404
    response = client.post(f"/threads/{private_thread.id}/reply", data={"body": "Let me in"})
    assert response.status_code == 404
    assert _count_posts() == 1
    assert "Confidential board paper" not in client.get("/threads").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in_for_a_private_thread(client, private_thread):
    response = client.get(f"/threads/{private_thread.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_anonymous_visitors_read_public_threads_but_cannot_reply(client, make_space):
    space = make_space(visibility=Visibility.public)
    thread, _ = services.start_thread(
        space.memberships[0].user, space, ThreadDraft("Open to all", "Read me.")
    )
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Read me." in page
    assert "Sign in</a> to reply" in page
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Drive-by"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _count_posts() == 1


def test_banned_members_cannot_reply(client, make_space, make_user, add_member, login):
    space = make_space(visibility=Visibility.public)
    thread, _ = services.start_thread(
        space.memberships[0].user, space, ThreadDraft("Open to all", "Read me.")
    )
    banned = make_user("Barry Banned")
    add_member(space, banned, MemberRole.member, MemberState.banned)
    login(client, banned)
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Post reply" not in page
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "I'm back"})
    assert response.status_code == 403
    assert _count_posts() == 1


def test_members_cannot_act_on_others_posts_beyond_their_rights(
    client, sig, member, login, start_thread, post_reply, new_client
):
    author, other = member("Aisha Author"), member("Omar Other")
    login(client, author)
    thread = start_thread(client, sig)
    reply = post_reply(client, thread, body="My own reply")
    assert client.post(f"/posts/{reply.id}/helpful").status_code == 403  # own post
    assert client.get(f"/posts/{reply.id}/report").status_code == 403  # own post
    browser = new_client()
    login(browser, other)
    assert browser.get(f"/posts/{reply.id}/edit").status_code == 403
    assert browser.post(f"/posts/{reply.id}/edit", data={"body": "Hijacked"}).status_code == 403
    assert browser.post(f"/posts/{reply.id}/delete").status_code == 403
    assert browser.post(f"/posts/{reply.id}/moderate", data={"action": "hide"}).status_code == 403
    db.session.expire_all()
    stored = db.session.get(Post, reply.id)
    assert stored.body_source == "My own reply"
    assert stored.deleted_at is None and stored.hidden_at is None


def test_reply_page_never_shows_a_post_the_reader_cannot_see(
    client, sig, member, login, start_thread, private_thread
):
    """The post being replied to is shown above the form: only if the reader may see it."""
    login(client, member())
    thread = start_thread(client, sig)
    secret = reading.opening_post(private_thread)
    page = client.get(f"/threads/{thread.id}/reply?to={secret.id}", follow_redirects=True)
    page = page.get_data(as_text=True)
    assert "You can only reply to a post in this thread" in page
    assert "Do not share." not in page


def test_a_refused_reply_never_shows_a_post_the_reader_cannot_see(
    client, sig, member, login, start_thread, private_thread
):
    login(client, member())
    thread = start_thread(client, sig)
    secret = reading.opening_post(private_thread)
    response = client.post(
        f"/threads/{thread.id}/reply", data={"body": "Replying", "parent_id": str(secret.id)}
    )
    assert "Do not share." not in response.get_data(as_text=True)
    assert _count_posts() == 2  # the two opening posts


MEMBERS_ONLY = "Only members of Quality Management Systems can reply."


#: Why someone signed in who may read a thread may not reply to it (and who), and what the
#: thread page says where the reply form would be: the one way they can change that, if any.
@pytest.mark.parametrize(
    ("why", "who", "said"),
    [
        ("archived", "reader", "This space is archived and read-only, so nobody can reply."),
        ("hidden", "moderator", "This thread is hidden, so nobody can reply to it."),
        ("locked", "reader", "This thread is locked, so you cannot reply."),
        ("not a member", "outsider", "Join Quality Management Systems to reply."),
        ("asked to join", "asker", MEMBERS_ONLY),
        ("banned", "banned", "You are banned from this space, so you cannot reply."),
    ],
)
def test_the_thread_page_says_why_someone_cannot_reply(
    why, who, said, discussion, browser, make_user, add_member
):
    space, thread = discussion.space, discussion.thread
    space.visibility = Visibility.public  # the banned still read it
    if why == "archived":
        space.archived_at = utcnow()
    thread.hidden, thread.locked = why == "hidden", why == "locked"
    db.session.commit()
    people = {"reader": discussion.reader, "moderator": discussion.moderator}
    if who not in people:
        people[who] = make_user(who.capitalize())
        state = {"asker": MemberState.requested, "banned": MemberState.banned}.get(who)
        if state is not None:
            add_member(space, people[who], MemberRole.member, state)
    shown = Page(browser(people[who]).get(f"/threads/{thread.id}")).main_text
    assert "Post reply" not in shown
    assert said in shown
