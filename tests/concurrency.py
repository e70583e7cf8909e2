"""Requests arriving at the same moment, for tests of what must hold when they race."""

import contextlib
import threading
from collections.abc import Callable, Iterator

from flask import Flask
from sqlalchemy import event

from peerlearn.extensions import db

#: Every kind of write, for :func:`first_writes_meet` to meet at the first, whichever it is.
WRITES = ("INSERT", "UPDATE", "DELETE")


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

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [], failures


@contextlib.contextmanager
def first_writes_meet(
    prefix: str | tuple[str, ...], parties: int = 2, *, before: bool = False
) -> Iterator[None]:
    """Make each connection wait, after its first statement beginning with ``prefix`` ("UPDATE",
    "INSERT INTO tags", or any of several: :data:`WRITES` for its first write of whatever kind),
    until ``parties`` connections have run theirs (or 3 seconds have passed: one may be waiting
    for another's row): each has written before any goes on, the moment two transactions taking
    rows in different orders would deadlock.

    With ``before``, each waits before running it instead: every request has checked what it
    checks first, and none has written yet (the moment a check-then-insert can let two in)."""
    met = threading.Barrier(parties)
    written: set[int] = set()  # the threads (one per request) that have run theirs

    def meet(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith(prefix) and threading.get_ident() not in written:
            written.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):
                met.wait(timeout=3)

    moment = "before_cursor_execute" if before else "after_cursor_execute"
    event.listen(db.engine, moment, meet)
    try:
        yield
    finally:
        event.remove(db.engine, moment, meet)


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
