"""Moderation, as moderators meet it: the moderators' queues, pinning, locking, hiding, slow
mode and moving threads, bans, and replies that break the rules (reporting posts:
test_reports.py). Every moderator action leaves an audit entry."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.discussions import reading, services
from peerlearn.discussions.models import Post
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.moderation.models import Flag, FlagOutcome
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import MemberRole, Visibility
from tests.concurrency import at_once, first_writes_meet
from tests.discussions.moderation_helpers import (
    audit,
    audit_entry,
    count,
    follow,
    page,
    report,
)

# The queues -------------------------------------------------------------------------------------


def test_a_space_queue_is_for_that_spaces_moderators(
    discussion, browser, client, make_space, make_user, add_member
):
    report(browser(discussion.reader), discussion.reply, "spam")
    path = f"/spaces/{discussion.space.slug}/moderation"
    assert "Ten minutes, at the board" in page(browser(discussion.moderator).get(path))
    owner = discussion.space.memberships[0].user
    assert "Ten minutes, at the board" in page(browser(owner).get(path))
    assert browser(discussion.author).get(path).status_code == 403
    elsewhere, other_space = make_user("Moderator elsewhere"), make_space("Another group")
    add_member(other_space, elsewhere, MemberRole.moderator)
    assert browser(elsewhere).get(path).status_code == 403
    own_queue = page(browser(elsewhere).get(f"/spaces/{other_space.slug}/moderation"))
    assert "There are no reported posts waiting" in own_queue
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_private_space_queue_is_not_shown_to_outsiders(browser, make_space, make_user):
    space = make_space("Private board", visibility=Visibility.private)
    response = browser(make_user()).get(f"/spaces/{space.slug}/moderation")
    assert response.status_code in {403, 404}
    assert "Reported posts" not in page(response)


def test_the_network_queue_is_for_administrators(
    discussion, browser, make_space, make_user, add_member
):
    other_space = make_space("Flow coaches", visibility=Visibility.private)
    writer = make_user("Sam Writer")
    add_member(other_space, writer)
    thread, _ = services.start_thread(writer, other_space, ThreadDraft("Flow", "Buy my course"))
    post = reading.opening_post(thread)
    reporter = make_user("Rae Reporter")
    add_member(other_space, reporter)
    report(browser(reporter), post, "spam")
    report(browser(discussion.reader), discussion.reply, "abusive")

    queue = page(browser(make_user("Network admin", admin=True)).get("/moderation"))
    assert "Buy my course" in queue and "Ten minutes, at the board" in queue
    for person in (discussion.moderator, discussion.reader):
        assert browser(person).get("/moderation").status_code == 403
    moderator = browser(discussion.moderator)
    space_queue = page(moderator.get(f"/spaces/{discussion.space.slug}/moderation"))
    assert "Ten minutes, at the board" in space_queue and "Buy my course" not in space_queue


def test_reports_in_an_archived_space_wait_out_of_the_queue(discussion, browser, make_user):
    # Nobody may moderate an archived space, administrators included: its reports were listed
    # with buttons that answered 403, for as long as the space stayed archived.
    report(browser(discussion.reader), discussion.reply, "spam")
    admin = browser(make_user("Network admin", admin=True))
    spaces.set_archived(discussion.space.memberships[0].user, discussion.space, True)
    queue = page(admin.get("/moderation"))
    assert "Ten minutes, at the board" not in queue
    assert "There are no reported posts waiting" in queue
    moderate = f"/posts/{discussion.reply.id}/moderate"
    assert admin.post(moderate, data={"action": "hide"}).status_code == 403
    spaces.set_archived(discussion.space.memberships[0].user, discussion.space, False)
    assert "Ten minutes, at the board" in page(admin.get("/moderation"))


def test_hiding_from_the_queue_resolves_the_reports_and_is_audited(discussion, browser, member):
    report(browser(discussion.reader), discussion.reply, "spam")
    report(browser(member("Second Reporter")), discussion.reply, "abusive")
    moderator = browser(discussion.moderator)
    response = moderator.post(
        f"/posts/{discussion.reply.id}/moderate", data={"action": "hide", "next": "queue"}
    )
    assert response.headers["Location"] == f"/spaces/{discussion.space.slug}/moderation"
    assert "There are no reported posts waiting" in page(
        moderator.get(response.headers["Location"])
    )
    flags = db.session.scalars(select(Flag)).all()
    assert {(f.outcome, f.resolved_by_id) for f in flags} == {
        (FlagOutcome.hidden, discussion.moderator.id)
    }
    assert all(f.resolved_at is not None for f in flags)
    assert "This post was hidden by a moderator." in page(
        browser(discussion.author).get(f"/threads/{discussion.thread.id}")
    )
    assert audit() == ["post.flagged", "post.flagged", "flags.resolved", "post.hidden"]
    resolved = audit_entry("flags.resolved")
    assert resolved.actor_id == discussion.moderator.id
    assert resolved.detail == {"post_id": discussion.reply.id, "outcome": "hidden", "reports": 2}
    assert audit_entry("post.hidden").actor_id == discussion.moderator.id


def test_dismissing_restores_a_post_a_report_hid(discussion, browser):
    report(browser(discussion.reader), discussion.reply, "patient-information")
    moderator = browser(discussion.moderator)
    moderator.post(
        f"/posts/{discussion.reply.id}/moderate", data={"action": "dismiss", "next": "queue"}
    )
    flag = db.session.scalars(select(Flag)).one()
    assert flag.outcome is FlagOutcome.dismissed
    assert discussion.reply.hidden_at is None
    assert "Ten minutes, at the board" in page(
        browser(discussion.author).get(f"/threads/{discussion.thread.id}")
    )
    assert audit() == ["post.flagged", "post.hidden", "flags.resolved", "post.restored"]
    assert audit_entry("post.restored").actor_id == discussion.moderator.id


def test_dismissing_a_report_leaves_the_post_as_it_was(discussion, browser):
    report(browser(discussion.reader), discussion.reply, "other", note="Off topic here")
    browser(discussion.moderator).post(
        f"/posts/{discussion.reply.id}/moderate", data={"action": "dismiss"}
    )
    assert db.session.scalars(select(Flag)).one().outcome is FlagOutcome.dismissed
    assert discussion.reply.hidden_at is None
    assert audit() == ["post.flagged", "flags.resolved"]


def test_members_cannot_decide_on_reports(discussion, browser):
    report(browser(discussion.reader), discussion.reply, "spam")
    response = browser(discussion.author).post(
        f"/posts/{discussion.reply.id}/moderate", data={"action": "hide"}
    )
    assert response.status_code == 403
    assert db.session.scalars(select(Flag)).one().resolved_at is None
    assert discussion.reply.hidden_at is None


def test_a_dismissal_from_a_stale_queue_leaves_a_post_another_moderator_hid(
    discussion, browser, member
):
    # Both moderators had the queue open; one hid the post, then the other, whose page still
    # showed the report, dismissed it: the post came back and the audit log showed a second
    # decision on no reports.
    report(browser(discussion.reader), discussion.reply, "abusive")
    other = member("Second Moderator", role=MemberRole.moderator)
    moderate = f"/posts/{discussion.reply.id}/moderate"
    browser(discussion.moderator).post(moderate, data={"action": "hide", "next": "queue"})
    late = browser(other)
    response = late.post(moderate, data={"action": "dismiss", "next": "queue"})
    assert "Another moderator has already dealt with the reports" in follow(late, response)
    db.session.expire_all()
    assert discussion.reply.hidden_at is not None
    assert db.session.scalars(select(Flag)).one().outcome is FlagOutcome.hidden
    assert audit() == ["post.flagged", "flags.resolved", "post.hidden"]


def test_two_moderators_deciding_on_a_report_at_once_decide_once(app, discussion, member):
    """One hides the post as the other dismisses its report (as the queue's buttons do), both
    having read the open report before either wrote: one decision on the report is recorded,
    and the dismissal does not bring back a post the other has hidden."""
    post_id = discussion.reply.id
    db.session.add(Flag(post_id=post_id, reporter_id=discussion.reader.id, reason="spam"))
    db.session.commit()
    hider, dismisser = discussion.moderator.id, member("Second", role=MemberRole.moderator).id

    def hide() -> None:
        post = db.session.get(Post, post_id)
        moderation.resolve(db.session.get(User, hider), post, FlagOutcome.hidden)

    def dismiss() -> None:
        post, moderator = db.session.get(Post, post_id), db.session.get(User, dismisser)
        moderation.resolve(moderator, post, FlagOutcome.dismissed, only_if_reported=True)

    with first_writes_meet("UPDATE", before=True):
        at_once(app, [hide, dismiss])
    db.session.expire_all()
    assert audit().count("flags.resolved") == 1
    assert audit().count("post.hidden") == 1
    assert discussion.reply.hidden_at is not None
    assert "post.restored" not in audit()


# Moderating threads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "flag", "before", "after", "logged"),
    [
        ("pin", "pinned", False, True, "thread.pinned"),
        ("unpin", "pinned", True, False, "thread.unpinned"),
        ("lock", "locked", False, True, "thread.locked"),
        ("unlock", "locked", True, False, "thread.unlocked"),
        ("hide", "hidden", False, True, "thread.hidden"),
        ("unhide", "hidden", True, False, "thread.restored"),
    ],
)
def test_thread_moderation_is_for_moderators_and_audited(
    action, flag, before, after, logged, discussion, browser
):
    thread = discussion.thread
    setattr(thread, flag, before)
    db.session.commit()
    response = browser(discussion.author).post(
        f"/threads/{thread.id}/moderate", data={"action": action}
    )
    assert response.status_code in {403, 404}  # 404 once the thread is hidden from members
    assert getattr(thread, flag) is before
    assert audit() == []

    response = browser(discussion.moderator).post(
        f"/threads/{thread.id}/moderate", data={"action": action}
    )
    assert response.status_code == 302
    assert getattr(thread, flag) is after
    assert audit() == [logged]
    entry = audit_entry(logged)
    assert entry.actor_id == discussion.moderator.id
    assert entry.space_id == discussion.space.id
    assert entry.detail["thread_id"] == thread.id


def test_a_pinned_thread_leads_the_list(discussion, browser):
    newer, _ = services.start_thread(discussion.reader, discussion.space, ThreadDraft("Newer", "x"))
    reader = browser(discussion.reader)

    def order() -> list[str]:
        listing = page(reader.get(f"/spaces/{discussion.space.slug}/threads"))
        return sorted(("Weekly huddles that work", "Newer"), key=lambda title: listing.index(title))

    assert order() == ["Newer", "Weekly huddles that work"]
    browser(discussion.moderator).post(
        f"/threads/{discussion.thread.id}/moderate", data={"action": "pin"}
    )
    assert order() == ["Weekly huddles that work", "Newer"]
    assert "Pinned" in page(reader.get(f"/spaces/{discussion.space.slug}/threads"))
    assert newer.pinned is False


def test_a_locked_thread_takes_replies_only_from_moderators(discussion, browser, post_reply):
    thread = discussion.thread
    moderator = browser(discussion.moderator)
    moderator.post(f"/threads/{thread.id}/moderate", data={"action": "lock"})
    member = browser(discussion.reader)
    thread_page = page(member.get(f"/threads/{thread.id}"))
    assert "This thread is locked, so you cannot reply." in thread_page
    assert "Post reply" not in thread_page

    response = member.post(f"/threads/{thread.id}/reply", data={"body": "But I disagree"})
    assert response.status_code in {200, 403}
    assert "locked" in page(response)  # says why, not just "no permission"
    assert count(Post, Post.body_source == "But I disagree") == 0

    post_reply(moderator, thread, body="Locking this: see the new thread.")
    moderator.post(f"/threads/{thread.id}/moderate", data={"action": "unlock"})
    post_reply(member, thread, body="Thanks for reopening")


def test_a_hidden_thread_disappears_for_members(discussion, browser):
    thread = discussion.thread
    moderator = browser(discussion.moderator)
    moderator.post(f"/threads/{thread.id}/moderate", data={"action": "hide"})
    member = browser(discussion.reader)
    assert member.get(f"/threads/{thread.id}").status_code == 404
    assert member.get(f"/threads/{thread.id}/reply").status_code == 404
    for path in (f"/spaces/{discussion.space.slug}/threads", "/threads"):
        assert "Weekly huddles that work" not in page(member.get(path)), path
    moderator_page = page(moderator.get(f"/threads/{thread.id}"))
    assert "Weekly huddles that work" in moderator_page and "Hidden" in moderator_page
    assert "Weekly huddles that work" in page(
        moderator.get(f"/spaces/{discussion.space.slug}/threads")
    )

    moderator.post(f"/threads/{thread.id}/moderate", data={"action": "unhide"})
    assert member.get(f"/threads/{thread.id}").status_code == 200
    assert "Weekly huddles that work" in page(member.get("/threads"))


def test_unknown_moderation_actions_change_nothing(discussion, browser):
    moderator = browser(discussion.moderator)
    response = moderator.post(
        f"/threads/{discussion.thread.id}/moderate", data={"action": "delete_everything"}
    )
    assert "That is not a moderation action." in follow(moderator, response)
    assert audit() == []


# Slow mode --------------------------------------------------------------------------------------


def test_slow_mode_holds_members_to_one_post_per_interval(discussion, browser, post_reply):
    thread = discussion.thread
    slow_mode = {"action": "slow_mode", "seconds": "300"}
    refused = browser(discussion.reader).post(f"/threads/{thread.id}/moderate", data=slow_mode)
    assert refused.status_code == 403
    assert thread.slow_mode_seconds == 0

    moderator = browser(discussion.moderator)
    moderator.post(f"/threads/{thread.id}/moderate", data=slow_mode)
    assert thread.slow_mode_seconds == 300
    assert audit_entry("thread.slow_mode").detail == {"thread_id": thread.id, "seconds": 300}
    member = browser(discussion.reader)
    assert "Slow mode: one post each every 5 minutes." in page(member.get(f"/threads/{thread.id}"))

    post_reply(member, thread, body="My first thought")
    second = member.post(f"/threads/{thread.id}/reply", data={"body": "My second thought"})
    assert second.status_code == 200
    html = page(second)
    beside = re.search(r'id="body-error"(.*?)<textarea[^>]*name="body"', html, re.DOTALL)
    assert beside, "the error is shown beside the message field"
    message = " ".join(re.sub(r"<[^>]+>", " ", beside.group(1)).split())
    assert "This thread is in slow mode. You can post again in 5 minutes" in message
    assert "My second thought</textarea>" in html  # what they wrote is kept
    assert count(Post, Post.author_id == discussion.reader.id) == 1

    post_reply(moderator, thread, body="Moderators first")
    post_reply(moderator, thread, body="Moderators are exempt")
    assert count(Post, Post.author_id == discussion.moderator.id) == 2
