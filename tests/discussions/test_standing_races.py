"""Writes to a discussion arriving as the writer's standing, or the post, changes: the page's
check found the member (or the post) as it was, and a moderator's change committed a moment
before the write holds its thread and space is honoured as held. An edit of a post removed or
hidden, and a thread, reply or edit by someone banned, removed or gone, is refused, saying
why, with the text kept in the form and nothing written; a mention of someone banned notifies
nobody. A ban made as a reply is written waits for it, then ends the follow it made."""

from collections.abc import Callable

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.discussions import reading, removal, services
from peerlearn.discussions.holds import BANNED, NOT_A_MEMBER, REMOVED
from peerlearn.discussions.models import FollowState, Post, PostRevision, Thread, ThreadSubscription
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.moderation.models import FlagOutcome
from peerlearn.notifications.models import Notification
from peerlearn.spaces import memberships
from peerlearn.spaces.models import MemberState, Space
from peerlearn.spaces.services import get_membership, set_archived
from tests.accounts.pages import Page
from tests.concurrency import one_inside_another
from tests.discussions.moderation_helpers import Discussion, count, follow, overtaken
from tests.spaces.flows import membership


def _as_it_was(discussion: Discussion) -> tuple[object, ...]:
    """What a member's write would change: threads, posts, the reply's text and its revisions."""
    db.session.expire_all()
    reply = db.session.get(Post, discussion.reply.id)
    return count(Thread), count(Post), reply.body_source, count(PostRevision)


def _by(user: User, action: Callable[[User], object]) -> Callable[[], object]:
    """``action`` done by ``user``, looked up again in the request's own session."""
    user_id = user.id
    return lambda: action(db.session.get(User, user_id))


# Editing a post removed a moment ago ------------------------------------------------------------


#: How the reply leaves sight as it is edited: hidden by a moderator, or removed.
REMOVALS: dict[str, Callable[[User, Post], object]] = {
    "hidden": lambda moderator, post: moderation.resolve(moderator, post, FlagOutcome.hidden),
    "removed": removal.delete_post,
}


@pytest.mark.parametrize("editor", ["replier", "moderator"])
@pytest.mark.parametrize("how", list(REMOVALS))
def test_an_edit_of_a_post_removed_as_it_is_sent_is_refused(
    app, discussion, browser, make_user, editor, how
):
    """The edit page was loaded (and the form checked by the policy) while the post was shown;
    an administrator's hiding or removing it is committed before the edit holds the thread:
    refused, with the text kept to copy elsewhere; the post keeps its text and no revision is
    written."""
    client = browser(getattr(discussion, editor))
    admin, post_id = make_user("Ada Admin", admin=True), discussion.reply.id
    before = _as_it_was(discussion)
    response = overtaken(
        app,
        client,
        f"/posts/{post_id}/edit",
        {"body": "Twenty minutes, not ten."},
        _by(admin, lambda actor: REMOVALS[how](actor, db.session.get(Post, post_id))),
    )
    page = Page(response)
    assert page.summary_has(REMOVED)
    assert page.values["body"] == "Twenty minutes, not ten."
    assert _as_it_was(discussion) == before
    assert db.session.get(Post, post_id).removed


# Posting by someone banned, removed or gone a moment ago ----------------------------------------


#: Each way the replier's membership ends, in a request of its own, and the refusal a write of
#: theirs then gets.
ENDINGS: dict[str, tuple[Callable[[Discussion], Callable[[], object]], str, MemberState | None]] = {
    "banned": (
        lambda d: _by(d.moderator, lambda mo: memberships.ban(mo, _space(d), _user(d.replier))),
        BANNED,
        MemberState.banned,
    ),
    "removed": (
        lambda d: _by(
            d.moderator,
            lambda mo: memberships.remove_member(mo, get_membership(_space(d), _user(d.replier))),
        ),
        NOT_A_MEMBER,
        None,
    ),
    "left": (
        lambda d: _by(d.replier, lambda me: memberships.leave_space(me, _space(d))),
        NOT_A_MEMBER,
        None,
    ),
}


def _space(discussion: Discussion) -> Space:
    return db.session.get(Space, discussion.space.id)


def _user(user: User) -> User:
    return db.session.get(User, user.id)


#: Each write the replier's browser sends: the form's address and what it holds.
MEMBER_WRITES: dict[str, Callable[[Discussion], tuple[str, dict[str, str]]]] = {
    "thread": lambda d: (
        f"/spaces/{d.space.slug}/threads/new",
        {"title": "Huddles in outpatients", "body": "Ours run long.", "kind": "discussion"},
    ),
    "reply": lambda d: (f"/threads/{d.thread.id}/reply", {"body": "Ours run long."}),
    "edit": lambda d: (f"/posts/{d.reply.id}/edit", {"body": "Ours run long."}),
}


@pytest.mark.parametrize("write", list(MEMBER_WRITES))
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_write_by_someone_whose_membership_ends_as_it_is_sent_is_refused(
    app, discussion, browser, write, ending
):
    """The page's check found the replier an active member; a ban, a removal or their leaving
    (in another tab) is committed before the write holds the space: refused as they now stand,
    saying why, with the text kept in the form; nothing is written."""
    client = browser(discussion.replier)
    change, refusal, state = ENDINGS[ending]
    path, data = MEMBER_WRITES[write](discussion)
    before = _as_it_was(discussion)
    response = overtaken(app, client, path, data, change(discussion))
    page = Page(response)
    assert page.summary_has(refusal)
    assert page.values["body"] == "Ours run long."
    assert _as_it_was(discussion) == before
    left = membership(discussion.space, discussion.replier)
    assert (left.state if left is not None else None) is state


#: What stops a member writing, done (by the discussion's moderator, or an administrator)
#: after their page was loaded and before they send what they wrote.
STOPPED: dict[str, Callable[[Discussion, User], object]] = {
    "banned": lambda d, admin: memberships.ban(d.moderator, d.space, d.replier),
    "archived": lambda d, admin: set_archived(admin, d.space, True),
}


@pytest.mark.parametrize("write", list(MEMBER_WRITES))
@pytest.mark.parametrize("stopped", list(STOPPED))
def test_a_write_refused_at_the_door_gives_back_what_was_written(
    discussion, browser, make_user, write, stopped
):
    """Banned, or the space archived, while the member was writing, before they sent it: the
    page's own check refuses it, and nothing is written; what they wrote, which the page let go
    as it was sent, is on the page that says so, to copy."""
    client = browser(discussion.replier)
    path, data = MEMBER_WRITES[write](discussion)
    before = _as_it_was(discussion)
    STOPPED[stopped](discussion, make_user("Ada Admin", admin=True))
    page = Page(client.post(path, data=data))
    # Refused (banned from a network space, they may no longer read its threads either).
    assert page.status in {403, 404}
    assert page.values["body"] == "Ours run long."
    if write == "thread":
        assert page.values["title"] == "Huddles in outpatients"
    assert _as_it_was(discussion) == before


def _following(user: User, thread: Thread) -> bool:
    return (
        db.session.scalar(
            select(ThreadSubscription.state).where(
                ThreadSubscription.user_id == user.id, ThreadSubscription.thread_id == thread.id
            )
        )
        is FollowState.following
    )


#: Each write whose text is rendered, and its mentions found, before it holds the space: the
#: form's address and what it holds (a reply renders once it holds the space).
MENTIONING: dict[str, Callable[[Discussion, str], tuple[str, dict[str, str]]]] = {
    "thread": lambda d, body: (
        f"/spaces/{d.space.slug}/threads/new",
        {"title": "Who runs your huddles?", "body": body, "kind": "discussion"},
    ),
    "edit": lambda d, body: (f"/posts/{reading.opening_post(d.thread).id}/edit", {"body": body}),
}


@pytest.mark.parametrize("write", list(MENTIONING))
def test_a_mention_of_someone_banned_as_the_post_is_sent_notifies_nobody(
    app, discussion, browser, write
):
    """The text was rendered with the reader mentioned while she could take part; her ban is
    committed before the post holds the space: the post is written, but she is neither made to
    follow the thread nor notified (a new thread's author is told so, as of anyone a mention
    cannot reach)."""
    client = browser(discussion.author)
    reader = discussion.reader
    path, data = MENTIONING[write](discussion, f"@{reader.handle} runs ours at the ward board.")
    ban = _by(
        discussion.moderator, lambda mo: memberships.ban(mo, _space(discussion), _user(reader))
    )
    shown = follow(client, overtaken(app, client, path, data, ban))
    if write == "thread":
        assert "Priya Shah cannot see or take part in this space" in shown
    db.session.expire_all()
    mentioned = db.session.scalars(select(Thread).order_by(Thread.id.desc())).first()
    assert "runs ours at the ward board" in reading.opening_post(mentioned).body_source
    assert not _following(reader, mentioned)
    assert count(Notification, Notification.user_id == reader.id) == 0


def test_a_ban_made_as_a_reply_is_written_waits_for_it_and_ends_its_follow(app, discussion):
    """The reader's reply holds the thread and space, and is writing its post, when a moderator
    bans her: the ban, holding the space too, waits for the reply to commit (the two never
    interleave), then ends the follow the reply made, as it ends every follow of hers there."""
    reader, thread_id = discussion.reader, discussion.thread.id

    def reply() -> None:
        services.reply(_user(reader), db.session.get(Thread, thread_id), "Ours run long.")

    ban = _by(
        discussion.moderator, lambda mo: memberships.ban(mo, _space(discussion), _user(reader))
    )
    one_inside_another(app, reply, ban, "INSERT INTO posts", resume="UPDATE spaces")
    db.session.expire_all()
    assert count(Post, Post.author_id == reader.id) == 1
    assert membership(discussion.space, reader).state is MemberState.banned
    assert not _following(reader, discussion.thread)
