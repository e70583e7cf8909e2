"""Measure the resource library on a real server, in one run:

(a) uploading and downloading a 10 MB file through the app, against the same server sending a
    plain static file of the same size (target: at least 50% of the static rate);
(b) the network-wide library page with 10,000 resources and three filters applied, as a ratio to
    the trivial route ``/healthz``, and the number of SQL statements it sends.

    .venv/bin/python -m bench.generate --database-url sqlite:////tmp/bench-lib.db --small
    .venv/bin/python -m bench.library --database-url sqlite:////tmp/bench-lib.db

The database must come from ``bench/generate.py`` (users, spaces, memberships); the first run
adds the resources (``--resources``, default 10,000) and later runs reuse them. The server is
``bench/load.py``'s gunicorn, stopped by its own process id; only loopback addresses are used.
"""

import argparse
import http.client
import os
import random
import re
import secrets
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import create_engine, func, select, text

from bench.bulk import BulkWriter, tune_sqlite_for_loading
from bench.generate import BUSIEST_SLUG, READER_EMAIL, READER_PASSWORD
from bench.load import (
    ROOT,
    USER_AGENT,
    Route,
    Server,
    code_version,
    drive,
    machine,
    require_loopback,
)
from bench.load import sign_in as sign_in_reader

MB = 1024 * 1024
#: The three filters applied to the network-wide library page.
FILTERS = "type=template&component=management-systems&licence=ogl-3"
TYPES = [
    "tool",
    "template",
    "guide",
    "case-study",
    "policy",
    "report",
    "presentation",
    "dataset",
    "other",
]
COMPONENTS = ["shared-purpose", "people-and-culture", "leadership-behaviours",
              "capability-and-capacity", "management-systems"]  # fmt: skip
ELEMENTS = ["quality-planning", "quality-control", "quality-assurance", "quality-improvement"]
LICENCES = ["ogl-3", "cc-by-4", "cc-by-nc-4", "members-only"]
WIDEST = {"public": "public", "network": "network", "private": "space"}


# (b)'s data: 10,000 resources ------------------------------------------------------------------


def fill(database_url: str, count: int, seed: int) -> None:
    """Add ``count`` resources across the generated spaces, with components, QMS elements, uses
    and adaptations, as the services would leave them. Does nothing if there are resources."""
    from peerlearn.config import normalise_database_url

    url = normalise_database_url(database_url)
    engine = create_engine(url)
    with engine.connect() as connection:
        if connection.scalar(text("SELECT count(*) FROM resources")):
            engine.dispose()
            return
        users = dict(connection.execute(text("SELECT id, organisation_id FROM users")).all())
        spaces = dict(connection.execute(text("SELECT id, visibility FROM spaces")).all())
        members: dict[int, list[int]] = {}
        for space_id, user_id in connection.execute(
            text("SELECT space_id, user_id FROM memberships WHERE state = 'active'")
        ):
            members.setdefault(space_id, []).append(user_id)
    if engine.dialect.name == "sqlite":
        tune_sqlite_for_loading(engine)
    from peerlearn import create_app
    from peerlearn.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_urlsafe(32)})
    with app.app_context():
        metadata = db.metadata
    rng = random.Random(seed)
    now = datetime.now(UTC)
    write = BulkWriter(engine, metadata)
    resources, components, elements, uses = [], [], [], []
    places = [s for s in spaces if members.get(s)]
    for number in range(1, count + 1):
        space = rng.choice(places)
        author = rng.choice(members[space])
        widest = WIDEST[spaces[space]]
        sensitive = rng.random() < 0.05
        allowed = {"space": ["space"], "network": ["space", "network", "network"],
                   "public": ["space", "network", "network", "public"]}[widest]  # fmt: skip
        visibility = "space" if sensitive else rng.choice(allowed)
        when = now - timedelta(minutes=count - number)
        title = (
            f"Resource {number}: {rng.choice(['Board', 'Ward', 'System', 'Divisional'])} "
            f"{rng.choice(['QMS', 'flow', 'SPC', 'assurance'])} {rng.choice(TYPES)}"
        )
        resources.append({
            "id": number, "space_id": space, "kind": "link", "type": rng.choice(TYPES),
            "title": title, "summary_source": "A generated resource.",
            "summary_html": "<p>A generated resource.</p>", "organisation_id": users[author],
            "licence": rng.choice(LICENCES), "visibility": visibility,
            "classification": "official-sensitive" if sensitive else "official",
            "pii_declared_at": when, "created_by_id": author, "created_at": when,
            "updated_at": when, "link_url": f"https://example.nhs.uk/resource/{number}",
            "download_count": int(rng.paretovariate(1.5)) - 1,
            "adapted_from_id": rng.randrange(1, number) if number > 1 and rng.random() < 0.1 else None,
        })  # fmt: skip
        for component in rng.sample(COMPONENTS, rng.randint(1, 2)):
            components.append({"resource_id": number, "component": component})
        for element in rng.sample(ELEMENTS, rng.randint(0, 2)):
            elements.append({"resource_id": number, "element": element})
        for user in {rng.choice(list(users)) for _ in range(rng.choice([0, 0, 1, 2, 5]))}:
            uses.append({"resource_id": number, "user_id": user, "organisation_id": users[user],
                         "created_at": when})  # fmt: skip
    write("resources", resources)
    write("resource_components", components)
    write("resource_qms_elements", elements)
    write("resource_uses", uses)
    write.finish()
    engine.dispose()


def library_statements(database_url: str, path: str) -> int:
    """The SQL statements one GET of ``path`` sends, signed in as the reader, in process."""
    from sqlalchemy import event

    from peerlearn import create_app
    from peerlearn.config import normalise_database_url
    from peerlearn.extensions import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SECRET_KEY": secrets.token_urlsafe(32), "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    client = app.test_client()
    response = client.post("/login", data={"email": READER_EMAIL, "password": READER_PASSWORD})
    assert response.status_code == 302, "signing in as the reader failed"
    client.get(path)  # warm up: the once-in-five-minutes "last seen" write
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


# (a): moving 10 MB ---------------------------------------------------------------------------


def csv_of(size: int, salt: int) -> bytes:
    """A CSV file of about ``size`` bytes, different for every ``salt`` (so nothing dedups)."""
    rng = random.Random(salt)
    header = f"week,site,measure,value,run {salt}\n".encode()
    row = "".join(f"{n},RXN,wait_minutes,{rng.randint(1, 600)}\n" for n in range(2000)).encode()
    body = (row * (size // len(row) + 1))[: size - len(header)]
    return header + body[: body.rfind(b"\n") + 1]


class Transfers:
    """Timed uploads and downloads on one keep-alive connection."""

    def __init__(self, args: argparse.Namespace, cookies: dict[str, str]) -> None:
        self.args, self.cookies = args, cookies
        self.connection = http.client.HTTPConnection(args.host, args.port, timeout=120)

    def _headers(self, **extra: str) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"User-Agent": USER_AGENT, "Cookie": cookie, **extra}

    def get(self, path: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self._headers())
        response = self.connection.getresponse()
        body = response.read()
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response.status, body, time.perf_counter() - started

    def upload(
        self, slug: str, fields: dict[str, str], name: str, content: bytes
    ) -> tuple[str, float]:
        boundary = secrets.token_hex(16)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = self._headers(**{"Content-Type": f"multipart/form-data; boundary={boundary}"})
        started = time.perf_counter()
        self.connection.request("POST", f"/spaces/{slug}/library/new", body=body, headers=headers)
        response = self.connection.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - started
        location = urlsplit(response.headers.get("Location", "")).path
        if response.status != 302 or "/resources/" not in location:
            errors = re.findall(r"error-message[^>]*>(?:\s|<[^>]+>)*([^<]+)", answer.decode())
            raise SystemExit(f"upload answered {response.status}: {errors or answer[-500:]!r}")
        return location, elapsed


def measure_transfers(args: argparse.Namespace, cookies: dict[str, str], organisation: int) -> dict:
    """(a): static GET, upload and download of a 10 MB file, each ``args.transfers`` times."""
    size = args.file_mb * MB
    static = ROOT / "static" / f"bench-{secrets.token_hex(6)}.csv"
    static.write_bytes(csv_of(size, 0))
    results: dict[str, list[float]] = {"static download": [], "upload": [], "download": []}
    try:
        transfers = Transfers(args, cookies)
        status, page, _ = transfers.get(f"/spaces/{BUSIEST_SLUG}/library/new")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.decode())
        if token is None:
            raise SystemExit(f"no CSRF token on the upload form ({status})")
        fields = {"csrf_token": token.group(1), "kind": "file", "title": "", "type": "dataset",
                  "components": "management-systems", "organisation_id": str(organisation),
                  "licence": "ogl-3", "classification": "official", "visibility": "space",
                  "pii_declaration": "y"}  # fmt: skip
        resource = ""
        for run in range(args.transfers + 1):  # the first of each is a warm-up
            status, body, seconds = transfers.get(f"/static/{static.name}")
            assert status == 200 and len(body) == len(static.read_bytes())
            content = csv_of(size, secrets.randbits(32))
            fields["title"] = f"Benchmark upload {secrets.token_hex(4)}"
            resource, upload_seconds = transfers.upload(BUSIEST_SLUG, fields, "waits.csv", content)
            status, body, download_seconds = transfers.get(resource + "/download")
            assert status == 200 and body == content, "the download differs from the upload"
            if run:
                results["static download"].append(seconds)
                results["upload"].append(upload_seconds)
                results["download"].append(download_seconds)
    finally:
        static.unlink(missing_ok=True)
    return {what: size / MB / statistics.median(times) for what, times in results.items()}


# Reporting ------------------------------------------------------------------------------------


def report(args: argparse.Namespace, data: dict[str, Any], rates: dict[str, float],
           routes: list[Route], statements: int) -> str:  # fmt: skip
    static = rates["static download"]
    trivial = routes[0].rate
    lines = [
        f"command: python -m bench.library {' '.join(sys.argv[1:])}",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()} · load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        f"database: {data['dialect']} · {data['resources']:,} resources in {data['spaces']} spaces · "
        f"code: {code_version()}",
        f"server: gunicorn {args.workers} workers × {args.threads} threads (gthread)",
        "",
        f"(a) a {args.file_mb} MB file, median of {args.transfers} runs on one keep-alive connection",
        "",
        "| transfer | MB/s | ratio to the static file |",
        "| --- | ---: | ---: |",
        *(f"| {what} | {rate:,.1f} | {rate / static:.2f}"
          + ("" if what == "static download" else (" ✓" if rate / static >= 0.5 else " ✗ below 0.50"))
          + " |" for what, rate in rates.items()),
        "",
        f"(b) the network-wide library, {data['matching']:,} resources matching `{FILTERS}` "
        f"for the reader; {statements} SQL statements per page",
        "",
        "| route | requests | req/s | p50 ms | p99 ms | ratio to trivial |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for route in routes:
        lines.append(
            f"| {route.name} | {len(route.latencies):,} | {route.rate:,.0f} | "
            f"{route.percentile(0.5):.1f} | {route.percentile(0.99):.1f} | "
            f"{route.rate / trivial if trivial else 0:.3f} |"
        )
    if any(route.errors for route in routes):
        lines.append("\nSome responses were not 200 OK: the figures are not valid.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--file-mb", type=int, default=10)
    parser.add_argument("--transfers", type=int, default=5, help="timed runs of each transfer")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per route")
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    require_loopback(args.host)
    args.port = args.port or _free_port(args.host)
    fill(args.database_url, args.resources, args.seed)
    from peerlearn.config import normalise_database_url

    engine = create_engine(normalise_database_url(args.database_url))
    with engine.connect() as connection:
        reader = connection.execute(
            text("SELECT id, organisation_id FROM users WHERE email = :e"), {"e": READER_EMAIL}
        ).one()
        data = {
            "dialect": engine.dialect.name,
            "resources": connection.scalar(text("SELECT count(*) FROM resources")),
            "spaces": connection.scalar(text("SELECT count(DISTINCT space_id) FROM resources")),
        }
    engine.dispose()
    path = f"/library?{FILTERS}"
    statements = library_statements(args.database_url, path)
    data["matching"] = _matching(args.database_url)
    log = Path(tempfile.gettempdir()) / f"peerlearn-bench-library-{data['dialect']}-server.log"
    routes = [
        Route("trivial: GET /healthz (anonymous)", "/healthz", signed_in=False, page=False),
        Route("reference: GET /about (static page, signed in)", "/about", page=False),
        Route(f"network library, three filters ({FILTERS})", path),
        Route("network library, unfiltered", "/library"),
    ]
    os.environ["UPLOAD_DIR"] = str(Path(tempfile.gettempdir()) / "peerlearn-bench-uploads")
    with Server(args, log):
        cookies = sign_in_reader(args)
        rates = measure_transfers(args, cookies, reader.organisation_id)
        for route in routes:
            drive(args, route, cookies, 20, args.max_seconds, record=False)
        per_round = -(-args.requests // args.rounds)
        for _ in range(args.rounds):
            for route in routes:
                drive(args, route, cookies, per_round, args.max_seconds / args.rounds, record=True)
    print(report(args, data, rates, routes, statements))
    return 1 if any(route.errors for route in routes) else 0


def _free_port(host: str) -> int:
    """A port nobody listens on (another benchmark may hold the usual one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _matching(database_url: str) -> int:
    """How many resources the three filters leave for the reader (read through the app's own
    query, so it is exactly what the page counts)."""
    from flask_login import login_user

    from peerlearn import create_app
    from peerlearn.accounts.models import User
    from peerlearn.config import normalise_database_url
    from peerlearn.extensions import db
    from peerlearn.resources.browsing import LibraryFilters, library_query

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
                      "SECRET_KEY": secrets.token_urlsafe(32), "LOG_LEVEL": "WARNING"})  # fmt: skip
    with app.test_request_context():
        reader = db.session.scalar(select(User).where(User.email == READER_EMAIL))
        login_user(reader)
        from peerlearn.discussions.models import ImpactComponent
        from peerlearn.resources.models import Licence, ResourceType

        filters = LibraryFilters(type=ResourceType.template, licence=Licence.ogl_3,
                                 component=ImpactComponent.management_systems)  # fmt: skip
        query = library_query(reader, filters).order_by(None)
        return db.session.scalar(select(func.count()).select_from(query.subquery()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
