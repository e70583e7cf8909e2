"""An event can end at midnight: an end time of 00:00 (or 24:00) on the event's date is midnight
at the end of that day, stored in UTC on both sides of the clock changes, and shown as
"to midnight" on its page, in lists, in e-mails and in its transcript, with its calendar entry
ending then. Any other end before the start is refused, saying what to enter, with what was
typed kept."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from peerlearn.events import rsvps
from peerlearn.events.models import Event, RsvpStatus
from peerlearn.extensions import db
from peerlearn.notifications import emails
from peerlearn.notifications.models import EmailFrequency
from tests.events.conftest import form_for

# The clocks go forward at 01:00 GMT on 28 March 2027 and back at 02:00 BST on 31 October 2027.
CLOCK_CHANGES = [
    # date, its weekday, start and end in UTC for 22:00 to midnight in London
    ("14/01/2027", "Thursday", datetime(2027, 1, 14, 22), datetime(2027, 1, 15, 0)),
    ("14/07/2027", "Wednesday", datetime(2027, 7, 14, 21), datetime(2027, 7, 14, 23)),
    ("27/03/2027", "Saturday", datetime(2027, 3, 27, 22), datetime(2027, 3, 28, 0)),
    ("28/03/2027", "Sunday", datetime(2027, 3, 28, 21), datetime(2027, 3, 28, 23)),
    ("30/10/2027", "Saturday", datetime(2027, 10, 30, 21), datetime(2027, 10, 30, 23)),
    ("31/10/2027", "Sunday", datetime(2027, 10, 31, 22), datetime(2027, 11, 1, 0)),
]


def _typed(page: str, name: str) -> str:
    """What the form's text box ``name`` holds."""
    box = re.search(rf'<input[^>]* name="{name}"[^>]*>', page).group(0)
    return re.search(r'value="([^"]*)"', box).group(1)


@pytest.mark.parametrize(("day", "weekday", "starts", "ends"), CLOCK_CHANGES)
def test_an_event_ending_at_00_00_ends_at_midnight_at_the_end_of_its_day(
    client, sig, moderator, login, schedule, day, weekday, starts, ends
):
    login(client, moderator)
    event = schedule(client, sig, day=day, start="22:00", end="00:00")
    assert (event.starts_at, event.ends_at) == (
        starts.replace(tzinfo=UTC),
        ends.replace(tzinfo=UTC),
    )
    assert event.ends_at - event.starts_at == timedelta(hours=2)

    shown = f"{weekday} {day[:2].lstrip('0')} "
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    when = page.split(">When</dt>")[1].split("</dd>")[0]
    assert shown in when and ", 22:00</time>" in when and ">midnight</time>" in when
    listed = client.get(f"/spaces/{sig.slug}/events?when=past").get_data(as_text=True)
    listed += client.get(f"/spaces/{sig.slug}/events").get_data(as_text=True)
    assert ">midnight</time>" in listed.split(event.title)[1].split("</li>")[0]

    (entry,) = Calendar.from_ical(client.get(f"/events/{event.id}/calendar.ics").data).walk(
        "VEVENT"
    )
    assert entry.decoded("dtstart") == event.starts_at
    assert entry.decoded("dtend") == event.ends_at


def test_24_00_is_midnight_too(client, sig, moderator, login, schedule):
    login(client, moderator)
    event = schedule(client, sig, day="14/01/2027", start="21:30", end="24:00")
    assert event.ends_at == datetime(2027, 1, 15, 0, tzinfo=UTC)


def test_an_event_from_midnight_to_midnight_lasts_the_day(client, sig, moderator, login, schedule):
    login(client, moderator)
    event = schedule(client, sig, day="14/01/2027", start="00:00", end="00:00")
    assert event.ends_at - event.starts_at == timedelta(days=1)


def test_changing_an_event_that_ends_at_midnight_shows_and_keeps_00_00(
    client, sig, moderator, login, schedule
):
    login(client, moderator)
    event = schedule(client, sig, day="30/10/2027", start="22:00", end="00:00")
    ends = event.ends_at
    form = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert _typed(form, "end_time") == "00:00" and _typed(form, "date") == "30/10/2027"
    assert _typed(form, "end_date") == ""  # midnight needs no end date
    response = client.post(
        f"/events/{event.id}/edit", data=form_for(day="30/10/2027", start="22:00", end="00:00")
    )
    assert response.status_code == 302
    db.session.refresh(event)
    assert event.ends_at == ends


@pytest.mark.parametrize("end", ["13:00", "14:00", "01:00"])
def test_an_end_before_the_start_is_refused_saying_what_to_enter(
    client, sig, moderator, login, end
):
    login(client, moderator)
    response = client.post(f"/spaces/{sig.slug}/events/new", data=form_for(start="14:00", end=end))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    summary = " ".join(page.split("There is a problem")[1].split("</ul>")[0].split())
    assert (
        '<a href="#end_time" > The event must end after it starts: enter an end time after '
        "14:00, 00:00 if it ends at midnight, or the day it ends as the end date </a>"
    ) in summary
    assert _typed(page, "end_time") == end and _typed(page, "start_time") == "14:00"
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_end_times_hint_says_how_to_end_at_midnight(client, sig, moderator, login):
    login(client, moderator)
    page = client.get(f"/spaces/{sig.slug}/events/new").get_data(as_text=True)
    assert "For example, 15:30. If it ends at midnight, enter 00:00" in page


def test_the_email_and_the_transcript_say_midnight(
    outbox, client, sig, moderator, member, login, schedule
):
    login(client, moderator)
    event = schedule(client, sig, day="14/01/2027", start="19:00", end="20:00")
    going = member("Ama Owusu")
    emails.set_email_frequency(going, EmailFrequency.immediate)
    rsvps.set_rsvp(going, event, RsvpStatus.going)

    client.post(
        f"/events/{event.id}/edit", data=form_for(day="14/01/2027", start="22:00", end="00:00")
    )

    (message,) = outbox.to(going.email)
    assert (
        "When: it was Thursday 14 January 2027, 19:00 to 20:00, and is now Thursday 14 January "
        "2027, 22:00 to midnight (UK time)."
    ) in message.text
    transcript = client.get(f"/events/{event.id}/transcript.md").get_data(as_text=True)
    assert "Thursday 14 January 2027, 22:00 to midnight (UK time)" in transcript


def test_the_help_page_says_how_to_end_at_midnight_or_on_a_later_day(client):
    page = client.get("/help/events").get_data(as_text=True)
    assert "For an event that ends at midnight, enter 00:00 (or 24:00) as its end time" in page
    assert "enter the day it ends as its <strong>End date</strong>" in page
