"""The live event chat over Socket.IO (namespace /live): joining, sending exactly once, removing
messages, the chat's open and closed state, and refusing whatever should be refused. Message order
and catching up after a disconnect are in test_chat_order.py."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peerlearn.core.db import utcnow
from peerlearn.events import chat, questions
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db
from peerlearn.spaces.models import MemberRole, Visibility
from tests.events.chat_helpers import ask, received
from tests.events.conftest import form_for


def _stored():
    return db.session.scalar(select(func.count()).select_from(ChatMessage))


def test_a_message_is_stored_acknowledged_and_shown_to_the_room_once(live_event, member, chatter):
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    assert ask(alice, "join", {"event_id": live_event.id})["ok"]
    assert ask(bob, "join", {"event_id": live_event.id})["ok"]
    ack = ask(
        alice, "send", {"event_id": live_event.id, "body": "Hello **all**", "client_id": "c-1"}
    )
    assert ack["ok"] and ack["message"]["body_html"] == "<p>Hello <strong>all</strong></p>\n"
    assert ack["message"]["author"]["name"] == "Alice Able"
    assert [m["id"] for m in received(bob)] == [ack["message"]["id"]]
    assert _stored() == 1
    # The same client_id again (a resend after a lost acknowledgement): same message, no broadcast.
    again = ask(
        alice, "send", {"event_id": live_event.id, "body": "Hello **all**", "client_id": "c-1"}
    )
    assert again["message"]["id"] == ack["message"]["id"]
    assert received(bob) == [] and _stored() == 1


def test_a_resend_gets_the_stored_message_whatever_the_rules_say_now(
    live_event, sig, member, chatter
):
    alice = chatter(member("Alice Able"))
    ask(alice, "join", {"event_id": live_event.id})
    sent = ask(alice, "send", {"event_id": live_event.id, "body": "first", "client_id": "r-1"})
    # Slow mode (which the message itself would trip) and a closed chat do not refuse a resend
    # of what was already stored: its acknowledgement was lost, not the message.
    live_event.slow_mode_seconds = 60
    db.session.commit()
    again = ask(alice, "send", {"event_id": live_event.id, "body": "first", "client_id": "r-1"})
    assert again["ok"] and again["message"]["id"] == sent["message"]["id"]
    live_event.chat_closed_at = utcnow()
    db.session.commit()
    again = ask(alice, "send", {"event_id": live_event.id, "body": "first", "client_id": "r-1"})
    assert again["ok"] and again["message"]["id"] == sent["message"]["id"]
    # A new message is still refused, and a client_id from another event's chat is not reused.
    closed = ask(alice, "send", {"event_id": live_event.id, "body": "new", "client_id": "r-2"})
    assert closed["error"]["code"] == "chat_closed"
    other = Event(space=sig, title="Other", starts_at=live_event.starts_at,
                  ends_at=live_event.ends_at, venue="Preston")  # fmt: skip
    db.session.add(other)
    db.session.commit()
    elsewhere = ask(alice, "send", {"event_id": other.id, "body": "first", "client_id": "r-1"})
    assert elsewhere["error"]["code"] == "bad_request"
    assert "another event" in elsewhere["error"]["message"]
    assert _stored() == 1


def test_rooms_keep_events_apart(live_event, sig, moderator, member, chatter):
    other = Event(space=sig, title="Other", starts_at=live_event.starts_at,
                  ends_at=live_event.ends_at, venue="Preston")  # fmt: skip
    db.session.add(other)
    db.session.commit()
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    ask(alice, "join", {"event_id": live_event.id})
    ask(bob, "join", {"event_id": other.id})
    ask(alice, "send", {"event_id": live_event.id, "body": "only here", "client_id": "x"})
    assert received(bob) == []


def test_anonymous_connections_are_refused(client, connect_socket):
    assert not connect_socket(client, namespace="/live").is_connected("/live")


def test_outsiders_can_follow_a_network_events_chat_but_not_post(live_event, make_user, chatter):
    outsider = chatter(make_user("Outside Olly"))
    assert ask(outsider, "join", {"event_id": live_event.id})["ok"]
    ack = ask(outsider, "send", {"event_id": live_event.id, "body": "hi", "client_id": "o"})
    assert ack == {"ok": False, "error": {"code": "forbidden", "message": ack["error"]["message"]}}
    assert _stored() == 0


def test_a_private_spaces_chat_does_not_exist_for_outsiders(
    make_space, make_user, add_member, chatter
):
    private = make_space(visibility=Visibility.private)
    event = Event(space=private, title="Private", starts_at=utcnow(),
                  ends_at=utcnow() + timedelta(hours=1), venue="Leeds")  # fmt: skip
    db.session.add(event)
    db.session.commit()
    ack = ask(chatter(make_user()), "join", {"event_id": event.id})
    assert ack["error"]["code"] == "not_found"


def test_membership_is_checked_on_every_event_not_only_on_join(live_event, sig, member, chatter):
    user = member("Leaving Lee")
    socket = chatter(user)
    assert ask(socket, "join", {"event_id": live_event.id})["ok"]
    from peerlearn.spaces.models import Membership

    db.session.delete(
        db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.space_id == sig.id)
        )
    )
    db.session.commit()
    ack = ask(socket, "send", {"event_id": live_event.id, "body": "still here?", "client_id": "l"})
    assert ack["error"]["code"] == "forbidden" and _stored() == 0


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (None, "bad_request"),
        ("just a string", "bad_request"),
        ({}, "bad_request"),
        ({"event_id": "1", "body": "x", "client_id": "a"}, "bad_request"),
        ({"event_id": -1, "body": "x", "client_id": "a"}, "bad_request"),
        ({"event_id": 999_999, "body": "x", "client_id": "a"}, "not_found"),
        ({"event_id": "EVENT", "body": 42, "client_id": "a"}, "bad_request"),
        ({"event_id": "EVENT", "body": "x", "client_id": ""}, "bad_request"),
        ({"event_id": "EVENT", "body": "x", "client_id": "c" * 65}, "bad_request"),
        ({"event_id": "EVENT", "body": "   ", "client_id": "a"}, "bad_request"),
        ({"event_id": "EVENT", "body": "x" * 2001, "client_id": "a"}, "too_long"),
        ({"event_id": "EVENT", "body": "x\x00y", "client_id": "a"}, "bad_request"),
        ({"event_id": "EVENT", "body": "x", "client_id": "a\x00"}, "bad_request"),
    ],
)
def test_malformed_sends_get_an_error_and_change_nothing(
    live_event, member, chatter, payload, code
):
    socket = chatter(member())
    if isinstance(payload, dict) and payload.get("event_id") == "EVENT":
        payload = {**payload, "event_id": live_event.id}
    ack = ask(socket, "send", payload)
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert _stored() == 0
    # The connection still works afterwards.
    assert ask(socket, "join", {"event_id": live_event.id})["ok"]


#: Every client event with a well-formed payload ("EVENT", "MESSAGE", "QUESTION" and "MEMBER"
#: stand for the test's own ids).
EVERY_EVENT = {
    "join": {"event_id": "EVENT", "after_id": 0},
    "send": {"event_id": "EVENT", "body": "Hello", "client_id": "c"},
    "delete": {"message_id": "MESSAGE"},
    "leave": {"event_id": "EVENT"},
    "ask": {"event_id": "EVENT", "body": "Why?", "client_id": "c"},
    "vote": {"question_id": "QUESTION", "up": True},
    "answer": {"question_id": "QUESTION", "status": "answered"},
    "pin": {"message_id": "MESSAGE", "pinned": True},
    "mute": {"event_id": "EVENT", "user_id": "MEMBER", "muted": True},
    "slow_mode": {"event_id": "EVENT", "seconds": 10},
    "close": {"event_id": "EVENT"},
    "reopen": {"event_id": "EVENT"},
}


@pytest.mark.parametrize("shape", [list, dict], ids=["list", "object"])
@pytest.mark.parametrize(
    ("event", "key"), [(event, key) for event, payload in EVERY_EVENT.items() for key in payload]
)
def test_a_list_or_an_object_in_any_field_is_a_bad_request(
    live_event, member, moderator, chatter, event, key, shape
):
    """A value of the wrong shape is refused like any malformed field, never failing the handler
    (a list cannot even be looked up in a set)."""
    author = member()
    message, _ = chat.post_message(author, live_event, "Hello", "m")
    question, _ = questions.ask(author, live_event, "Why?", "q")
    ids = {"EVENT": live_event.id, "MESSAGE": message.id, "QUESTION": question.id,
           "MEMBER": author.id}  # fmt: skip
    data = {name: ids.get(value, value) for name, value in EVERY_EVENT[event].items()}
    data[key] = [data[key]] if shape is list else {"value": data[key]}
    ack = ask(chatter(moderator), event, data)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack


def test_html_in_a_message_is_shown_as_text(live_event, member, chatter):
    socket = chatter(member())
    ack = ask(socket, "send", {"event_id": live_event.id,
                               "body": "<script>alert(1)</script>", "client_id": "h"})  # fmt: skip
    assert "<script" not in ack["message"]["body_html"]


def test_the_chat_is_closed_outside_its_window(sig, moderator, member, chatter):
    later = Event(space=sig, title="Next month", starts_at=utcnow() + timedelta(days=30),
                  ends_at=utcnow() + timedelta(days=30, hours=1), venue="Leeds")  # fmt: skip
    db.session.add(later)
    db.session.commit()
    socket = chatter(member())
    assert ask(socket, "join", {"event_id": later.id})["open"] is False
    ack = ask(socket, "send", {"event_id": later.id, "body": "early", "client_id": "e"})
    assert ack["error"]["code"] == "chat_closed" and _stored() == 0


def _about(seconds, expected):
    """``seconds`` is ``expected`` less the few seconds the test has run since it set the times."""
    return seconds is not None and expected - 5 <= seconds <= expected


def test_the_state_says_in_how_many_seconds_the_chat_opens_and_closes_by_itself(
    app, sig, live_event, member, moderator, chatter, monkeypatch
):
    alice, mod = chatter(member("Alice Able")), chatter(moderator)
    # Open now (the event ends in 100 minutes): it closes 30 minutes after the end, as configured.
    state = ask(alice, "join", {"event_id": live_event.id})["state"]
    assert state["open"] is True and state["opens_in_seconds"] is None
    assert _about(state["closes_in_seconds"], (100 + 30) * 60)
    monkeypatch.setitem(app.config, "PEERLEARN_CHAT_CLOSES_MINUTES", 5)
    monkeypatch.setitem(app.config, "PEERLEARN_CHAT_OPENS_MINUTES", 15)
    state = ask(alice, "join", {"event_id": live_event.id})["state"]
    assert _about(state["closes_in_seconds"], (100 + 5) * 60)
    # Not open yet: it opens 15 minutes before the start.
    later = Event(space=sig, title="This afternoon", starts_at=utcnow() + timedelta(hours=2),
                  ends_at=utcnow() + timedelta(hours=3), venue="Leeds")  # fmt: skip
    db.session.add(later)
    db.session.commit()
    state = ask(alice, "join", {"event_id": later.id})["state"]
    assert state["open"] is False
    assert _about(state["opens_in_seconds"], (120 - 15) * 60)
    assert _about(state["closes_in_seconds"], (180 + 5) * 60)

    # Closed by a moderator, it will not change by itself: the broadcast says so too.
    ask(alice, "join", {"event_id": live_event.id})
    received(alice, "state")
    closed = ask(mod, "close", {"event_id": live_event.id})["state"]
    assert (closed["opens_in_seconds"], closed["closes_in_seconds"]) == (None, None)
    assert [(s["open"], s["opens_in_seconds"], s["closes_in_seconds"])
            for s in received(alice, "state")] == [(False, None, None)]  # fmt: skip
    reopened = ask(mod, "reopen", {"event_id": live_event.id})["state"]
    assert _about(reopened["closes_in_seconds"], (100 + 5) * 60)
    [broadcast] = received(alice, "state")
    assert _about(broadcast["closes_in_seconds"], (100 + 5) * 60)

    # Neither for a cancelled event, nor once the window has passed.
    later.cancelled_at = utcnow()
    live_event.starts_at = utcnow() - timedelta(hours=5)
    live_event.ends_at = utcnow() - timedelta(hours=4)
    db.session.commit()
    for event in (later, live_event):
        state = ask(alice, "join", {"event_id": event.id})["state"]
        assert (state["open"], state["opens_in_seconds"], state["closes_in_seconds"]) == (
            False,
            None,
            None,
        )


def test_editing_or_cancelling_the_event_tells_its_chat_at_once(
    live_event, member, moderator, chatter, client, login, tomorrow
):
    alice = chatter(member("Alice Able"))
    ask(alice, "join", {"event_id": live_event.id})
    received(alice, "state")
    login(client, moderator)
    # Moved to tomorrow afternoon: the open chat closes, and says when it will open.
    edited = client.post(f"/events/{live_event.id}/edit",
                         data=form_for(day=tomorrow, start="14:00", end="15:00"))  # fmt: skip
    assert edited.status_code == 302
    [state] = received(alice, "state")
    assert state["open"] is False and state["opens_in_seconds"] > 12 * 3600
    assert "muted_user_ids" not in state
    assert client.post(f"/events/{live_event.id}/cancel").status_code == 302
    [state] = received(alice, "state")
    assert (state["open"], state["opens_in_seconds"], state["closes_in_seconds"]) == (
        False,
        None,
        None,
    )


def test_authors_and_moderators_remove_messages_and_everyone_sees_it(
    live_event, member, moderator, chatter
):
    alice, bob, mod = (
        chatter(member("Alice Able")),
        chatter(member("Bob Baker")),
        chatter(moderator),
    )
    for socket in (alice, bob, mod):
        ask(socket, "join", {"event_id": live_event.id})
    mine = ask(alice, "send", {"event_id": live_event.id, "body": "oops", "client_id": "1"})[
        "message"
    ]
    theirs = ask(bob, "send", {"event_id": live_event.id, "body": "off topic", "client_id": "2"})[
        "message"
    ]
    for socket in (alice, bob, mod):
        socket.get_received("/live")
    assert ask(alice, "delete", {"message_id": theirs["id"]})["error"]["code"] == "forbidden"
    assert ask(alice, "delete", {"message_id": mine["id"]})["ok"]
    assert ask(mod, "delete", {"message_id": theirs["id"]})["ok"]
    assert received(bob, "message_deleted") == [{"id": mine["id"]}, {"id": theirs["id"]}]
    history = ask(bob, "join", {"event_id": live_event.id})["messages"]
    assert [(m["deleted"], m["body_html"]) for m in history] == [(True, ""), (True, "")]


def test_sending_is_rate_limited_per_member(live_event, member, chatter):
    socket = chatter(member())
    codes = [
        ask(socket, "send", {"event_id": live_event.id, "body": f"m{n}", "client_id": str(n)})
        .get("error", {}).get("code", "ok")
        for n in range(21)
    ]  # fmt: skip
    assert codes[:20] == ["ok"] * 20 and codes[20] == "rate_limited"
    assert _stored() == 20


def test_moderators_role_is_what_lets_them_remove(moderator, sig):
    assert any(m.role is MemberRole.moderator for m in sig.memberships)


def test_joining_gives_everything_the_chat_screen_needs(live_event, member, moderator, chatter):
    user = member("Alice Able")
    ack = ask(chatter(user), "join", {"event_id": live_event.id})
    assert ack["state"] == {
        "event_id": live_event.id,
        "open": True,
        "closed_by_moderator": False,
        "time_over": False,
        "slow_mode_seconds": 0,
        "opens_in_seconds": None,
        "closes_in_seconds": ack["state"]["closes_in_seconds"],
        "muted_user_ids": [],
    }
    assert ack["me"] == {"id": user.id, "moderator": False, "muted": False}
    assert (ack["questions"], ack["voted"], ack["pinned"]) == ([], [], [])
    assert [person["name"] for person in ack["presence"]] == ["Alice Able"]
    assert ask(chatter(moderator), "join", {"event_id": live_event.id})["me"]["moderator"] is True
