"""The busiest reading pages issue a fixed number of SQL statements, however much they show.

Each page is requested twice over the same kind of data, once small and once full (a whole page of
threads, a 50-post thread, a page of notifications), and the statements sent to the database are
counted. The counts must be equal, so nothing is loaded item by item (an N+1), and small. No timing
here: speed is measured by ``bench/load.py``.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions import reading, services
from peerlearn.discussions.models import ImpactComponent, Post, Thread
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.notifications.models import Notification, NotificationKind
from peerlearn.spaces.models import Space
from tests.conftest import Client

#: No reading page may send more statements than this, whatever it shows.
MAX_STATEMENTS = 25

pytestmark = pytest.mark.usefixtures("header_count_every_time")


@contextmanager
def counting_statements(app: Flask, parameters: bool = False) -> Iterator[list[Any]]:
    """The SQL statements sent to the database while the block runs (with ``parameters``, each
    as ``(statement, [its parameters' values])``)."""
    statements: list[Any] = []

    def record(conn, cursor, statement, sent, context, executemany):
        if not parameters:
            statements.append(statement)
        else:
            values = sent.values() if isinstance(sent, dict) else sent
            statements.append((statement, list(values)))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def statements_for(app) -> Callable[[Client, str], tuple[list[str], str]]:
    """The statements one GET sends, and the page, after a first GET of the same page has warmed
    up the session (the once-in-five-minutes "last seen" write, the first read-position row)."""

    def count(client: Client, path: str) -> tuple[list[str], str]:
        assert client.get(path).status_code == 200
        with counting_statements(app) as statements:
            response = client.get(path)
        assert response.status_code == 200, path
        return statements, response.get_data(as_text=True)

    return count


def _shape(statement: str) -> str:
    """A statement without its column list and with IN lists folded, for comparing pages."""
    statement = re.sub(r"%\(\w+\)s(::\w+)?", "?", " ".join(statement.split()))  # PostgreSQL
    statement = re.sub(r"^SELECT .+? FROM ", "SELECT … FROM ", statement)
    return re.sub(r"IN \((\?, )*\?\)", "IN (…)", statement)


def _explain(small: list[str], large: list[str]) -> str:
    """Name the statements the larger page sent more often, to point at the N+1."""
    small_shapes, large_shapes = Counter(map(_shape, small)), Counter(map(_shape, large))
    extra = [
        f"  {large_shapes[s] - small_shapes[s]:+d}x {s[:300]}"
        for s in large_shapes
        if large_shapes[s] > small_shapes[s]
    ]
    return "\n".join(
        [f"{len(small)} statements for the small page, {len(large)} for the large one:", *extra]
    )


def _assert_flat(small: list[str], large: list[str]) -> None:
    small_count, large_count = len(small), len(large)
    assert large_count == small_count, _explain(small, large)
    assert len(large) <= MAX_STATEMENTS, "\n".join(_shape(s)[:300] for s in large)


@pytest.fixture
def reader(member, login, client) -> User:
    """A signed-in member of the QMS SIG: the reader whose pages are counted."""
    user = member("Aisha Khan")
    login(client, user)
    return user


@pytest.fixture
def authors(member) -> list[User]:
    """Members who write the threads and posts, each from their own organisation."""
    return [member(f"Author {n}", job_title="Head of Quality Improvement") for n in range(6)]


def _thread_with_posts(space: Space, authors: list[User], posts: int) -> Thread:
    """A thread of ``posts`` posts (opening post included) on one page: top-level replies, each
    with a chain of answers deep enough to be drawn with an "in reply to" link."""
    thread, _ = services.start_thread(
        authors[0],
        space,
        services.ThreadDraft(
            title=f"A thread of {posts} posts",
            body="How do you report **SPC** charts to your board?",
            components=(ImpactComponent.management_systems,),
            tags=("SPC", "board assurance"),
        ),
    )
    written, parent = 1, None
    while written < posts:
        # Seven replies per tree: a top-level reply and six answers, each to the one before.
        if parent is not None and parent.depth >= 6:
            parent = None
        author = authors[written % len(authors)]
        parent, _ = services.reply(author, thread, f"Reply number {written}.", parent=parent)
        written += 1
    assert db.session.get(Thread, thread.id).reply_count == posts - 1
    return thread


def test_a_thread_page_sends_as_many_statements_for_50_posts_as_for_5(
    client, sig, reader, authors, statements_for
):
    small = _thread_with_posts(sig, authors, 5)
    large = _thread_with_posts(sig, authors, 50)
    depths = db.session.scalars(select(Post.depth).where(Post.thread_id == large.id)).all()
    assert max(depths) > reading.MAX_VISUAL_DEPTH
    small_statements, small_page = statements_for(client, f"/threads/{small.id}")
    large_statements, large_page = statements_for(client, f"/threads/{large.id}")
    assert small_page.count('class="pl-post ') == 5
    assert large_page.count('class="pl-post ') == 50
    _assert_flat(small_statements, large_statements)


def _threads(space: Space, authors: list[User], count: int) -> list[Thread]:
    components = list(ImpactComponent)
    threads = []
    for n in range(count):
        thread, _ = services.start_thread(
            authors[n % len(authors)],
            space,
            services.ThreadDraft(
                title=f"Thread {n} in {space.name}",
                body="What worked for you?",
                components=(components[n % len(components)],),
                tags=(f"tag {n % 4}", "flow"),
            ),
        )
        if n % 3 == 0:
            services.reply(authors[(n + 1) % len(authors)], thread, "One reply.")
        threads.append(thread)
    return threads


def test_the_thread_list_sends_as_many_statements_for_25_threads_as_for_5(
    client, make_space, add_member, sig, reader, authors, statements_for
):
    other = make_space("Flow Coaching SIG")
    for user in [reader, *authors]:
        add_member(other, user)
    _threads(sig, authors, 5)
    _threads(other, authors, 25)
    small_statements, small_page = statements_for(client, f"/spaces/{sig.slug}/threads")
    large_statements, large_page = statements_for(client, f"/spaces/{other.slug}/threads")
    assert small_page.count('class="pl-thread"') == 5
    assert large_page.count('class="pl-thread"') == 25
    _assert_flat(small_statements, large_statements)


def _notify(user: User, threads: list[Thread], authors: list[User], count: int) -> None:
    """``count`` notifications of every kind about a thread, every fifth one about an event in
    the same space instead (a place given from its waiting list)."""
    kinds = [
        NotificationKind.reply_to_post,
        NotificationKind.reply_in_thread,
        NotificationKind.mention,
        NotificationKind.new_thread,
        NotificationKind.post_solved,
        NotificationKind.post_helpful,
    ]
    now = utcnow()
    for n in range(count):
        thread = threads[n % len(threads)]
        about: dict[str, object] = {"thread_id": thread.id, "post_id": thread.last_post_id}
        kind = kinds[n % len(kinds)]
        if n % 5 == 4:
            event = Event(space_id=thread.space_id, created_by_id=authors[0].id, venue="Leeds",
                          title=f"Event {n}", starts_at=now, ends_at=now)  # fmt: skip
            db.session.add(event)
            db.session.flush()
            about, kind = {"event_id": event.id}, NotificationKind.place_given
        db.session.add(
            Notification(
                user_id=user.id,
                kind=kind,
                actor_id=None if about.get("event_id") else authors[n % len(authors)].id,
                space_id=thread.space_id,
                created_at=now - timedelta(minutes=n),
                read_at=now if n % 2 else None,
                **about,
            )
        )
    db.session.commit()


def test_the_notification_centre_sends_as_many_statements_for_30_as_for_5(
    new_client, login, make_space, add_member, member, sig, authors, statements_for
):
    other = make_space("Flow Coaching SIG")
    for user in authors:
        add_member(other, user)
    threads = _threads(sig, authors, 4) + _threads(other, authors, 26)
    few, many = member("Few Notifications"), member("Many Notifications")
    add_member(other, many)
    _notify(few, threads[:4], authors, 5)
    _notify(many, threads, authors, 30)

    statements = {}
    for user, shown in ((few, 5), (many, 30)):
        client = new_client()
        login(client, user)
        statements[shown], page = statements_for(client, "/notifications")
        assert page.count('<li class="pl-notification') == shown
    _assert_flat(statements[5], statements[30])
