"""Keeping the search index in step: the signal handlers that refresh a row after every
committed write, and the full rebuild. What each kind contributes is in ``kinds.py``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, event, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from peerlearn.accounts.models import User
from peerlearn.core import signals
from peerlearn.core.db import hold, insert_into, utcnow
from peerlearn.discussions.models import Post, Thread
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation
from peerlearn.resources.models import Resource
from peerlearn.search.backends import backend
from peerlearn.search.kinds import KINDS, Entry
from peerlearn.search.models import Kind, SearchDocument
from peerlearn.spaces.models import Space

logger = logging.getLogger(__name__)


# Writing rows -----------------------------------------------------------------------------------


def _put(entries: list[Entry]) -> None:
    """Write the entries' rows, each inserted, or updated where its thing has a row already, one
    written a moment ago by another request included (two refreshes of a thing with no row yet
    would otherwise both insert one, and the second fail). One statement, run once per entry
    (compiled once, whatever the number of entries)."""
    if not entries:
        return
    now = utcnow()
    rows = [
        {**{f.name: getattr(entry, f.name) for f in fields(Entry)}, "title": entry.title[:300],
         "indexed_at": now}
        for entry in entries
    ]  # fmt: skip
    statement = insert_into(db.session, SearchDocument.__table__)
    key = {"kind", "object_id"}
    upsert = statement.on_conflict_do_update(
        index_elements=sorted(key),
        set_={name: statement.excluded[name] for name in rows[0] if name not in key},
    )
    db.session.execute(upsert, rows)


def _drop(kind: Kind, object_ids: Iterable[int]) -> None:
    ids = list(object_ids)
    if ids:
        db.session.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == kind, SearchDocument.object_id.in_(ids)
            )
        )


def refresh(kind: Kind, object_id: int) -> Any | None:
    """Refresh one thing's row from the thing as it is now (or drop it, when it contributes
    nothing now, or is gone); the thing, as read. Its :attr:`~KindSpec.held` row is held first
    (:func:`~peerlearn.core.db.hold`), then everything read again: of two edits at once, the
    later one's refresh waits for the earlier one's to commit and reads what the later edit
    left, whichever refresh started first. Without it, a refresh that read the thing just
    before another edit went by wrote the earlier words over the later ones, and they stayed
    until the next edit or ``search-reindex``. A thread's or reply's refresh holds the thread,
    which a move writes: a move committed a moment ago is seen, and one under way waits, then
    takes the new rows with it (:func:`_follow_moves`)."""
    spec = KINDS[kind]
    _hold(kind, object_id)
    db.session.expire_all()  # read before the hold: read again
    thing = db.session.scalars(spec.source().where(spec.model.id == object_id)).one_or_none()
    entry = spec.entry(thing) if thing is not None else None
    if entry is None:
        _drop(kind, [object_id])
    else:
        _put([entry])
    return thing


def _hold(kind: Kind, object_id: int) -> None:
    """Hold the row a refresh of the thing holds (its kind's :attr:`~KindSpec.held`)."""
    hold(db.session, *KINDS[kind].held(object_id))


@event.listens_for(Session, "after_flush")
def _follow_moves(session: Session, flush_context: Any) -> None:
    """A thread that changed space takes its row and its replies' rows with it, in the same
    transaction as the move: the permission policy's search filters read the index's copy of
    each thing's space (``kinds.py``), so it must never lag behind a move into a private space.
    (Written at the connection's level: the flush is still under way.)"""
    for thing in session.dirty:
        if not isinstance(thing, Thread):
            continue
        state = inspect(thing)
        if not (
            state.attrs.space.history.has_changes() or state.attrs.space_id.history.has_changes()
        ):
            continue
        documents = SearchDocument.__table__
        replies = select(Post.id).where(Post.thread_id == thing.id)
        session.connection().execute(
            update(documents)
            .where(
                or_(
                    and_(documents.c.kind == Kind.thread, documents.c.object_id == thing.id),
                    and_(documents.c.kind == Kind.post, documents.c.object_id.in_(replies)),
                ),
                documents.c.space_id.is_distinct_from(thing.space_id),
            )
            .values(space_id=thing.space_id)
        )


def _file_under_organisation(user: User) -> None:
    """File what a person wrote under their organisation as it is now (after they move to
    another)."""
    written = {
        Kind.thread: select(Thread.id).where(Thread.author_id == user.id),
        Kind.post: select(Post.id).where(Post.author_id == user.id),
        Kind.event: select(Event.id).where(Event.created_by_id == user.id),
    }
    db.session.execute(
        update(SearchDocument)
        .where(
            or_(
                *(
                    and_(SearchDocument.kind == kind, SearchDocument.object_id.in_(ids))
                    for kind, ids in written.items()
                )
            ),
            SearchDocument.organisation_id.is_distinct_from(user.organisation_id),
        )
        .values(organisation_id=user.organisation_id)
    )


# Signals ----------------------------------------------------------------------------------------


_deferred: ContextVar[bool] = ContextVar("search_index_deferred", default=False)


@contextmanager
def deferred() -> Iterator[None]:
    """Skip per-write index updates inside the block (bulk loads such as the demo data, which
    then call :func:`reindex_all` once)."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def _committing(update: Callable[[Any], None]) -> Callable[..., None]:
    """A signal receiver that refreshes the sender's row and commits. A failure is logged and
    never undoes the write that was already committed (``search-reindex`` repairs the index)."""

    def receiver(sender: Any, **extra: Any) -> None:
        if _deferred.get():
            return
        try:
            update(sender)
            db.session.commit()
        except Exception:
            db.session.rollback()
            logger.exception("search index update failed for %r", sender)

    receiver.__name__ = f"search_{update.__name__}"
    return receiver


def _id(thing: Any) -> int:
    """The id of a thing a signal was sent with, without reading it (it is read once held)."""
    identity = inspect(thing).identity
    return int(identity[0]) if identity is not None else int(thing.id)


def _on_post(post: Post) -> None:
    """A reply's row; an opening post's words are its thread's."""
    if post.root_id is None:
        refresh(Kind.thread, post.thread_id)
    else:
        refresh(Kind.post, _id(post))


def _on_marked(post: Post) -> None:
    """A helpful mark given or taken back: only the reply's copy of the count changes, read
    once the reply is held as :func:`refresh` holds it (a count read before would let an
    earlier mark's update, overtaken by a later mark's, leave the earlier count)."""
    object_id = _id(post)
    _hold(Kind.post, object_id)
    count = select(Post.helpful_count).where(Post.id == object_id).scalar_subquery()
    db.session.execute(
        update(SearchDocument)
        .where(SearchDocument.kind == Kind.post, SearchDocument.object_id == object_id)
        .values(helpful=count)
    )


def _on_thread(thread: Thread) -> None:
    """A thread's row. (A thread's components are chosen when it is started and never change,
    so its replies' copies of them stay right; its and their space follow a move in the move's
    own transaction: :func:`_follow_moves`.)"""
    refresh(Kind.thread, _id(thread))


def _on_event(event: Event) -> None:
    refresh(Kind.event, _id(event))


def _on_space(space: Space) -> None:
    refresh(Kind.space, _id(space))


def _on_person(user: User) -> None:
    person = refresh(Kind.person, _id(user))
    if person is not None:
        _file_under_organisation(person)


def _on_resource(resource: Resource) -> None:
    refresh(Kind.resource, _id(resource))


def _on_organisation(organisation: Organisation) -> None:
    """An organisation renamed: the rows that carry its name (its people, and the resources
    that came from it) are refreshed. Region needs nothing: it is read through the organisation
    when searching."""
    refresh_where(Kind.person, User.organisation_id == organisation.id)
    refresh_where(Kind.resource, Resource.organisation_id == organisation.id)


RECEIVERS = {
    signals.post_created: _committing(_on_post),
    signals.post_edited: _committing(_on_post),
    signals.post_removed: _committing(_on_post),
    signals.post_restored: _committing(_on_post),
    signals.post_marked: _committing(_on_marked),
    signals.thread_changed: _committing(_on_thread),
    signals.space_changed: _committing(_on_space),
    signals.event_changed: _committing(_on_event),
    signals.person_changed: _committing(_on_person),
    signals.resource_changed: _committing(_on_resource),
    signals.organisation_changed: _committing(_on_organisation),
}


def connect_signals() -> None:
    """Listen for every write the index follows (idempotent: blinker keeps one of each)."""
    for signal, receiver in RECEIVERS.items():
        signal.connect(receiver)


# Rebuilding -------------------------------------------------------------------------------------

BATCH = 500


def _batches(query: Any) -> Iterable[list[Any]]:
    """Rows of ``query`` by id, ``BATCH`` at a time, without holding them all in memory."""
    model = query.column_descriptions[0]["entity"]
    last = 0
    while True:
        rows = list(
            db.session.scalars(query.where(model.id > last).order_by(model.id).limit(BATCH))
        )
        if not rows:
            return
        yield rows
        last = rows[-1].id
        db.session.expire_all()


def _index_batch(kind: Kind, things: list[Any]) -> int:
    """Refresh the rows of ``things`` (of ``kind``, loaded by its ``source``) in one statement;
    drop those that contribute nothing now. Returns how many were indexed."""
    spec = KINDS[kind]
    entries, dropped = [], []
    for thing in things:
        entry = spec.entry(thing)
        if entry is None:
            dropped.append(thing.id)
        else:
            entries.append(entry)
    _put(entries)
    _drop(kind, dropped)
    return len(entries)


def refresh_where(kind: Kind, condition: ColumnElement[bool]) -> None:
    """Refresh the rows of the things of ``kind`` that meet ``condition``, a batch at a time, as
    a full rebuild reads them."""
    for things in _batches(KINDS[kind].source().where(condition)):
        _index_batch(kind, things)
        db.session.commit()


def rows_to_index() -> int:
    """How many rows :func:`reindex_all` will read (for a progress bar)."""
    return sum(
        db.session.scalar(select(func.count()).select_from(spec.source().subquery())) or 0
        for spec in KINDS.values()
    )


def reindex_all(progress: Callable[[int], None] | None = None) -> dict[Kind, int]:
    """Rebuild every row from the real tables (idempotent; safe while the site serves: each
    batch is its own transaction, and rows for things that no longer exist are dropped).
    ``progress`` is called with the number of source rows read after each batch."""
    counts: dict[Kind, int] = {}
    started = utcnow()
    for kind, spec in KINDS.items():
        counts[kind] = 0
        for rows in _batches(spec.source()):
            counts[kind] += _index_batch(kind, rows)
            db.session.commit()
            if progress is not None:
                progress(len(rows))
        # Rows not refreshed by this run belong to things gone (or no longer indexed): drop them.
        db.session.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == kind, SearchDocument.indexed_at < started
            )
        )
        db.session.commit()
    backend().rebuild()
    db.session.commit()
    return counts
