"""The index keeps up when writes race: two changes to one thing at once. Each index update
runs after its write has committed (a signal receiver), so these tests let one such update wait,
just before its first write, while the other request runs: the moment an update that read the
thing before the other request changed it would write what it read."""

from __future__ import annotations

from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.core import signals
from peerlearn.extensions import db
from peerlearn.search import indexing
from peerlearn.search.models import SearchDocument
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import JoinPolicy, Space, Visibility
from tests.concurrency import one_inside_another

#: The first write of an index update: holding what it reads, or the index row itself (had it
#: held nothing).
FIRST_INDEX_WRITE = ("UPDATE spaces", "INSERT INTO search_documents")


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
