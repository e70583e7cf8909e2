"""The permission policy for threads and posts, role by role: who may read, reply, edit, delete,
report, mark helpful or solved, and moderate, in each kind of space and in each state a thread or
post can be in; the list filters agreeing with the single-item check; and the same rules seen
through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions import reading, removal, services
from peerlearn.discussions.models import ThreadKind
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.permissions import can
from peerlearn.spaces.models import MemberRole, Membership, MemberState, Space, Visibility
from peerlearn.spaces.services import get_membership
from tests.roles import ACTIVE, EVERYONE, ROLES, SIGNED_IN

WRITERS = ACTIVE | {"admin"}
MODERATORS = {"moderator", "owner", "admin"}
NOBODY: set[str] = set()


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
            with posting_before(space, actor):
                targets["own reply"], _ = services.reply(actor, question, "Same time every day.")
                own, _ = services.start_thread(
                    actor, space, ThreadDraft("Which measures?", "For flow.", ThreadKind.question)
                )
            targets["own question"] = own
            targets["reply to own question"], _ = services.reply(replier, own, "Time to bed.")
        return Scene(space, actor, targets)

    return build


@contextmanager
def posting_before(space: Space, actor: User) -> Iterator[None]:
    """Let ``actor`` post as an active member, then give them back the standing they have now
    (the services ask who may post once they hold the space, so the posts come first)."""
    membership = get_membership(space, actor)
    standing = (membership.role, membership.state) if membership is not None else None
    if membership is None:
        membership = Membership(space=space, user=actor)
        db.session.add(membership)
    membership.role, membership.state = MemberRole.member, MemberState.active
    db.session.commit()
    yield
    if standing is None:
        db.session.delete(membership)
    else:
        membership.role, membership.state = standing
    db.session.commit()


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
    removal.delete_post(reply.author, reply)
    if "own reply" in world.targets:
        own = world.targets["own reply"]
        with posting_before(world.space, own.author):  # removed before their present standing
            removal.delete_post(own.author, own)
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
