"""Taking questions out of the live Q&A over Socket.IO: an asker withdraws their own question, a
moderator removes anyone's, and it goes from every screen; a dismissed question reaches only the
moderators' and its asker's screens; removed and dismissed questions take no votes; and every
request about a question is checked role by role, with a clear error for a bad id, someone
else's question or a member who is not a moderator. The policy's own table is in
test_question_permissions.py."""

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from peerlearn.audit.models import AuditEntry
from peerlearn.core.text import render_markdown
from peerlearn.events import questions
from peerlearn.events.models import Question, QuestionStatus
from peerlearn.extensions import db
from peerlearn.spaces.models import JoinPolicy, Visibility
from tests.events.chat_helpers import ask, audited, code, event_on_now, received
from tests.roles import ACTIVE, ROLES

PATIENT = "Should we escalate Jane Doe, NHS number 943 476 5919, to the panel?"


def _asked(socket, event, body, client_id="q"):
    ack = ask(socket, "ask", {"event_id": event.id, "body": body, "client_id": client_id})
    assert ack["ok"], ack
    return ack["question"]


def _joined(event, *sockets):
    for socket in sockets:
        assert ask(socket, "join", {"event_id": event.id})["ok"]
    for socket in sockets:
        socket.get_received("/live")


def _alice_bob_and_moderator(member, moderator, chatter):
    return chatter(member("Alice Able")), chatter(member("Bob Baker")), chatter(moderator)


def _listed(socket, event):
    return [q["id"] for q in ask(socket, "join", {"event_id": event.id})["questions"]]


def test_an_asker_withdraws_their_question_and_it_goes_from_every_screen(
    live_event, member, moderator, chatter
):
    asker = member("Alice Able")
    alice, bob, mod = chatter(asker), chatter(member("Bob Baker")), chatter(moderator)
    _joined(live_event, alice, bob, mod)
    question = _asked(alice, live_event, PATIENT)
    for socket in (alice, bob, mod):
        socket.get_received("/live")

    ack = ask(alice, "remove_question", {"question_id": question["id"]})
    assert ack == {"ok": True, "id": question["id"]}
    gone = {"id": question["id"], "event_id": live_event.id}
    for socket in (alice, bob, mod):
        assert received(socket, "question_removed") == [gone]
    # Nobody is given it again, moderators included, and nothing shows its text.
    for socket in (alice, bob, mod):
        assert _listed(socket, live_event) == []
    # Kept, for the audit trail: who removed it and when, never its text in the log.
    stored = db.session.get(Question, question["id"])
    db.session.refresh(stored)
    assert stored.removed_by_id == asker.id and stored.removed_at is not None
    assert stored.body_source == PATIENT
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.startswith("chat."))
    ).one()
    assert (entry.action, entry.actor_id, entry.subject_id) == (
        "chat.question_withdrawn",
        asker.id,
        asker.id,
    )
    assert entry.detail == {"event_id": live_event.id, "question_id": question["id"]}
    # Withdrawing it again finds nothing to withdraw.
    assert code(ask(alice, "remove_question", {"question_id": question["id"]})) == "not_found"


def test_a_moderator_removes_anyones_question_and_a_member_cannot(
    live_event, member, moderator, chatter
):
    alice, bob, mod = _alice_bob_and_moderator(member, moderator, chatter)
    _joined(live_event, alice, bob, mod)
    question = _asked(alice, live_event, PATIENT)
    refused = ask(bob, "remove_question", {"question_id": question["id"]})
    assert refused["error"] == {
        "code": "forbidden",
        "message": "You can only withdraw your own questions",
    }
    assert _listed(bob, live_event) == [question["id"]]
    bob.get_received("/live")
    assert ask(mod, "remove_question", {"question_id": question["id"]})["ok"]
    assert received(bob, "question_removed") == [{"id": question["id"], "event_id": live_event.id}]
    assert audited() == ["chat.question_removed"]


def test_a_question_can_be_withdrawn_after_the_chat_has_closed_and_while_muted(
    live_event, member, moderator, chatter
):
    asker = member("Alice Able")
    alice, mod = chatter(asker), chatter(moderator)
    first = _asked(alice, live_event, PATIENT, "1")
    second = _asked(alice, live_event, "And another?", "2")
    ask(mod, "mute", {"event_id": live_event.id, "user_id": asker.id, "muted": True})
    assert ask(alice, "remove_question", {"question_id": first["id"]})["ok"]
    ask(mod, "close", {"event_id": live_event.id})
    assert ask(alice, "remove_question", {"question_id": second["id"]})["ok"]
    assert _listed(mod, live_event) == []


def test_a_dismissed_question_reaches_only_the_moderators_and_its_asker(
    live_event, member, moderator, chatter
):
    alice, bob, mod = _alice_bob_and_moderator(member, moderator, chatter)
    _joined(live_event, alice, bob, mod)
    question = _asked(alice, live_event, PATIENT)
    for socket in (alice, bob, mod):
        socket.get_received("/live")

    dismissed = ask(mod, "answer", {"question_id": question["id"], "status": "dismissed"})
    assert dismissed["ok"] and dismissed["question"]["status"] == "dismissed"
    bobs = bob.get_received("/live")
    assert [(e["name"], e["args"][0]) for e in bobs] == [
        ("question_removed", {"id": question["id"], "event_id": live_event.id})
    ]
    assert PATIENT not in repr(bobs)
    for socket in (alice, mod):
        assert received(socket, "question") == [dismissed["question"]]
        assert _listed(socket, live_event) == [question["id"]]
    assert _listed(bob, live_event) == []
    # A vote for it is refused to those who see it, and it is not found by the others.
    vote = {"question_id": question["id"], "up": True}
    assert ask(alice, "vote", vote)["error"] == {
        "code": "forbidden",
        "message": "A dismissed question cannot be voted for",
    }
    assert code(ask(bob, "vote", vote)) == "not_found"
    assert code(ask(bob, "remove_question", {"question_id": question["id"]})) == "not_found"
    # Reopened, it comes back to every screen.
    bob.get_received("/live")
    assert ask(mod, "answer", {"question_id": question["id"], "status": "open"})["ok"]
    assert [q["id"] for q in received(bob, "question")] == [question["id"]]
    # Its asker may still withdraw it while it is dismissed.
    ask(mod, "answer", {"question_id": question["id"], "status": "dismissed"})
    assert ask(alice, "remove_question", {"question_id": question["id"]})["ok"]
    assert _listed(mod, live_event) == []


def test_a_removed_question_takes_no_votes_and_no_marks(live_event, member, moderator, chatter):
    alice, bob, mod = _alice_bob_and_moderator(member, moderator, chatter)
    question = _asked(alice, live_event, PATIENT)
    assert ask(bob, "vote", {"question_id": question["id"], "up": True})["ok"]
    assert ask(alice, "remove_question", {"question_id": question["id"]})["ok"]
    for socket, event, payload in [
        (bob, "vote", {"question_id": question["id"], "up": False}),
        (mod, "vote", {"question_id": question["id"], "up": True}),
        (mod, "answer", {"question_id": question["id"], "status": "answered"}),
        (mod, "remove_question", {"question_id": question["id"]}),
    ]:
        assert ask(socket, event, payload)["error"] == {
            "code": "not_found",
            "message": "No such question",
        }
    stored = db.session.get(Question, question["id"])
    db.session.refresh(stored)
    assert (stored.vote_count, stored.status) == (1, QuestionStatus.open)


def test_a_vote_arriving_as_its_question_is_dismissed_is_not_counted(live_event, member):
    asker, voter = member("Alice Able"), member("Bob Baker")
    question, _ = questions.ask(asker, live_event, "Which measures?", "q")
    # Dismissed by another process after the vote read the question as open.
    db.session.execute(
        update(Question)
        .where(Question.id == question.id)
        .values(status=QuestionStatus.dismissed)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    set_committed_value(question, "status", QuestionStatus.open)  # as the vote read it
    with pytest.raises(questions.ChatError) as refused:
        questions.vote(voter, question, True)
    assert refused.value.code == "not_found"  # a dismissed question is not the voter's to see
    db.session.refresh(question)
    assert (question.vote_count, question.status) == (0, QuestionStatus.dismissed)
    assert questions.voted_ids(live_event, voter) == []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, "bad_request"),
        ({"question_id": "1"}, "bad_request"),
        ({"question_id": True}, "bad_request"),
        ({"question_id": -1}, "bad_request"),
        ({"question_id": 1.5}, "bad_request"),
        ({"question_id": 2**40}, "bad_request"),
        ({"question_id": 999_999}, "not_found"),
        ("a string", "bad_request"),
    ],
)
def test_malformed_removals_get_an_error_and_remove_nothing(
    live_event, member, moderator, chatter, payload, expected
):
    _asked(chatter(member()), live_event, "Anything?")
    assert code(ask(chatter(moderator), "remove_question", payload)) == expected
    assert db.session.scalars(select(Question.removed_at)).one() is None


#: visibility -> whose question -> the roles whose removal is carried out. "own" was asked by the
#: actor before their present standing (people leave, get banned or ask to rejoin).
REMOVERS = {
    "network": {"another's": {"moderator", "owner", "admin"}, "own": ACTIVE | {"admin"}},
    "private": {"another's": {"moderator", "owner", "admin"}, "own": ACTIVE | {"admin"}},
}


@pytest.mark.parametrize("visibility", list(REMOVERS))
@pytest.mark.parametrize("whose", ["another's", "own"])
@pytest.mark.parametrize("role", ROLES[1:])  # anonymous sockets cannot even connect
def test_removal_table(visibility, whose, role, make_space, person_in, member, add_member, chatter):
    space = make_space(visibility=Visibility(visibility), join_policy=JoinPolicy.open)
    live = event_on_now(space)
    actor = person_in(role, space)
    author = actor
    if whose == "another's":
        author = member()
        add_member(space, author)
    question = Question(event_id=live.id, author_id=author.id, client_id="q",
                        body_source=PATIENT, body_html=render_markdown(PATIENT))  # fmt: skip
    db.session.add(question)
    db.session.commit()
    ack = ask(chatter(actor), "remove_question", {"question_id": question.id})
    db.session.refresh(question)
    if role in REMOVERS[visibility][whose]:
        assert code(ack) == "ok" and question.removed_by_id == actor.id
    else:
        # Those who may not see the event are told it does not exist; the others are refused.
        assert code(ack) in {"forbidden", "not_found"} and question.removed_at is None
