"""Property: search never exposes what the reader may not open — not a result, not a word of a
snippet, not a count — with the permission policy's single-item check (``can``) as the oracle.

Hypothesis builds small random networks: spaces of every visibility (some archived), readers
with every standing (none, member, moderator, requested, invited, banned, administrator,
anonymous), threads (some hidden, some moved), replies (some hidden, some removed), opening
posts hidden or removed, events, library resources (links and case studies; shared with the
space, the network or the public; OFFICIAL or OFFICIAL-SENSITIVE; some shared by a reader, some
reported as patient-identifiable information, hidden by a moderator or restored, some removed),
and a space whose visibility changes after its content was indexed. After indexing, too,
resources are edited to another visibility or classification (their old summary becomes nobody's
to read), and readers' memberships change (an uploader may have left or been banned). All
content is written through the services, so the index is whatever their signals made of it.
Every piece of text carries a unique token; every token a reader sees in a title or snippet must
belong to something they may open, and the results and the counts per kind must be exactly the
matching things they may open. One property builds networks holding everything; a second builds
libraries only, whose examples are cheaper, so it can afford more of them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from flask_login import AnonymousUserMixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from peerlearn.accounts.models import SiteRole, User
from peerlearn.core.db import utcnow
from peerlearn.discussions import removal
from peerlearn.discussions import services as discussions
from peerlearn.discussions.services import ThreadDraft
from peerlearn.events import services as events
from peerlearn.events.services import EventDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.permissions import Action, can, signed_in
from peerlearn.resources import case_studies, drafts, engagement, reports
from peerlearn.resources import services as library
from peerlearn.resources.models import (
    CaseStudySectionName,
    Classification,
    Licence,
    Resource,
    ResourceFlagReason,
    ResourceKind,
    ResourceType,
    ResourceVisibility,
)
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
from tests.databases import empty_tables

WORD = "zebra"  # in every piece of text, so one search matches everything
TOKEN = re.compile(r"tok[a-z]+q")
STANDINGS = [None, "member", "moderator", "requested", "invited", "banned"]

#: Whom a resource is shared with: an audience (narrowed to what its space allows), or marked
#: OFFICIAL-SENSITIVE, which is for its space's members only.
SHARING = [*ResourceVisibility, Classification.official_sensitive]

resource_spec = st.fixed_dictionaries(
    {
        "case_study": st.booleans(),
        "shared": st.sampled_from(SHARING),
        # Shared by a reader (by index; the space's owner when there is no such reader).
        "by": st.none() | st.integers(0, 2),
        "hidden": st.sampled_from(["no", "reported", "hidden", "restored"]),
        # Discussed (where it may be) before anything else happens to it: its thread names it.
        "discussed": st.booleans(),
        # After indexing: shared differently (an edit), or removed.
        "then": st.none() | st.sampled_from([*SHARING, "removed"]),
    }
)
post_spec = st.fixed_dictionaries({"hidden": st.booleans(), "removed": st.booleans()})
thread_spec = st.fixed_dictionaries(
    {
        "hidden": st.booleans(),
        "opening": st.sampled_from(["shown", "hidden", "removed"]),
        "replies": st.lists(post_spec, max_size=2),
        "move_to": st.none() | st.integers(0, 2),
    }
)


def networks(
    threads: st.SearchStrategy[list],
    event: st.SearchStrategy[bool],
    resources: st.SearchStrategy[list],
) -> st.SearchStrategy[dict]:
    """Random networks: spaces holding this content, and readers with a standing in each."""
    space_spec = st.fixed_dictionaries(
        {
            "visibility": st.sampled_from(list(Visibility)),
            "archived": st.booleans(),
            "threads": threads,
            "event": event,
            "resources": resources,
            "becomes": st.none() | st.sampled_from(list(Visibility)),
        }
    )
    return st.fixed_dictionaries(
        {
            "spaces": st.lists(space_spec, min_size=1, max_size=3),
            # Per reader, a standing in each space (by index; extra entries are ignored).
            "readers": st.lists(
                st.tuples(
                    st.booleans(), st.lists(st.sampled_from(STANDINGS), min_size=3, max_size=3)
                ),
                min_size=1,
                max_size=3,
            ),
        }
    )


#: Everything search finds, side by side.
network_spec = networks(
    st.lists(thread_spec, max_size=2), st.booleans(), st.lists(resource_spec, max_size=2)
)
#: Libraries only: cheaper examples, so more of them, for the library's many settings.
library_spec = networks(
    st.just([]), st.just(False), st.lists(resource_spec, min_size=1, max_size=3)
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


def set_standing(space: Space, user: User, standing: str | None) -> None:
    """Give the user this standing in the space (None: no membership), whatever they had."""
    membership = db.session.scalar(
        select(Membership).where(Membership.space_id == space.id, Membership.user_id == user.id)
    )
    if standing is None:
        if membership is not None:
            db.session.delete(membership)
        return
    if membership is None:
        membership = Membership(space=space, user=user)
        db.session.add(membership)
    active = standing in {"member", "moderator"}
    membership.role = MemberRole.moderator if standing == "moderator" else MemberRole.member
    membership.state = MemberState.active if active else MemberState(standing)


def resource_draft(
    space: Space,
    case_study: bool,
    title: str,
    summary: str,
    shared: ResourceVisibility | Classification,
) -> library.ResourceDraft:
    """A draft the library accepts in this space: never wider than the space, and
    OFFICIAL-SENSITIVE only for its members."""
    if shared is Classification.official_sensitive:
        visibility, classification = ResourceVisibility.space, Classification.official_sensitive
    else:
        choices = drafts.visibility_choices(space)
        visibility = shared if shared in choices else choices[-1]
        classification = Classification.official
    return library.ResourceDraft(
        title, ResourceType.case_study if case_study else ResourceType.guide, Licence.ogl_3,
        visibility, classification, pii_declared=True, summary=summary,
        link_url=None if case_study else "https://www.england.nhs.uk/nhsimpact/",
    )  # fmt: skip


def share(
    net: Network, space: Space, uploader: User, moderator: User, reporter: User, spec: dict
) -> Resource:
    """Share a link or case study through the library's services, then report, hide or restore
    it as the spec says."""
    if uploader is not moderator:
        set_standing(space, uploader, "member")  # who shares may post there (for now)
    title, summary = net.token("resource"), net.token("resource")
    draft = resource_draft(
        space, spec["case_study"], f"{WORD} {title}", f"{WORD} {summary}", spec["shared"]
    )
    if spec["case_study"]:
        section = net.token("resource")
        sections = dict.fromkeys(case_studies.REQUIRED, WORD)
        sections[CaseStudySectionName.results] = f"{WORD} {section}"
        resource = case_studies.create_case_study(uploader, space, draft, sections)
        net.owners[section] = ("resource", resource)
    else:
        resource = library.create_resource(uploader, space, draft)
    net.owners[title] = net.owners[summary] = ("resource", resource)
    if spec["discussed"] and engagement.can_be_discussed(resource):
        # The thread's title and opening post carry the resource's title: the oracle asks
        # whether the reader may open the resource for those words too.
        engagement.discussion_for(moderator, resource)
    if spec["hidden"] in {"reported", "restored"}:
        reports.flag_resource(reporter, resource, ResourceFlagReason.patient_information)
    if spec["hidden"] == "hidden":
        reports.set_resource_hidden(moderator, resource, True)
    elif spec["hidden"] == "restored":
        reports.dismiss_flags(moderator, resource)
    return resource


def build(spec: dict) -> tuple[Network, list[Space], list[object]]:
    net = Network()
    owner = net.user("Owner", admin=False)
    reporter = net.user("Reporter")
    readers = [
        net.user(f"Reader {number}", admin=admin)
        for number, (admin, _) in enumerate(spec["readers"])
    ]
    made: list[Space] = []
    shared: list[tuple[Resource, dict]] = []
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
                    removal.delete_post(owner, post)
            if thread_spec["opening"] == "hidden":
                moderation.set_post_hidden(owner, opening, True)
            elif thread_spec["opening"] == "removed":
                removal.delete_post(owner, opening)
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
        for resource_spec in space_spec["resources"]:
            by = resource_spec["by"]
            uploader = readers[by] if by is not None and by < len(readers) else owner
            resource = share(net, space, uploader, owner, reporter, resource_spec)
            shared.append((resource, resource_spec))
    # After the content is indexed: edit and remove resources, archive, change visibility,
    # change memberships.
    for resource, resource_spec in shared:
        then = resource_spec["then"]
        if then == "removed":
            library.delete_resource(owner, resource)
        elif then is not None:
            for old in TOKEN.findall(resource.summary_source):
                net.owners[old] = ("gone", resource)
            summary = net.token("resource")
            draft = resource_draft(
                resource.space, resource.kind is ResourceKind.case_study, resource.title,
                f"{WORD} {summary}", then,
            )  # fmt: skip
            library.update_resource(owner, resource, draft)
            net.owners[summary] = ("resource", resource)
    for space, space_spec in zip(made, spec["spaces"], strict=True):
        if space_spec["becomes"] is not None:
            data = spaces.SpaceData(
                space.name, space.summary, "", space_spec["becomes"], JoinPolicy.open
            )
            spaces.update_space(owner, space, data)
        if space_spec["archived"]:
            spaces.set_archived(owner, space, True)
    for reader, (_, standings) in zip(readers, spec["readers"], strict=True):
        for space, standing in zip(made, standings, strict=False):
            set_standing(space, reader, standing)
        db.session.commit()
    # The owner moderates every space (and shared some resources); the reporter is an outsider.
    return net, made, [AnonymousUserMixin(), owner, reporter, *readers]


def thread_posts(thread):
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
    if kind == "gone":
        return False  # words an edit took out are nobody's to read any more
    if kind == "post":
        # A removed post is a placeholder: its words are nobody's to read.
        return can(reader, Action.view, thing) and thing.deleted_at is None  # type: ignore[attr-defined]
    return can(reader, Action.view, thing)


def expected_results(reader: object, net: Network, made: list[Space]) -> set[tuple[str, int]]:
    """Everything matching WORD the reader may open."""
    from peerlearn.discussions.models import Post, Thread
    from peerlearn.events.models import Event

    found: set[tuple[str, int]] = set()
    for space in made:
        if may_read(reader, "space", space):
            found.add(("space", space.id))
    for thread in db.session.scalars(select(Thread)):
        # Every thread's title has WORD, except a removed resource's renamed discussion.
        if WORD in thread.title and can(reader, Action.view, thread):
            found.add(("thread", thread.id))
    for post in db.session.scalars(select(Post).where(Post.root_id.is_not(None))):
        if may_read(reader, "post", post):
            found.add(("post", post.id))
    for event in db.session.scalars(select(Event)):
        if can(reader, Action.view, event):
            found.add(("event", event.id))
    for resource in db.session.scalars(select(Resource)):
        # As the resource's page asks (``visible_or_404``).
        if can(reader, Action.view, resource):
            found.add(("resource", resource.id))
    return found


def check_search(app, spec: dict) -> None:
    """Build the network, then search as each reader and compare with the oracle."""
    db.session.rollback()
    empty_tables(app)
    net, made, readers = build(spec)
    for reader in readers:
        db.session.expire_all()
        results = search(reader, WORD, per_page=200)
        shown = {(result.kind.value, result.target.id) for result in results}
        expected = expected_results(reader, net, made)
        assert shown == expected, reader
        assert results.total == len(shown)
        counts = {kind.value: count for kind, count in results.counts.items()}
        assert counts == Counter(kind for kind, _ in expected), reader
        for result in results:
            seen = TOKEN.findall(str(result.title) + " " + str(result.snippet.text))
            for token in seen:
                kind, thing = net.owners[token]
                assert may_read(reader, kind, thing), (token, kind, thing, reader)


def examples(count: int) -> settings:
    """Hypothesis settings for a property over ``count`` random networks."""
    return settings(
        max_examples=count,
        deadline=None,
        database=None,  # no example database written into the worktree
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@examples(12)
@given(spec=network_spec)
def test_search_never_shows_what_the_reader_cannot_open(app, spec) -> None:
    check_search(app, spec)


@examples(20)
@given(spec=library_spec)
def test_search_never_shows_a_resource_the_reader_cannot_open(app, spec) -> None:
    check_search(app, spec)
