"""A chat send's database work is small and fixed: the live chat's throughput depends on it
(bench/chat.py), and a change that reads rows back after the commit shows up here first."""

from peerlearn.extensions import db
from tests.discussions.test_query_counts import counting_statements
from tests.events.chat_helpers import ask


def test_a_send_costs_a_fixed_small_number_of_statements(app, live_event, member, chatter):
    socket = chatter(member())
    ask(socket, "join", {"event_id": live_event.id})
    ask(socket, "send", {"event_id": live_event.id, "body": "warm up", "client_id": "w"})

    counts = []
    for n in range(3):
        with counting_statements(app) as statements:
            ack = ask(socket, "send", {"event_id": live_event.id, "body": f"**{n}**",
                                       "client_id": f"c{n}"})  # fmt: skip
        assert ack["ok"] and ack["message"]["body_html"].strip() == f"<p><strong>{n}</strong></p>"
        counts.append(len(statements))
    # The sender with their organisation (for the payload), the event with its space, the
    # sender's membership (the policy) and whether they are muted, and the insert, and on
    # PostgreSQL the lock that commits an event's messages in id order: no client_id look-up
    # before a new message, and nothing read back after the commit.
    in_id_order = 1 if db.engine.dialect.name == "postgresql" else 0
    assert counts[0] == counts[1] == counts[2] <= 3 + in_id_order
