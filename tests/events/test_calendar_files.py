"""Calendar files: an event's, a space's and each member's own feed, with what a reader may
see (the joining link only while they may attend), stable ids that calendars update rather than
duplicate, one feed address per member, limits per address, and files that strict calendar
apps accept as RFC 5545 writes them."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.events import calendars
from peerlearn.events.models import CalendarFeed, Event
from peerlearn.extensions import db
from peerlearn.spaces.models import Visibility
from tests.concurrency import at_once
from tests.events.conftest import form_for
from tests.events.test_space_feeds import _event
from tests.roles import ACTIVE, ROLES


def _personal_feed(client, new_client):
    page = client.get("/account/calendar").get_data(as_text=True)
    return new_client().get("/calendar/" + page.split("/calendar/")[1].split('"')[0])


def test_a_feed_with_no_events_yet_is_still_a_calendar(
    client, new_client, make_space, make_user, login
):
    """A new member subscribes before answering any event, and a new public space has none: a
    calendar must hold at least one component (RFC 5545 3.4), or strict apps refuse the address.
    It holds the UK's time zone, which says when the clocks change."""
    login(client, make_user())
    space = make_space("Flow Coaching", visibility=Visibility.public)
    for response in (
        _personal_feed(client, new_client),
        new_client().get(f"/spaces/{space.slug}/events.ics"),
    ):
        assert response.status_code == 200
        calendar = Calendar.from_ical(response.data)
        assert not calendar.walk("VEVENT")
        (zone,) = calendar.walk("VTIMEZONE")
        assert str(zone["tzid"]) == "Europe/London"
        london, told = ZoneInfo("Europe/London"), zone.to_tz()
        day = datetime(2000, 1, 1, tzinfo=UTC)
        while day.year < 2037:  # either side of 01:00 UTC, when the clocks change
            for moment in (day + timedelta(minutes=30), day + timedelta(minutes=90)):
                offset = moment.astimezone(told).utcoffset()
                assert offset == moment.astimezone(london).utcoffset(), moment
            day += timedelta(days=1)


def test_an_events_own_file_adds_it_to_my_calendar_not_a_new_one(client, new_client, make_space):
    """A calendar name makes Outlook import a file into a new calendar of that name (Microsoft's
    [MS-OXCICAL] 2.1.3.1.1.17: it "MUST be omitted" for a single appointment), so the event's own
    file has none; the feeds, which are calendars of their own, keep theirs."""
    space = make_space("Flow Coaching", visibility=Visibility.public)
    event = _event(space)
    single = Calendar.from_ical(new_client().get(f"/events/{event.id}/calendar.ics").data)
    assert "X-WR-CALNAME" not in single
    assert [str(item["summary"]) for item in single.walk("VEVENT")] == [event.title]
    feed = Calendar.from_ical(new_client().get(f"/spaces/{space.slug}/events.ics").data)
    assert str(feed["X-WR-CALNAME"]) == "Flow Coaching events"


def test_each_entry_is_stamped_when_the_file_was_made_and_says_when_the_event_changed(
    new_client, make_space
):
    """With METHOD:PUBLISH, DTSTAMP is when the file was made (RFC 5545 3.8.7.2) and
    LAST-MODIFIED when the event last changed: a calendar that compares entries with the same
    SEQUENCE (an entry that became firm when its reader answered Going, or gained the joining
    link when they joined the space) takes the newer file's as newer."""
    space = make_space("Flow Coaching", visibility=Visibility.public)
    event = _event(space)
    event.updated_at = changed = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    db.session.commit()
    before = utcnow().replace(microsecond=0)
    for path in (f"/events/{event.id}/calendar.ics", f"/spaces/{space.slug}/events.ics"):
        (entry,) = Calendar.from_ical(new_client().get(path).data).walk("VEVENT")
        assert before <= entry.decoded("dtstamp") <= utcnow()
        assert entry.decoded("last-modified") == changed


def test_calendar_files_keep_their_uid_and_raise_the_sequence(
    client, sig, moderator, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)

    def vevent():
        response = client.get(f"/events/{event.id}/calendar.ics")
        assert response.mimetype == "text/calendar"
        (item,) = Calendar.from_ical(response.data).walk("VEVENT")
        return item

    before = vevent()
    client.post(f"/events/{event.id}/edit", data=form_for(day=tomorrow, title="Renamed event"))
    after = vevent()
    assert str(after["uid"]) == str(before["uid"])
    assert int(after["sequence"]) == int(before["sequence"]) + 1
    assert str(after["summary"]) == "Renamed event"
    client.post(f"/events/{event.id}/cancel")
    cancelled = vevent()
    assert str(cancelled["status"]) == "CANCELLED"
    assert int(cancelled["sequence"]) == int(before["sequence"]) + 2


def test_the_personal_feed_lists_events_im_going_to_and_can_be_renewed(
    client, new_client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    going = schedule(client, sig, day=tomorrow, title="Going to this")
    schedule(client, sig, day=tomorrow, title="Not going to this")
    me = new_client()
    login(me, member())
    me.post(f"/events/{going.id}/rsvp", data={"status": "going"})
    page = me.get("/account/calendar").get_data(as_text=True)
    feed_path = "/calendar/" + page.split("/calendar/")[1].split('"')[0]
    anonymous = new_client()
    calendar = Calendar.from_ical(anonymous.get(feed_path).data)
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == ["Going to this"]
    me.post("/account/calendar")
    assert anonymous.get(feed_path).status_code == 404


def test_a_feed_opened_or_renewed_twice_at_once_keeps_one_address(app, member):
    """Two tabs opening the calendar page for the first time, or renewing it, at the same moment:
    both are answered, and the member has one feed address, which works."""
    user_id = member().id

    def first_use():
        calendars.feed_for(db.session.get(User, user_id))

    def renewal():
        calendars.renew_feed(db.session.get(User, user_id))

    at_once(app, [first_use, first_use])
    db.session.rollback()  # see what they committed, as the next request would
    (made,) = db.session.scalars(select(CalendarFeed.token)).all()
    at_once(app, [renewal, renewal])
    db.session.rollback()
    (renewed,) = db.session.scalars(select(CalendarFeed.token)).all()
    assert renewed != made
    assert calendars.feed_owner(renewed).id == user_id
    assert calendars.feed_owner(made) is None


def _calendar_entry(client, path):
    (item,) = Calendar.from_ical(client.get(path).data).walk("VEVENT")
    return str(item["description"]), str(item["location"])


@pytest.mark.parametrize("role", ROLES)
def test_the_calendar_file_has_the_joining_link_exactly_when_the_page_does(
    client, make_space, person_in, login, role
):
    space = make_space("Flow Coaching", visibility=Visibility.public)
    event = Event(
        space=space,
        title="Flow coaching clinic",
        starts_at=datetime(2027, 1, 14, 14, tzinfo=UTC),
        ends_at=datetime(2027, 1, 14, 15, tzinfo=UTC),
        joining_url="https://meet.example.org/flow-clinic",
    )
    db.session.add(event)
    db.session.commit()
    person = person_in(role, space)
    if role != "anonymous":
        login(client, person)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    description, location = _calendar_entry(client, f"/events/{event.id}/calendar.ics")
    attends = role in ACTIVE | {"admin"}
    assert ("meet.example.org/flow-clinic" in page) is attends
    assert ("meet.example.org/flow-clinic" in description) is attends
    if attends:
        assert location == "https://meet.example.org/flow-clinic"
    else:
        assert location == "Online"
        assert "members of Flow Coaching get the joining link" in description
        assert "members of Flow Coaching get the joining link" in page


def test_the_personal_feed_has_the_joining_link_while_i_may_attend(
    client, new_client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)
    me, myself = new_client(), member()
    login(me, myself)
    me.post(f"/events/{event.id}/rsvp", data={"status": "going"})
    page = me.get("/account/calendar").get_data(as_text=True)
    feed_path = "/calendar/" + page.split("/calendar/")[1].split('"')[0]
    description, location = _calendar_entry(new_client(), feed_path)
    assert "Join online: https://meet.example.org/qms" in description
    assert location == "https://meet.example.org/qms"

    # Once the group is archived (its events still mine to see), I am still down as going, but
    # nobody attends an archived group's events: the link goes, as on the event page. (Leaving
    # the group withdraws the answer itself: tests/events/test_rsvp_membership.py.)
    sig.archived_at = utcnow()
    db.session.commit()
    assert "meet.example.org" not in me.get(f"/events/{event.id}").get_data(as_text=True)
    description, location = _calendar_entry(new_client(), feed_path)
    assert "meet.example.org" not in description and location == "Online"


def test_each_feed_address_has_its_own_limit_not_each_network_address(client, make_user):
    # Calendar servers (Outlook's, Google's) and a trust's shared internet address fetch many
    # members' feeds at once: one member's feed must not be refused for the others'.
    members = [make_user() for _ in range(61)]
    for member in members:
        response = client.get(f"/calendar/{calendars.feed_for(member).token}.ics")
        assert response.status_code == 200
    mine = f"/calendar/{calendars.feed_for(members[0]).token}.ics"
    for _ in range(59):
        assert client.get(mine).status_code == 200
    assert client.get(mine).status_code == 429  # a calendar stuck refreshing one feed is still held
