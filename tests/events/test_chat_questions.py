"""The live Q&A over Socket.IO: asking exactly once, one retractable vote per member, sorting by
votes, moderators marking questions answered or dismissed, and refusing bad input."""

import pytest
from sqlalchemy import func, select

from peerlearn.events import questions
from peerlearn.events.models import Question, QuestionVote
from peerlearn.extensions import db
from tests.events.chat_helpers import ask, audited, code, received


def _asked(socket, event, body, client_id):
    ack = ask(socket, "ask", {"event_id": event.id, "body": body, "client_id": client_id})
    assert ack["ok"], ack
    return ack["question"]


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_question_is_stored_acknowledged_and_shown_to_the_room_once(live_event, member, chatter):
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    for socket in (alice, bob):
        ask(socket, "join", {"event_id": live_event.id})
    received(bob, "question")
    question = _asked(alice, live_event, "How did you **measure** it?", "q-1")
    assert question["body_html"] == "<p>How did you <strong>measure</strong> it?</p>\n"
    assert question["author"]["name"] == "Alice Able"
    assert (question["votes"], question["status"]) == (0, "open")
    assert received(bob, "question") == [question]
    # A resend with the same client_id returns the stored question and tells nobody again.
    assert _asked(alice, live_event, "How did you **measure** it?", "q-1")["id"] == question["id"]
    assert received(bob, "question") == [] and _count(Question) == 1
    # A newcomer gets every question on joining.
    carol = chatter(member("Carol Cole"))
    assert ask(carol, "join", {"event_id": live_event.id})["questions"] == [question]


def test_each_member_votes_once_and_can_retract(live_event, member, chatter):
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    for socket in (alice, bob):
        ask(socket, "join", {"event_id": live_event.id})
    question = _asked(alice, live_event, "What about primary care?", "q")
    received(alice, "question")
    vote = {"question_id": question["id"], "up": True}
    first = ask(bob, "vote", vote)
    assert first["ok"] and first["voted"] is True and first["question"]["votes"] == 1
    assert [q["votes"] for q in received(alice, "question")] == [1]
    # Voting again changes nothing.
    again = ask(bob, "vote", vote)
    assert again["question"]["votes"] == 1 and again["voted"] is True
    assert ask(alice, "vote", vote)["question"]["votes"] == 2
    assert ask(bob, "join", {"event_id": live_event.id})["voted"] == [question["id"]]
    retracted = ask(bob, "vote", {"question_id": question["id"], "up": False})
    assert retracted["voted"] is False and retracted["question"]["votes"] == 1
    # Retracting a vote never given changes nothing either.
    assert ask(bob, "vote", {"question_id": question["id"], "up": False})["question"]["votes"] == 1
    assert ask(bob, "join", {"event_id": live_event.id})["voted"] == []
    assert _count(QuestionVote) == 1


def test_voting_is_rate_limited_per_member(live_event, member, chatter):
    """Every vote is told to the whole room: toggling one on and off is stopped after 20 votes a
    minute, and the room hears only the votes that counted."""
    voter, reader = chatter(member("Vic Voter")), chatter(member("Rachel Reader"))
    ask(reader, "join", {"event_id": live_event.id})
    question = _asked(chatter(member()), live_event, "Which measures?", "q")
    received(reader, "question")
    votes = [
        ask(voter, "vote", {"question_id": question["id"], "up": n % 2 == 0}) for n in range(21)
    ]
    assert [code(ack) for ack in votes] == ["ok"] * 20 + ["rate_limited"]
    assert votes[-1]["error"]["message"] == "You are sending too quickly: wait a moment"
    assert len(received(reader, "question")) == 20
    # The refused 21st vote was not counted: 20 toggles end with the vote taken back.
    assert db.session.get(Question, question["id"]).vote_count == 0


def test_questions_sort_by_votes_or_by_time(live_event, member, chatter):
    people = [member(name) for name in ("Alice Able", "Bob Baker", "Carol Cole")]
    sockets = [chatter(person) for person in people]
    first = _asked(sockets[0], live_event, "First", "1")
    second = _asked(sockets[1], live_event, "Second", "2")
    third = _asked(sockets[2], live_event, "Third", "3")
    for socket in sockets[1:]:
        ask(socket, "vote", {"question_id": third["id"], "up": True})
    ask(sockets[0], "vote", {"question_id": second["id"], "up": True})
    joined = ask(sockets[0], "join", {"event_id": live_event.id})["questions"]
    assert [q["id"] for q in joined] == [third["id"], second["id"], first["id"]]
    by_time = questions.for_event(live_event, people[0], order="time")
    assert [q.id for q in by_time] == [first["id"], second["id"], third["id"]]


def test_moderators_mark_questions_answered_or_dismissed_and_everyone_sees_it(
    live_event, member, moderator, chatter
):
    alice, mod = chatter(member("Alice Able")), chatter(moderator)
    for socket in (alice, mod):
        ask(socket, "join", {"event_id": live_event.id})
    question = _asked(alice, live_event, "Is there a toolkit?", "q")
    received(alice, "question")
    refused = ask(alice, "answer", {"question_id": question["id"], "status": "answered"})
    assert code(refused) == "forbidden"
    for status in ("answered", "dismissed", "open"):
        ack = ask(mod, "answer", {"question_id": question["id"], "status": status})
        assert ack["ok"] and ack["question"]["status"] == status
    assert [q["status"] for q in received(alice, "question")] == ["answered", "dismissed", "open"]
    assert audited() == [
        "chat.question_answered",
        "chat.question_dismissed",
        "chat.question_reopened",
    ]


def test_asking_and_voting_need_an_open_chat_and_an_unmuted_member(
    live_event, member, moderator, chatter
):
    user = member("Alice Able")
    alice, mod = chatter(user), chatter(moderator)
    question = _asked(alice, live_event, "Before the mute", "q")
    assert ask(mod, "mute", {"event_id": live_event.id, "user_id": user.id, "muted": True})["ok"]
    refused = ask(alice, "ask", {"event_id": live_event.id, "body": "Again?", "client_id": "q2"})
    assert code(refused) == "muted"
    assert code(ask(alice, "vote", {"question_id": question["id"], "up": True})) == "muted"
    ask(mod, "mute", {"event_id": live_event.id, "user_id": user.id, "muted": False})
    ask(mod, "close", {"event_id": live_event.id})
    closed = ask(alice, "ask", {"event_id": live_event.id, "body": "Late", "client_id": "q3"})
    assert code(closed) == "chat_closed"
    assert code(ask(alice, "vote", {"question_id": question["id"], "up": True})) == "chat_closed"
    # Moderators can still mark questions afterwards, for the record.
    assert ask(mod, "answer", {"question_id": question["id"], "status": "answered"})["ok"]
    assert _count(Question) == 1


def test_outsiders_can_read_the_questions_but_not_ask_or_vote(
    live_event, member, make_user, chatter
):
    question = _asked(chatter(member()), live_event, "Members only?", "q")
    outsider = chatter(make_user("Outside Olly"))
    assert (
        ask(outsider, "join", {"event_id": live_event.id})["questions"][0]["id"] == question["id"]
    )
    asked = ask(outsider, "ask", {"event_id": live_event.id, "body": "Me too", "client_id": "o"})
    assert code(asked) == "forbidden"
    assert code(ask(outsider, "vote", {"question_id": question["id"], "up": True})) == "forbidden"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"event_id": "EVENT", "body": "x" * 501, "client_id": "a"}, "too_long"),
        ({"event_id": "EVENT", "body": "  ", "client_id": "a"}, "bad_request"),
        ({"event_id": "EVENT", "body": ["x"], "client_id": "a"}, "bad_request"),
        ({"event_id": "EVENT", "body": "x", "client_id": 7}, "bad_request"),
        ({"event_id": "EVENT", "body": "x"}, "bad_request"),
        ({"event_id": True, "body": "x", "client_id": "a"}, "bad_request"),
        ({"event_id": 2**40, "body": "x", "client_id": "a"}, "bad_request"),
        ({"event_id": 999_999, "body": "x", "client_id": "a"}, "not_found"),
        ("a string", "bad_request"),
    ],
)
def test_malformed_questions_get_an_error_and_store_nothing(
    live_event, member, chatter, payload, expected
):
    socket = chatter(member())
    if isinstance(payload, dict) and payload.get("event_id") == "EVENT":
        payload = {**payload, "event_id": live_event.id}
    assert code(ask(socket, "ask", payload)) == expected
    assert _count(Question) == 0
    assert ask(socket, "join", {"event_id": live_event.id})["ok"]


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("vote", {"question_id": "QUESTION", "up": 1}, "bad_request"),
        ("vote", {"question_id": "QUESTION", "up": "yes"}, "bad_request"),
        ("vote", {"question_id": "QUESTION"}, "bad_request"),
        ("vote", {"question_id": 999_999, "up": True}, "not_found"),
        ("vote", {"question_id": 1.5, "up": True}, "bad_request"),
        ("answer", {"question_id": "QUESTION", "status": "closed"}, "bad_request"),
        ("answer", {"question_id": "QUESTION", "status": None}, "bad_request"),
        ("answer", {"question_id": 999_999, "status": "answered"}, "not_found"),
    ],
)
def test_malformed_votes_and_answers_get_an_error_and_change_nothing(
    live_event, member, moderator, chatter, event, payload, expected
):
    question = _asked(chatter(member()), live_event, "Anything?", "q")
    if payload.get("question_id") == "QUESTION":
        payload = {**payload, "question_id": question["id"]}
    assert code(ask(chatter(moderator), event, payload)) == expected
    stored = db.session.get(Question, question["id"])
    db.session.refresh(stored)
    assert (stored.vote_count, stored.status.value) == (0, "open")
