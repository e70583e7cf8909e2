"""Scheduling events and answering them (their calendar files: test_calendar_files.py)."""

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.events import rsvps, services
from peerlearn.events.models import Event, RsvpStatus
from peerlearn.extensions import db
from peerlearn.spaces.models import Visibility
from tests.concurrency import at_once, first_writes_meet
from tests.events.answers import attendees
from tests.events.conftest import form_for


def _events():
    return db.session.scalar(select(func.count()).select_from(Event))


def test_a_moderator_schedules_an_event_in_london_time(client, sig, moderator, login, schedule):
    login(client, moderator)
    event = schedule(client, sig, day="14/01/2027", start="14:00", end="15:30")
    assert event.starts_at == datetime(2027, 1, 14, 14, 0, tzinfo=UTC)  # GMT in winter
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Thursday 14 January 2027, 14:00" in page and "15:30" in page
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "event.created"))


@pytest.mark.parametrize(
    ("day", "start", "utc_hour"),
    [("28/10/2026", "14:00", 14), ("23/10/2026", "14:00", 13), ("02/11/2026", "14:00", 14)],
)
def test_times_are_right_on_both_sides_of_the_clock_change(
    client, sig, moderator, login, schedule, day, start, utc_hour
):
    login(client, moderator)
    event = schedule(client, sig, day=day, start=start, end="16:00")
    # Clocks went back on 25 October 2026: before it London is UTC+1, after it UTC+0.
    assert event.starts_at.hour == utc_hour
    calendar = Calendar.from_ical(client.get(f"/events/{event.id}/calendar.ics").data)
    (vevent,) = calendar.walk("VEVENT")
    assert vevent.decoded("dtstart") == event.starts_at


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"day": "31/02/2027"}, "date", "The date must be a real date, like 14/11/2026"),
        ({"day": "Tuesday"}, "date", "Enter the date in the format day/month/year"),
        ({"day": "31/12/9999"}, "date", "The date must be between 1 January 2000 and 31 December"),
        ({"day": "01/01/0001"}, "date", "The date must be between 1 January 2000 and 31 December"),
        ({"day": "31 December 1999"}, "date", "The date must be between 1 January 2000"),
        ({"start": "25:00"}, "start_time", "Enter a start time like 14:00"),
        ({"end": "13:00"}, "end_time", "The event must end after it starts"),
        (
            {"day": "28/03/2027", "start": "01:30", "end": "03:00"},
            "start_time",
            "the clocks go forward",
        ),
        (
            {"day": "31/10/2027", "start": "01:30", "end": "03:00"},
            "start_time",
            "01:30 happens twice on 31 October 2027 because the clocks go back",
        ),
        (
            {"day": "31/10/2027", "start": "00:30", "end": "01:00"},
            "end_time",
            "01:00 happens twice on 31 October 2027 because the clocks go back",
        ),
        (
            {"joining_url": "javascript:alert(1)"},
            "joining_url",
            "Enter a web address starting https://",
        ),
        (
            {"joining_url": "https://[meet.example.org/qms"},
            "joining_url",
            "Enter the web address in the correct format",
        ),
        (
            {"joining_url": "https://teams.microsoft.com@evil.example/join"},
            "joining_url",
            "Enter the web address without a name and @ before the website",
        ),
        ({"joining_url": "http://x y"}, "joining_url", "Enter the web address without spaces"),
        (
            {"joining_url": "https://teams/join"},
            "joining_url",
            "Enter a web address with a real website name",
        ),
        ({"joining_url": ""}, "joining_url", "Enter a joining link or a venue"),
        ({"capacity": "0"}, "capacity", "Places must be a number from 1 to 100,000"),
        ({"capacity": "1.5"}, "capacity", "Places must be a whole number, like 30"),
        ({"capacity": "1,000"}, "capacity", "Places must be a whole number, like 30"),
        ({"capacity": "thirty"}, "capacity", "Places must be a whole number, like 30"),
        ({"title": ""}, "title", "Enter a title"),
        ({"title": "   "}, "title", "Enter a title"),
    ],
)
def test_bad_event_details_are_explained_kept_and_not_saved(
    client, sig, moderator, login, fields, field, message
):
    login(client, moderator)
    data = form_for(**{k: v for k, v in fields.items() if k in {"day", "start", "end"}})
    data.update({k: v for k, v in fields.items() if k not in {"day", "start", "end"}})
    response = client.post(f"/spaces/{sig.slug}/events/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page and "Not a valid" not in page
    assert f'href="#{field}"' in page
    assert "What worked, and what did not." in page and f'value="{data["date"]}"' in page
    assert _events() == 0


def test_every_problem_with_an_event_is_told_in_one_round(client, sig, moderator, login):
    """The rules across fields (the end after the start, a place to meet) are told with every
    field's own problem, not only once the rest is right."""
    login(client, moderator)
    data = {**form_for(end="13:00"), "title": "", "joining_url": "", "capacity": "0"}
    page = client.post(f"/spaces/{sig.slug}/events/new", data=data).get_data(as_text=True)
    summary = page[
        page.index("There is a problem") : page.index("</ul>", page.index("There is a problem"))
    ]
    for field, message in [
        ("title", "Enter a title"),
        ("end_time", "The event must end after it starts"),
        ("joining_url", "Enter a joining link or a venue"),
        ("capacity", "Places must be a number from 1 to 100,000"),
    ]:
        assert f'href="#{field}"' in summary and message in summary, field
    assert f'value="{data["date"]}"' in page and 'value="13:00"' in page
    assert _events() == 0


def test_the_joining_link_is_shown_with_the_host_it_really_goes_to(
    client, sig, moderator, login, schedule, tomorrow
):
    """Even a link stored before links were checked as they are now, with a name and @ before
    the host: the page names where it goes, not what it seems to say."""
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, joining_url="https://www.meet.example.org/qms")
    assert "(goes to meet.example.org)" in client.get(f"/events/{event.id}").get_data(as_text=True)
    event.joining_url = "https://teams.microsoft.com@evil.example/join"
    db.session.commit()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "(goes to evil.example)" in page
    assert "(teams.microsoft.com@evil.example)" not in page


def _draft(**details) -> services.EventDraft:
    """What a moderator enters for an event in January 2030 (``details`` change it)."""
    return services.EventDraft(
        **{
            "title": "QMS huddle",
            "description": "",
            "starts_at": datetime(2030, 1, 14, 14, tzinfo=UTC),
            "ends_at": datetime(2030, 1, 14, 15, tzinfo=UTC),
            **details,
        }
    )


def test_the_service_refuses_a_joining_link_the_form_would(sig, moderator):
    draft = _draft(joining_url="https://teams.microsoft.com@evil.example/join")
    with pytest.raises(services.EventError, match="without a name and @") as refused:
        services.create_event(moderator, sig, draft)
    assert refused.value.field == "joining_url"
    assert _events() == 0


def test_events_can_be_dated_from_2000_to_the_end_of_the_year_ten_years_ahead(
    client, sig, moderator, login, schedule
):
    login(client, moderator)
    last = f"31/12/{utcnow().year + 10}"
    for day in ("01/01/2000", last):
        event = schedule(client, sig, day=day, start="22:00", end="23:59")
        assert client.get(f"/events/{event.id}").status_code == 200
        assert client.get(f"/events/{event.id}/calendar.ics").status_code == 200
    page = client.post(f"/spaces/{sig.slug}/events/new", data=form_for(day="01/01/2100"))
    assert f"The date must be between 1 January 2000 and 31 December {utcnow().year + 10}" in (
        page.get_data(as_text=True)
    )


def test_only_moderators_schedule_events(client, new_client, sig, member, login):
    login(client, member())
    assert client.get(f"/spaces/{sig.slug}/events/new").status_code == 403
    assert client.post(f"/spaces/{sig.slug}/events/new", data=form_for()).status_code == 403
    assert _events() == 0


def test_rsvp_respects_capacity_with_a_waiting_list(
    client, new_client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, capacity="1")
    first, second = new_client(), new_client()
    login(first, member("First Person"))
    login(second, member("Second Person"))
    first.post(f"/events/{event.id}/rsvp", data={"status": "going"})
    response = second.post(
        f"/events/{event.id}/rsvp", data={"status": "going"}, follow_redirects=True
    )
    assert "you are on the waiting list" in response.get_data(as_text=True)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "1 going of 1" in page and "1 on the waiting list" in page
    first.post(f"/events/{event.id}/rsvp", data={"status": "not-going"})
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "1 going of 1" in page and "waiting list" not in page.split("Who is going")[0]
    assert "Second Person" in page.split("Who is going")[1]


def test_someone_waiting_sees_where_they_are_on_the_waiting_list(
    client, new_client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, capacity="1")
    holder, first, second, third = (member(n) for n in ("Holder", "First", "Second", "Third"))
    for person in (holder, first, second, third):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    watching = new_client()
    login(watching, third)

    def said() -> str:
        page = watching.get(f"/events/{event.id}").get_data(as_text=True)
        return page.split("You answered: ")[1].split("</p>")[0]

    assert said() == "<strong>Going</strong>. You are <strong>3rd</strong> on the waiting list."
    rsvps.set_rsvp(holder, event, RsvpStatus.not_going)  # First is given the place
    assert "You are <strong>2nd</strong> on the waiting list." in said()
    rsvps.set_rsvp(second, event, RsvpStatus.interested)  # Second stops waiting
    assert said().endswith(
        "You are <strong>1st</strong> on the waiting list: the next place to come free is yours."
    )
    rsvps.set_rsvp(first, event, RsvpStatus.not_going)
    assert said() == "<strong>Going</strong>."  # a place, so no longer waiting


def _answer_at_once(app, event, answers):
    """Each ``(user, status)`` answered at the same moment, as concurrent requests would."""
    event_id = event.id

    def answer(user_id, status):
        user, event = db.session.get(User, user_id), db.session.get(Event, event_id)
        rsvps.set_rsvp(user, event, status)

    at_once(app, [lambda u=user.id, s=status: answer(u, s) for user, status in answers])


def _places(event):
    """Who has a place and who is waiting, each in the order they answered."""
    going, waiting = attendees(event)
    return [r.user.display_name for r in going], [r.user.display_name for r in waiting]


def test_answers_arriving_at_once_never_overbook_an_event(
    app, client, sig, moderator, member, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow, capacity="5")
    people = [member(f"Early {n}") for n in range(30)]
    _answer_at_once(app, event, [(person, RsvpStatus.going) for person in people])
    going, waiting = _places(event)
    assert len(going) == 5 and len(waiting) == 25
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "5 going of 5, 25 on the waiting list" in page

    # Everyone with a place gives it up while newcomers answer: each place goes to the person
    # who has waited longest, never to a newcomer, and never twice.
    newcomers = [member(f"Late {n}") for n in range(10)]
    _answer_at_once(
        app,
        event,
        [(person, RsvpStatus.not_going) for person in people if person.display_name in going]
        + [(person, RsvpStatus.going) for person in newcomers],
    )
    now_going, now_waiting = _places(event)
    assert now_going == waiting[:5]
    assert now_waiting[:20] == waiting[5:]
    assert sorted(now_waiting[20:]) == sorted(person.display_name for person in newcomers)


def test_members_only_may_answer_and_cancelled_events_take_no_answers(
    client, new_client, sig, moderator, member, make_user, login, schedule, tomorrow
):
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)
    outsider = new_client()
    login(outsider, make_user())
    assert outsider.post(f"/events/{event.id}/rsvp", data={"status": "going"}).status_code == 403
    assert "join the call" not in outsider.get(f"/events/{event.id}").get_data(as_text=True)
    client.post(f"/events/{event.id}/cancel")
    someone, someone_user = new_client(), member()
    login(someone, someone_user)
    response = someone.post(f"/events/{event.id}/rsvp", data={"status": "going"})
    assert response.status_code == 302  # told it was cancelled (tests/events/test_event_page.py)
    assert rsvps.rsvp_of(someone_user, event) is None
    assert "This event was cancelled" in someone.get(f"/events/{event.id}").get_data(as_text=True)


def test_private_space_events_stay_private(
    client, new_client, make_space, make_user, add_member, login, schedule, tomorrow
):
    private = make_space("Private group", visibility=Visibility.private)
    moderator = make_user()
    from peerlearn.spaces.models import MemberRole

    add_member(private, moderator, MemberRole.moderator)
    login(client, moderator)
    event = schedule(client, private, day=tomorrow, title="Private workshop")
    outsider = new_client()
    login(outsider, make_user())
    assert outsider.get(f"/events/{event.id}").status_code == 404
    assert outsider.get(f"/events/{event.id}/calendar.ics").status_code == 404
    assert "Private workshop" not in outsider.get("/events").get_data(as_text=True)
    assert "Private workshop" in client.get("/events").get_data(as_text=True)


def test_rsvp_status_labels_read_naturally():
    assert [s.label for s in RsvpStatus] == ["Going", "Interested", "Not going"]


def test_the_same_scheduling_form_sent_twice_schedules_one_event(
    client, sig, moderator, login, tomorrow
):
    """A double click, or a resend after a lost response: the form's one-time key is the same."""
    login(client, moderator)
    form = client.get(f"/spaces/{sig.slug}/events/new").get_data(as_text=True)
    key = form.split('name="submission_key" type="hidden" value="')[1].split('"')[0]
    assert 'data-prevent-double-click="true"' in form
    data = form_for(day=tomorrow, submission_key=key)
    first = client.post(f"/spaces/{sig.slug}/events/new", data=data)
    second = client.post(f"/spaces/{sig.slug}/events/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _events() == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "event.created")
        )
        == 1
    )
    another = form_for(day=tomorrow, submission_key="another form, shown again")
    assert client.post(f"/spaces/{sig.slug}/events/new", data=another).status_code == 302
    assert _events() == 2  # a form shown afresh schedules another, even with the same details


def test_the_same_scheduling_form_sent_twice_at_once_schedules_one_event(app, sig, moderator):
    """Both sendings looked for an event made with the key before either stored one."""
    space_id, moderator_id = sig.id, moderator.id
    scheduled = []

    def send() -> None:
        draft = _draft(venue="Leeds", submission_key="one form")
        actor = db.session.get(User, moderator_id)
        space = db.session.get(type(sig), space_id)
        scheduled.append(services.create_event(actor, space, draft).id)

    with first_writes_meet("INSERT INTO events", before=True):
        at_once(app, [send, send])
    assert _events() == 1
    assert len(set(scheduled)) == 1


def test_the_joining_link_box_asks_browsers_not_to_fill_in_the_moderators_own_address(
    client, sig, moderator, login, schedule, tomorrow
):
    """A joining link is the meeting's address, not the moderator's own homepage (autocomplete's
    ``url`` purpose, WCAG 1.3.5), and a link offered from an earlier event would be the wrong
    meeting."""
    login(client, moderator)
    event = schedule(client, sig, day=tomorrow)
    for path in (f"/spaces/{sig.slug}/events/new", f"/events/{event.id}/edit"):
        page = client.get(path).get_data(as_text=True)
        box = re.search(r'<input[^>]* name="joining_url"[^>]*>', page).group(0)
        assert 'autocomplete="off"' in box and 'autocomplete="url"' not in box
