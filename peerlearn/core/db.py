"""Declarative base, naming convention and column types shared by every model; the session
class, which sends signals queued for after the commit; holds and conditional changes."""

import enum
import logging
import sqlite3
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import ColumnElement, DateTime, Enum, MetaData, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, registry
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

#: Stable constraint names, so that Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(connection: Any, _record: Any) -> None:
    """SQLite checks foreign keys, and follows their ``ON DELETE`` rules, only on connections
    that ask: ask on every one, so the embedded default keeps the same integrity as PostgreSQL.
    (Migrations turn it off while they run: ``migrations/env.py``.)"""
    if isinstance(connection, sqlite3.Connection):
        connection.execute("PRAGMA foreign_keys = ON")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today_in_england() -> date:
    """Today's date where everyone using peerlearn is (Europe/London): the day a date people
    typed (a review date) is judged by. From midnight to 1 a.m. in summer, UTC is a day behind."""
    return utcnow().astimezone(ZoneInfo("Europe/London")).date()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps the zone; SQLite does not, so naive values coming back are marked as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use peerlearn.core.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every model."""

    # Enums are stored as their string values in plain VARCHAR columns (no database ENUM types),
    # so adding a member later needs no schema change on PostgreSQL.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime,
            enum.Enum: Enum(
                enum.Enum,
                native_enum=False,
                length=32,
                values_callable=lambda members: [member.value for member in members],
            ),
        },
    )


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its own ``%``, ``_`` and ``\\`` escaped.

    Use with ``escape="\\\\"``: ``column.ilike(contains_pattern(q), escape="\\\\")``.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def insert_into(session: Session, table: Any) -> Any:
    """An INSERT into ``table`` for the session's database, offering ``on_conflict_do_nothing``
    and ``on_conflict_do_update`` (PostgreSQL's and SQLite's both have them)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def change_if(session: Session, row: Any, condition: ColumnElement[bool], **values: Any) -> bool:
    """Set ``values`` (attribute names) on ``row``'s row only while ``condition`` holds, in one
    statement, then read them back onto ``row``; whether it changed. The same change made twice
    at once (a double click, two moderators) is then made once, and only its maker audits it."""
    model = type(row)
    changed = session.scalar(
        update(model)
        .where(model.id == row.id, condition)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row, list(values))
    return changed is not None


def hold(session: Session, unchanged: Any, where: ColumnElement[bool]) -> None:
    """Make this transaction the only one changing what the rows ``where`` stand for until it
    ends: one statement on both databases, a write to the rows that changes nothing (``unchanged``
    is set to itself). PostgreSQL locks the rows until the commit (not their keys, so rows
    pointing at them can still be written); SQLite lets one connection write at a time, so
    writing first makes this transaction that one. Whatever the caller checks after it, no other
    holder can change until this transaction ends: two requests cannot both pass a check that
    only one of them may pass (a last place, a last owner, a last administrator)."""
    session.execute(
        update(unchanged.class_)
        .where(where)
        .values({unchanged: unchanged})
        .execution_options(synchronize_session=False)
    )


def commit_keeping_loaded(session: Session) -> None:
    """Commit without expiring what the session has loaded, for what goes on using it: a page
    that must write before it renders what it read (each object would otherwise be read again,
    a statement each, and holding the write while it renders would hold up, on SQLite, every
    other writer), or a chat message broadcast as it was stored."""
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


#: Where a session keeps the signals to send once its transaction commits (:func:`send_committed`),
#: and those its last commit made ready to send.
_QUEUED, _READY = "peerlearn.queued_signals", "peerlearn.ready_signals"


def send_committed(session: Session, signal: Any, sender: Any, **kwargs: Any) -> None:
    """Send ``signal`` once this transaction commits, whoever commits it; never if it does not.
    For what a service writes inside another's unit of work (a place given by a withdrawal that
    a removal commits), whose writer cannot send it after the commit itself."""
    session.info.setdefault(_QUEUED, []).append((signal, sender, kwargs))


class CommittingSession(FlaskSession):
    """The application's session: after each commit it sends what :func:`send_committed` queued
    in the transaction just committed. A receiver's failure is logged and rolled back, not
    raised: the change is committed, and its caller is not told it failed."""

    def commit(self) -> None:
        super().commit()
        while ready := self.info.pop(_READY, None):  # receivers commit too: theirs follow
            for signal, sender, kwargs in ready:
                try:
                    signal.send(sender, **kwargs)
                except Exception:
                    self.rollback()
                    logger.exception("a receiver of %s failed after the commit", signal.name)


@event.listens_for(Session, "after_commit")
def _ready_to_send(session: Session) -> None:
    session.info.setdefault(_READY, []).extend(session.info.pop(_QUEUED, []))


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: Any) -> None:
    """A transaction that ended without committing (rolled back, or its session closed) sends
    nothing it queued."""
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)
