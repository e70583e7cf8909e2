"""Calendar files that strict calendar apps accept as RFC 5545 writes them."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from peerlearn.spaces.models import Visibility
from tests.events.test_space_feeds import _event


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
