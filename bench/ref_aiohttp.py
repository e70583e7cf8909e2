"""A bare python-socketio server on aiohttp doing the chat's fan-out with no application logic:
what a team might pick instead, as a reference in the chat benchmark (``bench/chat.py``).

    python -m bench.ref_aiohttp --port 8001

(or ``--fd N``: serve a listening socket it inherits, as the benchmark starts it).

Same namespace, events and payload shape as peerlearn's ``/live`` chat; aiohttp comes with the
``bench`` extra (``pip install -e '.[bench]'``). Loopback addresses only.
"""

import argparse
import itertools
import socket
from typing import Any

import socketio
from aiohttp import web

from bench.ref_common import NAMESPACE, message, room


def make_app() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)
    ids = itertools.count(1)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @sio.on("join", namespace=NAMESPACE)
    async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        await sio.enter_room(sid, room(data), namespace=NAMESPACE)
        return {"ok": True, "messages": [], "presence": []}

    @sio.on("send", namespace=NAMESPACE)
    async def send(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        shown = message(next(ids), data)
        await sio.emit("message", shown, to=room(data), namespace=NAMESPACE)
        return {"ok": True, "message": shown}

    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    listen = parser.add_mutually_exclusive_group(required=True)
    listen.add_argument("--port", type=int)
    listen.add_argument("--fd", type=int, help="an inherited listening socket")
    args = parser.parse_args()
    if args.fd is not None:
        web.run_app(make_app(), sock=socket.socket(fileno=args.fd), print=None)
    else:
        web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
