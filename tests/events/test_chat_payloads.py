"""What the chat answers to a payload, or an event, it does not know: a clear ``bad_request``
acknowledgement, never silence, and nothing done. A misspelt optional key would otherwise be
ignored without a word: ``afterId`` on a rejoin gives the latest 50 messages instead of the ones
missed, ``Note`` on a report loses the note."""

import pytest

from peerlearn.events import chat, questions
from peerlearn.events.presence import people
from tests.events.chat_helpers import ask, audited, code

#: Every client event, well formed ("EVENT", "MESSAGE", "QUESTION" and "MEMBER" stand for the
#: test's own ids), as docs/live-chat.md lists them.
WELL_FORMED = {
    "join": {"event_id": "EVENT", "after_id": 0, "shown_hidden_ids": []},
    "catch_up": {"event_id": "EVENT", "after_id": 0},
    "send": {"event_id": "EVENT", "body": "Hello", "client_id": "c"},
    "delete": {"message_id": "MESSAGE"},
    "report_message": {"message_id": "MESSAGE", "reason": "spam", "note": "Selling things"},
    "leave": {"event_id": "EVENT"},
    "ask": {"event_id": "EVENT", "body": "Why?", "client_id": "c"},
    "vote": {"question_id": "QUESTION", "up": True},
    "answer": {"question_id": "QUESTION", "status": "answered"},
    "remove_question": {"question_id": "QUESTION"},
    "pin": {"message_id": "MESSAGE", "pinned": True},
    "mute": {"event_id": "EVENT", "user_id": "MEMBER", "muted": True},
    "slow_mode": {"event_id": "EVENT", "seconds": 10},
    "close": {"event_id": "EVENT"},
    "reopen": {"event_id": "EVENT"},
}


@pytest.fixture
def ids(live_event, member):
    author = member()
    message, _ = chat.post_message(author, live_event, "Hello", "m")
    question, _ = questions.ask(author, live_event, "Why?", "q")
    return {"EVENT": live_event.id, "MESSAGE": message.id, "QUESTION": question.id,
            "MEMBER": author.id}  # fmt: skip


@pytest.mark.parametrize("event", WELL_FORMED)
def test_a_key_the_event_does_not_take_is_refused_naming_it(
    ids, live_event, member, moderator, chatter, event
):
    socket = chatter(moderator)
    data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in WELL_FORMED[event].items()}
    ack = ask(socket, event, {**data, "afterId": 3})
    assert code(ack) == "bad_request", ack
    assert "afterId" in ack["error"]["message"]
    assert audited() == []  # nothing was done
    assert code(ask(socket, event, data)) != "bad_request"  # the key was all that was wrong


def test_a_misspelt_after_id_does_not_join_with_the_latest_messages(live_event, member, chatter):
    socket = chatter(member())
    ack = ask(socket, "join", {"event_id": live_event.id, "afterID": 0})
    assert code(ack) == "bad_request"
    assert people(live_event.id) == []  # not joined


def test_an_event_the_chat_does_not_know_is_answered(live_event, member, chatter):
    socket = chatter(member())
    ack = ask(socket, "sned", {"event_id": live_event.id, "body": "Hi", "client_id": "c"})
    assert code(ack) == "bad_request", ack
    assert "sned" in ack["error"]["message"]
    # The connection still works afterwards.
    assert ask(socket, "join", {"event_id": live_event.id})["ok"]
