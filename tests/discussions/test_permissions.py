"""The permission policy for threads and posts, role by role: who may read, reply, edit, delete,
report, mark helpful or solved, and moderate, in each kind of space and in each state a thread or
post can be in; the list filters agreeing with the single-item check; and the same rules seen
through HTTP."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from peerlearn.core.db import utcnow
from peerlearn.discussions import reading, services
from peerlearn.discussions.models import Post, Thread, ThreadKind
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.permissions import can, post_filter, thread_filter
from peerlearn.spaces.models import MemberRole, MemberState, Space, Visibility

ROLES = [
    "anonymous",
    "outsider",  # signed in, no membership
    "requested",
    "invited",
    "member",
    "moderator",
    "owner",
    "banned",
    "admin",  # network administrator with no membership
]
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
ACTIVE = {"member", "moderator", "owner"}
WRITERS = ACTIVE | {"admin"}
MODERATORS = {"moderator", "owner", "admin"}
NOBODY: set[str] = set()

STATES = {
    "requested": (MemberRole.member, MemberState.requested),
    "invited": (MemberRole.member, MemberState.invited),
    "member": (MemberRole.member, MemberState.active),
    "moderator": (MemberRole.moderator, MemberState.active),
    "owner": (MemberRole.owner, MemberState.active),
    "banned": (MemberRole.member, MemberState.banned),
}

#: visibility -> thread -> action -> roles allowed, in a live space. "question" was asked by
#: another member; "own question" by the actor (when signed in, whatever their standing now).
THREADS: dict[str, dict[str, dict[str, set[str]]]] = {
    "public": {
        "question": {
            "view": EVERYONE,
            "list": EVERYONE,
            "post": WRITERS,
            "moderate": MODERATORS,
            "mark_solved": MODERATORS,
        },
        "own question": {"post": WRITERS, "mark_solved": WRITERS},
        "discussion": {"post": WRITERS, "mark_solved": NOBODY},
    },
    "network": {
        "question": {
            "view": SIGNED_IN - {"banned"},
            "list": SIGNED_IN - {"banned"},
            "post": WRITERS,
            "moderate": MODERATORS,
            "mark_solved": MODERATORS,
        },
        "own question": {"post": WRITERS, "mark_solved": WRITERS},
        "discussion": {"post": WRITERS, "mark_solved": NOBODY},
    },
    "private": {
        "question": {
            "view": WRITERS,
            "list": WRITERS,
            "post": WRITERS,
            "moderate": MODERATORS,
            "mark_solved": MODERATORS,
        },
        "own question": {"post": WRITERS, "mark_solved": WRITERS},
        "discussion": {"post": WRITERS, "mark_solved": NOBODY},
    },
}

#: visibility -> post -> action -> roles allowed, in a live question thread asked by another
#: member. "post" is replying to that post.
POSTS: dict[str, dict[str, dict[str, set[str]]]] = {
    "public": {
        "reply by another": {
            "view": EVERYONE,
            "post": WRITERS,
            "edit": MODERATORS,
            "delete": MODERATORS,
            "flag": SIGNED_IN,
            "mark_helpful": WRITERS,
            "mark_solved": MODERATORS,
            "moderate": MODERATORS,
        },
        "own reply": {
            "view": EVERYONE,
            "post": WRITERS,
            "edit": WRITERS,
            "delete": WRITERS,
            "flag": NOBODY,
            "mark_helpful": NOBODY,
            "mark_solved": MODERATORS,
            "moderate": MODERATORS,
        },
        "opening post": {"mark_solved": NOBODY},  # the question is never its own answer
        "reply to own question": {"mark_solved": WRITERS},
    },
    "network": {
        "reply by another": {
            "view": SIGNED_IN - {"banned"},
            "post": WRITERS,
            "edit": MODERATORS,
            "delete": MODERATORS,
            "flag": SIGNED_IN - {"banned"},
            "mark_helpful": WRITERS,
            "mark_solved": MODERATORS,
            "moderate": MODERATORS,
        },
        "own reply": {
            "view": SIGNED_IN - {"banned"},
            "post": WRITERS,
            "edit": WRITERS,
            "delete": WRITERS,
            "flag": NOBODY,
            "mark_helpful": NOBODY,
            "mark_solved": MODERATORS,
            "moderate": MODERATORS,
        },
        "opening post": {"mark_solved": NOBODY},
        "reply to own question": {"mark_solved": WRITERS},
    },
    "private": {
        "reply by another": {
            "view": WRITERS,
            "post": WRITERS,
            "edit": MODERATORS,
            "delete": MODERATORS,
            "flag": WRITERS,
            "mark_helpful": WRITERS,
            "mark_solved": MODERATORS,
            "moderate": MODERATORS,
        },
        "own reply": {
            "view": WRITERS,
            "post": WRITERS,
            "edit": WRITERS,
            "delete": WRITERS,
            "flag": NOBODY,
            "mark_helpful": NOBODY,
            "mark_solved": MODERATORS,
            "moderate": MODERATORS,
        },
        "opening post": {"mark_solved": NOBODY},
        "reply to own question": {"mark_solved": WRITERS},
    },
}

#: A locked thread in a public space: only moderators reply, and members cannot edit in it.
LOCKED = {
    "question": {"view": EVERYONE, "post": MODERATORS, "moderate": MODERATORS},
    "reply by another": {
        "view": EVERYONE,
        "post": MODERATORS,
        "edit": MODERATORS,
        "delete": MODERATORS,
        "flag": SIGNED_IN,
        "mark_helpful": WRITERS,
    },
    "own reply": {"edit": MODERATORS, "delete": WRITERS},
}

#: A hidden thread in a public space: only its moderators see it; nobody replies to it.
HIDDEN_THREAD = {
    "question": {
        "view": MODERATORS,
        "list": MODERATORS,
        "post": NOBODY,
        "moderate": MODERATORS,
        "mark_solved": MODERATORS,
    },
    "reply by another": {"view": MODERATORS, "post": NOBODY, "edit": MODERATORS},
    "own reply": {"view": MODERATORS, "post": NOBODY},
}

#: A hidden post in a public space: a placeholder for everyone but moderators, and nobody may act
#: on it except to moderate it (to restore it).
HIDDEN_POST = {
    "reply by another": {
        "view": MODERATORS,
        "post": NOBODY,
        "edit": NOBODY,
        "delete": NOBODY,
        "flag": NOBODY,
        "mark_helpful": NOBODY,
        "mark_solved": NOBODY,
        "moderate": MODERATORS,
    },
    "own reply": {
        "view": MODERATORS,
        "post": NOBODY,
        "edit": NOBODY,
        "delete": NOBODY,
        "mark_solved": NOBODY,
        "moderate": MODERATORS,
    },
}

#: A deleted post in a public space: everyone who reads the thread sees its placeholder.
DELETED_POST = {
    "reply by another": {
        "view": EVERYONE,
        "post": NOBODY,
        "edit": NOBODY,
        "delete": NOBODY,
        "flag": NOBODY,
        "mark_helpful": NOBODY,
        "mark_solved": NOBODY,
        "moderate": MODERATORS,
    },
    "own reply": {
        "view": EVERYONE,
        "post": NOBODY,
        "edit": NOBODY,
        "delete": NOBODY,
        "moderate": MODERATORS,
    },
}

#: visibility -> target -> action -> roles allowed in an archived space: reading is as before
#: archiving, and nobody writes, reports or moderates.
ARCHIVED: dict[str, dict[str, dict[str, set[str]]]] = {
    "public": {
        "question": {"view": EVERYONE, "post": NOBODY, "moderate": NOBODY, "mark_solved": NOBODY},
        "own question": {"post": NOBODY, "mark_solved": NOBODY},
        "reply by another": {
            "view": EVERYONE,
            "post": NOBODY,
            "edit": NOBODY,
            "delete": NOBODY,
            "flag": NOBODY,
            "mark_helpful": NOBODY,
            "mark_solved": NOBODY,
            "moderate": NOBODY,
        },
        "own reply": {"edit": NOBODY, "delete": NOBODY},
    },
    "network": {
        "question": {
            "view": SIGNED_IN - {"banned"},
            "post": NOBODY,
            "moderate": NOBODY,
            "mark_solved": NOBODY,
        },
        "own question": {"post": NOBODY, "mark_solved": NOBODY},
        "reply by another": {
            "view": SIGNED_IN - {"banned"},
            "post": NOBODY,
            "edit": NOBODY,
            "delete": NOBODY,
            "flag": NOBODY,
            "mark_helpful": NOBODY,
            "mark_solved": NOBODY,
            "moderate": NOBODY,
        },
        "own reply": {"edit": NOBODY, "delete": NOBODY},
    },
    "private": {
        "question": {"view": WRITERS, "post": NOBODY, "moderate": NOBODY, "mark_solved": NOBODY},
        "own question": {"post": NOBODY, "mark_solved": NOBODY},
        "reply by another": {
            "view": WRITERS,
            "post": NOBODY,
            "edit": NOBODY,
            "delete": NOBODY,
            "flag": NOBODY,
            "mark_helpful": NOBODY,
            "mark_solved": NOBODY,
            "moderate": NOBODY,
        },
        "own reply": {"edit": NOBODY, "delete": NOBODY},
    },
}


@dataclass
class Scene:
    """A space, an actor with some standing in it, and the threads and posts around them."""

    space: Space
    actor: object
    targets: dict[str, object]


@pytest.fixture
def person_in(make_user, add_member):
    """The actor for a role in a space: anonymous, or a user with that standing."""

    def make(role: str, space: Space):
        if role == "anonymous":
            return AnonymousUserMixin()
        user = make_user(f"A {role}", admin=role == "admin")
        if role in STATES:
            member_role, state = STATES[role]
            add_member(space, user, member_role, state)
        return user

    return make


@pytest.fixture
def scene(make_space, make_user, add_member, person_in):
    """Build a scene: a question by a member with a reply by another, a discussion, and, for a
    signed-in actor, a reply and a question of their own (written before their present standing:
    people leave, get banned or ask to rejoin after posting)."""

    def build(role: str, visibility: Visibility = Visibility.public) -> Scene:
        space = make_space(visibility=visibility)
        actor = person_in(role, space)
        asker, replier = make_user("Asha Asker"), make_user("Ravi Replier")
        add_member(space, asker)
        add_member(space, replier)
        question, _ = services.start_thread(
            asker, space, ThreadDraft("How do you run a huddle?", "Tips?", ThreadKind.question)
        )
        discussion, _ = services.start_thread(asker, space, ThreadDraft("Huddle boards", "Ours."))
        reply, _ = services.reply(replier, question, "Ten minutes, standing up.")
        targets: dict[str, object] = {
            "question": question,
            "discussion": discussion,
            "opening post": reading.opening_post(question),
            "reply by another": reply,
        }
        if role != "anonymous":
            targets["own reply"], _ = services.reply(actor, question, "Same time every day.")
            own, _ = services.start_thread(
                actor, space, ThreadDraft("Which measures?", "For flow.", ThreadKind.question)
            )
            targets["own question"] = own
            targets["reply to own question"], _ = services.reply(replier, own, "Time to bed.")
        return Scene(space, actor, targets)

    return build


def compare(scene: Scene, role: str, table: dict[str, dict[str, set[str]]]):
    """What the policy says and what the table says, keyed "<action> <target>", for every
    target the scene has (an anonymous visitor has no posts of their own)."""
    actual, expected = {}, {}
    for name, actions in table.items():
        if name not in scene.targets:
            continue
        for action, roles in actions.items():
            key = f"{action} {name}"
            actual[key] = can(scene.actor, action, scene.targets[name])
            expected[key] = role in roles
    return actual, expected


def by_role_and_visibility(table):
    return [(visibility, role) for visibility in table for role in ROLES]


# The tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("visibility", "role"), by_role_and_visibility(THREADS))
def test_thread_table(visibility, role, scene):
    world = scene(role, Visibility(visibility))
    actual, expected = compare(world, role, THREADS[visibility])
    assert actual == expected


@pytest.mark.parametrize(("visibility", "role"), by_role_and_visibility(POSTS))
def test_post_table(visibility, role, scene):
    world = scene(role, Visibility(visibility))
    actual, expected = compare(world, role, POSTS[visibility])
    assert actual == expected


@pytest.mark.parametrize("role", ROLES)
def test_locked_thread_only_moderators_reply(role, scene):
    world = scene(role)
    owner = world.space.memberships[0].user
    moderation.set_thread_flag(owner, world.targets["question"], "locked", True)
    actual, expected = compare(world, role, LOCKED)
    assert actual == expected


@pytest.mark.parametrize("role", ROLES)
def test_hidden_thread_only_moderators_see_it(role, scene):
    world = scene(role)
    owner = world.space.memberships[0].user
    moderation.set_thread_flag(owner, world.targets["question"], "hidden", True)
    actual, expected = compare(world, role, HIDDEN_THREAD)
    assert actual == expected


@pytest.mark.parametrize("role", ROLES)
def test_hidden_post_is_a_placeholder_for_all_but_moderators(role, scene):
    world = scene(role)
    moderator = world.space.memberships[0].user
    moderation.set_post_hidden(moderator, world.targets["reply by another"], True)
    if "own reply" in world.targets:
        moderation.set_post_hidden(moderator, world.targets["own reply"], True)
    actual, expected = compare(world, role, HIDDEN_POST)
    assert actual == expected


@pytest.mark.parametrize("role", ROLES)
def test_deleted_post_takes_no_more_replies_edits_marks_or_reports(role, scene):
    world = scene(role)
    reply = world.targets["reply by another"]
    services.delete_post(reply.author, reply)
    if "own reply" in world.targets:
        own = world.targets["own reply"]
        services.delete_post(own.author, own)
    actual, expected = compare(world, role, DELETED_POST)
    assert actual == expected


@pytest.mark.parametrize(("visibility", "role"), by_role_and_visibility(ARCHIVED))
def test_archived_space_nobody_writes(visibility, role, scene):
    world = scene(role, Visibility(visibility))
    world.space.archived_at = utcnow()
    db.session.commit()
    actual, expected = compare(world, role, ARCHIVED[visibility])
    assert actual == expected


#: In an archived space of any visibility, what moderators hid stays visible to them (reading is
#: as before archiving), and nobody can reply to it or restore it.
ARCHIVED_HIDDEN = {
    "hidden thread": {"view": MODERATORS, "list": MODERATORS, "post": NOBODY},
    "hidden reply": {"view": MODERATORS, "moderate": NOBODY},
}


@pytest.mark.parametrize(("visibility", "role"), by_role_and_visibility(ARCHIVED))
def test_archived_space_moderators_still_see_what_they_hid(visibility, role, scene):
    world = scene(role, Visibility(visibility))
    owner = world.space.memberships[0].user
    hidden, _ = services.start_thread(owner, world.space, ThreadDraft("Hidden one", "Text"))
    moderation.set_thread_flag(owner, hidden, "hidden", True)
    hidden_reply, _ = services.reply(owner, world.targets["question"], "To be hidden")
    moderation.set_post_hidden(owner, hidden_reply, True)
    world.targets |= {"hidden thread": hidden, "hidden reply": hidden_reply}
    world.space.archived_at = utcnow()
    db.session.commit()
    actual, expected = compare(world, role, ARCHIVED_HIDDEN)
    assert actual == expected


def test_deactivated_accounts_count_as_anonymous(scene, make_user, add_member):
    world = scene("anonymous", Visibility.private)
    user = make_user(active=False)
    add_member(world.space, user, MemberRole.owner)
    for target in ("question", "reply by another"):
        for action in ("view", "post", "moderate"):
            assert can(user, action, world.targets[target]) is False, (action, target)


# The list filters agree with the single-item check ---------------------------------------------


def test_list_filters_agree_with_single_item_check(make_space, make_user, add_member):
    """One world with threads and posts in every state in every kind of space, and every kind of
    actor: the SQL filters used by lists contain exactly what the single-item check allows."""
    spaces = [
        make_space(visibility=visibility, archived=False)
        for visibility, _ in itertools.product(Visibility, (False, True))
    ]
    for space in spaces:
        author = space.memberships[0].user
        for state in ("open", "question", "locked", "pinned", "hidden"):
            kind = ThreadKind.question if state == "question" else ThreadKind.discussion
            thread, _ = services.start_thread(author, space, ThreadDraft(state, "Body", kind))
            live, _ = services.reply(author, thread, "A live reply")
            services.reply(author, thread, "A nested reply", parent=live)
            deleted, _ = services.reply(author, thread, "A deleted reply")
            services.delete_post(author, deleted)
            hidden, _ = services.reply(author, thread, "A hidden reply")
            moderation.set_post_hidden(author, hidden, True)
            if state in {"locked", "pinned", "hidden"}:
                moderation.set_thread_flag(author, thread, state, True)
    for space in spaces[1::2]:  # every visibility both live and archived
        space.archived_at = utcnow()
    db.session.commit()

    actors: list[object] = [AnonymousUserMixin(), make_user("Admin", admin=True)]
    for role, (member_role, state) in STATES.items():
        # Two people per standing: one holds it in the live spaces, one in the archived ones.
        for half in (spaces[0::2], spaces[1::2]):
            user = make_user(f"Someone {role}")
            for space in half:
                add_member(space, user, member_role, state)
            actors.append(user)
    actors.append(make_user("Outsider"))
    former = make_user("Deactivated moderator", active=False)
    for space in spaces:
        add_member(space, former, MemberRole.moderator)
    actors.append(former)

    threads = db.session.scalars(select(Thread)).all()
    posts = db.session.scalars(select(Post)).all()
    assert len(threads) == 30 and len(posts) == 150
    disagreements = []
    for actor in actors:
        listed = set(db.session.scalars(select(Thread.id).where(thread_filter(actor))))
        allowed = {thread.id for thread in threads if can(actor, "view", thread)}
        disagreements += _describe(actor, listed, allowed, threads)
        listed = set(db.session.scalars(select(Post.id).where(post_filter(actor))))
        allowed = {post.id for post in posts if can(actor, "view", post)}
        disagreements += _describe(actor, listed, allowed, posts)
    assert not disagreements, "\n".join(disagreements)


def _describe(actor, listed: set[int], allowed: set[int], items) -> list[str]:
    """One line per item the filter and the single-item check disagree on."""
    lines = []
    for item in items:
        if (item.id in listed) == (item.id in allowed):
            continue
        thread = item if isinstance(item, Thread) else item.thread
        what = "the thread" if item is thread else f"post {item.body_source!r} in"
        where = f"{thread.space.visibility.value}{' archived' if thread.space.archived else ''}"
        who = getattr(actor, "display_name", "anonymous")
        side = "only the filter" if item.id in listed else "only can()"
        lines.append(f"{who}: {what} {thread.title!r} ({where}) is allowed by {side}")
    return lines


# The same rules through HTTP -------------------------------------------------------------------


def _count_posts() -> int:
    return db.session.scalar(select(func.count()).select_from(Post))


@pytest.fixture
def private_thread(make_space):
    """A thread in a private space, by its owner."""
    space = make_space("Private network leads", visibility=Visibility.private)
    thread, _ = services.start_thread(
        space.memberships[0].user, space, ThreadDraft("Confidential board paper", "Do not share.")
    )
    return thread


def test_non_members_get_not_found_for_a_private_thread(client, private_thread, make_user, login):
    login(client, make_user())
    assert client.get(f"/threads/{private_thread.id}").status_code == 404
    assert client.get(f"/threads/{private_thread.id}/reply").status_code == 404
    response = client.post(f"/threads/{private_thread.id}/reply", data={"body": "Let me in"})
    assert response.status_code == 404
    assert _count_posts() == 1
    assert "Confidential board paper" not in client.get("/threads").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in_for_a_private_thread(client, private_thread):
    response = client.get(f"/threads/{private_thread.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_anonymous_visitors_read_public_threads_but_cannot_reply(client, make_space):
    space = make_space(visibility=Visibility.public)
    thread, _ = services.start_thread(
        space.memberships[0].user, space, ThreadDraft("Open to all", "Read me.")
    )
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Read me." in page
    assert "Sign in</a> to reply" in page
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Drive-by"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _count_posts() == 1


def test_banned_members_cannot_reply(client, make_space, make_user, add_member, login):
    space = make_space(visibility=Visibility.public)
    thread, _ = services.start_thread(
        space.memberships[0].user, space, ThreadDraft("Open to all", "Read me.")
    )
    banned = make_user("Barry Banned")
    add_member(space, banned, MemberRole.member, MemberState.banned)
    login(client, banned)
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Post reply" not in page
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "I'm back"})
    assert response.status_code == 403
    assert _count_posts() == 1


def test_members_cannot_act_on_others_posts_beyond_their_rights(
    client, sig, member, login, start_thread, post_reply, new_client
):
    author, other = member("Aisha Author"), member("Omar Other")
    login(client, author)
    thread = start_thread(client, sig)
    reply = post_reply(client, thread, body="My own reply")
    assert client.post(f"/posts/{reply.id}/helpful").status_code == 403  # own post
    assert client.get(f"/posts/{reply.id}/report").status_code == 403  # own post
    browser = new_client()
    login(browser, other)
    assert browser.get(f"/posts/{reply.id}/edit").status_code == 403
    assert browser.post(f"/posts/{reply.id}/edit", data={"body": "Hijacked"}).status_code == 403
    assert browser.post(f"/posts/{reply.id}/delete").status_code == 403
    assert browser.post(f"/posts/{reply.id}/moderate", data={"action": "hide"}).status_code == 403
    db.session.expire_all()
    stored = db.session.get(Post, reply.id)
    assert stored.body_source == "My own reply"
    assert stored.deleted_at is None and stored.hidden_at is None


def test_reply_page_never_shows_a_post_the_reader_cannot_see(
    client, sig, member, login, start_thread, private_thread
):
    """The post being replied to is shown above the form: only if the reader may see it."""
    login(client, member())
    thread = start_thread(client, sig)
    secret = reading.opening_post(private_thread)
    page = client.get(f"/threads/{thread.id}/reply?to={secret.id}").get_data(as_text=True)
    assert "Do not share." not in page


def test_a_refused_reply_never_shows_a_post_the_reader_cannot_see(
    client, sig, member, login, start_thread, private_thread
):
    login(client, member())
    thread = start_thread(client, sig)
    secret = reading.opening_post(private_thread)
    response = client.post(
        f"/threads/{thread.id}/reply", data={"body": "Replying", "parent_id": str(secret.id)}
    )
    assert "Do not share." not in response.get_data(as_text=True)
    assert _count_posts() == 2  # the two opening posts
