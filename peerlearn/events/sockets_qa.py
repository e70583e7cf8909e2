"""The live event Q&A on the ``/live`` namespace: ask, vote, withdraw or remove, and (moderators)
answer or dismiss; and telling the room about a question so that each screen shows only what its
reader may see (:func:`announce`). Helpers and the acknowledgement rules are those of
``sockets.py``."""

from typing import Any

from flask_login import current_user

from peerlearn.events import questions
from peerlearn.events.models import Question, QuestionStatus
from peerlearn.events.sockets import (
    NAMESPACE,
    Refused,
    acknowledged,
    allowed,
    boolean,
    broadcast,
    broadcast_by_reader,
    client_id,
    event_from,
    rate_limit,
    text,
    whole_number,
)
from peerlearn.extensions import db, socketio
from peerlearn.permissions import Action, event_with_membership, question_readers


def _question(data: dict[str, Any], action: Action, on_event: Action) -> Question:
    """The question named by ``data["question_id"]`` if the current user may do ``action`` to
    it. First its event is checked for ``on_event``, with the chat's usual answers (``not_found``,
    ``forbidden``, ``chat_closed``); then the question itself: ``not_found`` when they may not see
    it (removed, or dismissed and not theirs), ``forbidden`` when they may see it but not do
    this."""
    question = db.session.get(Question, whole_number(data, "question_id"))
    event = event_with_membership(current_user, question.event_id) if question else None
    allowed(event, on_event, "question")
    questions.check(current_user, action, question)  # type: ignore[arg-type]
    return question  # type: ignore[return-value]


def announce(question: Question) -> None:
    """Tell the event's room about a question as each reader may see it, once it is committed.

    Open and answered questions go to everyone as ``question``. A removed one goes to everyone as
    ``question_removed`` ``{id, event_id}`` (take it off the screen). A dismissed one goes whole
    only to the connections of those the policy lets see it (the space's moderators and its
    asker, as presence lists them now), and to every other connection as ``question_removed``
    (:func:`~peerlearn.events.sockets.broadcast_by_reader`)."""
    event_id = question.event_id
    gone = {"id": question.id, "event_id": event_id}
    if question.removed_at is not None:
        broadcast("question_removed", gone, event_id)
        return
    shown = questions.payload(question)
    if question.status is not QuestionStatus.dismissed:
        broadcast("question", shown, event_id)
        return
    broadcast_by_reader(
        event_id,
        lambda people: question_readers(question, people),
        ("question", shown),
        ("question_removed", gone),
    )


@socketio.on("ask", namespace=NAMESPACE)
@acknowledged
def ask(data: dict[str, Any]) -> dict[str, Any]:
    """Store a question, acknowledge it, then show it to everyone in the room (once)."""
    event = event_from(data, Action.post)
    body, client = text(data, "body"), client_id(data)
    rate_limit("chat-ask")
    question, created = questions.ask(current_user, event, body, client)
    if created:
        announce(question)
    return {"question": questions.payload(question)}


@socketio.on("vote", namespace=NAMESPACE)
@acknowledged
def vote(data: dict[str, Any]) -> dict[str, Any]:
    """Vote for a question (``up: true``) or retract the vote (``up: false``). Each vote is told
    to the whole room, so votes have a send limit of their own, like messages and questions."""
    question = _question(data, Action.vote, on_event=Action.post)
    up = boolean(data, "up")
    rate_limit("chat-vote")
    question = questions.vote(current_user, question, up)
    announce(question)
    return {
        "question": questions.payload(question),
        "voted": questions.has_voted(current_user, question),
    }


@socketio.on("remove_question", namespace=NAMESPACE)
@acknowledged
def remove_question(data: dict[str, Any]) -> dict[str, Any]:
    """Withdraw your own question, or (moderators) remove anyone's: it goes from every screen."""
    question = _question(data, Action.delete, on_event=Action.view)
    if questions.remove(current_user, question):
        announce(question)
    return {"id": question.id}


@socketio.on("answer", namespace=NAMESPACE)
@acknowledged
def answer(data: dict[str, Any]) -> dict[str, Any]:
    """Mark a question answered or dismissed, or open it again (moderators)."""
    question = _question(data, Action.moderate, on_event=Action.moderate)
    status = text(data, "status")
    if status not in {s.value for s in QuestionStatus}:
        raise Refused("bad_request", "status must be answered, dismissed or open")
    question = questions.set_status(current_user, question, QuestionStatus(status))
    announce(question)
    return {"question": questions.payload(question)}
