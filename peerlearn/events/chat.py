"""The live event chat's rules: when it is open, storing messages exactly once, history for
catching up, and removing messages. The Socket.IO handlers in ``sockets.py`` are thin over this."""

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.core.text import render_markdown
from peerlearn.events.models import ChatMessage, Event
from peerlearn.extensions import db

MAX_MESSAGE = 2_000
MAX_CLIENT_ID = 64
#: How many earlier messages a newcomer to the chat is given.
HISTORY = 50


class ChatError(ValueError):
    """A refused chat action, with a machine-readable ``code`` for the acknowledgement."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def window(event: Event) -> tuple[Any, Any]:
    """When the chat opens and closes (minutes before the start and after the end, configurable)."""
    config = current_app.config
    opens = event.starts_at - timedelta(minutes=config.get("PEERLEARN_CHAT_OPENS_MINUTES", 30))
    closes = event.ends_at + timedelta(minutes=config.get("PEERLEARN_CHAT_CLOSES_MINUTES", 30))
    return opens, closes


def is_open(event: Event) -> bool:
    """Whether members can post in the chat now."""
    opens, closes = window(event)
    return not event.cancelled and opens <= utcnow() <= closes


def payload(message: ChatMessage) -> dict[str, Any]:
    """A message as the Socket.IO contract describes it (removed ones keep their place, empty)."""
    author = message.author
    return {
        "id": message.id,
        "event_id": message.event_id,
        "author": {
            "id": author.id if author else None,
            "name": author.display_name if author else "A former member",
            "organisation": author.organisation.name if author and author.organisation else None,
        },
        "body_html": "" if message.deleted_at else message.body_html,
        "deleted": message.deleted_at is not None,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
    }


def history(event: Event, after_id: int | None = None) -> list[ChatMessage]:
    """The messages after ``after_id`` (all of them, in order), or the latest 50."""
    query = (
        select(ChatMessage)
        .where(ChatMessage.event_id == event.id)
        .options(selectinload(ChatMessage.author).selectinload(User.organisation))
    )
    if after_id is not None:
        return list(
            db.session.scalars(query.where(ChatMessage.id > after_id).order_by(ChatMessage.id))
        )
    latest = list(db.session.scalars(query.order_by(ChatMessage.id.desc()).limit(HISTORY)))
    return latest[::-1]


def _existing(author: User, client_id: str) -> ChatMessage | None:
    return db.session.scalar(
        select(ChatMessage).where(
            ChatMessage.author_id == author.id, ChatMessage.client_id == client_id
        )
    )


def post_message(author: User, event: Event, body: str, client_id: str) -> tuple[ChatMessage, bool]:
    """Store a message and say whether it is new. The same ``client_id`` again returns the stored
    message (a resend after a lost acknowledgement), so nothing is ever stored or shown twice."""
    previous = _existing(author, client_id)
    if previous is not None:
        if previous.event_id != event.id:
            raise ChatError("bad_request", "That message id was already used in another event")
        return previous, False
    if not is_open(event):
        raise ChatError("chat_closed", "The chat is not open")
    text = (body or "").strip()
    if not text:
        raise ChatError("bad_request", "Write a message")
    if len(text) > MAX_MESSAGE:
        raise ChatError("too_long", f"Messages can be up to {MAX_MESSAGE:,} characters")
    message = ChatMessage(
        event_id=event.id,
        author_id=author.id,
        client_id=client_id,
        body_source=text,
        body_html=render_markdown(text),
    )
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:  # the same resend arrived twice at once: the other one was stored
        db.session.rollback()
        stored = _existing(author, client_id)
        if stored is None:
            raise
        return stored, False
    return message, True


def delete_message(actor: User, message: ChatMessage, *, moderator: bool) -> None:
    """Remove a message (its author, or a moderator: audited)."""
    if message.deleted_at is not None:
        return
    message.deleted_at = utcnow()
    message.deleted_by_id = actor.id
    if moderator and message.author_id != actor.id:
        event = db.session.get(Event, message.event_id)
        record("chat.message_deleted", actor=actor, subject=message.author,
               space=event.space if event else None, message_id=message.id)  # fmt: skip
    db.session.commit()
