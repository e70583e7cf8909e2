"""The demo discussions: a living network a newcomer can explore, seeded once and only once."""

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.demo import PEOPLE
from peerlearn.demo_discussions import OPENERS, plan, roster
from peerlearn.discussions.models import (
    HelpfulMark,
    Post,
    PostRevision,
    Tag,
    Thread,
    ThreadKind,
    ThreadSubscription,
)
from peerlearn.extensions import db
from peerlearn.notifications.models import Notification
from peerlearn.spaces.models import Membership, MemberState, Space
from tests.conftest import PASSWORD
from tests.core.conftest import seed_demo

COUNTED = (Thread, Post, HelpfulMark, Tag, PostRevision, ThreadSubscription, Notification)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_plan_is_the_same_every_time_and_only_names_demo_people():
    assert plan() == plan()
    names = {person.handle: person.name for person in PEOPLE}
    for planned in plan():
        members = set(roster(planned.opener.space))
        texts = [planned.opener.body, planned.opener.update or ""]
        texts += [post.body for post in planned.replies]
        for text in texts:
            assert "lorem" not in text.lower()
            for handle in re.findall(r"(?<![\w.])@([a-z0-9-]+)", text):
                assert handle in members, (planned.opener.title, handle)
            assert set(re.findall(r"@\[([^\]]+)\]", text)) <= {names[h] for h in members}
        assert {post.author for post in planned.replies} <= members
        for post in planned.replies:
            if post.parent is not None:  # a reply comes after what it answers
                assert post.hours > planned.replies[post.parent].hours
            assert all(handle != post.author for handle, _ in post.helpful)


def test_seed_demo_builds_a_living_network(demo):
    _every_space_has_threads()
    _threads_hold_questions_answers_trees_mentions_and_marks()
    _counters_times_and_authors_are_consistent()


def test_seeding_again_adds_no_discussions_and_moves_no_thread(demo_copy):
    """On a copy of the demo seeded once (tests/core/conftest.py), seeded a second time."""
    before = {model.__name__: _count(model) for model in COUNTED}
    activity = dict(db.session.execute(select(Thread.id, Thread.last_activity_at)).all())
    seed_demo(demo_copy)
    assert {model.__name__: _count(model) for model in COUNTED} == before
    assert dict(db.session.execute(select(Thread.id, Thread.last_activity_at)).all()) == activity


def test_a_demo_members_notification_centre_reads_newest_first(demo_copy):
    """The seed dates what it posts over six weeks, after posting it thread by thread: the centre
    lists the notifications by those dates, unread first, each part newest first, page after
    page. On a copy of the seeded demo: signing in writes."""
    client = demo_copy.test_client()
    aisha = db.session.scalar(select(User).where(User.handle == "aisha-khan"))
    signed_in = client.post("/login", data={"email": aisha.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    listed: list[tuple[bool, datetime]] = []  # (read, when), as the pages show them
    for number in range(1, 10):
        page = client.get(f"/notifications?page={number}").get_data(as_text=True)
        shown = re.findall(
            r'<li class="pl-notification( pl-notification--unread)?">.*?<time datetime="([^"]+)"',
            page,
            re.DOTALL,
        )
        listed += [(not unread, datetime.fromisoformat(when)) for unread, when in shown]
        if "nhsuk-pagination__link--next" not in page:  # the last page
            break
    assert len(listed) > 60 and {read for read, _ in listed} == {False, True}  # pages of both
    assert listed == sorted(listed, key=lambda item: (item[0], -item[1].timestamp()))


def _every_space_has_threads():
    for space in db.session.scalars(select(Space)):
        threads = db.session.scalar(select(func.count()).where(Thread.space_id == space.id))
        assert threads >= 2, space.slug
    # Every opener, and the record of a demo event (see test_demo_events.py).
    records = select(func.count()).where(Thread.title.startswith("Record: "))
    assert _count(Thread) - db.session.scalar(records) == len(OPENERS) >= 20
    assert 200 <= _count(Post) <= 600


def _threads_hold_questions_answers_trees_mentions_and_marks():
    solved = db.session.scalars(select(Thread).where(Thread.solved_post_id.is_not(None))).all()
    assert solved and all(thread.kind is ThreadKind.question for thread in solved)
    for thread in solved:
        answer = db.session.get(Post, thread.solved_post_id)
        assert answer.thread_id == thread.id and answer.root_id is not None
    unanswered = select(Thread).where(Thread.kind == ThreadKind.question, Thread.reply_count == 0)
    assert db.session.scalars(unanswered).first() is not None

    deep = db.session.scalars(select(Post).where(Post.depth >= 2)).first()
    assert deep is not None
    parent = db.session.get(Post, deep.parent_id)
    assert parent.depth == deep.depth - 1 and deep.path.startswith(parent.path + ".")
    assert deep.root_id == parent.root_id

    mentions = db.session.scalars(
        select(Post).where(Post.body_html.contains('class="pl-mention"'))
    ).all()
    assert len(mentions) >= 10
    assert any("@[" in post.body_source for post in mentions)  # by full name
    assert any(re.search(r"(?<![\w\[])@[a-z]", post.body_source) for post in mentions)  # by handle
    assert _count(Notification) > 0
    assert db.session.scalar(select(func.count()).where(Notification.kind == "mention")), (
        "mentioned members are told"
    )

    quoted = db.session.scalars(select(Post).where(Post.body_source.contains(" wrote:\n\n> ")))
    assert "<blockquote>" in quoted.first().body_html
    assert _count(HelpfulMark) >= 20
    for post in db.session.scalars(select(Post).where(Post.helpful_count > 0)):
        marks = select(func.count()).where(HelpfulMark.post_id == post.id)
        assert post.helpful_count == db.session.scalar(marks)
    assert _count(PostRevision) >= 1
    assert db.session.scalar(select(func.count()).where(Thread.pinned.is_(True))) >= 1


def _counters_times_and_authors_are_consistent():
    now = utcnow()
    for thread in db.session.scalars(select(Thread)):
        posts = db.session.scalars(select(Post).where(Post.thread_id == thread.id)).all()
        replies = [p for p in posts if p.root_id is not None and not p.removed]
        assert thread.reply_count == len(replies), thread.title
        assert thread.last_post_id == max(p.id for p in posts)
        assert thread.last_activity_at == max(p.created_at for p in posts)
        assert now - timedelta(days=43) < thread.created_at <= now
        by_id = {p.id: p for p in posts}
        for post in posts:
            assert thread.created_at <= post.created_at <= now
            if post.parent_id is not None:
                assert post.created_at > by_id[post.parent_id].created_at
            member = db.session.scalar(
                select(Membership).where(
                    Membership.space_id == thread.space_id, Membership.user_id == post.author_id
                )
            )
            assert member is not None and member.state is MemberState.active
    assert db.session.scalar(select(func.max(Notification.created_at))) <= now
    unread = select(func.count()).where(Notification.read_at.is_(None))
    assert 0 < db.session.scalar(unread) < _count(Notification)
    assert all(u.email.endswith("@peerlearn.example") for u in db.session.scalars(select(User)))
