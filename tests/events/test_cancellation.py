"""Cancelling an event is asked for first, refused once the event has finished, done once
however often it is pressed, and takes no answer given at that moment; a cancellation can be taken
back (reinstated) until the event ends, with everyone's answers as they were."""

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.events import rsvps, services
from peerlearn.events.models import Event, Rsvp, RsvpStatus
from peerlearn.extensions import db
from tests.concurrency import WRITES, at_once, first_writes_meet, one_inside_another
from tests.events.answers import attendees


@pytest.fixture
def finished_event(sig, moderator):
    """An event that ended two days ago."""
    event = Event(space=sig, created_by=moderator, title="October QMS clinic", venue="Leeds",
                  starts_at=utcnow() - timedelta(days=2, hours=1),
                  ends_at=utcnow() - timedelta(days=2))  # fmt: skip
    db.session.add(event)
    db.session.commit()
    return event


def _audited(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def _vevent(client, event):
    (item,) = Calendar.from_ical(client.get(f"/events/{event.id}/calendar.ics").data).walk("VEVENT")
    return str(item["status"]), int(item["sequence"])


def _cancellations() -> int:
    return _audited("event.cancelled")


def test_cancelling_asks_first_on_a_page_that_needs_no_javascript(
    client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)
    rsvps.set_rsvp(member("Going Member"), event, RsvpStatus.going)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f'<a href="/events/{event.id}/cancel">Cancel the event' in page  # a link, not a form

    asked = client.get(f"/events/{event.id}/cancel").get_data(as_text=True)
    assert f"Cancel {event.title}?" in asked
    assert "1 person is going" in asked and "answers are kept" in asked
    assert f'<form method="post" action="/events/{event.id}/cancel"' in asked
    assert "Yes, cancel the event" in asked and "No, keep it" in asked
    db.session.expire_all()
    assert not db.session.get(Event, event.id).cancelled and _cancellations() == 0

    done = client.post(f"/events/{event.id}/cancel", follow_redirects=True)
    assert "The event has been cancelled" in done.get_data(as_text=True)
    assert db.session.get(Event, event.id).cancelled


def test_an_event_that_has_finished_cannot_be_cancelled(
    client, sig, moderator, login, finished_event
):
    login(client, moderator)
    before = _vevent(client, finished_event)
    page = client.get(f"/events/{finished_event.id}").get_data(as_text=True)
    assert "Cancel the event" not in page
    for send in (client.get, client.post):
        refused = send(f"/events/{finished_event.id}/cancel", follow_redirects=True)
        text = refused.get_data(as_text=True)
        assert "This event has finished, so it cannot be cancelled" in text
        assert "This event was cancelled" not in text
    db.session.expire_all()
    assert not db.session.get(Event, finished_event.id).cancelled
    assert _vevent(client, finished_event) == before == ("CONFIRMED", 0)
    assert _cancellations() == 0


def test_a_moderator_reinstates_a_cancelled_event_with_its_answers(
    client, new_client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, capacity="1")
    holder, waiting = member("Holding Member"), member("Waiting Member")
    rsvps.set_rsvp(holder, event, RsvpStatus.going)
    rsvps.set_rsvp(waiting, event, RsvpStatus.going)
    me = new_client()
    login(me, holder)
    settings = me.get("/account/calendar").get_data(as_text=True)
    feed = "/calendar/" + settings.split("/calendar/")[1].split('"')[0]

    def in_feed():
        (item,) = Calendar.from_ical(new_client().get(feed).data).walk("VEVENT")
        return str(item["status"]), int(item["sequence"])

    client.post(f"/events/{event.id}/cancel")
    assert _vevent(client, event) == in_feed() == ("CANCELLED", 1)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Reinstate the event" in page and "Cancel the event" not in page
    assert me.post(f"/events/{event.id}/reinstate").status_code == 403  # members may not

    done = client.post(f"/events/{event.id}/reinstate", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "The event has been reinstated" in text and "This event was cancelled" not in text
    assert _vevent(client, event) == in_feed() == ("CONFIRMED", 2)
    going, on_the_list = attendees(db.session.get(Event, event.id))
    assert [r.user_id for r in going] == [holder.id]
    assert [r.user_id for r in on_the_list] == [waiting.id]
    again = client.post(f"/events/{event.id}/reinstate", follow_redirects=True)
    assert "The event had already been reinstated" in again.get_data(as_text=True)
    assert _audited("event.reinstated") == 1
    assert _vevent(client, event) == ("CONFIRMED", 2)


def test_a_cancelled_event_that_has_finished_cannot_be_reinstated(
    client, sig, moderator, login, finished_event
):
    finished_event.cancelled_at = finished_event.starts_at - timedelta(days=1)
    db.session.commit()
    login(client, moderator)
    assert "Reinstate the event" not in client.get(f"/events/{finished_event.id}").get_data(
        as_text=True
    )
    refused = client.post(f"/events/{finished_event.id}/reinstate", follow_redirects=True)
    assert "This event has finished, so it cannot be reinstated" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Event, finished_event.id).cancelled
    assert _audited("event.reinstated") == 0


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
