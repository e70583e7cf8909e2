"""A server process killed mid-event loses no acknowledged message, and resends store nothing twice."""

import contextlib
import threading

import socketio

from .clients import NAMESPACE, TIMEOUT

SENDS = 12


def test_a_server_killed_mid_event_keeps_every_acknowledged_message(chat, serve, connect):
    server = serve("gevent")
    alice = connect(server, chat.members[1])
    alice.join(chat.event_id)
    client_ids = [f"restart-{n}" for n in range(SENDS)]
    acknowledged: dict[str, dict] = {}
    lock, some_stored, waiting = threading.Lock(), threading.Event(), iter(client_ids)

    def send_next() -> None:
        """Two sends in flight at any moment, like a member typing fast on a slow line."""
        client_id = next(waiting, None)
        if client_id is None:
            return
        data = {"event_id": chat.event_id, "body": f"Message {client_id}", "client_id": client_id}
        with contextlib.suppress(socketio.exceptions.SocketIOError):  # the server is gone
            alice.sio.emit("send", data, namespace=NAMESPACE, callback=answered(client_id))

    def answered(client_id: str):
        def acknowledge(ack: dict) -> None:
            with lock:
                if ack.get("ok"):
                    acknowledged[client_id] = ack["message"]
                if len(acknowledged) >= 4:
                    some_stored.set()
            send_next()

        return acknowledge

    send_next()
    send_next()
    assert some_stored.wait(TIMEOUT)
    server.kill()
    assert alice.disconnected.wait(TIMEOUT)
    with lock:
        acked = {client_id: message["id"] for client_id, message in acknowledged.items()}

    server.start()  # the same port and database, as a supervisor would restart it
    alice = connect(server, chat.members[1])
    history = alice.join(chat.event_id, after_id=0)
    stored = {m["client_id"]: m["id"] for m in history}
    assert len(stored) == len(history), "no message is stored twice"
    assert {c: stored.get(c) for c in acked} == acked, "every acknowledged message survived"

    # The member's browser resends everything it has no acknowledgement for.
    bob = connect(server, chat.members[0])
    bob.join(chat.event_id, after_id=0)
    resent = {c: alice.send(chat.event_id, f"Message {c}", c)["id"] for c in client_ids}
    assert {c: resent[c] for c in stored} == stored, "a resend returns the stored message"
    assert sorted(stored.values()) == [m["id"] for m in history]

    final = alice.join(chat.event_id, after_id=0)
    assert sorted(m["client_id"] for m in final) == sorted(client_ids), "each stored once"
    assert [m["id"] for m in final] == sorted(m["id"] for m in final), "in order"
    # Only the messages stored by the resends were shown again, once each.
    end = connect(server, chat.members[2])
    end.join(chat.event_id)
    last = end.send(chat.event_id, "Last one", "restart-last")
    new = [resent[c] for c in client_ids if c not in stored]
    assert [m["id"] for m in bob.wait_for(len(new) + 1)] == [*new, last["id"]]
