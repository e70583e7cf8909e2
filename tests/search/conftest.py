"""Fixtures for search tests: content written through the real services (so the index follows
their signals), and a ``find`` helper that searches as someone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from peerlearn.core.db import utcnow
from peerlearn.discussions import services as discussions
from peerlearn.discussions.services import ThreadDraft
from peerlearn.events import services as events
from peerlearn.events.services import EventDraft
from peerlearn.search.services import Filters, search
from peerlearn.spaces.models import MemberRole

ANONYMOUS = AnonymousUserMixin()


@pytest.fixture
def sig(make_space):
    """An open, network-visible special interest group."""
    return make_space("Quality Management Systems")


@pytest.fixture
def member(sig, make_user, add_member):
    """Make a member of a space (the QMS SIG unless told otherwise)."""

    def make(name=None, space=None, role=MemberRole.member, **kwargs):
        user = make_user(name, **kwargs)
        add_member(space or sig, user, role)
        return user

    return make


@pytest.fixture
def author(member):
    return member("Aisha Khan", role=MemberRole.moderator)


@pytest.fixture
def new_thread(sig, author):
    """Start a thread through the discussions service."""

    def start(title="Board reporting", body="How do you report?", space=None, by=None, **draft):
        thread, _ = discussions.start_thread(
            by or author, space or sig, ThreadDraft(title, body, **draft)
        )
        return thread

    return start


@pytest.fixture
def new_reply(author):
    def make(thread, body, by=None):
        post, _ = discussions.reply(by or author, thread, body)
        return post

    return make


@pytest.fixture
def new_event(sig, author):
    def make(title="QMS in practice", description="What worked.", space=None, **extra):
        starts = utcnow() + timedelta(days=3)
        draft = EventDraft(
            title,
            description,
            starts,
            starts + timedelta(hours=1),
            joining_url="https://meet.example.org/qms",
            **extra,
        )
        return events.create_event(author, space or sig, draft)

    return make


@pytest.fixture
def find():
    """What a search shows someone: ``[(kind, id), …]`` in rank order."""

    def run(user, text, **filters):
        results = search(user or ANONYMOUS, text, Filters(**filters), per_page=100)
        return [(result.kind.value, result.target.id) for result in results]

    return run
