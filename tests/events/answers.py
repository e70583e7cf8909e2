"""Reading an event's answers whole, for the tests (the pages read them a page at a time)."""

from __future__ import annotations

from peerlearn.events import rsvps
from peerlearn.events.models import Event, Rsvp
from peerlearn.extensions import db


def attendees(event: Event) -> tuple[list[Rsvp], list[Rsvp]]:
    """Everyone going and everyone on the waiting list, in the order places come to them."""
    going = db.session.scalars(rsvps.answers_query(event, waiting=False)).all()
    return list(going), list(db.session.scalars(rsvps.answers_query(event, waiting=True)).all())
