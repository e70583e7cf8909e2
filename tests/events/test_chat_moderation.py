"""The moderators' chat tools over Socket.IO: pin, mute, slow mode, close and reopen; each one
refused to members, audited, and broadcast so every screen updates."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.events import chat, questions
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db
from peerlearn.spaces.models import JoinPolicy, MemberRole, Visibility
from tests.events.chat_helpers import (
    ask,
    audited,
    code,
    event_on_now,
    held_before_commit,
    received,
)
from tests.roles import ROLES

#: Who may use the moderation tools: the space's moderators and owners, and network admins.
MODERATORS = {"moderator", "owner", "admin"}


def _send(socket, event, body, client_id):
    return ask(socket, "send", {"event_id": event.id, "body": body, "client_id": client_id})


def _joined(event, *sockets):
    for socket in sockets:
        assert ask(socket, "join", {"event_id": event.id})["ok"]
    for socket in sockets:
        socket.get_received("/live")


def test_moderators_pin_and_unpin_a_message_for_everyone(live_event, member, moderator, chatter):
    alice, mod = chatter(member("Alice Able")), chatter(moderator)
    _joined(live_event, alice, mod)
    link = _send(alice, live_event, "Slides: https://example.org/slides", "1")["message"]
    assert link["pinned"] is False
    pinned = ask(mod, "pin", {"message_id": link["id"], "pinned": True})
    assert pinned["ok"] and pinned["message"]["pinned"] is True
    assert received(alice, "message_pinned") == [
        {"id": link["id"], "pinned": True, "message": pinned["message"]}
    ]
    assert [m["id"] for m in ask(alice, "join", {"event_id": live_event.id})["pinned"]] == [
        link["id"]
    ]
    assert (
        ask(mod, "pin", {"message_id": link["id"], "pinned": False})["message"]["pinned"] is False
    )
    assert ask(alice, "join", {"event_id": live_event.id})["pinned"] == []
    assert audited() == ["chat.message_pinned", "chat.message_unpinned"]


def test_a_removed_message_is_unpinned_and_cannot_be_pinned(live_event, member, moderator, chatter):
    alice, mod = chatter(member()), chatter(moderator)
    message = _send(alice, live_event, "pin me", "1")["message"]
    ask(mod, "pin", {"message_id": message["id"], "pinned": True})
    ask(alice, "delete", {"message_id": message["id"]})
    assert chat.pinned_messages(live_event) == []
    assert code(ask(mod, "pin", {"message_id": message["id"], "pinned": True})) == "bad_request"


def test_a_muted_member_reads_but_cannot_send_until_unmuted(live_event, member, moderator, chatter):
    user = member("Disruptive Dan")
    dan, bob, mod = chatter(user), chatter(member("Bob Baker")), chatter(moderator)
    _joined(live_event, dan, bob, mod)
    mute = {"event_id": live_event.id, "user_id": user.id, "muted": True}
    assert ask(mod, "mute", mute) == {"ok": True}
    change = {"event_id": live_event.id, "user_id": user.id, "muted": True}
    assert received(dan, "member_muted") == [change] and received(bob, "member_muted") == [change]
    assert code(_send(dan, live_event, "let me speak", "1")) == "muted"
    assert ask(dan, "join", {"event_id": live_event.id})["me"]["muted"] is True
    # A mute is one chat's: the same space's other event hears them.
    other = event_on_now(live_event.space)
    ask(dan, "join", {"event_id": other.id})
    assert _send(dan, other, "over here", "elsewhere")["ok"]
    # Only moderators learn who is muted from the state.
    assert ask(mod, "join", {"event_id": live_event.id})["state"]["muted_user_ids"] == [user.id]
    assert ask(bob, "join", {"event_id": live_event.id})["state"]["muted_user_ids"] == []
    # Muting again changes nothing and tells nobody.
    bob.get_received("/live")
    assert ask(mod, "mute", mute)["ok"] and received(bob, "member_muted") == []
    assert ask(mod, "mute", {**mute, "muted": False})["ok"]
    assert _send(dan, live_event, "thank you", "2")["ok"]
    assert audited() == ["chat.member_muted", "chat.member_unmuted"]


def test_moderators_cannot_be_muted(live_event, sig, moderator, make_user, add_member, chatter):
    other = make_user("Other Moderator")
    add_member(sig, other, MemberRole.moderator)
    ack = ask(chatter(moderator), "mute", {"event_id": live_event.id, "user_id": other.id,
                                           "muted": True})  # fmt: skip
    assert code(ack) == "forbidden" and audited() == []


def test_slow_mode_makes_members_wait_between_messages(live_event, member, moderator, chatter):
    alice, bob, mod = (
        chatter(member("Alice Able")),
        chatter(member("Bob Baker")),
        chatter(moderator),
    )
    _joined(live_event, alice, bob, mod)
    ack = ask(mod, "slow_mode", {"event_id": live_event.id, "seconds": 30})
    assert ack["ok"] and ack["state"]["slow_mode_seconds"] == 30
    broadcast = received(alice, "state")
    assert [s["slow_mode_seconds"] for s in broadcast] == [30]
    assert "muted_user_ids" not in broadcast[0]
    assert _send(alice, live_event, "first", "1")["ok"]
    too_soon = _send(alice, live_event, "second", "2")
    assert too_soon["error"]["code"] == "slow_mode"
    assert 28 <= too_soon["error"]["retry_after"] <= 30
    # Each member has their own allowance, and moderators are not slowed.
    assert _send(bob, live_event, "mine", "3")["ok"]
    assert _send(mod, live_event, "one", "4")["ok"] and _send(mod, live_event, "two", "5")["ok"]
    # A message sent longer ago than slow mode asks counts no more.
    db.session.execute(db.update(ChatMessage).values(created_at=utcnow() - timedelta(seconds=31)))
    db.session.commit()
    assert _send(alice, live_event, "second", "2")["ok"]
    ask(mod, "slow_mode", {"event_id": live_event.id, "seconds": 0})
    assert _send(alice, live_event, "third", "6")["ok"]
    assert audited() == ["chat.slow_mode", "chat.slow_mode"]


@pytest.mark.parametrize("seconds", [-1, 601, True, "30", 2.5, None])
def test_slow_mode_takes_0_to_600_seconds(live_event, moderator, chatter, seconds):
    ack = ask(chatter(moderator), "slow_mode", {"event_id": live_event.id, "seconds": seconds})
    assert code(ack) == "bad_request"
    db.session.refresh(live_event)
    assert live_event.slow_mode_seconds == 0


def test_closing_makes_the_chat_read_only_until_reopened(live_event, member, moderator, chatter):
    alice, mod = chatter(member("Alice Able")), chatter(moderator)
    _joined(live_event, alice, mod)
    closed = ask(mod, "close", {"event_id": live_event.id})
    assert closed["state"]["open"] is False and closed["state"]["closed_by_moderator"] is True
    assert [(s["open"], s["closed_by_moderator"]) for s in received(alice, "state")] == [
        (False, True)
    ]
    assert code(_send(alice, live_event, "hello?", "1")) == "chat_closed"
    joined = ask(alice, "join", {"event_id": live_event.id})
    assert joined["open"] is False and joined["state"]["closed_by_moderator"] is True
    reopened = ask(mod, "reopen", {"event_id": live_event.id})
    assert reopened["state"]["open"] is True
    assert _send(alice, live_event, "hello again", "2")["ok"]
    assert audited() == ["chat.closed", "chat.reopened"]


def test_a_cancelled_events_chat_is_closed(live_event, member, chatter):
    alice = chatter(member())
    live_event.cancelled_at = utcnow()
    db.session.commit()
    assert ask(alice, "join", {"event_id": live_event.id})["open"] is False
    assert code(_send(alice, live_event, "still on?", "1")) == "chat_closed"


def test_a_chat_past_its_time_cannot_be_reopened(sig, moderator, chatter, live_event):
    mod = chatter(moderator)
    closed = ask(mod, "close", {"event_id": live_event.id})["state"]
    assert closed["closed_by_moderator"] is True and closed["time_over"] is False
    live_event.starts_at = utcnow() - timedelta(hours=5)
    live_event.ends_at = utcnow() - timedelta(hours=4)
    db.session.commit()
    joined = ask(mod, "join", {"event_id": live_event.id})["state"]
    assert joined["time_over"] is True and joined["open"] is False
    refused = ask(mod, "reopen", {"event_id": live_event.id})
    assert code(refused) == "chat_closed"
    assert "time is over" in refused["error"]["message"]
    db.session.refresh(live_event)
    assert live_event.chat_closed_at is not None
    assert audited() == ["chat.closed"]


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("pin", {"message_id": "MESSAGE", "pinned": True}),
        ("mute", {"event_id": "EVENT", "user_id": "AUTHOR", "muted": True}),
        ("slow_mode", {"event_id": "EVENT", "seconds": 10}),
        ("close", {"event_id": "EVENT"}),
        ("reopen", {"event_id": "EVENT"}),
        ("answer", {"question_id": "QUESTION", "status": "answered"}),
    ],
)
@pytest.mark.parametrize("role", ROLES[1:])  # anonymous sockets cannot even connect
def test_only_the_spaces_moderators_use_the_moderation_tools(
    event, payload, role, make_space, person_in, member, chatter, add_member
):
    space = make_space(visibility=Visibility.network, join_policy=JoinPolicy.open)
    author = member()
    add_member(space, author)
    live = Event(space=space, title="Live", starts_at=utcnow(),
                 ends_at=utcnow() + timedelta(hours=1), venue="Leeds")  # fmt: skip
    db.session.add(live)
    db.session.commit()
    message, _ = chat.post_message(author, live, "hello", "m")
    question, _ = questions.ask(author, live, "why?", "q")
    values = {"EVENT": live.id, "MESSAGE": message.id, "AUTHOR": author.id,
              "QUESTION": question.id}  # fmt: skip
    data = {key: values.get(value, value) for key, value in payload.items()}
    if event == "reopen":
        live.chat_closed_at = utcnow()
        db.session.commit()
    actor = person_in(role, space)
    ack = ask(chatter(actor), event, data)
    allowed = role in MODERATORS
    # A banned member may not even see the space's events.
    assert code(ack) == ("ok" if allowed else "not_found" if role == "banned" else "forbidden")
    assert bool(audited()) is allowed


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("pin", {"message_id": "MESSAGE", "pinned": 1}, "bad_request"),
        ("pin", {"message_id": "MESSAGE"}, "bad_request"),
        ("pin", {"message_id": 999_999, "pinned": True}, "not_found"),
        ("pin", {"message_id": [1], "pinned": True}, "bad_request"),
        ("mute", {"event_id": "EVENT", "user_id": 999_999, "muted": True}, "not_found"),
        ("mute", {"event_id": "EVENT", "user_id": "AUTHOR", "muted": "true"}, "bad_request"),
        ("mute", {"event_id": "EVENT", "user_id": "1", "muted": True}, "bad_request"),
        ("mute", {"event_id": 999_999, "user_id": "AUTHOR", "muted": True}, "not_found"),
        ("close", {"event_id": None}, "bad_request"),
        ("reopen", {"event_id": {"id": 1}}, "bad_request"),
        ("slow_mode", {"event_id": "EVENT"}, "bad_request"),
    ],
)
def test_malformed_moderation_gets_an_error_and_changes_nothing(
    live_event, member, moderator, chatter, event, payload, expected
):
    user = member()
    message = _send(chatter(user), live_event, "hello", "m")["message"]
    values = {"EVENT": live_event.id, "MESSAGE": message["id"], "AUTHOR": user.id}
    data = {key: values.get(value, value) if isinstance(value, str) else value
            for key, value in payload.items()}  # fmt: skip
    assert code(ask(chatter(moderator), event, data)) == expected
    assert audited() == []


def test_two_messages_sent_at_the_same_moment_cannot_both_pass_slow_mode(app, live_event, member):
    """Two tabs (or the plain form and a tab) sending at once: the first is held just before its
    commit while the second is checked, and only one of them is stored."""
    live_event.slow_mode_seconds = 30
    db.session.commit()
    author_id, event_id = member().id, live_event.id
    answers: dict[str, str] = {}

    def send(client_id):
        with app.app_context():
            user, event = db.session.get(User, author_id), db.session.get(Event, event_id)
            try:
                chat.post_message(user, event, f"From {client_id}", client_id)
                answers[client_id] = "ok"
            except chat.ChatError as error:
                answers[client_id] = error.code

    first = threading.Thread(target=send, args=("tab-1",))
    second = threading.Thread(target=send, args=("tab-2",))
    with held_before_commit("tab-1", first, second) as held:
        first.start()
        assert held.wait(10)
        second.start()
        second.join(0.5)  # checked meanwhile, and waiting for the first, or refused
    assert answers == {"tab-1": "ok", "tab-2": "slow_mode"}
    assert db.session.scalar(sqlalchemy.select(sqlalchemy.func.count(ChatMessage.id))) == 1
