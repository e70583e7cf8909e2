"""A real ``python-socketio`` client on the ``/live`` namespace, with waits instead of sleeps."""

from __future__ import annotations

import socket
import threading
from typing import Any

import socketio

NAMESPACE = "/live"
#: Long enough for a loaded CI machine; every wait ends as soon as its event arrives.
TIMEOUT = 15


class LiveClient:
    """One browser tab's socket: connects over WebSocket with a signed-in session's cookie."""

    def __init__(self, url: str, cookie: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.received: list[dict[str, Any]] = []
        #: The ``removed`` events: the chats this connection was dropped from.
        self.removed: list[dict[str, Any]] = []
        #: The Q&A's broadcasts, in order: (``question`` or ``question_removed``, payload).
        self.questions: list[tuple[str, dict[str, Any]]] = []
        self._arrived = threading.Condition()
        self.disconnected = threading.Event()
        self.sio.on("message", self._on_message, namespace=NAMESPACE)
        self.sio.on("removed", self._on_removed, namespace=NAMESPACE)
        for name in ("question", "question_removed"):
            self.sio.on(name, self._on_question(name), namespace=NAMESPACE)
        self.sio.on("disconnect", lambda *_: self.disconnected.set(), namespace=NAMESPACE)
        self.sio.connect(
            url,
            headers={"Cookie": cookie},
            namespaces=[NAMESPACE],
            transports=["websocket"],
            wait_timeout=TIMEOUT,
        )

    def _on_message(self, message: dict[str, Any]) -> None:
        with self._arrived:
            self.received.append(message)
            self._arrived.notify_all()

    def _on_removed(self, removed: dict[str, Any]) -> None:
        with self._arrived:
            self.removed.append(removed)
            self._arrived.notify_all()

    def _on_question(self, name: str) -> Any:
        def arrived(payload: dict[str, Any]) -> None:
            with self._arrived:
                self.questions.append((name, payload))
                self._arrived.notify_all()

        return arrived

    def wait_for_questions(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        """The Q&A's broadcasts so far, once at least ``count`` have arrived."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.questions) >= count, TIMEOUT)
            assert arrived, f"waited for {count} Q&A broadcasts, got {len(self.questions)}"
            return list(self.questions)

    def wait_until_removed(self) -> list[dict[str, Any]]:
        """The ``removed`` events so far, once at least one has arrived."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: self.removed, TIMEOUT)
            assert arrived, "the connection was never removed from a chat"
            return list(self.removed)

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.sio.call(event, data, namespace=NAMESPACE, timeout=TIMEOUT)

    def join(self, event_id: int, after_id: int | None = None) -> list[dict[str, Any]]:
        """Join a chat; the messages the acknowledgement brings."""
        data = {"event_id": event_id, **({} if after_id is None else {"after_id": after_id})}
        ack = self.call("join", data)
        assert ack["ok"], ack
        return ack["messages"]

    def send(self, event_id: int, body: str, client_id: str) -> dict[str, Any]:
        """Send and wait for the acknowledgement; the stored message."""
        ack = self.call("send", {"event_id": event_id, "body": body, "client_id": client_id})
        assert ack["ok"], ack
        return ack["message"]

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        """The live messages so far, once at least ``count`` have arrived."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received) >= count, TIMEOUT)
            assert arrived, f"waited for {count} messages, got {len(self.received)}"
            return list(self.received)

    def cut(self) -> None:
        """Drop the connection under the client, as a Wi-Fi drop does (no goodbye sent)."""
        self.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)
        assert self.disconnected.wait(TIMEOUT), "the client did not notice the drop"

    def close(self) -> None:
        """Let go at the end of a test (a goodbye would wait for the server's; a drop does not)."""
        if self.sio.connected:
            self.cut()
        sock = getattr(getattr(self.sio.eio, "ws", None), "sock", None)
        if sock is not None:  # a dropped connection's socket is still open on our side
            sock.close()
