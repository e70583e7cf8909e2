"""Measure the live chat's fan-out on real servers, beside two bare references in the same run.

    .venv/bin/python -m bench.chat --clients 50,200,500,2000 --redis-url redis://127.0.0.1:6379/5

For each server and each room size N: a fresh server, N real clients (Engine.IO and Socket.IO
over a WebSocket, in ``--client-processes`` processes, see ``_receiver``) signed in and joined to
one event's chat, then one sender sending ``--messages`` messages at ``--rate`` per second. Measured: delivered
messages/s, server CPU per delivered message (user + system time of the server's processes), p50
and p99 end-to-end latency (send time, carried in the client id, to receipt), and memory per
connected client (the server's RSS growth while the clients joined, divided by N).

Servers: peerlearn under gunicorn's gevent worker (one process, and two processes sharing Redis
with the clients split between them), a bare Flask-SocketIO server on the same stack
(``bench/ref_flask_socketio.py``), a bare python-socketio server on aiohttp
(``bench/ref_aiohttp.py``), and with ``--threading`` the embedded ``flask run`` (threading mode) and
its bare reference. Loopback only; the rate limits are off (as in ``bench/load.py``) so that one
sender can send 20 messages a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import socketio

from bench.chat_server import COMMANDS, Server, app_environment, seed, sign_in
from bench.load import code_version, machine

NAMESPACE = "/live"
#: Server kinds: how each is started (``{fd}`` or ``{port}`` filled in, as in
#: ``bench.chat_server.COMMANDS``), and whether it is peerlearn.
SERVERS: dict[str, tuple[list[str], bool]] = {
    "peerlearn gevent": (COMMANDS["gevent"], True),
    "bare Flask-SocketIO gevent": (
        [*COMMANDS["gevent"][:-1], "bench.ref_flask_socketio:app"],
        False,
    ),
    "bare python-socketio aiohttp": (
        [sys.executable, "-m", "bench.ref_aiohttp", "--fd", "{fd}"],
        False,
    ),
    "peerlearn threading": (COMMANDS["threading"], True),
    "bare Flask-SocketIO threading": (
        [*COMMANDS["threading"][:4], "bench.ref_flask_socketio", *COMMANDS["threading"][5:]],
        False,
    ),
}


@dataclass
class Result:
    server: str
    processes: int
    clients: int
    messages: int
    delivered: int
    seconds: float
    cpu_seconds: float
    rss_per_client_kib: float
    p50_ms: float
    p99_ms: float
    load: str
    #: Clients whose connection the server closed during the run (their missing messages are
    #: the shortfall in ``delivered``; a real client reconnects and catches up with after_id).
    dropped: int = 0

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_seconds / self.delivered * 1e6 if self.delivered else math.inf


# Clients (in their own processes) -------------------------------------------------------------


async def _receiver(
    session: aiohttp.ClientSession, url: str, cookie: str, event_id: int
) -> aiohttp.ClientWebSocketResponse:
    """One receiving client, joined to the event's chat: Engine.IO 4 and Socket.IO 5 spoken over
    a WebSocket directly (the open packet, the namespace's connect, the ``join`` event and its
    acknowledgement, pings answered). python-socketio's own client spent more CPU per receipt
    than the servers being measured, so at 2,000 clients the two client processes, not the
    server, set the delivered rate; this one decodes each message's JSON and nothing more."""
    address = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    ws = await session.ws_connect(address, headers={"Cookie": cookie}, max_msg_size=0)
    opened = await ws.receive_str()
    assert opened.startswith("0"), opened
    await ws.send_str(f"40{NAMESPACE},")
    connected = await ws.receive_str()
    assert connected.startswith(f"40{NAMESPACE},"), connected  # 44: refused
    join = {"event_id": event_id, "after_id": 2**31 - 1}
    await ws.send_str(f"42{NAMESPACE},1" + json.dumps(["join", join]))
    ack_prefix = f"43{NAMESPACE},1"
    while True:  # other events may come before the acknowledgement
        packet = await ws.receive_str()
        if packet == "2":
            await ws.send_str("3")
        elif packet.startswith(ack_prefix):
            ack = json.loads(packet[len(ack_prefix) :])[0]
            assert ack["ok"], ack
            return ws


async def _clients(
    urls: list[str], cookie: str, count: int, event_id: int, pipe: Connection
) -> None:
    """Connect and join ``count`` clients, report ready, then record latencies until told to stop."""
    latencies: list[float] = []
    arrived = asyncio.Event()
    expected = [math.inf]
    latest = [0.0]  # when the last message arrived
    dropped = [0]  # connections the server closed before the end
    reasons: dict[str, int] = {}
    stopping = [False]
    message_prefix = f'42{NAMESPACE},["message",'
    payload_from = len(f"42{NAMESPACE},")

    async def listen(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            packet = frame.data
            if packet == "2":
                await ws.send_str("3")
            elif packet.startswith(message_prefix):
                data = json.loads(packet[payload_from:])[1]
                latest[0] = time.time()
                latencies.append(latest[0] - float(data["client_id"].rsplit("-", 1)[1]))
                if len(latencies) >= expected[0]:
                    arrived.set()
        if not stopping[0]:
            dropped[0] += 1
            reason = f"closed ({ws.close_code})" if ws.exception() is None else repr(ws.exception())
            reasons[reason] = reasons.get(reason, 0) + 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        gate = asyncio.Semaphore(25)
        sockets: list[aiohttp.ClientWebSocketResponse] = []

        async def one(number: int) -> None:
            async with gate:
                ws = await asyncio.wait_for(
                    _receiver(session, urls[number % len(urls)], cookie, event_id), 60
                )
            sockets.append(ws)

        await asyncio.gather(*(one(n) for n in range(count)))
        listeners = [asyncio.ensure_future(listen(ws)) for ws in sockets]
        pipe.send("ready")
        loop = asyncio.get_running_loop()
        messages, deadline = await loop.run_in_executor(None, pipe.recv)
        expected[0] = messages * count
        if len(latencies) < expected[0]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), max(deadline - time.time(), 0.1))
        if reasons:
            print(f"  dropped connections, by reason: {reasons}", file=sys.stderr, flush=True)
        pipe.send((latencies, latest[0], dropped[0]))
        stopping[0] = True
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*listeners, return_exceptions=True)


def _client_process(
    urls: list[str], cookie: str, count: int, event_id: int, pipe: Connection
) -> None:
    asyncio.run(_clients(urls, cookie, count, event_id, pipe))


async def _send(url: str, cookie: str, event_id: int, messages: int, rate: float) -> float:
    """Send at a fixed rate without waiting for acknowledgements; the time of the first send."""
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, headers={"Cookie": cookie}, namespaces=[NAMESPACE],
                      transports=["websocket"], wait_timeout=60)  # fmt: skip
    await sio.call("join", {"event_id": event_id, "after_id": 2**31 - 1}, namespace=NAMESPACE)
    acks: list[asyncio.Future[Any]] = []
    run = secrets.token_hex(3)
    started = time.time()
    for number in range(messages):
        await asyncio.sleep(max(0.0, started + number / rate - time.time()))
        client_id = f"{run}{number}-{time.time():.6f}"
        body = f"Message {number} of the benchmark, with a [link](https://example.org/{number})."
        data = {"event_id": event_id, "body": body, "client_id": client_id}
        acks.append(asyncio.ensure_future(sio.call("send", data, namespace=NAMESPACE, timeout=120)))
    answers = await asyncio.gather(*acks, return_exceptions=True)
    failed = [a for a in answers if not (isinstance(a, dict) and a.get("ok"))]
    if failed:
        print(f"  {len(failed)} sends failed, e.g. {failed[0]!r}", file=sys.stderr)
    await sio.disconnect()
    return started


# Servers ----------------------------------------------------------------------------------------


def server_cpu_rss(servers: list[Server]) -> tuple[float, int]:
    """User + system CPU seconds and RSS bytes of the servers and all their processes."""
    cpu, rss = 0.0, 0
    for server in servers:
        assert server.process is not None
        root = psutil.Process(server.process.pid)
        for process in [root, *root.children(recursive=True)]:
            times = process.cpu_times()
            cpu += times.user + times.system
            rss += process.memory_info().rss
    return cpu, rss


def measure(args: argparse.Namespace, name: str, processes: int, count: int,
            env: dict[str, str], cookies: tuple[str, str], event_id: int) -> Result:  # fmt: skip
    command, _ = SERVERS[name]
    folder = Path(tempfile.gettempdir())
    servers = [
        Server(command, env, folder / f"peerlearn-bench-chat-{n}.log").start(timeout=60)
        for n in range(processes)
    ]
    try:
        urls = [server.url for server in servers]
        _, rss_before = server_cpu_rss(servers)
        context = multiprocessing.get_context("spawn")
        pipes, workers = [], []
        share = [count // args.client_processes + (n < count % args.client_processes)
                 for n in range(args.client_processes)]  # fmt: skip
        for number, size in enumerate(s for s in share if s):
            ours, theirs = context.Pipe()
            # Clients split across the server processes; the sender talks to the first.
            mine = urls[number % len(urls) :] + urls[: number % len(urls)]
            worker = context.Process(target=_client_process,
                                     args=(mine, cookies[0], size, event_id, theirs))  # fmt: skip
            worker.start()
            pipes.append(ours)
            workers.append(worker)
        for pipe in pipes:
            if not pipe.poll(600):
                raise SystemExit("clients did not connect within 10 minutes")
            pipe.recv()
        cpu_before, rss_joined = server_cpu_rss(servers)
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        deadline = time.time() + args.messages / args.rate + args.grace
        for pipe in pipes:
            pipe.send((args.messages, deadline))
        started = asyncio.run(_send(urls[0], cookies[1], event_id, args.messages, args.rate))
        latencies: list[float] = []
        last, dropped = started, 0
        for pipe in pipes:
            got, finished, lost = pipe.recv()
            latencies.extend(got)
            last, dropped = max(last, finished), dropped + lost
        cpu_after, _ = server_cpu_rss(servers)
        for worker in workers:
            worker.join(60)
    finally:
        for server in servers:
            server.stop()
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[max(0, math.ceil(q * len(latencies)) - 1)] * 1000 if latencies else 0.0

    return Result(
        server=name, processes=processes, clients=count, messages=args.messages,
        delivered=len(latencies), seconds=max(last - started, 1e-9),
        cpu_seconds=cpu_after - cpu_before, rss_per_client_kib=(rss_joined - rss_before) / count / 1024,
        p50_ms=pct(0.5), p99_ms=pct(0.99), load=load, dropped=dropped,
    )  # fmt: skip


def report(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        f"command: python -m bench.chat {' '.join(sys.argv[1:])}",
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC · {machine()} · code: {code_version()}",
        f"{args.messages} messages at {args.rate:g}/s from one sender; clients in "
        f"{args.client_processes} processes on the same machine; load average at each start shown",
        "",
        "| server | procs | clients | delivered | dropped | delivered/s | CPU µs/msg | p50 ms | p99 ms "
        "| KiB/client | ratio to bare same stack | load 1/5/15 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    bare = {
        (r.clients, "threading" in r.server): r for r in results if r.server.startswith("bare F")
    }
    for r in results:
        ref = bare.get((r.clients, "threading" in r.server))
        ratio = (
            f"{r.rate / ref.rate:.2f}"
            if ref and ref.rate and r.server.startswith("peerlearn")
            else ""
        )
        lines.append(
            f"| {r.server} | {r.processes} | {r.clients:,} | {r.delivered:,}/{r.clients * r.messages:,} "
            f"| {r.dropped:,} "
            f"| {r.rate:,.0f} | {r.cpu_us:,.0f} | {r.p50_ms:,.0f} | {r.p99_ms:,.0f} "
            f"| {r.rss_per_client_kib:,.0f} | {ratio} | {r.load} |"
        )  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="50,200,500,2000", help="room sizes, comma-separated")
    parser.add_argument("--messages", type=int, default=100, help="messages sent per room size")
    parser.add_argument("--rate", type=float, default=20, help="messages per second")
    parser.add_argument("--grace", type=float, default=60, help="seconds to wait for stragglers")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--database-url", help="default: a new SQLite file in $TMPDIR")
    parser.add_argument("--redis-url", help="also measure two peerlearn processes over Redis")
    parser.add_argument("--threading", action="store_true", help="also measure threading mode")
    parser.add_argument("--servers", help="only these servers (comma-separated names)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="peerlearn-bench-chat-"))
    database_url = args.database_url or f"sqlite:///{folder / 'chat.db'}"
    chat = seed(database_url, members=2, log=folder / "seed.log")
    env = app_environment(database_url, secrets.token_urlsafe(36), rate_limits=False, folder=folder)
    env["PEERLEARN_SOCKETIO_CHANNEL"] = f"peerlearn-bench-{secrets.token_hex(4)}"
    probe = Server(COMMANDS["gevent"], env, folder / "sign-in.log").start(timeout=60)
    try:
        cookies = (sign_in(probe.url, chat["members"][0]), sign_in(probe.url, chat["members"][1]))
    finally:
        probe.stop()

    plan: list[tuple[str, int, dict[str, str]]] = []
    for name in SERVERS:
        if "threading" in name and not args.threading:
            continue
        plan.append((name, 1, env))
        if name == "peerlearn gevent" and args.redis_url:
            plan.append((name, 2, {**env, "REDIS_URL": args.redis_url}))
    if args.servers:
        wanted = {s.strip() for s in args.servers.split(",")}
        plan = [p for p in plan if p[0] in wanted]
    results = []
    for count in (int(c) for c in args.clients.split(",")):
        for name, processes, server_env in plan:
            print(f"{name} ×{processes}: {count} clients…", file=sys.stderr, flush=True)
            result = measure(args, name, processes, count, server_env, cookies, chat["event_id"])
            print(f"  {result.rate:,.0f}/s, {result.cpu_us:,.0f} µs/msg, p99 {result.p99_ms:,.0f} ms",
                  file=sys.stderr, flush=True)  # fmt: skip
            results.append(result)
    table = report(results, args)
    print(table)
    if args.json:
        args.json.write_text(
            json.dumps({"table": table, "results": [asdict(r) for r in results]}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
