"""The per-member send limit holds on a real server, and switching limits off really lifts it."""

from peerlearn.events.sockets import SEND_LIMIT


def test_the_send_limit_refuses_the_message_after_the_limit(chat, serve, connect):
    member = connect(serve("gevent"), chat.members[4])
    member.join(chat.event_id)
    for number in range(SEND_LIMIT.amount):
        member.send(chat.event_id, f"Quick message {number}", f"limit-{number}")
    ack = member.call(
        "send", {"event_id": chat.event_id, "body": "One too many", "client_id": "limit-over"}
    )
    assert ack["error"]["code"] == "rate_limited"


def test_with_rate_limits_off_a_member_can_send_past_the_limit(chat, serve, connect):
    """RATELIMIT_ENABLED=false (as the benchmarks run) lifts the chat's limit too."""
    member = connect(serve("gevent", rate_limits=False), chat.members[3])
    member.join(chat.event_id)
    sent = [
        member.send(chat.event_id, f"Message {number}", f"unlimited-{number}")
        for number in range(SEND_LIMIT.amount + 2)
    ]
    assert len({m["id"] for m in sent}) == SEND_LIMIT.amount + 2
