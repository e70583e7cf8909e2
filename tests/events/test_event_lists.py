"""The lists of events, everyone's and a space's: a page past the last says there are no more
and links to the first, keeping which events (upcoming or past) were listed."""

from datetime import timedelta

import pytest

from peerlearn.core.db import utcnow
from peerlearn.events.models import Event
from peerlearn.extensions import db

LISTS = ["/events", "/spaces/{slug}/events"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("beyond", "first_page"), [("?page=50", "?"), ("?when=past&page=50", "?when=past")]
)
def test_a_page_past_the_last_shows_the_last(
    client, sig, moderator, login, path, beyond, first_page
):
    days = -2 if "past" in beyond else 2
    db.session.add(Event(space=sig, created_by=moderator, title="QMS huddle", venue="Leeds",
                         starts_at=utcnow() + timedelta(days=days),
                         ends_at=utcnow() + timedelta(days=days, hours=1)))  # fmt: skip
    db.session.commit()
    login(client, moderator)
    url = path.format(slug=sig.slug)

    page = client.get(url + beyond).get_data(as_text=True)

    assert "QMS huddle" in page
    assert "no upcoming events" not in page.lower() and "no past events" not in page.lower()


@pytest.mark.parametrize("path", LISTS)
def test_with_no_events_at_all_the_list_says_so(client, sig, moderator, login, path):
    login(client, moderator)
    page = client.get(path.format(slug=sig.slug) + "?page=50").get_data(as_text=True)
    assert "no upcoming events" in page.lower()


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("venue", "joining_url", "shown"),
    [
        ("Leeds", None, "Leeds."),
        (None, "https://meet.example.org/qms", "Online."),
        ("Leeds", "https://meet.example.org/qms", "Leeds, and online."),
    ],
)
def test_each_event_says_where_it_happens(
    client, sig, moderator, login, path, venue, joining_url, shown
):
    db.session.add(Event(space=sig, created_by=moderator, title="QMS huddle", venue=venue,
                         joining_url=joining_url, starts_at=utcnow() + timedelta(days=2),
                         ends_at=utcnow() + timedelta(days=2, hours=1)))  # fmt: skip
    db.session.commit()
    login(client, moderator)
    page = client.get(path.format(slug=sig.slug)).get_data(as_text=True)
    row = " ".join(page.split("QMS huddle")[1].split("</li>")[0].split())
    assert f" {shown} " in row


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/events", "Events"),
        ("/events?when=past", "Past events"),
        ("/spaces/{slug}/events", "Events in Quality Management Systems"),
        ("/spaces/{slug}/events?when=past", "Past events in Quality Management Systems"),
    ],
)
def test_each_list_has_a_title_of_its_own(client, sig, moderator, login, path, title):
    """The page's title says which events it lists, as its heading does (WCAG 2.4.2)."""
    login(client, moderator)
    page = client.get(path.format(slug=sig.slug)).get_data(as_text=True)
    assert f"<title>{title} – peerlearn</title>" in page
