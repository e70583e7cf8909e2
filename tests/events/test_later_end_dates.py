"""An event can end on a later day (an evening session past midnight, a two-day conference): the
form's optional end date, stored in UTC across the clock changes, shown with its date, offered
again when the event is changed, and refused with what to enter when it is before the date or
more than a fortnight after it, with what was typed kept."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from peerlearn.core.db import utcnow
from peerlearn.events.models import Event
from peerlearn.extensions import db
from tests.accounts.pages import Page
from tests.events.conftest import form_for

#: The form's fields for when the event happens.
WHEN = ("date", "start_time", "end_time", "end_date")


def test_an_evening_past_midnight_ends_the_next_day_and_is_saved_again_unchanged(
    client, sig, moderator, login, schedule
):
    login(client, moderator)
    event = schedule(
        client, sig, day="14/01/2027", start="22:00", end="01:30", end_date="15/01/2027"
    )
    assert (event.starts_at, event.ends_at) == (
        datetime(2027, 1, 14, 22, tzinfo=UTC),
        datetime(2027, 1, 15, 1, 30, tzinfo=UTC),
    )
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    when = page.split(">When</dt>")[1].split("</dd>")[0]
    assert "Thursday 14 January 2027, 22:00</time>" in when
    assert ">Friday 15 January 2027, 01:30</time>" in when

    fields = Page(client.get(f"/events/{event.id}/edit")).values
    assert [fields[name] for name in WHEN] == ["14/01/2027", "22:00", "01:30", "15/01/2027"]
    again = client.post(
        f"/events/{event.id}/edit",
        data=form_for(day=fields["date"], start=fields["start_time"], end=fields["end_time"],
                      end_date=fields["end_date"]),
    )  # fmt: skip
    assert again.status_code == 302
    db.session.refresh(event)
    assert event.ends_at == datetime(2027, 1, 15, 1, 30, tzinfo=UTC)


def test_a_two_day_conference_spans_the_clocks_going_back(client, sig, moderator, login, schedule):
    login(client, moderator)
    # British Summer Time ends at 02:00 on Sunday 31 October 2027.
    event = schedule(
        client, sig, day="30/10/2027", start="09:00", end="17:00", end_date="31/10/2027"
    )
    assert (event.starts_at, event.ends_at) == (
        datetime(2027, 10, 30, 8, tzinfo=UTC),
        datetime(2027, 10, 31, 17, tzinfo=UTC),
    )


@pytest.mark.parametrize("end", ["00:00", "24:00"])
def test_midnight_with_an_end_date_is_the_end_of_that_day_and_is_offered_again_so(
    client, sig, moderator, login, schedule, end
):
    login(client, moderator)
    event = schedule(client, sig, day="14/01/2027", start="09:00", end=end, end_date="15/01/2027")
    assert event.ends_at == datetime(2027, 1, 16, 0, tzinfo=UTC)
    fields = Page(client.get(f"/events/{event.id}/edit")).values
    assert (fields["end_date"], fields["end_time"]) == ("15/01/2027", "00:00")
    again = client.post(
        f"/events/{event.id}/edit",
        data=form_for(day="14/01/2027", start="09:00", end="00:00", end_date="15/01/2027"),
    )
    assert again.status_code == 302
    db.session.refresh(event)
    assert event.ends_at == datetime(2027, 1, 16, 0, tzinfo=UTC)


def test_an_end_date_the_same_as_the_date_is_an_event_on_one_day(
    client, sig, moderator, login, schedule
):
    login(client, moderator)
    event = schedule(
        client, sig, day="14/01/2027", start="14:00", end="00:00", end_date="14/01/2027"
    )
    assert event.ends_at == datetime(2027, 1, 15, 0, tzinfo=UTC)  # 00:00 is still midnight
    assert Page(client.get(f"/events/{event.id}/edit")).values["end_date"] == ""


@pytest.mark.parametrize(
    ("end_date", "problem"),
    [
        ("13/01/2027", "The end date must be the day the event starts, 14 January 2027, or a later day"),
        ("29/01/2027", "An event can end at most 14 days after the day it starts: enter an end "
                       "date no later than 28 January 2027"),
        ("31/02/2027", "The end date must be a real date, like 14/11/2026"),
        ("the 3rd", "Enter the end date in the format day/month/year, like 14/11/2026"),
        ("31/12/9999", "The end date must be between 1 January 2000 and 31 December "
                       f"{utcnow().year + 10}"),
    ],
)  # fmt: skip
def test_an_end_date_that_cannot_be_is_refused_saying_what_to_enter(
    client, sig, moderator, login, end_date, problem
):
    login(client, moderator)
    response = client.post(
        f"/spaces/{sig.slug}/events/new",
        data=form_for(day="14/01/2027", start="22:00", end="01:00", end_date=end_date),
    )
    page = Page(response)
    assert page.status == 200
    assert page.summary_has(problem, "end_date"), page.summary
    assert (page.values["end_date"], page.values["end_time"]) == (end_date, "01:00")
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
