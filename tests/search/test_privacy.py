"""Property: search never exposes what the reader may not open — not a result, not a word of a
snippet, not a count — with the permission policy's single-item check (``can``) as the oracle.

Hypothesis builds small random networks: spaces of every visibility (some archived), readers
with every standing (none, member, moderator, requested, invited, banned, administrator,
anonymous), threads (some hidden, some moved), replies (some hidden, some removed), opening
posts hidden or removed, events, and a space whose visibility changes after its content was
indexed. All content is written through the services, so the index is whatever their signals
made of it. Every piece of text carries a unique token; every token a reader sees in a title
or snippet must belong to something they may open, and the results must be exactly the
matching things they may open.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask_login import AnonymousUserMixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerlearn.accounts.models import SiteRole, User
from peerlearn.core.db import utcnow
from peerlearn.discussions import services as discussions
from peerlearn.discussions.services import ThreadDraft
from peerlearn.events import services as events
from peerlearn.events.services import EventDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.permissions import Action, can, signed_in
from peerlearn.search.services import search
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    SpaceKind,
    Visibility,
)
from tests.conftest import _empty_tables

WORD = "zebra"  # in every piece of text, so one search matches everything
TOKEN = re.compile(r"tok[a-z]+q")
STANDINGS = [None, "member", "moderator", "requested", "invited", "banned"]

post_spec = st.fixed_dictionaries({"hidden": st.booleans(), "removed": st.booleans()})
thread_spec = st.fixed_dictionaries(
    {
        "hidden": st.booleans(),
        "opening": st.sampled_from(["shown", "hidden", "removed"]),
        "replies": st.lists(post_spec, max_size=2),
        "move_to": st.none() | st.integers(0, 2),
    }
)
space_spec = st.fixed_dictionaries(
    {
        "visibility": st.sampled_from(list(Visibility)),
        "archived": st.booleans(),
        "threads": st.lists(thread_spec, max_size=2),
        "event": st.booleans(),
        "becomes": st.none() | st.sampled_from(list(Visibility)),
    }
)
network_spec = st.fixed_dictionaries(
    {
        "spaces": st.lists(space_spec, min_size=1, max_size=3),
        # Per reader, a standing in each space (by index; extra entries are ignored).
        "readers": st.lists(
            st.tuples(st.booleans(), st.lists(st.sampled_from(STANDINGS), min_size=3, max_size=3)),
            min_size=1,
            max_size=3,
        ),
    }
)


def _letters(number: int) -> str:
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


class Network:
    """Builds the random network; remembers which token came from which thing."""

    def __init__(self) -> None:
        self.count = 0
        #: token → (kind of check, the thing)
        self.owners: dict[str, tuple[str, object]] = {}

    def token(self, kind: str, thing: object | None = None) -> str:
        token = f"tok{_letters(self.count)}q"
        self.count += 1
        self.owners[token] = (kind, thing)
        return token

    def user(self, name: str, admin: bool = False) -> User:
        number = self.count
        self.count += 1
        user = User(
            email=f"user{number}@trust.nhs.uk", handle=f"user-{_letters(number)}",
            display_name=name, password_hash="x", email_confirmed_at=utcnow(),
            site_role=SiteRole.admin if admin else SiteRole.member,
        )  # fmt: skip
        db.session.add(user)
        db.session.commit()
        return user


def build(spec: dict) -> tuple[Network, list[Space], list[object]]:
    net = Network()
    owner = net.user("Owner", admin=False)
    made: list[Space] = []
    for index, space_spec in enumerate(spec["spaces"]):
        summary_token = net.token("space-summary")
        data = spaces.SpaceData(
            f"{WORD} group {index}", f"{WORD} {summary_token}", f"{WORD} description",
            space_spec["visibility"], JoinPolicy.open,
        )  # fmt: skip
        space = spaces.create_space(owner, data, slug=f"g{index}", kind=SpaceKind.community)
        net.owners[summary_token] = ("space", space)
        made.append(space)
    for space, space_spec in zip(made, spec["spaces"], strict=True):
        for thread_spec in space_spec["threads"]:
            title, body = net.token("thread"), net.token("opening")
            thread, _ = discussions.start_thread(
                owner, space, ThreadDraft(f"{WORD} {title}", f"{WORD} {body}")
            )
            net.owners[title] = ("thread", thread)
            opening = thread_posts(thread)[0]
            net.owners[body] = ("post", opening)
            for reply_spec in thread_spec["replies"]:
                token = net.token("post")
                post, _ = discussions.reply(owner, thread, f"{WORD} {token}")
                net.owners[token] = ("post", post)
                if reply_spec["hidden"]:
                    moderation.set_post_hidden(owner, post, True)
                if reply_spec["removed"]:
                    discussions.delete_post(owner, post)
            if thread_spec["opening"] == "hidden":
                moderation.set_post_hidden(owner, opening, True)
            elif thread_spec["opening"] == "removed":
                discussions.delete_post(owner, opening)
            if thread_spec["hidden"]:
                moderation.set_thread_flag(owner, thread, "hidden", True)
            target = thread_spec["move_to"]
            if target is not None and target < len(made) and made[target] is not space:
                moderation.move_thread(owner, thread, made[target])
        if space_spec["event"]:
            title = net.token("event")
            starts = utcnow() + timedelta(days=2)
            event = events.create_event(
                owner, space,
                EventDraft(f"{WORD} {title}", f"{WORD}", starts, starts + timedelta(hours=1),
                           venue="Leeds"),
            )  # fmt: skip
            net.owners[title] = ("event", event)
    # After the content is indexed: archive, change visibility.
    for space, space_spec in zip(made, spec["spaces"], strict=True):
        if space_spec["becomes"] is not None:
            data = spaces.SpaceData(
                space.name, space.summary, "", space_spec["becomes"], JoinPolicy.open
            )
            spaces.update_space(owner, space, data)
        if space_spec["archived"]:
            spaces.set_archived(owner, space, True)
    readers: list[object] = [AnonymousUserMixin()]
    for number, (admin, standings) in enumerate(spec["readers"]):
        reader = net.user(f"Reader {number}", admin=admin)
        for space, standing in zip(made, standings, strict=False):
            if standing is None:
                continue
            role = MemberRole.moderator if standing == "moderator" else MemberRole.member
            active = standing in {"member", "moderator"}
            state = MemberState.active if active else MemberState(standing)
            db.session.add(Membership(space=space, user=reader, role=role, state=state))
        db.session.commit()
        readers.append(reader)
    return net, made, readers


def thread_posts(thread):
    from sqlalchemy import select

    from peerlearn.discussions.models import Post

    return list(
        db.session.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.id))
    )


def may_read(reader: object, kind: str, thing: object) -> bool:
    """The oracle: may the reader open this thing and read this text of it?"""
    if kind == "space":
        return can(reader, Action.list, thing)
    if kind == "person":
        return signed_in(reader) is not None
    if kind == "post":
        # A removed post is a placeholder: its words are nobody's to read.
        return can(reader, Action.view, thing) and thing.deleted_at is None  # type: ignore[attr-defined]
    return can(reader, Action.view, thing)


def expected_results(reader: object, net: Network, made: list[Space]) -> set[tuple[str, int]]:
    """Everything matching WORD the reader may open."""
    from sqlalchemy import select

    from peerlearn.discussions.models import Post, Thread
    from peerlearn.events.models import Event

    found: set[tuple[str, int]] = set()
    for space in made:
        if may_read(reader, "space", space):
            found.add(("space", space.id))
    for thread in db.session.scalars(select(Thread)):
        if can(reader, Action.view, thread):
            found.add(("thread", thread.id))
    for post in db.session.scalars(select(Post).where(Post.root_id.is_not(None))):
        if may_read(reader, "post", post):
            found.add(("post", post.id))
    for event in db.session.scalars(select(Event)):
        if can(reader, Action.view, event):
            found.add(("event", event.id))
    return found


@settings(
    max_examples=12,
    deadline=None,
    database=None,  # no example database written into the worktree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=network_spec)
def test_search_never_shows_what_the_reader_cannot_open(app, spec) -> None:
    db.session.rollback()
    _empty_tables(app)
    net, made, readers = build(spec)
    for reader in readers:
        db.session.expire_all()
        results = search(reader, WORD, per_page=200)
        shown = {(result.kind.value, result.target.id) for result in results}
        assert shown == expected_results(reader, net, made), reader
        assert results.total == len(shown)
        assert sum(results.counts.values()) == results.total
        for result in results:
            seen = TOKEN.findall(str(result.title) + " " + str(result.snippet.text))
            for token in seen:
                kind, thing = net.owners[token]
                assert may_read(reader, kind, thing), (token, kind, thing, reader)
