"""Being mentioned in a thread you can see makes you follow it, as posting in it does, unless you
muted it; someone who cannot see the thread follows nothing."""

import pytest
from sqlalchemy import func, select

from peerlearn.discussions import reading, services
from peerlearn.discussions.models import Thread
from peerlearn.extensions import db
from peerlearn.notifications.models import Notification
from peerlearn.spaces.models import Visibility
from tests.accounts.pages import Page

FOLLOWING = "You are following this thread: you are told about every reply."
MUTED = "You have muted this thread: you are told about nothing in it."

#: Each way a post can mention someone: the path and form that write it, given the discussion.
MENTIONING = {
    "new thread": lambda d, body: (
        f"/spaces/{d.space.slug}/threads/new",
        {"title": "Who runs your huddles?", "body": body, "kind": "discussion"},
    ),
    "reply": lambda d, body: (f"/threads/{d.thread.id}/reply", {"body": body}),
    "edit": lambda d, body: (f"/posts/{reading.opening_post(d.thread).id}/edit", {"body": body}),
}


def _newest_thread_path() -> str:
    return f"/threads/{db.session.scalar(select(func.max(Thread.id)))}"


def _kinds_for(user) -> list[str]:
    return sorted(
        kind.value
        for kind in db.session.scalars(
            select(Notification.kind).where(Notification.user_id == user.id)
        )
    )


@pytest.mark.parametrize("write", list(MENTIONING))
def test_someone_mentioned_follows_the_thread_and_hears_of_its_next_reply(
    discussion, browser, write
):
    reader = discussion.reader
    path, data = MENTIONING[write](discussion, f"@{reader.handle} runs ours at the ward board.")
    assert browser(discussion.author).post(path, data=data).status_code == 302
    assert FOLLOWING in Page(browser(reader).get(_newest_thread_path())).main_text
    thread = db.session.scalar(select(Thread).order_by(Thread.id.desc()))
    services.reply(discussion.moderator, thread, "Ours too, at half past eight.")
    assert _kinds_for(reader) == ["mention", "reply-in-thread"]


def test_someone_who_muted_the_thread_stays_muted_when_mentioned(discussion, browser):
    reader, thread = discussion.reader, discussion.thread
    mentioned = browser(reader)
    mentioned.post(f"/threads/{thread.id}/follow", data={"state": "muted"})
    browser(discussion.author).post(
        f"/threads/{thread.id}/reply", data={"body": f"@{reader.handle} what do you think?"}
    )
    assert MUTED in Page(mentioned.get(f"/threads/{thread.id}")).main_text
    assert _kinds_for(reader) == []


def test_someone_mentioned_in_a_thread_hidden_from_them_does_not_follow_it(discussion, browser):
    """A moderator edits a post of a hidden thread to mention a member, who cannot see it: once
    the thread is shown again, they are not following it."""
    reader, thread = discussion.reader, discussion.thread
    moderator = browser(discussion.moderator)
    moderator.post(f"/threads/{thread.id}/moderate", data={"action": "hide"})
    opening = reading.opening_post(thread)
    edited = moderator.post(f"/posts/{opening.id}/edit", data={"body": f"cc @{reader.handle}"})
    assert edited.status_code == 302
    moderator.post(f"/threads/{thread.id}/moderate", data={"action": "unhide"})
    assert FOLLOWING not in Page(browser(reader).get(f"/threads/{thread.id}")).main_text
    assert _kinds_for(reader) == []


def test_someone_who_cannot_see_the_thread_follows_nothing_when_mentioned(
    discussion, browser, make_space, make_user, add_member
):
    private = make_space("Board development", visibility=Visibility.private)
    author, outsider = make_user("Author"), make_user("Outsider Person")
    add_member(private, author)
    writer = browser(author)
    response = writer.post(
        f"/spaces/{private.slug}/threads/new",
        data={"title": "Secret", "body": f"cc @{outsider.handle}", "kind": "discussion"},
    )
    assert response.status_code == 302
    # Made public later, the thread is not followed by the person its author could not reach.
    private.visibility = Visibility.public
    db.session.commit()
    assert FOLLOWING not in Page(browser(outsider).get(_newest_thread_path())).main_text
