"""A member whose connection drops catches up on rejoining: every missed message, once, in order."""

import pytest


@pytest.mark.parametrize("kind", ["gevent", "threading"])
def test_rejoining_after_a_dropped_connection_brings_exactly_the_missed_messages(
    chat, serve, connect, kind
):
    server = serve(kind)
    alice, carol = chat.members[1], chat.members[2]
    sender, bob = connect(server, alice), connect(server, chat.members[0])
    sender.join(chat.event_id)
    bob.join(chat.event_id)
    before = sender.send(chat.event_id, "Before the drop", f"{kind}-before")
    assert [m["id"] for m in bob.wait_for(1)] == [before["id"]]

    bob.cut()
    missed = [
        sender.send(chat.event_id, f"While Bob was away, number {n}", f"{kind}-away-{n}")
        for n in range(1, 6)
    ]

    bob_again = connect(server, chat.members[0])  # the same browser, reconnecting
    caught_up = bob_again.join(chat.event_id, after_id=bob.received[-1]["id"])
    assert [(m["id"], m["client_id"]) for m in caught_up] == [
        (m["id"], m["client_id"]) for m in missed
    ]
    assert "While Bob was away, number 1" in caught_up[0]["body_html"]

    # Live again: the next messages arrive once each (a later one from someone else marks the end).
    welcome = sender.send(chat.event_id, "Welcome back", f"{kind}-welcome")
    last = connect(server, carol)
    last.join(chat.event_id)
    end = last.send(chat.event_id, "Last one", f"{kind}-last")
    assert [m["id"] for m in bob_again.wait_for(2)] == [welcome["id"], end["id"]]
    assert len(bob.received) == 1, "the dropped connection got nothing after the drop"
