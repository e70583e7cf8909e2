"""Fixtures for event tests: a group with a moderator, and scheduling through the real form."""

import re
from datetime import timedelta

import pytest

from peerlearn.core.db import utcnow
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.spaces.models import MemberRole


@pytest.fixture
def sig(make_space):
    return make_space("Quality Management Systems")


@pytest.fixture
def moderator(sig, make_user, add_member):
    user = make_user("Kwame Mensah")
    add_member(sig, user, MemberRole.moderator)
    return user


@pytest.fixture
def member(sig, make_user, add_member):
    def make(name=None):
        user = make_user(name)
        add_member(sig, user)
        return user

    return make


def form_for(day: str = "14/01/2027", start: str = "14:00", end: str = "15:30", **extra) -> dict:
    return {
        "title": "QMS in practice: learning from Lancashire and South Cumbria",
        "description": "What worked, and what did not.",
        "date": day,
        "start_time": start,
        "end_time": end,
        "joining_url": "https://meet.example.org/qms",
        **extra,
    }


@pytest.fixture
def schedule():
    """Schedule an event through the form as the signed-in client; returns the Event."""

    def make(client, space, **fields):
        response = client.post(f"/spaces/{space.slug}/events/new", data=form_for(**fields))
        assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
        event_id = int(re.search(r"/events/(\d+)", response.headers["Location"]).group(1))
        return db.session.get(Event, event_id)

    return make


@pytest.fixture
def tomorrow() -> str:
    return f"{utcnow() + timedelta(days=1):%d/%m/%Y}"


@pytest.fixture
def live_event(sig, moderator):
    """An event starting in ten minutes: its chat is open."""
    event = Event(
        space=sig,
        created_by=moderator,
        title="QMS in practice",
        starts_at=utcnow() + timedelta(minutes=10),
        ends_at=utcnow() + timedelta(minutes=100),
        joining_url="https://meet.example.org/qms",
    )
    db.session.add(event)
    db.session.commit()
    return event


@pytest.fixture
def chatter(new_client, login, connect_socket):
    """A signed-in member's socket on /live."""

    def connect(user):
        client = new_client()
        login(client, user)
        socket = connect_socket(client, namespace="/live")
        assert socket.is_connected("/live")
        return socket

    return connect


@pytest.fixture(autouse=True)
def fresh_presence(app):
    """Each test starts with nobody present (the suite's app lives across tests)."""
    app.extensions.pop("peerlearn_presence", None)


@pytest.fixture
def said(live_event, member):
    """A message from a member in the open chat (reported in the chat-report tests)."""
    from peerlearn.events import chat

    author = member("Ada Author")
    message, _ = chat.post_message(author, live_event, "Mrs Smith, NHS number 943 476 5919", "m1")
    return message
