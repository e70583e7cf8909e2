"""Moderators move threads, bans stop posting, and replies that break the rules are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.discussions import reading, removal, services
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.spaces.models import MemberRole, Membership, MemberState, Space, Visibility
from peerlearn.spaces.services import set_archived
from tests.accounts.pages import Page
from tests.concurrency import at_once, first_writes_meet, one_inside_another
from tests.discussions.moderation_helpers import (
    audit,
    audit_entry,
    count,
    follow,
    page,
)
from tests.spaces.flows import owner_of

#: Each moderator action on a thread: the flag it sets, to what, and what the audit log says.
THREAD_ACTIONS = [
    ("pin", "pinned", True, "thread.pinned", "The thread was already pinned."),
    ("unpin", "pinned", False, "thread.unpinned", "The thread was already unpinned."),
    ("lock", "locked", True, "thread.locked", "The thread was already locked."),
    ("unlock", "locked", False, "thread.unlocked", "The thread was already unlocked."),
    ("hide", "hidden", True, "thread.hidden", "The thread was already hidden."),
    ("unhide", "hidden", False, "thread.restored", "The thread was already visible."),
]

# Pinning, locking and hiding twice --------------------------------------------------------------


@pytest.mark.parametrize(("action", "flag", "value", "logged", "_"), THREAD_ACTIONS)
def test_two_moderators_changing_a_thread_at_once_change_and_audit_it_once(
    app, discussion, member, action, flag, value, logged, _
):
    """Both moderators found the thread as it was before either wrote: it changes once, and the
    audit log says so once."""
    thread = discussion.thread
    setattr(thread, flag, not value)
    db.session.commit()
    thread_id = thread.id
    moderators = [discussion.moderator.id, member("Second", role=MemberRole.moderator).id]

    def change(moderator_id: int):
        return lambda: moderation.set_thread_flag(
            db.session.get(User, moderator_id), db.session.get(Thread, thread_id), flag, value
        )

    with first_writes_meet("UPDATE threads", before=True):
        at_once(app, [change(moderator_id) for moderator_id in moderators])
    db.session.expire_all()
    assert getattr(db.session.get(Thread, thread_id), flag) is value
    assert audit() == [logged]


@pytest.mark.parametrize(("action", "flag", "value", "logged", "already"), THREAD_ACTIONS)
def test_a_thread_action_pressed_twice_is_audited_once_and_says_so(
    discussion, browser, action, flag, value, logged, already
):
    thread = discussion.thread
    setattr(thread, flag, not value)
    db.session.commit()
    moderator = browser(discussion.moderator)
    first = moderator.post(f"/threads/{thread.id}/moderate", data={"action": action})
    assert already not in follow(moderator, first)
    second = moderator.post(f"/threads/{thread.id}/moderate", data={"action": action})
    assert already in follow(moderator, second)
    assert getattr(thread, flag) is value
    assert audit() == [logged]


def test_slow_mode_set_again_to_what_it_is_is_audited_once_and_says_so(discussion, browser):
    thread = discussion.thread
    moderator = browser(discussion.moderator)
    slow_mode = {"action": "slow_mode", "seconds": "300"}
    first = moderator.post(f"/threads/{thread.id}/moderate", data=slow_mode)
    assert "Slow mode updated." in follow(moderator, first)
    second = moderator.post(f"/threads/{thread.id}/moderate", data=slow_mode)
    assert "Slow mode was already set to that." in follow(moderator, second)
    assert thread.slow_mode_seconds == 300
    assert audit() == ["thread.slow_mode"]


# Moving threads ---------------------------------------------------------------------------------


def test_moving_a_thread_to_another_moderated_space(
    discussion, browser, make_space, make_user, add_member
):
    thread = discussion.thread
    board = make_space("Board development", visibility=Visibility.private)
    add_member(board, discussion.moderator, MemberRole.moderator)
    elsewhere = make_space("Measurement for improvement")
    add_member(elsewhere, discussion.moderator, MemberRole.member)  # a member, not a moderator
    board_member = make_user("Bea Board")
    add_member(board, board_member)

    assert browser(discussion.author).get(f"/threads/{thread.id}/move").status_code == 403
    moderator = browser(discussion.moderator)
    form = page(moderator.get(f"/threads/{thread.id}/move"))
    assert "Board development" in form
    assert "Measurement for improvement" not in form

    refused = moderator.post(f"/threads/{thread.id}/move", data={"space_id": str(elsewhere.id)})
    assert refused.status_code == 200
    assert "Choose a space you moderate" in page(refused)
    assert thread.space_id == discussion.space.id

    moved = moderator.post(f"/threads/{thread.id}/move", data={"space_id": str(board.id)})
    assert moved.status_code == 302
    assert thread.space_id == board.id
    assert "Weekly huddles that work" in page(moderator.get(f"/spaces/{board.slug}/threads"))
    assert "Weekly huddles that work" not in page(
        moderator.get(f"/spaces/{discussion.space.slug}/threads")
    )
    # Its readers are now the private space's members.
    assert browser(discussion.reader).get(f"/threads/{thread.id}").status_code == 404
    assert browser(board_member).get(f"/threads/{thread.id}").status_code == 200
    entry = audit_entry("thread.moved")
    assert entry.actor_id == discussion.moderator.id
    assert entry.detail["to_space"] == board.slug


def test_a_move_is_in_the_audit_log_of_both_spaces(discussion, browser, make_space, add_member):
    """The owners of the space a thread left and of the one it joined each find the move in
    their own space's audit log, naming the other space."""
    source, thread = discussion.space, discussion.thread
    board = make_space("Board development", visibility=Visibility.private)
    add_member(board, discussion.moderator, MemberRole.moderator)
    moved = browser(discussion.moderator).post(
        f"/threads/{thread.id}/move", data={"space_id": str(board.id)}
    )
    assert moved.status_code == 302

    def log_of(space: Space) -> str:
        return Page(browser(owner_of(space)).get(f"/spaces/{space.slug}/audit")).main_text

    left = log_of(source)
    assert "Kwame Mensah Moved a thread to another space thread.moved" in left
    assert f"to space: {board.slug}" in left
    joined = log_of(board)
    assert "Kwame Mensah Moved a thread in from another space thread.moved_in" in joined
    assert f"from space: {source.slug}" in joined
    assert "title: Weekly huddles that work" in joined


def test_a_thread_moved_as_its_new_space_is_archived_stays_where_it_was(
    app, discussion, browser, make_space, make_user, add_member
):
    """The moderator's request found the target space open (it was offered in the form); an
    administrator's archiving it is committed before the move holds the thread: refused, as the
    space now stands, beside the choice of space; the thread stays where it was."""
    board = make_space("Board development")
    add_member(board, discussion.moderator, MemberRole.moderator)
    moderator, thread_id = browser(discussion.moderator), discussion.thread.id
    admin_id, board_id = make_user("Ada Admin", admin=True).id, board.id
    responses = []

    def move() -> None:
        data = {"space_id": str(board_id)}
        responses.append(moderator.post(f"/threads/{thread_id}/move", data=data))

    def archive() -> None:
        set_archived(db.session.get(User, admin_id), db.session.get(Space, board_id), True)

    one_inside_another(app, move, archive, "UPDATE threads")
    (refused,) = map(Page, responses)
    assert refused.status == 200
    assert refused.summary_has("You cannot move a thread into an archived space", "space_id")
    db.session.expire_all()
    assert discussion.thread.space_id == discussion.space.id
    assert audit_entry("thread.moved") is None
    assert audit_entry("thread.moved_in") is None


# Bans -------------------------------------------------------------------------------------------


def test_a_banned_member_cannot_post(discussion, browser):
    owner = discussion.space.memberships[0].user
    browser(owner).post(
        f"/spaces/{discussion.space.slug}/members/{discussion.reader.id}/ban",
        data={"reason": "Repeated abuse"},
    )
    standing = db.session.scalar(
        select(Membership.state).where(
            Membership.user_id == discussion.reader.id, Membership.space_id == discussion.space.id
        )
    )
    assert standing is MemberState.banned
    banned = browser(discussion.reader)
    reply = banned.post(f"/threads/{discussion.thread.id}/reply", data={"body": "Still here"})
    assert reply.status_code in {403, 404}
    new = banned.post(
        f"/spaces/{discussion.space.slug}/threads/new",
        data={"title": "Back again", "body": "Hello", "kind": "discussion"},
    )
    assert new.status_code in {403, 404}
    assert count(Post, Post.author_id == discussion.reader.id) == 0
    assert count(Thread, Thread.title == "Back again") == 0


def test_a_member_banned_from_a_public_space_is_told_so_where_they_would_post(discussion, browser):
    # A public space stays readable after a ban: its pages must name the ban, not membership.
    space = discussion.space
    space.visibility = Visibility.public
    db.session.commit()
    owner = space.memberships[0].user
    browser(owner).post(
        f"/spaces/{space.slug}/members/{discussion.reader.id}/ban", data={"reason": "Abuse"}
    )
    banned = browser(discussion.reader)
    thread_page = Page(banned.get(f"/threads/{discussion.thread.id}"))
    assert "You are banned from this space, so you cannot reply." in thread_page.main_text
    assert "Only members of" not in thread_page.main_text
    reply = banned.post(f"/threads/{discussion.thread.id}/reply", data={"body": "Still here"})
    new = banned.post(
        f"/spaces/{space.slug}/threads/new",
        data={"title": "Back again", "body": "Hello again", "kind": "discussion"},
    )
    for response, typed in ((reply, "Still here"), (new, "Hello again")):
        assert response.status_code == 403
        page = Page(response)
        assert "You are banned from this space, so you cannot post in it." in page.main_text
        assert typed in page.main_text  # what they wrote, to copy
    assert count(Post, Post.author_id == discussion.reader.id) == 0


# Replies that break the rules -------------------------------------------------------------------


def test_a_reply_to_a_post_in_another_thread_is_refused(discussion, browser):
    other, _ = services.start_thread(
        discussion.author, discussion.space, ThreadDraft("Another thread", "Elsewhere entirely")
    )
    elsewhere = reading.opening_post(other)
    before = count(Post)
    response = browser(discussion.reader).post(
        f"/threads/{discussion.thread.id}/reply",
        data={"body": "Cross-thread reply", "parent_id": str(elsewhere.id)},
    )
    assert response.status_code == 200
    assert "You can only reply to a post in this thread" in page(response)
    assert "Cross-thread reply" in page(response)  # kept for them to fix
    assert count(Post) == before
    assert discussion.thread.reply_count == 1


def test_a_reply_to_a_deleted_post_is_refused(discussion, browser):
    removal.delete_post(discussion.replier, discussion.reply)
    before = count(Post)
    response = browser(discussion.reader).post(
        f"/threads/{discussion.thread.id}/reply",
        data={"body": "Replying anyway", "parent_id": str(discussion.reply.id)},
    )
    assert response.status_code == 200
    assert "That post has been removed, so you cannot reply to it" in page(response)
    assert "Replying anyway" in page(response)
    assert count(Post) == before


def test_a_double_submitted_reply_stores_one_post(discussion, browser):
    member = browser(discussion.reader)
    data = {"body": "Only once, please", "submission_key": "a" * 32}
    first = member.post(f"/threads/{discussion.thread.id}/reply", data=data)
    second = member.post(f"/threads/{discussion.thread.id}/reply", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Post, Post.body_source == "Only once, please") == 1
    assert discussion.thread.reply_count == 2


@pytest.mark.parametrize("junk", ["x", "99999999999", "0", "-1"])
def test_a_reply_to_a_post_id_that_cannot_be_is_refused_with_the_text_kept(
    discussion, browser, junk
):
    before = count(Post)
    response = browser(discussion.reader).post(
        f"/threads/{discussion.thread.id}/reply",
        data={"body": "Replying to nothing", "parent_id": junk},
    )
    assert response.status_code == 200
    assert "You can only reply to a post in this thread" in page(response)
    assert "Replying to nothing" in page(response)
    assert count(Post) == before
