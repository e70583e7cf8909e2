"""The search index: one row per searchable thing, kept in step with the real tables by signals.

The row holds the text that is searched and shown in snippets (plain text, already stripped of
markup) and the ids the permission filter needs; whether a reader may see a row is decided at
query time by the permission policy, from the reader's memberships and the spaces' settings as
they are then. For threads, replies and events the policy reads the row's copy of the thing's
space, which follows a move in the move's own transaction (``indexing._follow_moves``).

Each database adds its own full-text machinery on top of this table, by hand-written migration
operations that the models cannot describe (see :data:`HAND_MADE`):

- SQLite: an external-content FTS5 table ``search_fts(title, body)`` with the porter/unicode61
  tokenizer, kept in step with ``search_documents`` by three triggers (the one on update fires
  only when the title, body or date is written). Its row ids are each row's ``fts_key``, a
  generated column ordering rows by date (to the second), then id, with a unique index: FTS5
  gives matches in row id order, so reading it backwards gives the newest first.
- PostgreSQL: a stored generated ``tsvector`` column ``search_vector`` (title weighted A, body
  B, English configuration) with a GIN index.

Alembic's batch mode rebuilds a SQLite table by copying it, which drops its triggers and its
generated column: a later migration that alters ``search_documents`` on SQLite must recreate them
as migration ``9af6db03d2d1`` does (plain ``ADD COLUMN`` keeps them).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from peerlearn.core.db import utcnow
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db


class Kind(enum.StrEnum):
    """What a search result is. Adding a kind: a member here, a :class:`~peerlearn.search.kinds.KindSpec`
    in ``kinds.KINDS`` and a signal receiver in ``indexing.py``."""

    thread = "thread"
    post = "post"
    event = "event"
    space = "space"
    person = "person"
    resource = "resource"

    @property
    def label(self) -> str:
        return {
            "thread": "Discussion",
            "post": "Reply",
            "event": "Event",
            "space": "Community or group",
            "person": "Person",
            "resource": "Resource",
        }[self.value]

    @property
    def plural(self) -> str:
        return {
            "thread": "Discussions",
            "post": "Replies",
            "event": "Events",
            "space": "Communities and groups",
            "person": "People",
            "resource": "Resources",
        }[self.value]


def component_bit(component: ImpactComponent) -> int:
    """The bit that stands for one NHS IMPACT component in :attr:`SearchDocument.components`."""
    return 1 << (component.number - 1)


def component_bits(components: Iterable[ImpactComponent]) -> int:
    bits = 0
    for component in components:
        bits |= component_bit(component)
    return bits


class SearchDocument(db.Model):
    """One searchable thing's text, as last indexed."""

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        Index("ix_search_documents_space_kind", "space_id", "kind"),
        # A search reads its matches newest first (services.CANDIDATES), of one kind or all.
        Index("ix_search_documents_activity", "activity_at", "id"),
        Index("ix_search_documents_kind_activity", "kind", "activity_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind]
    #: The thread's, post's, event's, space's, user's or resource's id.
    object_id: Mapped[int]
    #: The space it lives in (a space's own id for a space; None for people): the space filter,
    #: and for threads, replies and events what the permission policy's search filters read.
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    #: A reply's thread (None for other kinds; a thread's row has its id as ``object_id``).
    #: Fixed (a reply never changes thread): what the permission policy's search filters read
    #: to keep the replies of hidden threads from readers who do not moderate the space.
    thread_id: Mapped[int | None]
    #: The organisation it comes from: a resource's originating organisation, a person's own,
    #: and for threads, replies and events their author's (as it is now, not as it was when they
    #: wrote): the organisation filter, and through the organisation's region the region filter.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    #: The NHS IMPACT components it is tagged with, as bits (:func:`component_bit`): a thread's,
    #: its replies' (the thread's), an event's and a resource's. The component filter.
    components: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Shown as the result's link text; weighted above the body in ranking.
    title: Mapped[str] = mapped_column(String(300))
    #: Plain text searched and cut into snippets.
    body: Mapped[str] = mapped_column(Text, default="")
    #: When it was written or last changed: the date shown, the date filter, and recency.
    activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A reply's helpful marks, for ranking (0 for other kinds): a copy, so that ranking reads
    #: no other table for each match.
    helpful: Mapped[int] = mapped_column(default=0, server_default="0")
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


#: Database objects the hand-written migration operations make and the models do not describe:
#: Alembic's comparison and autogenerate skip exactly these (see :func:`include_object`).
HAND_MADE = {
    "table_prefixes": ("search_fts",),  # the FTS5 table and its shadow tables (SQLite)
    # The tsvector (PostgreSQL); the FTS5 row ids (SQLite).
    "columns": {("search_documents", "search_vector"), ("search_documents", "fts_key")},
    # Its GIN index (PostgreSQL); the FTS5 row ids' unique index (SQLite).
    "indexes": {"ix_search_documents_search_vector", "ix_search_documents_fts_key"},
}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object`` hook: leave the hand-made full-text objects alone (they exist
    in the database only, so a comparison would otherwise ask to drop them)."""
    if not reflected or compare_to is not None or name is None:
        return True
    if type_ == "table":
        return not name.startswith(HAND_MADE["table_prefixes"])
    if type_ == "column":
        return (obj.table.name, name) not in HAND_MADE["columns"]
    if type_ == "index":
        return name not in HAND_MADE["indexes"]
    return True
