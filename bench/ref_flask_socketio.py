"""A bare Flask-SocketIO server doing the chat's fan-out with no application logic: the ceiling of
our stack in the chat benchmark (``bench/chat.py``).

Same namespace, events and payload shape as peerlearn's ``/live`` chat, nothing else: no sign-in,
no database, no permission checks, no Markdown. Served like peerlearn itself:

    gunicorn --worker-class gevent --workers 1 bench.ref_flask_socketio:app   # gevent
    flask --app bench.ref_flask_socketio run                                  # threading

Its async mode follows the server (gevent when gevent's worker patched the process), and
``REDIS_URL`` makes it share a Redis message queue, as peerlearn does.
"""

import itertools
import os
from typing import Any

from flask import Flask, jsonify
from flask_socketio import SocketIO, emit, join_room

from bench.ref_common import NAMESPACE, message, room
from peerlearn.config import gevent_patched

app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode="gevent" if gevent_patched() else "threading",
    message_queue=os.environ.get("REDIS_URL") or None,
    channel=os.environ.get("PEERLEARN_SOCKETIO_CHANNEL") or "flask-socketio",
)
ids = itertools.count(1)


@app.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@socketio.on("join", namespace=NAMESPACE)
def join(data: dict[str, Any]) -> dict[str, Any]:
    join_room(room(data))
    return {"ok": True, "messages": [], "presence": []}


@socketio.on("send", namespace=NAMESPACE)
def send(data: dict[str, Any]) -> dict[str, Any]:
    shown = message(next(ids), data)
    emit("message", shown, to=room(data), namespace=NAMESPACE)
    return {"ok": True, "message": shown}
