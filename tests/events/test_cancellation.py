"""Cancelling an event is done once, however often it is pressed, and takes no answer given at
that moment."""

from sqlalchemy import func, select

from peerlearn.audit.models import AuditEntry
from peerlearn.events import services
from peerlearn.events.models import Event, Rsvp
from peerlearn.extensions import db
from tests.concurrency import WRITES, at_once, first_writes_meet, one_inside_another


def _cancellations() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "event.cancelled")
    )


def test_cancel_pressed_twice_cancels_once_and_says_so(
    client, sig, moderator, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)
    sequence = event.sequence
    first = client.post(f"/events/{event.id}/cancel", follow_redirects=True)
    assert "The event has been cancelled" in first.get_data(as_text=True)
    again = client.post(f"/events/{event.id}/cancel", follow_redirects=True)
    assert "The event had already been cancelled" in again.get_data(as_text=True)
    assert _cancellations() == 1
    assert db.session.get(Event, event.id).sequence == sequence + 1  # calendars see one change


def test_two_moderators_cancelling_at_once_cancel_once(
    app, client, sig, moderator, login, schedule, tomorrow
):
    login(client, moderator)
    event_id, moderator_id = schedule(client, sig, day=tomorrow).id, moderator.id
    results = []

    def cancel() -> None:
        event, actor = (
            db.session.get(Event, event_id),
            db.session.get(type(moderator), moderator_id),
        )
        results.append(services.cancel_event(actor, event))

    with first_writes_meet(WRITES, before=True):
        at_once(app, [cancel, cancel])
    assert sorted(results) == [False, True]
    assert _cancellations() == 1


def test_an_answer_given_as_the_event_is_cancelled_is_refused(
    app, client, new_client, sig, moderator, member, login, schedule, tomorrow
):
    """The answer's request checked the event before the cancellation committed, and writes after
    it: it reads the event again once it holds it, and takes no answer."""
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)
    answering = new_client()
    login(answering, member("Late Answer"))
    event_id, moderator_id = event.id, moderator.id
    pages = []

    def answer() -> None:
        response = answering.post(f"/events/{event_id}/rsvp", data={"status": "going"})
        pages.append(answering.get(response.headers["Location"]).get_data(as_text=True))

    def cancel() -> None:
        actor = db.session.get(type(moderator), moderator_id)
        services.cancel_event(actor, db.session.get(Event, event_id))

    one_inside_another(app, answer, cancel, "UPDATE")  # the answer's first hold: it has checked
    assert "This event was cancelled" in pages[0]
    db.session.expire_all()
    assert db.session.scalars(select(Rsvp).where(Rsvp.event_id == event_id)).all() == []
