"""Requests arriving at the same moment, for tests of what must hold when they race."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from flask import Flask
from sqlalchemy import event

from peerlearn.extensions import db

#: Every kind of write, for :func:`first_writes_meet` to meet at the first, whichever it is.
WRITES = ("INSERT", "UPDATE", "DELETE")

#: What each meeting under way (:func:`first_writes_meet`) is told when a call of
#: :func:`at_once` has ended: that call's thread will not arrive, and nobody need wait for it.
_ENDED: list[Callable[[], None]] = []


def at_once(app: Flask, calls: list[Callable[[], object]]) -> None:
    """Run each call in a thread of its own, with its own app context and database session (as
    concurrent requests have), all let go at the same moment; fail if any of them failed."""
    start = threading.Barrier(len(calls))
    failures = []

    def run(call: Callable[[], object]) -> None:
        start.wait()
        with app.app_context():
            try:
                call()
            except Exception as failure:  # a failed call is a failed request: reported below
                failures.append(repr(failure))
            finally:
                for ended in _ENDED:
                    ended()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [], failures


#: How long a statement that may wait for a lock (:func:`_may_wait`) may run before the meeting
#: takes its connection to be waiting for one (on these tests' few rows, every statement that is
#: not waiting ends within milliseconds).
WAITING_FOR_A_LOCK = 0.3


def _may_wait(statement: str) -> bool:
    """Whether a statement may wait for another transaction's lock: a write (on SQLite, any
    write waits for the one database lock), or a read that locks rows (PostgreSQL)."""
    return statement.startswith((*WRITES, "WITH")) or "FOR UPDATE" in statement


@contextlib.contextmanager
def first_writes_meet(
    prefix: str | tuple[str, ...], parties: int = 2, *, before: bool = False
) -> Iterator[None]:
    """Make each connection wait, after its first statement beginning with ``prefix`` ("UPDATE",
    "INSERT INTO tags", or any of several: :data:`WRITES` for its first write of whatever kind),
    until ``parties`` connections have run theirs, or cannot (below): where they can, each has
    written before any goes on, the moment two transactions taking rows in different orders
    would deadlock.

    With ``before``, each waits before running it instead: every request has checked what it
    checks first, and none has written yet (the moment a check-then-insert can let two in).

    Nobody waits for a call of :func:`at_once` that has ended without getting there (a request
    refused before it writes), nor for one whose statement is waiting for a lock that one already
    there holds (another's row on PostgreSQL; on SQLite, the one database lock that the first
    write takes), nor for anyone more than 3 seconds."""
    meeting = threading.Condition()
    arrived: set[int] = set()  # the threads (one per request) that have run theirs
    ended: set[int] = set()  # the threads whose call has ended
    running: dict[int, float] = {}  # thread -> when its statement that may wait began

    def arrive() -> None:
        with meeting:
            arrived.add(threading.get_ident())
            meeting.notify_all()
            deadline = time.monotonic() + 3
            while (now := time.monotonic()) < deadline:
                waiting = sum(
                    1
                    for thread, began in running.items()
                    if thread not in arrived and now - began > WAITING_FOR_A_LOCK
                )
                if len(arrived | ended) + waiting >= parties:
                    return
                meeting.wait(0.02)

    def end_call() -> None:
        with meeting:
            ended.add(threading.get_ident())
            meeting.notify_all()

    def first(statement: str) -> bool:
        return statement.startswith(prefix) and threading.get_ident() not in arrived

    def begin(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if before and first(statement):
            arrive()
        if _may_wait(statement):
            with meeting:
                running[threading.get_ident()] = time.monotonic()

    def end(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        with meeting:
            running.pop(threading.get_ident(), None)
        if not before and first(statement):
            arrive()

    def fail(context) -> None:  # type: ignore[no-untyped-def]
        with meeting:
            running.pop(threading.get_ident(), None)

    hooks = (
        ("before_cursor_execute", begin),
        ("after_cursor_execute", end),
        ("handle_error", fail),
    )
    for moment, hook in hooks:
        event.listen(db.engine, moment, hook)
    _ENDED.append(end_call)
    try:
        yield
    finally:
        _ENDED.remove(end_call)
        for moment, hook in hooks:
            event.remove(db.engine, moment, hook)


def one_inside_another(
    app: Flask,
    paused: Callable[[], object],
    other: Callable[[], object],
    prefix: str,
    *,
    resume: str | tuple[str, ...] | None = None,
) -> None:
    """Run ``paused`` up to its first statement beginning with ``prefix``, then ``other`` from
    start to end (committed), then the rest of ``paused``: everything ``paused`` read before that
    statement, ``other`` changed before it went on (a request overtaken between its check and
    its write).

    With ``resume``, ``paused`` goes on as soon as ``other`` is about to run a statement beginning
    with it, not once ``other`` has ended: for an ``other`` that must wait there for what
    ``paused`` holds (and would otherwise wait for nothing, overtaking it)."""
    reached, done = threading.Event(), threading.Event()
    pausing: list[int] = []
    overtaking: list[int] = []

    def pause(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if threading.get_ident() in pausing and statement.startswith(prefix):
            pausing.clear()
            reached.set()
            done.wait(5)
        elif resume and threading.get_ident() in overtaking and statement.startswith(resume):
            done.set()

    def first() -> None:
        pausing.append(threading.get_ident())
        paused()

    def second() -> None:
        overtaking.append(threading.get_ident())
        reached.wait(5)
        try:
            other()
        finally:
            done.set()

    event.listen(db.engine, "before_cursor_execute", pause)
    try:
        at_once(app, [first, second])
    finally:
        event.remove(db.engine, "before_cursor_execute", pause)
