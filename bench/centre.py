"""What the notification centre's visibility filter costs: its three statements (the header's
unread count, the centre's count and its first page) for the benchmark reader, as the app runs
them and with the thread check alone (no check of the post), median of 40 runs after 5 warm-ups.

    .venv/bin/python -m bench.centre --database-url sqlite:////tmp/bench.db

on a database made by ``bench.generate`` (the reader has 2,000 notifications, 100 unread).
"""

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select

from bench.people import READER_ID
from peerlearn import create_app
from peerlearn.accounts.models import User
from peerlearn.discussions.models import Thread
from peerlearn.extensions import db
from peerlearn.notifications.models import Notification
from peerlearn.notifications.services import CENTRE_ORDER, _visible
from peerlearn.permissions import thread_filter


def statements(visible: Select[Any]) -> dict[str, Callable[[], object]]:
    unread = select(func.count()).select_from(
        visible.where(Notification.read_at.is_(None)).subquery()
    )
    total = select(func.count()).select_from(visible.subquery())
    page = visible.order_by(*CENTRE_ORDER).limit(30)
    return {
        "header count (unread)": lambda: db.session.scalar(unread),
        "centre count (all)": lambda: db.session.scalar(total),
        "centre page (30)": lambda: db.session.scalars(page).all(),
    }


def median_ms(run: Callable[[], object], runs: int = 40, warmup: int = 5) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    url = parser.parse_args().database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PEERLEARN_ENV": "development"})
    with app.app_context():
        reader = db.session.get(User, READER_ID)
        thread_only = (
            select(Notification)
            .join(Thread, Thread.id == Notification.thread_id)
            .where(Notification.user_id == reader.id, thread_filter(reader))
        )
        app_runs, reference = statements(_visible(reader)), statements(thread_only)
        print(f"{'statement':24} {'the app':>9} {'thread check alone':>20}")
        for name, run in app_runs.items():
            ours, theirs = median_ms(run), median_ms(reference[name])
            print(f"{name:24} {ours:6.2f} ms {theirs:17.2f} ms")


if __name__ == "__main__":
    main()
