"""Someone on an event's waiting list who is given a place is told at once: in their notification
centre (the header count updating live) and by e-mail, unless they chose no e-mail. Every way a
place comes free tells them, and a change rolled back tells nobody."""

from datetime import UTC, datetime, timedelta

import pytest

from peerlearn.accounts import administration
from peerlearn.accounts.models import SiteRole
from peerlearn.core.db import utcnow
from peerlearn.core.signals import place_given, standing_changing
from peerlearn.events import rsvps, services
from peerlearn.events.models import Event, Rsvp, RsvpStatus
from peerlearn.extensions import db
from peerlearn.notifications import emails
from peerlearn.notifications.models import EmailFrequency, Notification, NotificationKind
from peerlearn.spaces import memberships
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import Visibility
from tests.events.answers import attendees


@pytest.fixture
def event(sig, moderator):
    """One place, on a summer afternoon next year: 13:00 UTC, 14:00 in London."""
    year = datetime.now(UTC).year + 1
    event = Event(space=sig, created_by=moderator, title="Flow coaching clinic", venue="Leeds",
                  starts_at=datetime(year, 7, 1, 13, tzinfo=UTC),
                  ends_at=datetime(year, 7, 1, 14, tzinfo=UTC), capacity=1)  # fmt: skip
    db.session.add(event)
    db.session.commit()
    return event


def _told(user):
    return db.session.scalars(
        db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()


def test_the_person_waiting_is_told_in_the_centre_and_by_email_at_once(
    outbox, client, new_client, sig, member, event, login, connect_socket
):
    holder, waiting = member("Holding Member"), member("Waiting Member")
    rsvps.set_rsvp(holder, event, RsvpStatus.going)
    rsvps.set_rsvp(waiting, event, RsvpStatus.going)
    login(client, waiting)
    socket = connect_socket(client)
    socket.get_received()
    giving_up = new_client()
    login(giving_up, holder)

    giving_up.post(f"/events/{event.id}/rsvp", data={"status": "not-going"})

    assert {"name": "notifications", "args": [{"unread": 1}], "namespace": "/"} in (
        socket.get_received()
    )
    centre = client.get("/notifications").get_data(as_text=True)
    assert "You have a place at Flow coaching clinic" in centre
    (notification,) = _told(waiting)
    assert notification.kind is NotificationKind.place_given
    # A daily digest is their choice, but a place cannot wait for tomorrow.
    assert emails.email_frequency(waiting) is EmailFrequency.daily
    (message,) = outbox.to(waiting.email)
    assert message.subject == f"[{sig.name}] You have a place at Flow coaching clinic"
    assert f"({sig.name})" in message.text
    assert f"1 July {event.starts_at.year} at 14:00 (UK time)" in message.text  # London, not UTC
    assert message.link("/notifications/unsubscribe/")
    assert _told(holder) == [] and outbox.to(holder.email) == []

    # The e-mail links through the notification, as a thread's does: following it marks the
    # notification read (the header hears so) and lands on the event.
    link = message.link("/notifications/")
    assert link == f"/notifications/{notification.id}"
    assert notification.read_at is None
    opened = client.get(link, follow_redirects=True)
    assert opened.request.path == f"/events/{event.id}"
    assert "Flow coaching clinic" in opened.get_data(as_text=True)
    db.session.refresh(notification)
    assert notification.read_at is not None
    assert {"name": "notifications", "args": [{"unread": 0}], "namespace": "/"} in (
        socket.get_received()
    )
    socket.disconnect()


def _not_going(moderator, space, holder, event):
    rsvps.set_rsvp(holder, event, RsvpStatus.not_going)


def _interested(moderator, space, holder, event):
    rsvps.set_rsvp(holder, event, RsvpStatus.interested)


def _more_places(moderator, space, holder, event):
    draft = services.EventDraft(title=event.title, description="", starts_at=event.starts_at,
                                ends_at=event.ends_at, venue=event.venue, capacity=2)  # fmt: skip
    services.update_event(moderator, event, draft)


def _remove(moderator, space, holder, event):
    memberships.remove_member(moderator, spaces.get_membership(space, holder))


def _ban(moderator, space, holder, event):
    memberships.ban(moderator, space, holder)


def _leave(moderator, space, holder, event):
    memberships.leave_space(holder, space)


def _deactivate(admin, space, holder, event):
    administration.set_active(admin, holder, False)


def _take_role(admin, space, holder, event):
    administration.set_site_role(admin, holder, SiteRole.member)


@pytest.mark.parametrize(
    "free_a_place",
    [_not_going, _interested, _more_places, _remove, _ban, _leave, _deactivate, _take_role],
)
def test_every_way_a_place_comes_free_tells_the_person_given_it(
    outbox, sig, moderator, member, event, make_user, free_a_place
):
    """Answering "not going" or "interested", more places, and each withdrawal (removed, banned,
    left, deactivated, no longer an administrator, who was not a member)."""
    admin = make_user("Network Admin", admin=True)
    holder = make_user("Holder", admin=True) if free_a_place is _take_role else member("Holder")
    waiting, last = member("Waiting Member"), member("Last Member")
    for person in (holder, waiting, last):
        rsvps.set_rsvp(person, event, RsvpStatus.going)

    actor = admin if free_a_place in (_deactivate, _take_role) else moderator
    free_a_place(actor, sig, holder, event)

    db.session.expire_all()
    assert [n.event_id for n in _told(waiting)] == [event.id]
    assert len(outbox.to(waiting.email)) == 1
    assert _told(last) == [] and outbox.to(last.email) == []  # one place came free: still waiting
    assert _told(holder) == []


def test_a_change_rolled_back_tells_nobody(outbox, sig, moderator, member, event):
    """The removal gave the place away in its unit of work, then failed after it: nobody is
    told, then or at the next commit of the same session."""
    holder, waiting = member("Holder"), member("Waiting Member")
    for person in (holder, waiting):
        rsvps.set_rsvp(person, event, RsvpStatus.going)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    standing_changing.connect(fail)  # after the events' receiver, which gave the place
    try:
        with pytest.raises(RuntimeError):
            _remove(moderator, sig, holder, event)
    finally:
        standing_changing.disconnect(fail)
    db.session.rollback()
    db.session.commit()  # the next commit of the same session sends nothing left over

    assert _told(waiting) == [] and outbox.to(waiting.email) == []
    going, waiting_list = attendees(event)
    assert [r.user_id for r in going] == [holder.id]
    assert [r.user_id for r in waiting_list] == [waiting.id]


@pytest.mark.parametrize("space_wide", [False, True])
def test_no_email_for_someone_who_chose_none_but_the_centre_tells_them(
    outbox, sig, member, event, space_wide
):
    holder, waiting = member("Holder"), member("Waiting Member")
    emails.set_email_frequency(waiting, EmailFrequency.off, sig if space_wide else None)
    for person in (holder, waiting):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    rsvps.set_rsvp(holder, event, RsvpStatus.not_going)
    assert len(_told(waiting)) == 1
    assert outbox.to(waiting.email) == []
    assert emails.send_digests() == 0  # and no digest sends it later


def test_the_centre_drops_it_once_they_may_no_longer_see_the_event(
    client, sig, moderator, member, event, login
):
    sig.visibility = Visibility.private
    db.session.commit()
    holder, waiting = member("Holder"), member("Waiting Member")
    for person in (holder, waiting):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    rsvps.set_rsvp(holder, event, RsvpStatus.not_going)
    login(client, waiting)
    assert "You have a place at" in client.get("/notifications").get_data(as_text=True)
    _remove(moderator, sig, waiting, event)
    page = client.get("/notifications").get_data(as_text=True)
    assert "You have a place at" not in page


def test_a_place_email_the_mail_server_refused_goes_with_the_next_send_digests(
    app, outbox, sig, member, event, caplog, refused_port
):
    """The e-mail could not go at once (the mail server away): the next ``send-digests`` run,
    once the immediate send has had its chance, sends it, to a member who chose daily e-mail."""
    holder, waiting = member("Holder"), member("Waiting Member")
    for person in (holder, waiting):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=refused_port)
    try:
        rsvps.set_rsvp(holder, event, RsvpStatus.not_going)
    finally:
        app.config.update(MAIL_SERVER=None)
    assert "immediate e-mail to user" in caplog.text and outbox.to(waiting.email) == []
    assert emails.send_digests() == 0  # it may still be on its way
    assert emails.send_digests(utcnow() + emails.IMMEDIATE_GRACE + timedelta(minutes=1)) == 1
    (message,) = outbox.to(waiting.email)
    assert "You have a place at" in message.text and "Flow coaching clinic" in message.text


def test_no_place_is_given_at_an_event_that_has_finished(outbox, sig, moderator, member, event):
    """An event that is over given more places (a record put straight) tells nobody of a place."""
    holder, waiting = member("Holder"), member("Waiting Member")
    for person in (holder, waiting):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    event.starts_at, event.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=2)
    db.session.commit()

    _more_places(moderator, sig, holder, event)

    db.session.expire_all()
    assert db.session.get(Rsvp, (event.id, waiting.id)).waitlisted
    assert _told(waiting) == [] and outbox.to(waiting.email) == []


def test_no_place_is_given_at_a_cancelled_event_until_it_is_reinstated(
    outbox, sig, moderator, member, event
):
    holder, waiting = member("Holder"), member("Waiting Member")
    for person in (holder, waiting):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    services.cancel_event(moderator, event)

    _remove(moderator, sig, holder, event)  # frees the place while it is cancelled

    db.session.expire_all()
    assert db.session.get(Rsvp, (event.id, waiting.id)).waitlisted
    assert [n.kind for n in _told(waiting)] == [NotificationKind.event_cancelled]
    (cancelled,) = outbox.to(waiting.email)  # news of the event is e-mailed at once
    assert cancelled.subject.endswith(f"Cancelled: {event.title}")
    services.reinstate_event(moderator, db.session.get(Event, event.id))
    db.session.expire_all()
    assert not db.session.get(Rsvp, (event.id, waiting.id)).waitlisted
    assert [n.kind for n in _told(waiting)] == [
        NotificationKind.event_cancelled,
        NotificationKind.event_reinstated,
        NotificationKind.place_given,
    ]
    _, reinstated, place = outbox.to(waiting.email)
    assert reinstated.subject.endswith(f"Going ahead after all: {event.title}")
    assert place.subject.endswith(f"You have a place at {event.title}")


def test_a_place_given_as_the_event_finished_is_not_told(outbox, sig, member, event):
    """Whoever gave it, once the place reaches the notifications the event is over: nothing is
    sent, in the centre or by e-mail."""
    waiting = member("Waiting Member")
    event.starts_at, event.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=2)
    db.session.commit()

    place_given.send(event, user_ids=[waiting.id])

    assert _told(waiting) == [] and outbox.to(waiting.email) == []
