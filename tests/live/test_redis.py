"""Several server processes share Redis as the message queue: a message sent to one reaches the
members connected to another, and stays in its own event's room; someone who may no longer read a
chat is dropped from it on whichever process they are."""

import time

import pytest
import redis

from bench.chat_server import browser_session, csrf_token

from .clients import TIMEOUT
from .conftest import REDIS_URL

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="PEERLEARN_TEST_REDIS_URL is unset: no Redis to share between servers"
)


def test_a_message_sent_to_one_process_reaches_members_on_another(chat, serve, connect):
    first, second = serve("gevent", REDIS_URL), serve("gevent", REDIS_URL)
    alice, dave = connect(first, chat.members[1]), connect(first, chat.members[3])
    bob, carol = connect(second, chat.members[0]), connect(second, chat.members[2])
    for client in (alice, bob):
        client.join(chat.event_id)
    for client in (carol, dave):
        client.join(chat.other_event_id)
    listening(chat.channel, processes=2)

    across = alice.send(chat.event_id, "Hello from process one", "redis-across")
    assert [m["id"] for m in bob.wait_for(1)] == [across["id"]]
    assert "Hello from process one" in bob.received[0]["body_html"]

    elsewhere = dave.send(chat.other_event_id, "Another event's chat", "redis-elsewhere")
    back = bob.send(chat.event_id, "And back from process two", "redis-back")
    assert [m["id"] for m in alice.wait_for(2)] == [across["id"], back["id"]]
    assert [m["id"] for m in carol.wait_for(1)] == [elsewhere["id"]]
    # Each room heard only its own event (later messages mark the end of what could arrive).
    end = dave.send(chat.other_event_id, "The end", "redis-end")
    assert [m["id"] for m in carol.wait_for(2)] == [elsewhere["id"], end["id"]]
    assert [m["id"] for m in bob.received] == [across["id"], back["id"]]


def test_a_space_made_private_through_one_process_drops_outsiders_on_another(chat, serve, connect):
    first, second = serve("gevent", REDIS_URL), serve("gevent", REDIS_URL)
    outsider, member = connect(second, chat.outsider), connect(second, chat.members[1])
    for client in (outsider, member):
        client.join(chat.event_id)
    listening(chat.channel, processes=1)

    # The space's owner makes it private through the settings page served by the first process.
    with browser_session(first.url, chat.members[0]) as owner:
        settings = f"{first.url}/spaces/live-chat/settings"
        form = {"csrf_token": csrf_token(owner, settings), "name": "Live Chat Group",
                "summary": "A group whose event chat is open now.", "description": "Chat.",
                "visibility": "private", "join_policy": "open"}  # fmt: skip
        assert owner.post(settings, data=form, allow_redirects=False).status_code == 302

    assert outsider.wait_until_removed() == [{"event_id": chat.event_id}]
    # What members say from now on reaches members only.
    said = member.send(chat.event_id, "Members only from now on", "redis-private")
    assert [m["id"] for m in member.wait_for(1)] == [said["id"]]
    refused = outsider.call("join", {"event_id": chat.event_id})
    assert refused["error"]["code"] == "not_found"
    # The answer came after anything sent to the outsider before it: the message never was.
    assert outsider.received == [] and member.removed == []


def test_a_dismissed_question_reaches_only_the_moderator_and_its_asker_on_every_process(
    chat, serve, connect
):
    """The room is told in two parts (the whole question to the connections presence names,
    ``question_removed`` to the rest), and both parts cross the queue to the other process."""
    first, second = serve("gevent", REDIS_URL), serve("gevent", REDIS_URL)
    owner, reader = connect(first, chat.members[0]), connect(first, chat.members[3])
    asker, other = connect(second, chat.members[1]), connect(second, chat.members[2])
    everyone = (owner, reader, asker, other)
    for client in everyone:
        client.join(chat.event_id)
    listening(chat.channel, processes=2)

    ask = {
        "event_id": chat.event_id,
        "body": "Jane Doe, NHS number 943 476 5919?",
        "client_id": "d",
    }
    question = asker.call("ask", ask)["question"]
    for client in everyone:
        assert client.wait_for_questions(1) == [("question", question)]
    dismissed = owner.call("answer", {"question_id": question["id"], "status": "dismissed"})
    for client in (owner, asker):
        assert client.wait_for_questions(2)[1] == ("question", dismissed["question"])
    gone = {"id": question["id"], "event_id": chat.event_id}
    for client in (reader, other):
        assert client.wait_for_questions(2)[1] == ("question_removed", gone)
    # Withdrawn, it leaves every screen; nobody was told anything twice.
    assert asker.call("remove_question", {"question_id": question["id"]})["ok"]
    for client in everyone:
        assert client.wait_for_questions(3)[2] == ("question_removed", gone)
    end = asker.send(chat.event_id, "The end", "redis-dismissed-end")
    for client in everyone:
        client.wait_for(1)
        assert len(client.questions) == 3 and client.received[-1]["id"] == end["id"]


def listening(channel: str, processes: int) -> None:
    """Wait until every server listens on the queue (each subscribes on its first connection;
    Redis keeps nothing for a listener not yet there). Redis offers no event to wait on."""
    deadline = time.monotonic() + TIMEOUT
    with redis.Redis.from_url(REDIS_URL) as queue:
        while queue.pubsub_numsub(channel)[0][1] < processes:
            assert time.monotonic() < deadline, f"{processes} servers never listened on Redis"
            time.sleep(0.05)
