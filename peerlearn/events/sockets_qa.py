"""The live event Q&A on the ``/live`` namespace: ask, vote and (moderators) answer or dismiss.
Helpers and the acknowledgement rules are those of ``sockets.py``."""

from typing import Any

from flask_login import current_user

from peerlearn.events import questions
from peerlearn.events.models import Event, Question, QuestionStatus
from peerlearn.events.sockets import (
    NAMESPACE,
    Refused,
    acknowledged,
    allowed,
    boolean,
    broadcast,
    client_id,
    event_from,
    rate_limit,
    text,
    whole_number,
)
from peerlearn.extensions import db, socketio
from peerlearn.permissions import Action


def _question(data: dict[str, Any], action: Action) -> Question:
    question = db.session.get(Question, whole_number(data, "question_id"))
    event = db.session.get(Event, question.event_id) if question is not None else None
    allowed(event, action, "question")
    return question  # type: ignore[return-value]


@socketio.on("ask", namespace=NAMESPACE)
@acknowledged
def ask(data: dict[str, Any]) -> dict[str, Any]:
    """Store a question, acknowledge it, then show it to everyone in the room (once)."""
    event = event_from(data, Action.post)
    body, client = text(data, "body"), client_id(data)
    rate_limit("chat-ask")
    question, created = questions.ask(current_user, event, body, client)
    shown = questions.payload(question)
    if created:
        broadcast("question", shown, event.id)
    return {"question": shown}


@socketio.on("vote", namespace=NAMESPACE)
@acknowledged
def vote(data: dict[str, Any]) -> dict[str, Any]:
    """Vote for a question (``up: true``) or retract the vote (``up: false``). Each vote is told
    to the whole room, so votes have a send limit of their own, like messages and questions."""
    question = _question(data, Action.post)
    up = boolean(data, "up")
    rate_limit("chat-vote")
    question = questions.vote(current_user, question, up)
    shown = questions.payload(question)
    broadcast("question", shown, question.event_id)
    return {"question": shown, "voted": questions.has_voted(current_user, question)}


@socketio.on("answer", namespace=NAMESPACE)
@acknowledged
def answer(data: dict[str, Any]) -> dict[str, Any]:
    """Mark a question answered or dismissed, or open it again (moderators)."""
    question = _question(data, Action.moderate)
    status = text(data, "status")
    if status not in {s.value for s in QuestionStatus}:
        raise Refused("bad_request", "status must be answered, dismissed or open")
    question = questions.set_status(current_user, question, QuestionStatus(status))
    shown = questions.payload(question)
    broadcast("question", shown, question.event_id)
    return {"question": shown}
