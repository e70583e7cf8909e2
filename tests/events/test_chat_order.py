"""The live chat's order and catching up over Socket.IO (namespace /live): each message names the
message before it in its own event's chat (``previous_id``, which the upgrade fills in for older
messages), and a reader rejoining with ``after_id`` gets exactly the messages it missed, in order,
even one committed late, and learns which were removed while it was away; a reader still in the
room fills a gap with ``catch_up``. However old the id, no answer brings more than the latest 200
messages, and says when earlier ones were left out."""

import threading

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.events import chat
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db
from tests.events.chat_helpers import ask, code, held_before_commit, received, stored_messages


def test_rejoining_with_after_id_returns_exactly_the_missed_messages_in_order(
    live_event, member, chatter
):
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    ask(alice, "join", {"event_id": live_event.id})
    first = ask(alice, "send", {"event_id": live_event.id, "body": "one", "client_id": "1"})
    seen = first["message"]["id"]
    missed = [
        ask(alice, "send", {"event_id": live_event.id, "body": text, "client_id": text})["message"][
            "id"
        ]
        for text in ("two", "three", "four")
    ]
    ack = ask(bob, "join", {"event_id": live_event.id, "after_id": seen})
    assert [m["id"] for m in ack["messages"]] == missed
    fresh = ask(bob, "join", {"event_id": live_event.id})
    assert [m["id"] for m in fresh["messages"]] == [seen, *missed]


def test_each_message_names_the_message_before_it_in_its_own_events_chat(
    live_event, sig, member, chatter
):
    """``previous_id`` lets a reader tell whether it has every message before one it is given:
    in the acknowledgement, the broadcast and the history alike, per event."""
    other = Event(space=sig, title="Other", starts_at=live_event.starts_at,
                  ends_at=live_event.ends_at, venue="Preston")  # fmt: skip
    db.session.add(other)
    db.session.commit()
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    for socket in (alice, bob):
        for event in (live_event, other):
            assert ask(socket, "join", {"event_id": event.id})["ok"]

    def send(event, text):
        return ask(alice, "send", {"event_id": event.id, "body": text, "client_id": text})[
            "message"
        ]

    first, elsewhere, second = (
        send(live_event, "one"),
        send(other, "two"),
        send(live_event, "three"),
    )
    assert (first["previous_id"], elsewhere["previous_id"]) == (None, None)
    assert second["previous_id"] == first["id"]
    assert [(m["id"], m["previous_id"]) for m in received(bob)] == [
        (first["id"], None), (elsewhere["id"], None), (second["id"], first["id"])
    ]  # fmt: skip
    history = ask(bob, "join", {"event_id": live_event.id})["messages"]
    assert [m["previous_id"] for m in history] == [None, first["id"]]


def test_the_upgrade_links_the_messages_stored_before_it(live_event, sig, member):
    """The migration that added ``previous_id`` fills it in for the messages already stored."""
    alice = member("Alice Able")
    other = Event(space=sig, title="Other", starts_at=live_event.starts_at,
                  ends_at=live_event.ends_at, venue="Preston")  # fmt: skip
    db.session.add(other)
    db.session.commit()
    stored = [
        chat.post_message(alice, event, text, text)[0].id
        for event, text in ((live_event, "a"), (other, "b"), (live_event, "c"), (live_event, "d"))
    ]
    db.session.remove()
    downgrade(revision="f6a1c3e5b702")
    upgrade()
    linked = db.session.execute(select(ChatMessage.id, ChatMessage.previous_id).order_by("id"))
    assert list(linked) == [
        (stored[0], None), (stored[1], None), (stored[2], stored[0]), (stored[3], stored[2])
    ]  # fmt: skip


def test_a_reader_catching_up_never_misses_a_message_committed_late(
    app, live_event, member, chatter
):
    """Alice's message is given an id and held back before its commit (a slow server) while
    Bob sends another: a reader who catches up after the newest message they have seen still
    gets Alice's, because the event's messages are committed in id order."""
    alice, bob = member("Alice Able"), member("Bob Baker")
    reader = chatter(member("Reader"))
    event_id = live_event.id

    def send(user_id, body, client_id):
        with app.app_context():
            user, event = db.session.get(User, user_id), db.session.get(Event, event_id)
            chat.post_message(user, event, body, client_id)

    seen = []

    def catch_up():
        after = {"after_id": max(seen)} if seen else {}
        ack = ask(reader, "join", {"event_id": event_id, **after})
        seen.extend(m["id"] for m in ack["messages"])

    alices = threading.Thread(target=send, args=(alice.id, "Slow to arrive", "alice-1"))
    bobs = threading.Thread(target=send, args=(bob.id, "Quick", "bob-1"))
    with held_before_commit("alice-1", alices, bobs) as held:
        alices.start()
        assert held.wait(10)
        bobs.start()
        bobs.join(0.5)  # Bob's message is stored meanwhile, or waits for Alice's
        catch_up()
    catch_up()
    stored = list(db.session.scalars(select(ChatMessage.id).order_by(ChatMessage.id)))
    assert len(stored) == 2 and sorted(seen) == stored


def test_a_rejoin_lists_the_messages_removed_while_the_reader_was_offline(
    live_event, sig, member, moderator, chatter
):
    reader = member("Bob Baker")
    alice, bob, mod = chatter(member("Alice Able")), chatter(reader), chatter(moderator)
    for socket in (alice, bob, mod):
        ask(socket, "join", {"event_id": live_event.id})
    first, second, third = (
        ask(alice, "send", {"event_id": live_event.id, "body": text, "client_id": text})["message"]
        for text in ("one", "off topic", "oops")
    )
    seen = [m["id"] for m in received(bob)]
    assert seen == [first["id"], second["id"], third["id"]]
    # Bob's connection drops; meanwhile a moderator removes one and its author another.
    bob.disconnect(namespace="/live")
    assert ask(mod, "delete", {"message_id": second["id"]})["ok"]
    assert ask(alice, "delete", {"message_id": third["id"]})["ok"]
    bob = chatter(reader)  # the same browser, reconnecting
    back = ask(bob, "join", {"event_id": live_event.id, "after_id": seen[-1]})
    assert back["messages"] == [] and back["deleted_ids"] == [second["id"], third["id"]]
    # Messages after after_id say so themselves; removals in other events are not listed.
    other = Event(space=sig, title="Other", starts_at=live_event.starts_at,
                  ends_at=live_event.ends_at, venue="Preston")  # fmt: skip
    db.session.add(other)
    db.session.commit()
    elsewhere = ask(alice, "send", {"event_id": other.id, "body": "x", "client_id": "x"})
    assert ask(alice, "delete", {"message_id": elsewhere["message"]["id"]})["ok"]
    earlier = ask(bob, "join", {"event_id": live_event.id, "after_id": first["id"]})
    assert [(m["id"], m["deleted"]) for m in earlier["messages"]] == [
        (second["id"], True),
        (third["id"], True),
    ]
    assert earlier["deleted_ids"] == []
    everything = ask(bob, "join", {"event_id": live_event.id, "after_id": 2**31 - 1})
    assert everything["deleted_ids"] == [second["id"], third["id"]]
    # A first join (no after_id) has every removed message in its place already.
    assert ask(bob, "join", {"event_id": live_event.id})["deleted_ids"] == []


def test_catch_up_returns_what_was_missed_without_joining_again(live_event, member, chatter):
    """A reader in the room that lacks a message asks for those after the last one it has every
    message before: it gets them and the removals, and nobody else hears a thing."""
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    for socket in (alice, bob):
        ask(socket, "join", {"event_id": live_event.id})
    sent = [
        ask(alice, "send", {"event_id": live_event.id, "body": text, "client_id": text})["message"]
        for text in ("one", "two", "three")
    ]
    assert ask(alice, "delete", {"message_id": sent[0]["id"]})["ok"]
    alice.get_received("/live")
    ack = ask(bob, "catch_up", {"event_id": live_event.id, "after_id": sent[0]["id"]})
    assert [m["body_html"] for m in ack["messages"]] == ["<p>two</p>\n", "<p>three</p>\n"]
    assert ack["deleted_ids"] == [sent[0]["id"]]
    assert alice.get_received("/live") == []  # no presence list, unlike a join
    for bad in ({"event_id": live_event.id}, {"event_id": live_event.id, "after_id": "1"}):
        assert code(ask(bob, "catch_up", bad)) == "bad_request"
    limited = [
        code(ask(bob, "catch_up", {"event_id": live_event.id, "after_id": 0})) for _ in range(20)
    ]
    assert limited[:19] == ["ok"] * 19 and limited[19] == "rate_limited"


def test_catching_up_after_a_very_old_id_brings_only_the_latest_messages_and_says_so(
    live_event, member, chatter
):
    """A join after ``after_id`` 0 (or any id far back) is bounded as ``catch_up`` is: the latest
    200 messages after it, in order, with ``earlier_left_out`` (the transcript has the rest),
    never the whole chat; a newcomer's join, the latest 50."""
    ids = stored_messages(live_event, member("Alice Able"), range(205))
    bob = chatter(member("Bob Baker"))

    def given(name, **data):
        ack = ask(bob, name, {"event_id": live_event.id, **data})
        return [m["id"] for m in ack["messages"]], ack["earlier_left_out"]

    assert given("join", after_id=0) == (ids[-200:], True)
    assert given("catch_up", after_id=0) == (ids[-200:], True)
    assert given("join", after_id=ids[3]) == (ids[-200:], True)
    assert given("join", after_id=ids[4]) == (ids[-200:], False)
    assert given("catch_up", after_id=ids[-3]) == (ids[-2:], False)
    assert given("join") == (ids[-50:], True)
