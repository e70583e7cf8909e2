"""The index keeps up when writes race: two changes to one thing at once, and a reply written as
its thread moves. Each index update runs after its write has committed (a signal receiver), so
these tests let one such update wait, just before its first write, while the other request
runs: the moment an update that read the thing before the other request changed it would write
what it read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from peerlearn.accounts import services as accounts
from peerlearn.accounts.models import User
from peerlearn.core import signals
from peerlearn.core.db import utcnow
from peerlearn.discussions import marks
from peerlearn.discussions import services as discussions
from peerlearn.discussions.models import Post, Thread
from peerlearn.events import services as events
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.resources import services as resources
from peerlearn.resources.models import (
    Classification,
    Licence,
    Resource,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.search import indexing
from peerlearn.search.kinds import KINDS
from peerlearn.search.models import Kind, SearchDocument
from peerlearn.search.services import search
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import JoinPolicy, MemberRole, Space, Visibility
from tests.concurrency import WRITES, one_inside_another

#: The first write of an index update: holding what it reads (a space, a thread), or the index
#: row itself (had it held nothing).
FIRST_INDEX_WRITE = ("UPDATE spaces", "UPDATE threads", "INSERT INTO search_documents")


def _rows(kind: str, object_id: int) -> list[SearchDocument]:
    return list(
        db.session.scalars(
            select(SearchDocument).where(
                SearchDocument.kind == kind, SearchDocument.object_id == object_id
            )
        )
    )


def test_two_changes_to_a_space_with_no_row_yet_leave_one_row_with_the_later_words(
    app, sig, author, find, caplog
) -> None:
    """A space not yet in the index (made before it, or its first update failed) is renamed
    twice at once: the first rename's index update had read the space and found no row when the
    second rename and its update went by. Both updates succeed, the space has one row, and it is
    found by its later name only."""
    assert _rows("space", sig.id) == []
    space_id, author_id = sig.id, author.id

    def rename(name: str) -> None:
        data = spaces.SpaceData(name, "Run charts.", "", Visibility.network, JoinPolicy.open)
        spaces.update_space(db.session.get(User, author_id), db.session.get(Space, space_id), data)

    with indexing.deferred():  # the first rename, committed; its index update still to run
        rename("Statistical process control")

    def first_update() -> None:
        signals.space_changed.send(db.session.get(Space, space_id))

    one_inside_another(
        app, first_update, lambda: rename("Measurement for improvement"), FIRST_INDEX_WRITE
    )
    db.session.expire_all()
    assert "search index update failed" not in caplog.text
    assert [row.title for row in _rows("space", space_id)] == ["Measurement for improvement"]
    assert find(author, "measurement") == [("space", space_id)]
    assert find(author, "statistical") == []


@pytest.fixture
def moving(sig, author, make_space, add_member, make_user, new_thread):
    """A thread in the network-wide group, a private space its moderator moves it to, and
    someone outside that space."""
    private = make_space("Board secrets", visibility=Visibility.private)
    add_member(private, author, MemberRole.moderator)
    outsider = make_user("Outsider")
    thread = new_thread("Waiting list validation", "Validate weekly.")
    return thread, private, outsider


def _move(author_id: int, thread_id: int, space_id: int):
    def move() -> None:
        moderation.move_thread(
            db.session.get(User, author_id),
            db.session.get(Thread, thread_id),
            db.session.get(Space, space_id),
        )

    return move


@pytest.mark.parametrize(
    ("waits_at", "goes_on_at"),
    [
        # The move commits just before the reply's index update writes (or holds) anything.
        pytest.param(FIRST_INDEX_WRITE, None, id="move-first"),
        # The update holds the thread first: the move, writing to it, waits for the update to
        # commit, then takes the new row with it.
        pytest.param("INSERT INTO search_documents", WRITES, id="index-update-first"),
    ],
)
def test_a_reply_indexed_as_its_thread_moves_counts_only_for_the_new_space(
    app, moving, author, new_reply, find, waits_at, goes_on_at
) -> None:
    thread, private, outsider = moving
    with indexing.deferred():  # the reply, committed; its index update still to run
        reply = new_reply(thread, "Validation saves clinic slots.")
    reply_id = reply.id

    def index_reply() -> None:
        post = db.session.get(Post, reply_id)
        indexing.RECEIVERS[signals.post_created](post, mentioned=[], new_thread=False)

    move = _move(author.id, thread.id, private.id)
    one_inside_another(app, index_reply, move, waits_at, resume=goes_on_at)
    db.session.expire_all()
    assert [row.space_id for row in _rows("post", reply_id)] == [private.id]
    results = search(outsider, "validation")
    assert list(results) == [] and results.counts == {}
    assert set(find(author, "validation", space_id=private.id)) == {
        ("thread", thread.id), ("post", reply_id),
    }  # fmt: skip


# Two edits at once ------------------------------------------------------------------------------

#: An edit through its service, putting the words given in the thing's text.
Edit = Callable[[str], None]


@pytest.fixture
def event_edits(new_event, author) -> tuple[int, Edit]:
    event_id, author_id = new_event("Flow coaching", "An afternoon together.").id, author.id

    def edit(words: str) -> None:
        event = db.session.get(Event, event_id)
        draft = events.EventDraft(
            event.title, words, event.starts_at, event.ends_at, joining_url=event.joining_url
        )
        events.update_event(db.session.get(User, author_id), event, draft)

    return event_id, edit


@pytest.fixture
def person_edits(make_user) -> tuple[int, Edit]:
    user_id = make_user("Tom Reid").id

    def edit(words: str) -> None:
        user = db.session.get(User, user_id)
        accounts.update_profile(user, display_name=user.display_name, job_title=user.job_title,
                                organisation_id=user.organisation_id, bio=words)  # fmt: skip

    return user_id, edit


@pytest.fixture
def resource_edits(sig, author) -> tuple[int, Edit]:
    def draft(summary: str) -> resources.ResourceDraft:
        return resources.ResourceDraft(
            "Board assurance template", ResourceType.template, Licence.ogl_3,
            ResourceVisibility.network, Classification.official, pii_declared=True,
            summary=summary, link_url="https://www.england.nhs.uk/nhsimpact/",
        )  # fmt: skip

    resource_id = resources.create_resource(author, sig, draft("A template.")).id
    author_id = author.id

    def edit(words: str) -> None:
        resource = db.session.get(Resource, resource_id)
        resources.update_resource(db.session.get(User, author_id), resource, draft(words))

    return resource_id, edit


@pytest.fixture
def space_edits(sig, author) -> tuple[int, Edit]:
    space_id, author_id = sig.id, author.id

    def edit(words: str) -> None:
        space = db.session.get(Space, space_id)
        data = spaces.SpaceData(space.name, words, "", Visibility.network, JoinPolicy.open)
        spaces.update_space(db.session.get(User, author_id), space, data)

    return space_id, edit


def _post_edits(post_id: int, author_id: int) -> Edit:
    def edit(words: str) -> None:
        discussions.edit_post(db.session.get(User, author_id), db.session.get(Post, post_id), words)

    return edit


@pytest.fixture
def thread_edits(new_thread, author) -> tuple[int, Edit]:
    """A thread's words, edited in its opening post."""
    thread = new_thread("Board reporting", "How do you report?")
    opening = db.session.scalar(select(Post.id).where(Post.thread_id == thread.id))
    return thread.id, _post_edits(opening, author.id)


@pytest.fixture
def post_edits(new_thread, new_reply, author) -> tuple[int, Edit]:
    reply = new_reply(new_thread("Board reporting", "How do you report?"), "Monthly.")
    return reply.id, _post_edits(reply.id, author.id)


#: Each kind whose text an edit changes: the signal its index update answers, and the model of
#: the thing sent with it (a thread's words are edited in its opening post).
EDITED: dict[str, tuple[Any, type[Any]]] = {
    "event": (signals.event_changed, Event),
    "person": (signals.person_changed, User),
    "resource": (signals.resource_changed, Resource),
    "space": (signals.space_changed, Space),
    "thread": (signals.post_edited, Post),
    "post": (signals.post_edited, Post),
}


def _sent(kind: str, object_id: int) -> int:
    """The id of the thing its index update is sent with."""
    if kind == "thread":
        return db.session.scalar(select(Post.id).where(Post.thread_id == object_id))
    return object_id


@pytest.mark.parametrize(
    ("waits_at", "goes_on_at"),
    [
        # The later edit and its index update commit just before the earlier edit's update
        # writes (or holds) anything, after it read the thing as the earlier edit left it.
        pytest.param(WRITES, None, id="later-edit-first"),
        # The earlier edit's update holds the thing first: the later edit, writing to it, waits
        # for that update to commit (no deadlock), and its own update comes after.
        pytest.param("INSERT INTO search_documents", WRITES, id="index-update-first"),
    ],
)
@pytest.mark.parametrize("kind", EDITED)
def test_two_edits_at_once_leave_the_later_words_in_the_index(
    app, request, author, find, caplog, kind, waits_at, goes_on_at
) -> None:
    object_id, edit = request.getfixturevalue(f"{kind}_edits")
    signal, model = EDITED[kind]
    with indexing.deferred():  # the earlier edit, committed; its index update still to run
        edit("Statistical process control")
    sent_id = _sent(kind, object_id)

    def earlier_update() -> None:
        indexing.RECEIVERS[signal](db.session.get(model, sent_id), mentioned=[])

    def later_edit() -> None:
        edit("Measurement for improvement")

    one_inside_another(app, earlier_update, later_edit, waits_at, resume=goes_on_at)
    db.session.expire_all()
    assert "search index update failed" not in caplog.text
    assert len(_rows(kind, object_id)) == 1
    assert find(author, "measurement") == [(kind, object_id)]
    assert find(author, "statistical") == []


@pytest.mark.parametrize("kind", EDITED)
def test_an_index_update_leaves_the_row_it_holds_as_it_was(app, request, kind) -> None:
    """What an update holds is written to itself: nothing changes, an event's or resource's
    ``updated_at`` included (calendars and the library would see an edit nobody made)."""
    object_id, _ = request.getfixturevalue(f"{kind}_edits")
    signal, model = EDITED[kind]
    sent_id = _sent(kind, object_id)
    column, where = KINDS[Kind(kind)].held(object_id)
    held = select(column.class_.__table__).where(where)
    before = db.session.execute(held).one()
    indexing.RECEIVERS[signal](db.session.get(model, sent_id), mentioned=[])
    assert db.session.execute(held).one() == before
    assert len(_rows(kind, object_id)) == 1


def test_two_helpful_marks_at_once_leave_the_later_count_in_the_index(
    app, new_thread, new_reply, member
) -> None:
    """The index's copy of a reply's helpful marks (which ranks it) ends with the count the
    later mark left, not the count the earlier mark's update read before it went by."""
    reply = new_reply(new_thread(), "Use a run chart for the huddle board.")
    reply_id = reply.id
    first, second = member("Tom Reid").id, member("Priya Shah").id

    def mark(user_id: int) -> None:
        marks.set_helpful(db.session.get(User, user_id), db.session.get(Post, reply_id), True)

    with indexing.deferred():  # the earlier mark, committed; its index update still to run
        mark(first)

    def earlier_update() -> None:
        post = db.session.get(Post, reply_id)
        indexing.RECEIVERS[signals.post_marked](post, how="helpful", by=None)

    one_inside_another(app, earlier_update, lambda: mark(second), WRITES)
    db.session.expire_all()
    assert db.session.get(Post, reply_id).helpful_count == 2
    assert [row.helpful for row in _rows("post", reply_id)] == [2]


@pytest.mark.parametrize("change", ["removed", "redated"])
def test_the_round_s_last_row_changing_before_the_rest_is_read_loses_nothing(
    app, new_thread, author, make_space, make_user, monkeypatch, change
) -> None:
    """A search reads one round of the newest matches, then, for a reader who may see few of
    them, the rest from the round's last row on. That row may go, or an edit may date it later,
    between the two statements: the rest still starts where the round ended, and finds each
    match once."""
    from datetime import timedelta

    from peerlearn.search import services

    monkeypatch.setattr(services, "CANDIDATES", 2)
    monkeypatch.setattr(services, "ROUND", 4)
    owner = make_user("Group Owner")
    group = make_space("Private jidoka group", visibility=Visibility.private, owner=owner)

    def secret(n: int) -> Thread:  # in a group the reader is not in
        return new_thread(f"Secret jidoka {n}", "Jidoka.", space=group, by=owner)

    # Newest first: a secret, one the reader may see, two secrets (the round), then the rest.
    shown = [new_thread("Jidoka 0", "Jidoka."), new_thread("Jidoka 1", "Jidoka.")]
    secrets = [secret(0), secret(1)]
    shown.append(new_thread("Jidoka 2", "Jidoka."))
    secrets.append(secret(2))
    rounds, done = [], []

    def change_the_last_row(conn, cursor, statement, parameters, context, executemany) -> None:
        # Once the round has been read, before the next statement.
        if "row_number() OVER" in statement:
            rounds.append(statement)
            return
        if not rounds or done:
            return
        done.append(True)
        row = (SearchDocument.kind == Kind.thread) & (SearchDocument.object_id == secrets[0].id)
        if change == "removed":
            conn.execute(sa.delete(SearchDocument).where(row))
        else:  # a minute on: SQLite's full-text rows are ordered to the second
            later = utcnow() + timedelta(minutes=1)
            conn.execute(sa.update(SearchDocument).where(row).values(activity_at=later))

    sa.event.listen(db.engine, "before_cursor_execute", change_the_last_row)
    try:
        results = search(author, "jidoka")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", change_the_last_row)
    assert done
    assert [result.target.id for result in results] == [shown[2].id, shown[1].id]
    assert results.more and results.total == 2


def test_a_result_whose_row_goes_as_the_page_is_read_is_left_off(app, new_thread, author) -> None:
    """Between finding the newest matches and ranking them (which reads the page's rows), a
    removal (or a rebuild) may drop a row: PostgreSQL's statements each see what has been
    committed by then. The page shows the rest."""
    kept = new_thread("Huddle boards", "Standing up.")
    gone = new_thread("Huddle times", "Nine o'clock.")
    gone_row = db.session.scalar(
        select(SearchDocument.id).where(
            SearchDocument.kind == Kind.thread, SearchDocument.object_id == gone.id
        )
    )
    dropped = []

    def drop_the_row(conn, cursor, statement, parameters, context, executemany) -> None:
        # The ranking statement, the only one that orders by relevance.
        if ("bm25(" in statement or "ts_rank(" in statement) and not dropped:
            dropped.append(gone_row)
            conn.execute(sa.delete(SearchDocument).where(SearchDocument.id == gone_row))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", drop_the_row)
    try:
        results = search(author, "huddle")
    finally:
        sa.event.remove(engine, "before_cursor_execute", drop_the_row)
    assert dropped
    assert [(result.kind, result.target.id) for result in results] == [(Kind.thread, kept.id)]


def test_a_result_edited_as_its_snippet_is_cut_keeps_a_title(app, new_thread, author) -> None:
    """An edit committed between ranking and cutting snippets may take the words searched for
    out of a row: its result still shows a title (its link would otherwise have no text)."""
    thread = new_thread("Huddle boards", "Standing up.")
    edited = []

    def edit_the_row(conn, cursor, statement, parameters, context, executemany) -> None:
        if ("highlight(search_fts" in statement or "ts_headline" in statement) and not edited:
            edited.append(thread.id)
            conn.execute(
                sa.update(SearchDocument)
                .where(SearchDocument.kind == Kind.thread, SearchDocument.object_id == thread.id)
                .values(title="Morning boards", body="Standing up.")
            )

    sa.event.listen(db.engine, "before_cursor_execute", edit_the_row)
    try:
        results = list(search(author, "huddle"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", edit_the_row)
    assert edited
    # Its title as the page read it, before or after the edit.
    assert [str(result.title) for result in results] in (["Huddle boards"], ["Morning boards"])
