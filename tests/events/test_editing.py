"""Changing an event: moving one people have answered into the past is explained and made only
once confirmed, and never gives anyone a place; its places are never cut below the number going."""

from datetime import timedelta

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.events import rsvps, services
from peerlearn.events.models import Event, RsvpStatus
from peerlearn.extensions import db
from peerlearn.notifications.models import Notification, NotificationKind
from tests.concurrency import one_inside_another
from tests.events.answers import attendees
from tests.events.conftest import form_for


def _yesterday() -> str:
    return f"{utcnow() - timedelta(days=1):%d/%m/%Y}"


def test_moving_an_answered_event_into_the_past_is_explained_and_made_once_confirmed(
    outbox, client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, capacity="1")
    starts, sequence = event.starts_at, event.sequence
    holder, waiting = member("Holding Member"), member("Waiting Member")
    for person in (holder, waiting):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    moved = form_for(day=_yesterday(), capacity="2")  # and a place more

    asked = client.post(f"/events/{event.id}/edit", data=moved)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "This moves the event into the past" in page
    assert "2 people have answered this event" in page
    assert "nobody on the waiting list will be given a place" in page
    assert 'name="into_past" type="hidden" value="yes"' in page
    assert "Yes, move it into the past" in page
    db.session.expire_all()
    kept = db.session.get(Event, event.id)
    assert (kept.starts_at, kept.capacity, kept.sequence) == (starts, 1, sequence)

    confirmed = client.post(f"/events/{event.id}/edit", data={**moved, "into_past": "yes"})
    assert confirmed.status_code == 302
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.finished and event.capacity == 2 and event.sequence == sequence + 1
    going, still_waiting = attendees(event)
    assert [r.user_id for r in going] == [holder.id]
    assert [r.user_id for r in still_waiting] == [waiting.id]  # no place at an event that is over
    # Those who answered are told of the new date (e-mailed at once, as news of an event is),
    # but nobody is told of a place.
    told = db.session.scalars(
        db.select(Notification.kind).where(Notification.user_id == waiting.id)
    )
    assert told.all() == [NotificationKind.event_rearranged]
    (email,) = outbox.to(waiting.email)
    assert "New time:" in email.subject and "You have a place" not in email.text


def test_an_event_nobody_answered_moves_into_the_past_without_asking(
    client, sig, moderator, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)
    response = client.post(f"/events/{event.id}/edit", data=form_for(day=_yesterday()))
    assert response.status_code == 302
    assert db.session.get(Event, event.id).finished


def test_places_cannot_be_cut_below_the_number_going(
    client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, capacity="3")
    for name in ("First Member", "Second Member"):
        rsvps.set_rsvp(member(name), event, RsvpStatus.going)

    response = client.post(f"/events/{event.id}/edit", data=form_for(day=tomorrow, capacity="1"))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 people are going, so there must be at least 2 places" in page
    assert 'href="#capacity"' in page
    db.session.expire_all()
    assert db.session.get(Event, event.id).capacity == 3
    assert (
        client.post(
            f"/events/{event.id}/edit", data=form_for(day=tomorrow, capacity="2")
        ).status_code
        == 302
    )  # as many as are going is fine
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "2 going of 2" in page


def test_an_answer_checked_before_the_places_were_cut_joins_the_waiting_list(
    app, sig, moderator, member, schedule, client, login, tomorrow
):
    """The answer read the event (5 places) before the moderator cut them to the 1 taken, and
    writes after: it counts the places as held, and waits."""
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, capacity="5")
    rsvps.set_rsvp(member("Holding Member"), event, RsvpStatus.going)
    late = member("Late Member")
    event_id, late_id, moderator_id = event.id, late.id, moderator.id

    def answer() -> None:
        rsvps.set_rsvp(db.session.get(User, late_id), db.session.get(Event, event_id),
                          RsvpStatus.going)  # fmt: skip

    def cut() -> None:
        held = db.session.get(Event, event_id)
        draft = services.EventDraft(title=held.title, description="", starts_at=held.starts_at,
                                    ends_at=held.ends_at, joining_url=held.joining_url, capacity=1)  # fmt: skip
        services.update_event(db.session.get(User, moderator_id), held, draft)

    one_inside_another(app, answer, cut, "UPDATE")  # the answer's first hold: it has read
    db.session.expire_all()
    going, waiting = attendees(db.session.get(Event, event_id))
    assert len(going) == 1 and [r.user_id for r in waiting] == [late_id]
