"""Fixtures for discussion tests: a space with members, and helpers that post through the forms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions import services
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.spaces.models import MemberRole
from tests.discussions.moderation_helpers import (
    Discussion,
)


@pytest.fixture
def sig(make_space):
    """An open, network-visible special interest group."""
    return make_space("Quality Management Systems")


@pytest.fixture
def member(sig, make_user, add_member):
    """Make a member of a space (the QMS SIG unless told otherwise)."""

    def make(name=None, space=None, role=MemberRole.member, **kwargs):
        # Established accounts by default: brand-new ones meet the stricter posting limit.
        kwargs.setdefault("created_at", utcnow() - timedelta(days=30))
        user = make_user(name, **kwargs)
        add_member(space or sig, user, role)
        return user

    return make


@pytest.fixture
def people(sig, member):
    """Four members of the QMS SIG, by role in the story: asker, replier, follower, bystander."""
    return {name: member(name) for name in ("Asker", "Replier", "Follower", "Bystander")}


@pytest.fixture
def start_thread(login):
    """Start a thread through the real form; returns the Thread."""

    def start(
        client,
        space,
        title="How did you set up your QMS board reporting?",
        body="Asking for a friend.",
        **extra,
    ):
        data = {"title": title, "body": body, "kind": "discussion", **extra}
        response = client.post(f"/spaces/{space.slug}/threads/new", data=data)
        assert response.status_code == 302, re.sub(
            r"\s+",
            " ",
            re.sub(r"<[^>]+>", " ", response.get_data(as_text=True).split("maincontent")[-1]),
        )[:1500]
        thread_id = int(re.search(r"/threads/(\d+)", response.headers["Location"]).group(1))
        return db.session.get(Thread, thread_id)

    return start


@pytest.fixture
def post_reply():
    """Reply through the real form; returns the Post."""

    def reply(client, thread, body="Thanks, that helps.", to=None, **extra):
        data = {"body": body, **extra}
        if to is not None:
            data["parent_id"] = str(to.id)
        response = client.post(f"/threads/{thread.id}/reply", data=data)
        assert response.status_code == 302, re.sub(
            r"\s+",
            " ",
            re.sub(r"<[^>]+>", " ", response.get_data(as_text=True).split("maincontent")[-1]),
        )[:1500]
        post_id = int(re.search(r"/posts/(\d+)", response.headers["Location"]).group(1))
        db.session.expire_all()
        return db.session.get(Post, post_id)

    return reply


@pytest.fixture
def replied_to_the_asker(client, new_client, sig, people, login, start_thread, post_reply):
    """The asker (signed in on ``client``) starts "Board assurance" and the replier replies
    with ``body``; returns the thread and the reply."""

    def reply(body):
        login(client, people["Asker"])
        thread = start_thread(client, sig, title="Board assurance")
        other = new_client()
        login(other, people["Replier"])
        return thread, post_reply(other, thread, body=body)

    return reply


@pytest.fixture
def browser(new_client, login):
    """A browser signed in as someone."""

    def open_as(user: User):
        client = new_client()
        login(client, user)
        return client

    return open_as


@pytest.fixture
def discussion(sig, member) -> Discussion:
    author, replier, reader = member("Aisha Khan"), member("Tom Reid"), member("Priya Shah")
    moderator = member("Kwame Mensah", role=MemberRole.moderator)
    thread, _ = services.start_thread(
        author, sig, ThreadDraft("Weekly huddles that work", "How long are yours?")
    )
    reply, _ = services.reply(replier, thread, "Ten minutes, at the board, same time daily.")
    return Discussion(sig, thread, reply, author, replier, reader, moderator)
