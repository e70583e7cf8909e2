"""Reporting posts, as members meet it: the reasons, a note where one is needed, once per post
(a report of patient-identifiable information may still follow another), never one's own, a
patient-information report hiding the post at once from a member of the space or once
seconded, and a limit per person."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from peerlearn.discussions import services
from peerlearn.discussions.models import Post
from peerlearn.extensions import db
from peerlearn.moderation.models import Flag, FlagOutcome
from tests.accounts.pages import Page
from tests.discussions.moderation_helpers import (
    audit,
    audit_entry,
    count,
    follow,
    page,
    report,
)


def test_the_report_form_offers_every_reason(discussion, browser):
    form = page(browser(discussion.reader).get(f"/posts/{discussion.reply.id}/report"))
    for label in (
        "Spam or advertising",
        "Abusive, offensive or harassing",
        "Contains patient-identifiable information",
        "Something else",
    ):
        assert label in form


def test_a_report_must_say_why(discussion, browser):
    response = browser(discussion.reader).post(f"/posts/{discussion.reply.id}/report", data={})
    assert response.status_code == 200
    assert "Choose why you are reporting this post" in page(response)
    assert count(Flag) == 0


def test_a_report_of_something_else_must_say_what_and_keeps_the_choice(discussion, browser):
    reader = browser(discussion.reader)
    response = report(reader, discussion.reply, "other", note="   ")
    form = page(response)
    assert response.status_code == 200 and count(Flag) == 0
    assert "Say what is wrong, so that the moderators know what to look for" in form
    assert re.search(r'value="other"[^>]*checked', form)  # the reason chosen is kept
    # Any other reason needs no note.
    report(reader, discussion.reply, "spam")
    assert db.session.scalars(select(Flag.reason)).one().value == "spam"


@pytest.mark.parametrize(
    ("reason", "label"),
    [("spam", "Spam or advertising"), ("abusive", "Abusive, offensive or harassing"),
     ("other", "Something else")],
)  # fmt: skip
def test_a_report_reaches_the_moderators_and_the_post_stays_up(reason, label, discussion, browser):
    reader = browser(discussion.reader)
    response = report(reader, discussion.reply, reason, note="Looks like a sales pitch")
    assert "The space&#39;s moderators will look at your report" in follow(reader, response)
    flag = db.session.scalars(select(Flag)).one()
    assert (flag.reason.value, flag.reporter_id, flag.resolved_at) == (
        reason,
        discussion.reader.id,
        None,
    )
    others = page(browser(discussion.author).get(f"/threads/{discussion.thread.id}"))
    assert "Ten minutes, at the board" in others
    queue = page(browser(discussion.moderator).get(f"/spaces/{discussion.space.slug}/moderation"))
    assert "Ten minutes, at the board" in queue
    assert label in queue and "Looks like a sales pitch" in queue and "Priya Shah" in queue
    entry = audit_entry("post.flagged")
    assert entry.actor_id == discussion.reader.id
    assert entry.subject_id == discussion.replier.id
    assert entry.detail["reason"] == reason


def test_the_same_member_cannot_report_a_post_twice(discussion, browser):
    reader = browser(discussion.reader)
    report(reader, discussion.reply, "spam")
    again = report(reader, discussion.reply, "abusive")
    assert "You have already reported this post" in follow(reader, again)
    assert count(Flag) == 1
    assert audit().count("post.flagged") == 1


def test_a_member_who_reported_a_post_may_still_report_patient_information_in_it(
    discussion, browser
):
    # Reported as spam, dismissed, then seen to name a patient: that report must count.
    reader = browser(discussion.reader)
    report(reader, discussion.reply, "spam", note="Advert")
    moderator = browser(discussion.moderator)
    moderator.post(f"/posts/{discussion.reply.id}/moderate", data={"action": "dismiss"})
    (flag,) = db.session.scalars(select(Flag)).all()
    assert flag.outcome is FlagOutcome.dismissed
    response = report(reader, discussion.reply, "patient-information", note="Names a patient")
    assert "hidden until a moderator has looked at it" in follow(reader, response)
    db.session.expire_all()
    (flag,) = db.session.scalars(select(Flag)).all()
    assert flag.reason.value == "patient-information"
    assert flag.note == "Names a patient\n\nReported before as spam or advertising: Advert"
    assert flag.resolved_at is None and flag.outcome is None  # back in the queue
    assert db.session.get(Post, discussion.reply.id).hidden_at is not None
    assert audit().count("post.flagged") == 2


def test_members_cannot_report_their_own_posts(discussion, browser):
    response = report(browser(discussion.replier), discussion.reply, "other")
    assert response.status_code == 403
    assert count(Flag) == 0


def test_a_patient_information_report_hides_the_post_at_once(discussion, browser):
    reader = browser(discussion.reader)
    response = report(reader, discussion.reply, "patient-information", note="Names a patient")
    assert "hidden until a moderator has looked at it" in follow(reader, response)
    for person in (discussion.author, discussion.replier, discussion.reader):
        thread_page = page(browser(person).get(f"/threads/{discussion.thread.id}"))
        assert "This post was hidden by a moderator." in thread_page, person.display_name
        assert "Ten minutes, at the board" not in thread_page, person.display_name
    moderator = browser(discussion.moderator)
    thread_page = page(moderator.get(f"/threads/{discussion.thread.id}"))
    assert "Ten minutes, at the board" in thread_page
    assert "Only moderators can see this." in thread_page
    queue = page(moderator.get(f"/spaces/{discussion.space.slug}/moderation"))
    assert "Ten minutes, at the board" in queue and "Restore and dismiss" in queue
    assert discussion.thread.reply_count == 0  # hidden replies are not counted
    assert audit() == ["post.flagged", "post.hidden"]


def test_a_hidden_posts_placeholder_links_to_its_place_not_to_a_missing_page(discussion, browser):
    """The reporter whose report hid the post, and every reader following the placeholder's own
    link, land where it is in the thread: the thread page shows it as a placeholder."""
    reader = browser(discussion.reader)
    response = report(reader, discussion.reply, "patient-information")
    landing = reader.get(response.headers["Location"], follow_redirects=True)
    assert landing.status_code == 200 and landing.request.path == f"/threads/{discussion.thread.id}"
    assert "hidden until a moderator has looked at it" in page(landing)
    assert "This post was hidden by a moderator." in page(landing)
    assert "Ten minutes, at the board" not in page(landing)
    link = f"/threads/{discussion.thread.id}/posts/{discussion.reply.id}"
    assert f'href="{link}"' in page(landing)
    for person in (discussion.author, discussion.moderator):
        response = browser(person).get(link)
        assert response.headers["Location"].endswith(
            f"/threads/{discussion.thread.id}#post-{discussion.reply.id}"
        )


def test_a_non_members_patient_information_report_hides_the_post_only_once_seconded(
    discussion, browser, make_user
):
    """In a network space anyone signed in may read and report; one such report is queued for
    the moderators, and a second person's hides the post."""
    outsider, another = make_user("Ona Outsider"), make_user("Ade Another")
    first = browser(outsider)
    response = report(first, discussion.reply, "patient-information")
    assert "The space&#39;s moderators will look at your report" in follow(first, response)
    assert "Ten minutes, at the board" in page(browser(discussion.author).get(
        f"/threads/{discussion.thread.id}"))  # fmt: skip
    second = browser(another)
    response = report(second, discussion.reply, "patient-information")
    assert "hidden until a moderator has looked at it" in follow(second, response)
    assert "Ten minutes, at the board" not in page(browser(discussion.author).get(
        f"/threads/{discussion.thread.id}"))  # fmt: skip
    assert audit() == ["post.flagged", "post.flagged", "post.hidden"]


def test_reports_the_form_sends_back_do_not_count_against_the_allowance(
    discussion, browser, make_user
):
    """A report sent back to be put right (no reason, or "something else" with no note) is not a
    report made, as over the live chat's socket: only the reports made count."""
    reporter = browser(make_user("Rory Reporter"))
    thread = discussion.thread
    posts = [services.reply(discussion.replier, thread, f"Reply {n}")[0] for n in range(21)]
    for _ in range(15):
        assert report(reporter, posts[0], "").status_code == 200
        assert report(reporter, posts[0], "other").status_code == 200
    assert [report(reporter, post, "spam").status_code for post in posts[:20]] == [302] * 20
    assert count(Flag) == 20
    assert report(reporter, posts[20], "spam").status_code == 429


def test_reports_are_rate_limited_per_person(discussion, browser, make_user):
    reporter = browser(make_user("Rory Reporter"))
    thread = discussion.thread
    posts = [services.reply(discussion.replier, thread, f"Reply {n}")[0] for n in range(21)]
    answers = [report(reporter, post, "spam").status_code for post in posts[:20]]
    assert answers == [302] * 20
    # Refused, the report's note is given back to copy.
    note = "The same advert as in the other threads, posted every hour."
    refused = Page(report(reporter, posts[20], "spam", note))
    assert refused.status == 429
    assert refused.values["note"] == note
    assert count(Flag) == 20
