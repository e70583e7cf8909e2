"""The application's own cost of one live-chat send, in process: CPU time and SQL statements.

    PYTHONPATH=. .venv/bin/python -m bench.send_cost postgresql://postgres@127.0.0.1:5432/peerlearn_x

Empties and migrates the database it is given (never point it at one that matters), adds a space,
an open event and a member, signs the member in and sends ``--messages`` messages through the
Flask-SocketIO test client (rate limits off, no one else in the room, so the broadcast is cheap).
Reports the median and quartiles of ``time.process_time()`` per send, and the statements per send.
``--profile FILE`` writes a cProfile of the sends and reports the function calls per send, a
figure a busy machine does not blur (the times are then the profiler's, not comparable). The fan-out to other clients is ``bench/chat.py``'s.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import text

PASSWORD = "a throwaway bench account password 42"  # noqa: S105 - a bench database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--profile", help="write a cProfile of the sends here")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() once the app is made, as wsgi.py does")  # fmt: skip
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from peerlearn import create_app
    from peerlearn.accounts.models import SiteRole, User
    from peerlearn.accounts.passwords import hash_password
    from peerlearn.core.db import utcnow
    from peerlearn.events.models import Event
    from peerlearn.extensions import db, socketio
    from peerlearn.organisations.models import Organisation, OrganisationKind, Region
    from peerlearn.spaces.models import MemberRole, Membership, Space, SpaceKind, Visibility

    folder = tempfile.mkdtemp(prefix="send-cost-")
    app = create_app({
        "TESTING": True, "PEERLEARN_ENV": "testing", "SECRET_KEY": "x" * 48,
        "SQLALCHEMY_DATABASE_URI": args.database_url, "REDIS_URL": None,
        "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": False, "MAIL_SERVER": None,
        "MAIL_OUTBOX_DIR": f"{folder}/outbox", "UPLOAD_DIR": f"{folder}/uploads",
        "PEERLEARN_BASE_URL": "http://peerlearn.test", "SERVER_NAME": None,
        "PEERLEARN_PRESENCE_INTERVAL": 0, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
    })  # fmt: skip
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        organisation = Organisation(name="Bench NHS Foundation Trust",
                                    kind=OrganisationKind.trust, region=Region.north_west)  # fmt: skip
        user = User(email="bench@trust.nhs.uk", handle="bench", display_name="Bench Member",
                    job_title="Improvement Lead", organisation=organisation,
                    password_hash=hash_password(PASSWORD), site_role=SiteRole.member,
                    active=True, email_confirmed_at=utcnow())  # fmt: skip
        space = Space(kind=SpaceKind.sig, slug="bench", name="Bench",
                      visibility=Visibility.network)  # fmt: skip
        event = Event(space=space, title="Bench", starts_at=utcnow(),
                      ends_at=utcnow() + timedelta(hours=2), venue="Leeds")  # fmt: skip
        db.session.add_all([user, space, event,
                            Membership(space=space, user=user, role=MemberRole.member)])  # fmt: skip
        db.session.commit()
        event_id = event.id
        engine = db.engine
        db.session.remove()

    client = app.test_client()
    response = client.post("/login", data={"email": "bench@trust.nhs.uk", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    socket = socketio.test_client(app, flask_test_client=client, namespace="/live")
    ack = socket.emit("join", {"event_id": event_id}, namespace="/live", callback=True)
    assert ack["ok"], ack

    statements: list[str] = []
    sa_event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *_: statements.append(statement))  # fmt: skip

    def send(n: int) -> None:
        data = {"event_id": event_id, "body": f"Message **{n}** about [flow](https://nhs.uk)",
                "client_id": f"c{n}"}  # fmt: skip
        ack = socket.emit("send", data, namespace="/live", callback=True)
        assert ack["ok"], ack

    for n in range(20):  # warm up
        send(-n - 1)
    socket.get_received("/live")
    profile = cProfile.Profile(time.process_time) if args.profile else None
    times, counts = [], []
    for n in range(args.messages):
        before, cpu = len(statements), time.process_time()
        if profile:
            profile.enable()
        send(n)
        if profile:
            profile.disable()
        times.append(time.process_time() - cpu)
        counts.append(len(statements) - before)
        if n % 50 == 0:
            socket.get_received("/live")
    calls = ""
    if profile:
        profile.dump_stats(args.profile)
        calls = f", {pstats.Stats(args.profile).total_calls / args.messages:.0f} function calls"
    q1, median, q3 = statistics.quantiles(times, n=4)
    print(f"{args.messages} sends: median {median * 1e6:.0f} µs CPU per send "
          f"(quartiles {q1 * 1e6:.0f}-{q3 * 1e6:.0f}), statements per send "
          f"{min(counts)}-{max(counts)} (median {statistics.median(counts):g}){calls}, "
          f"mean {statistics.mean(times) * 1e6:.0f} µs")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
