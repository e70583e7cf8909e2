"""The event page's list of who is going, and its waiting list, show a page of people at a time
(with how many there are in all), with the pager every other list has, and cost the same number
of statements for hundreds of people as for a few."""

import re
from datetime import timedelta

import pytest

from peerlearn.core.db import utcnow
from peerlearn.events.models import Rsvp, RsvpStatus
from peerlearn.events.rsvps import PEOPLE_PER_PAGE
from peerlearn.extensions import db
from tests.discussions.test_query_counts import counting_statements
from tests.events.test_space_feeds import _event


def _answered(event, make_user, going, waiting=0, prefix=""):
    """``going`` people with a place and then ``waiting`` on the waiting list, a minute apart,
    named in that order ("Going 1", …, "Waiting 1", …)."""
    first = utcnow() - timedelta(days=1)
    names = [f"{prefix}Going {n}" for n in range(1, going + 1)]
    names += [f"{prefix}Waiting {n}" for n in range(1, waiting + 1)]
    people = [make_user(name) for name in names]
    for n, person in enumerate(people):
        db.session.add(
            Rsvp(
                event_id=event.id,
                user_id=person.id,
                status=RsvpStatus.going,
                waitlisted=n >= going,
                created_at=first + timedelta(minutes=n),
            )
        )
    db.session.commit()
    return people


def _section(page):
    return page.split('<h2 id="going">Who is going</h2>')[1].split("<h2")[0]


def _names(section, word):
    return [int(n) for n in re.findall(rf">{word} (\d+)<", section)]


@pytest.fixture
def reader(client, sig, member, login):
    person = member("Ama Owusu")
    login(client, person)
    return person


def test_who_is_going_is_shown_a_page_at_a_time_with_everyone_counted(
    client, sig, reader, make_user
):
    event = _event(sig)
    _answered(event, make_user, going=2 * PEOPLE_PER_PAGE + 1)

    first = _section(client.get(f"/events/{event.id}").get_data(as_text=True))
    assert "101 people are going, in the order they said so. This is page 1 of 3." in first
    assert _names(first, "Going") == list(range(1, 51))
    assert 'aria-label="Pages of people going"' in first
    assert 'href="?going=2#going"' in first and "Page 2 of 3" in first
    assert "Previous" not in first

    last = _section(client.get(f"/events/{event.id}?going=3").get_data(as_text=True))
    assert _names(last, "Going") == [101]
    assert 'href="?going=2#going"' in last and "Next" not in last
    # The count of places above says the same.
    assert "101 going; 0 interested" in client.get(f"/events/{event.id}?going=3").get_data(
        as_text=True
    )

    beyond = _section(client.get(f"/events/{event.id}?going=9").get_data(as_text=True))
    assert _names(beyond, "Going") == [101]  # the last page, for a page past it


def test_a_short_list_has_no_pager(client, sig, reader, make_user):
    event = _event(sig)
    _answered(event, make_user, going=3)
    section = _section(client.get(f"/events/{event.id}").get_data(as_text=True))
    assert "3 people are going, in the order they said so.</p>" in section
    assert _names(section, "Going") == [1, 2, 3]
    assert "nhsuk-pagination" not in section


def test_the_waiting_list_is_numbered_across_its_pages(
    client, new_client, sig, member, login, make_user
):
    event = _event(sig, capacity=2)
    people = _answered(event, make_user, going=2, waiting=PEOPLE_PER_PAGE + 5)
    waiting_53rd = people[2 + 52]
    sig_member = member()  # the page's reader must be able to attend
    login(client, sig_member)

    page = client.get(f"/events/{event.id}?waiting=2&going=1").get_data(as_text=True)
    section = _section(page)
    assert _names(section, "Going") == [1, 2]  # the other list keeps its own page
    waiting = section.split('<h3 id="waiting">Waiting list</h3>')[1]
    assert "55 people are on the waiting list, in the order places come to them. " in waiting
    assert "This is page 2 of 2." in waiting
    assert '<ol class="nhsuk-list nhsuk-list--number" start="51">' in waiting
    assert _names(waiting, "Waiting") == [51, 52, 53, 54, 55]
    assert 'href="?waiting=1&amp;going=1#waiting"' in waiting

    # Whoever is waiting is told where they are, wherever on the list's pages they are.
    theirs = new_client()
    login(theirs, waiting_53rd)
    page = theirs.get(f"/events/{event.id}").get_data(as_text=True)
    assert "You are <strong>53rd</strong> on the waiting list." in page


def test_the_event_page_sends_as_many_statements_for_hundreds_going_as_for_a_few(
    app, client, sig, reader, make_user
):
    few, many = _event(sig, capacity=3), _event(sig, capacity=150)
    _answered(few, make_user, going=3, waiting=2, prefix="Few ")
    _answered(many, make_user, going=150, waiting=120, prefix="Many ")
    counted = {}
    for event in (few, many):
        client.get(f"/events/{event.id}")  # the session's first reads (last seen, …)
        with counting_statements(app) as statements:
            page = client.get(f"/events/{event.id}").get_data(as_text=True)
        counted[event.id] = len(statements)
        assert len(re.findall(r">(?:Few|Many) Going \d+<", page)) <= PEOPLE_PER_PAGE
        # The answers are counted once, for the places and both lists' pagers alike.
        assert sum("count(" in s.lower() and "rsvps" in s for s in statements) == 1
    assert counted[few.id] == counted[many.id]


def test_the_help_page_says_how_the_lists_are_paged(client):
    page = client.get("/help/events").get_data(as_text=True)
    assert f"{PEOPLE_PER_PAGE} people at a time, with how many there are in all" in page
