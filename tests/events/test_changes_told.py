"""When an event is cancelled, or its time, venue or joining link changes, everyone who answered it
"going" (with a place or waiting for one) or "interested", and may still see it, is told: in
their notification centre (the header count updating live) and by e-mail as they chose
at once, even those who chose the daily digest (the event may be today), and never to those
who chose no e-mail. The e-mail says what changed, in UK time, and links through the
notification. Whoever made the change is not told, nor anyone else."""

from datetime import UTC, datetime, timedelta

import pytest

from peerlearn.core.db import utcnow
from peerlearn.core.signals import event_cancelled
from peerlearn.events import rsvps, services
from peerlearn.events.models import Event, Rsvp, RsvpStatus
from peerlearn.extensions import db
from peerlearn.notifications import emails
from peerlearn.notifications.models import EmailFrequency, Notification, NotificationKind
from peerlearn.spaces import memberships
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import Visibility
from tests.events.conftest import form_for

YEAR = datetime.now(UTC).year + 1


@pytest.fixture
def event(sig, moderator):
    """Two places, in Leeds, on 1 July next year: 13:00 to 14:00 UTC, 14:00 to 15:00 in London."""
    event = Event(space=sig, created_by=moderator, title="Flow coaching clinic", venue="Leeds",
                  starts_at=datetime(YEAR, 7, 1, 13, tzinfo=UTC),
                  ends_at=datetime(YEAR, 7, 1, 14, tzinfo=UTC), capacity=2)  # fmt: skip
    db.session.add(event)
    db.session.commit()
    return event


@pytest.fixture
def answered(event, moderator, member):
    """The moderator and someone with a place going, one waiting, one interested, one not
    going, and a member who gave no answer."""
    people = {
        name: member(name) for name in ("Going", "Waiting", "Interested", "Not Going", "No Answer")
    }
    rsvps.set_rsvp(moderator, event, RsvpStatus.going)
    for name, status in [("Going", RsvpStatus.going), ("Waiting", RsvpStatus.going),
                         ("Interested", RsvpStatus.interested),
                         ("Not Going", RsvpStatus.not_going)]:  # fmt: skip
        rsvps.set_rsvp(people[name], event, status)
    assert db.session.get(Rsvp, (event.id, people["Waiting"].id)).waitlisted
    return people


def _told(user):
    return db.session.scalars(
        db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()


def _day(month: int, day: int) -> str:
    """The weekday and date, as the e-mail writes them."""
    return f"{datetime(YEAR, month, day):%A} {day} {datetime(YEAR, month, day):%B} {YEAR}"


def _move(moderator, event, **changes):
    fields = {"title": event.title, "description": "", "starts_at": event.starts_at,
              "ends_at": event.ends_at, "joining_url": event.joining_url, "venue": event.venue,
              "capacity": event.capacity, **changes}  # fmt: skip
    services.update_event(moderator, event, services.EventDraft(**fields))


def test_a_cancellation_tells_those_going_waiting_or_interested_and_nobody_else(
    client, new_client, sig, moderator, answered, event, login, connect_socket
):
    login(client, answered["Interested"])
    socket = connect_socket(client)
    socket.get_received()
    cancelling = new_client()
    login(cancelling, moderator)

    cancelling.post(f"/events/{event.id}/cancel")

    db.session.expire_all()
    for name in ("Going", "Waiting", "Interested"):
        (notification,) = _told(answered[name])
        assert notification.kind is NotificationKind.event_cancelled
        assert (notification.event_id, notification.actor_id) == (event.id, moderator.id)
    for name in ("Not Going", "No Answer"):
        assert _told(answered[name]) == []
    assert _told(moderator) == []  # who cancelled it knows
    assert {"name": "notifications", "args": [{"unread": 1}], "namespace": "/"} in (
        socket.get_received()
    )
    centre = client.get("/notifications").get_data(as_text=True)
    assert "Cancelled: Flow coaching clinic, 1 July" in centre
    socket.disconnect()


def test_a_new_time_is_emailed_at_once_with_the_old_and_new_in_uk_time(
    outbox, client, new_client, sig, moderator, answered, event, login, connect_socket
):
    going = answered["Going"]
    emails.set_email_frequency(going, EmailFrequency.immediate)
    login(client, going)
    socket = connect_socket(client)
    socket.get_received()
    editing = new_client()
    login(editing, moderator)

    response = editing.post(
        f"/events/{event.id}/edit",
        data=form_for(day=f"02/07/{YEAR}", start="10:00", end="11:30", venue="Leeds",
                      joining_url="", title="Flow coaching clinic", capacity="2"),
    )  # fmt: skip

    assert response.status_code == 302
    assert {"name": "notifications", "args": [{"unread": 1}], "namespace": "/"} in (
        socket.get_received()
    )
    (message,) = outbox.to(going.email)
    assert message.subject == f"[{sig.name}] New time: Flow coaching clinic"
    assert (
        f"When: it was {_day(7, 1)}, 14:00 to 15:00, and is now {_day(7, 2)}, 10:00 to 11:30 "
        "(UK time)."
    ) in message.text
    assert "Kwame Mensah changed when or where" in message.text
    assert "Where:" not in message.text and "joining link" not in message.text
    assert message.link("/notifications/unsubscribe/")
    for name in ("Waiting", "Interested"):  # daily digests, the default: at once all the same
        (told,) = outbox.to(answered[name].email)
        assert told.subject == message.subject and len(_told(answered[name])) == 1
    assert outbox.to(moderator.email) == [] and _told(moderator) == []

    # The link goes through the notification: it is marked read on the way to the event.
    (notification,) = _told(going)
    assert message.link("/notifications/") == f"/notifications/{notification.id}"
    opened = client.get(f"/notifications/{notification.id}", follow_redirects=True)
    assert opened.request.path == f"/events/{event.id}"
    db.session.refresh(notification)
    assert notification.read_at is not None
    assert {"name": "notifications", "args": [{"unread": 0}], "namespace": "/"} in (
        socket.get_received()
    )
    socket.disconnect()


def test_a_new_venue_and_joining_link_are_told_without_the_link_itself(
    outbox, client, moderator, answered, event, login
):
    going = answered["Going"]
    emails.set_email_frequency(going, EmailFrequency.immediate)

    _move(moderator, event, venue=None, joining_url="https://meet.example.org/secret-room")

    (message,) = outbox.to(going.email)
    assert message.subject.endswith("] New venue and joining link: Flow coaching clinic")
    assert "Where: it was Leeds, and is now online only." in message.text
    assert "It now has a joining link: find it on the event page." in message.text
    assert "When:" not in message.text
    assert "secret-room" not in message.text  # only the event page gives it, to those who may
    login(client, going)
    centre = client.get("/notifications").get_data(as_text=True)
    assert "New venue and joining link: Flow coaching clinic" in centre
    assert "Where: was Leeds, now online only." in centre


def test_news_the_mail_server_refused_goes_with_the_next_digest_saying_what_came_after(
    app, outbox, moderator, answered, event, caplog, refused_port
):
    """The mail server was away as the event was moved and then cancelled: the next
    ``send-digests`` run, once the immediate sends have had their chance, sends both, and the
    news of the move says the event has since been cancelled."""
    waiting = answered["Waiting"]
    assert emails.email_frequency(waiting) is EmailFrequency.daily
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=refused_port)
    try:
        _move(moderator, event, starts_at=event.starts_at + timedelta(hours=2),
              ends_at=event.ends_at + timedelta(hours=2))  # fmt: skip
        services.cancel_event(moderator, event)
    finally:
        app.config.update(MAIL_SERVER=None)
    assert "immediate e-mail to user" in caplog.text and outbox.to(waiting.email) == []
    assert emails.send_digests() == 0  # they may still be on their way

    later = utcnow() + emails.IMMEDIATE_GRACE + timedelta(minutes=1)
    assert emails.send_digests(later) == 3  # to Going, Waiting and Interested

    (digest,) = outbox.to(waiting.email)
    assert digest.subject == "peerlearn: 2 new notifications"
    assert (
        f"When: it was {_day(7, 1)}, 14:00 to 15:00, and is now {_day(7, 1)}, 16:00 to 17:00"
    ) in digest.text
    assert "It has since been cancelled." in digest.text
    assert (
        f'"Flow coaching clinic" (Quality Management Systems) has been cancelled by Kwame Mensah'
        f": it will not go ahead.\nIt was to be on {_day(7, 1)}, 16:00 to 17:00 (UK time)."
    ) in digest.text


@pytest.mark.parametrize("space_wide", [False, True])
def test_no_email_for_someone_who_chose_none_but_the_centre_tells_them(
    outbox, client, sig, moderator, answered, event, login, space_wide
):
    going = answered["Going"]
    emails.set_email_frequency(going, EmailFrequency.off, sig if space_wide else None)
    if space_wide:  # the network-wide choice is "straight away": the space's own wins
        emails.set_email_frequency(going, EmailFrequency.immediate)
    services.cancel_event(moderator, event)
    assert len(_told(going)) == 1
    assert outbox.to(going.email) == []
    emails.send_digests()
    assert outbox.to(going.email) == []  # nor later in a digest
    login(client, going)
    assert "Cancelled: Flow coaching clinic" in client.get("/notifications").get_data(as_text=True)


def test_an_edit_that_changes_neither_time_nor_place_tells_nobody(moderator, answered, event):
    _move(moderator, event, title="Flow coaching clinic (extended)", description="More.",
          capacity=5)  # fmt: skip
    kinds = db.session.scalars(db.select(Notification.kind)).all()
    assert kinds == [NotificationKind.place_given]  # more places: the one waiting has one


def test_a_change_to_a_finished_event_tells_nobody(moderator, answered, event):
    """Its record put right afterwards: a time or venue corrected, or a cancellation."""
    ago = utcnow() - event.ends_at - timedelta(days=1)
    event.starts_at, event.ends_at = event.starts_at + ago, event.ends_at + ago  # yesterday
    db.session.commit()
    _move(moderator, event, venue="Leeds General Infirmary",
          ends_at=event.ends_at + timedelta(minutes=30))  # fmt: skip
    event_cancelled.send(event, by=moderator)
    assert db.session.scalars(db.select(Notification)).all() == []


def test_someone_who_may_no_longer_see_the_event_is_not_told(
    app, outbox, client, sig, moderator, make_user, answered, event, login, refused_port
):
    """A private space's event: an answer left by someone outside it tells them nothing, and a
    member told, then removed before the e-mail could go (the mail server away), loses the
    notification from their centre and from the e-mail sent later."""
    sig.visibility = Visibility.private
    outsider = make_user("Not A Member")
    db.session.add(Rsvp(event_id=event.id, user_id=outsider.id, status=RsvpStatus.interested))
    db.session.commit()
    interested = answered["Interested"]

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=refused_port)
    try:
        services.cancel_event(moderator, event)
    finally:
        app.config.update(MAIL_SERVER=None)

    assert _told(outsider) == []
    assert len(_told(interested)) == 1
    memberships.remove_member(moderator, spaces.get_membership(sig, interested))
    login(client, interested)
    assert "Cancelled:" not in client.get("/notifications").get_data(as_text=True)
    emails.send_digests(utcnow() + emails.IMMEDIATE_GRACE + timedelta(minutes=1))
    assert outbox.to(interested.email) == [] and outbox.to(outsider.email) == []
    assert len(outbox.to(answered["Going"].email)) == 1  # who may still see it is told


def test_those_told_of_a_cancellation_are_told_when_the_event_goes_ahead_after_all(
    outbox, client, new_client, sig, moderator, answered, event, login
):
    going = answered["Going"]
    emails.set_email_frequency(going, EmailFrequency.immediate)
    moderating = new_client()
    login(moderating, moderator)
    moderating.post(f"/events/{event.id}/cancel")

    response = moderating.post(f"/events/{event.id}/reinstate")

    assert response.status_code == 302
    db.session.expire_all()
    for name in ("Going", "Waiting", "Interested"):
        kinds = [notification.kind for notification in _told(answered[name])]
        assert kinds == [NotificationKind.event_cancelled, NotificationKind.event_reinstated]
    for name in ("Not Going", "No Answer"):
        assert _told(answered[name]) == []
    assert _told(moderator) == []
    cancelled, reinstated = outbox.to(going.email)
    assert cancelled.subject == f"[{sig.name}] Cancelled: Flow coaching clinic"
    assert reinstated.subject == f"[{sig.name}] Going ahead after all: Flow coaching clinic"
    assert "Your answer, and your place if you had one, are as they were" in reinstated.text
    login(client, going)
    centre = client.get("/notifications").get_data(as_text=True)
    assert "Going ahead after all: Flow coaching clinic, 1 July" in centre


def test_the_email_settings_say_that_event_news_comes_straight_away(client, answered, login):
    login(client, answered["Waiting"])
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert (
        "a cancellation, a new time or place) comes straight away unless you choose never" in page
    )
