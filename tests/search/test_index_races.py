"""The index keeps up when writes race: two changes to one thing at once, and a reply written as
its thread moves. Each index update runs after its write has committed (a signal receiver), so
these tests let one such update wait, just before its first write, while the other request
runs: the moment an update that read the thing before the other request changed it would write
what it read."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.core import signals
from peerlearn.discussions.models import Post, Thread
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.search import indexing
from peerlearn.search.models import SearchDocument
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
