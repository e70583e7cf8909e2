"""Measure the reading pages on a real server, as ratios to a trivial route in the same run.

    .venv/bin/python -m bench.load --database-url sqlite:////tmp/bench.db

Starts gunicorn (gthread workers) on a loopback address against a database made by
``bench/generate.py``, signs in as the benchmark reader through the real form, then drives each
route with a few keep-alive client threads: a warm-up, then the measured requests in rounds that
rotate through the routes, so a noisy moment on the machine hits every route alike. Every loop is
bounded by a request count and a time limit. Prints one table: requests, requests/s, p50 and p99
latency, and each page's throughput as a ratio to the trivial route (target: at least 0.40).
"""

import argparse
import http.client
import ipaddress
import itertools
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

from bench.generate import BUSIEST_SLUG, FIFTY_POST_TITLE, READER_EMAIL, READER_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.40
USER_AGENT = "peerlearn-bench/1"


@dataclass
class Route:
    """One measured route and what it measured."""

    name: str
    path: str
    signed_in: bool = True
    #: Held to the target ratio (the trivial route and the reference page are not).
    page: bool = True
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else 0.0


def require_loopback(host: str) -> None:
    """Load is only ever sent to this machine."""
    address = ipaddress.ip_address(socket.gethostbyname(host))
    if not address.is_loopback:
        raise SystemExit(f"refusing to load-test {host} ({address}): loopback addresses only")


def find_routes(database_url: str) -> tuple[list[Route], dict[str, object]]:
    """The measured routes, found in the generated data, and what the database holds."""
    from peerlearn.config import normalise_database_url

    engine = create_engine(normalise_database_url(database_url))
    with engine.connect() as connection:

        def one(sql: str, **params: object) -> Any:
            return connection.scalar(text(sql), params)

        count = {
            table: one(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
            for table in ("users", "spaces", "threads", "posts", "notifications")
        }
        thread_id = one("SELECT id FROM threads WHERE title = :t", t=FIFTY_POST_TITLE)
        reader = one("SELECT id FROM users WHERE email = :e", e=READER_EMAIL)
        if thread_id is None or reader is None:
            raise SystemExit("no benchmark data here: run bench/generate.py first")
        shown = one("SELECT count(*) FROM posts WHERE thread_id = :t", t=thread_id)
        space_threads = one(
            "SELECT count(*) FROM threads JOIN spaces ON spaces.id = threads.space_id"
            " WHERE spaces.slug = :s",
            s=BUSIEST_SLUG,
        )
        notifications = one("SELECT count(*) FROM notifications WHERE user_id = :u", u=reader)
        schema = one("SELECT version_num FROM alembic_version")
    data = {
        "dialect": engine.dialect.name,
        **count,
        "space_threads": space_threads,
        "thread_posts": shown,
        "reader_notifications": notifications,
        "schema": schema,
    }
    engine.dispose()
    routes = [
        Route("trivial: GET /healthz (anonymous)", "/healthz", signed_in=False, page=False),
        Route("reference: GET /about (static page, signed in)", "/about", page=False),
        Route(f"space thread list ({space_threads:,} threads)", f"/spaces/{BUSIEST_SLUG}/threads"),
        Route(f"thread page ({shown} posts)", f"/threads/{thread_id}"),
        Route(f"notification centre ({notifications:,} notifications)", "/notifications"),
    ]
    return routes, data


class Server:
    """gunicorn serving ``wsgi:app`` on a loopback port, stopped by its own process id."""

    def __init__(self, args: argparse.Namespace, log: Path) -> None:
        self.args, self.log = args, log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        env = {
            **os.environ,
            "DATABASE_URL": self.args.database_url,
            "PEERLEARN_ENV": "development",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "RATELIMIT_ENABLED": "false",
            "REDIS_URL": "",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "wsgi:app",
            "--bind",
            f"{self.args.host}:{self.args.port}",
            "--workers",
            str(self.args.workers),
            "--threads",
            str(self.args.threads),
            "--worker-class",
            "gthread",
            "--keep-alive",
            "10",
            "--log-level",
            "warning",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log}")
            try:
                if fetch(self.args, "/healthz", {})[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.25)
        self.__exit__()
        raise SystemExit(f"gunicorn did not answer within 60 s; see {self.log}")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def fetch(
    args: argparse.Namespace, path: str, cookies: dict[str, str], body: dict | None = None
) -> tuple[int, str, dict[str, str]]:
    """One request on a fresh connection: status, body, and cookies set."""
    connection = http.client.HTTPConnection(args.host, args.port, timeout=30)
    headers = {
        "User-Agent": USER_AGENT,
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    }
    try:
        if body is None:
            connection.request("GET", path, headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request("POST", path, body=urlencode(body), headers=headers)
        response = connection.getresponse()
        content = response.read().decode("utf-8", "replace")
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return response.status, content, {name: morsel.value for name, morsel in jar.items()}
    finally:
        connection.close()


def sign_in(args: argparse.Namespace) -> dict[str, str]:
    """Sign in as the benchmark reader through the login form, CSRF token and all."""
    status, page, cookies = fetch(args, "/login", {})
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    if status != 200 or match is None:
        raise SystemExit(f"GET /login answered {status} without a CSRF token")
    form = {"csrf_token": match.group(1), "email": READER_EMAIL, "password": READER_PASSWORD}
    status, _, more = fetch(args, "/login", cookies, form)
    cookies.update(more)
    if status != 302 or fetch(args, "/notifications", cookies)[0] != 200:
        raise SystemExit(f"signing in as {READER_EMAIL} failed ({status})")
    return cookies


def drive(
    args: argparse.Namespace,
    route: Route,
    cookies: dict[str, str],
    count: int,
    seconds: float,
    record: bool,
) -> None:
    """Send ``count`` GETs (fewer if ``seconds`` run out) from ``args.concurrency`` threads."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items()) if route.signed_in else ""
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    tickets, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(args.host, args.port, timeout=30)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if next(tickets) >= count:
                        return
                status = 0
                for _attempt in (1, 2):  # once more on a connection the server had closed
                    started = time.perf_counter()
                    try:
                        connection.request("GET", route.path, headers=headers)
                        response = connection.getresponse()
                        response.read()
                        status = response.status
                        break
                    except (http.client.HTTPException, OSError):
                        connection.close()
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors[0] += status != 200
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if record:
        route.seconds += time.perf_counter() - started
        route.latencies.extend(latencies)
        route.errors += errors[0]


def code_version() -> str:
    """The commit measured, marked when the working tree differs from it."""
    try:
        git = ["git", "-C", str(ROOT)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        changes = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit.stdout.strip() + (" with uncommitted changes" if changes.stdout.strip() else "")


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else ""
    return f"{os.cpu_count()} cores ({model or platform.machine()}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def report(routes: list[Route], data: dict[str, object], args: argparse.Namespace) -> str:
    trivial = routes[0].rate
    lines = [
        f"command: python -m bench.load {' '.join(sys.argv[1:])}",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()}",
        f"database: {data['dialect']} · {data['users']:,} users, {data['spaces']:,} spaces, "
        f"{data['threads']:,} threads, {data['posts']:,} posts, {data['notifications']:,} notifications",
        f"code: {code_version()} · schema: {data['schema']}",
        f"server: gunicorn {args.workers} workers × {args.threads} threads (gthread) · client: "
        f"{args.concurrency} keep-alive connections, {args.rounds} rounds, same machine",
        "",
        "| route | requests | req/s | p50 ms | p99 ms | ratio to trivial |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for route in routes:
        ratio = route.rate / trivial if trivial else 0.0
        verdict = "" if not route.page else (" ✓" if ratio >= TARGET_RATIO else " ✗ below 0.40")
        lines.append(
            f"| {route.name} | {len(route.latencies):,} | {route.rate:,.0f} | "
            f"{route.percentile(0.50):.1f} | {route.percentile(0.99):.1f} | {ratio:.3f}{verdict} |"
        )
    errors = sum(route.errors for route in routes)
    if errors:
        lines.append(f"\n{errors} responses were not 200 OK: the figures are not valid.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn processes"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--requests", type=int, default=1_000, help="measured requests per route")
    parser.add_argument("--max-seconds", type=float, default=60, help="time limit per route")
    parser.add_argument("--rounds", type=int, default=5, help="passes through the routes")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per route")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    require_loopback(args.host)
    routes, data = find_routes(args.database_url)
    log = Path(tempfile.gettempdir()) / f"peerlearn-bench-{data['dialect']}-server.log"
    with Server(args, log):
        cookies = sign_in(args)
        for route in routes:
            drive(args, route, cookies, args.warmup, args.max_seconds, record=False)
        per_round = math.ceil(args.requests / args.rounds)
        for _ in range(args.rounds):
            for route in routes:
                drive(args, route, cookies, per_round, args.max_seconds / args.rounds, record=True)
    table = report(routes, data, args)
    print(table)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "data": data,
                    "table": table,
                    "routes": [
                        {
                            "name": r.name,
                            "path": r.path,
                            "requests": len(r.latencies),
                            "rate": r.rate,
                            "p50_ms": r.percentile(0.5),
                            "p99_ms": r.percentile(0.99),
                            "errors": r.errors,
                        }
                        for r in routes
                    ],
                },
                indent=2,
            )
        )
    return 1 if any(route.errors for route in routes) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
