"""The permission policy for questions in an event's live Q&A, role by role (the roles of
tests/roles.py): who may see, vote for, remove and mark a question, in each kind of space and in
each state a question can be in (open, dismissed, removed; asked by someone else or by the actor);
in a cancelled event and an archived space; and the list filter and the live room's check agreeing
with the single-question answer. The socket events asking these rules are in
test_question_removal.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.core.text import render_markdown
from peerlearn.events.models import Event, Question, QuestionStatus
from peerlearn.extensions import db
from peerlearn.permissions import can, question_filter, question_readers
from peerlearn.spaces.models import Space, Visibility
from tests.events.chat_helpers import event_on_now
from tests.roles import ACTIVE, EVERYONE, ROLES, SIGNED_IN

WRITERS = ACTIVE | {"admin"}
MODERATORS = {"moderator", "owner", "admin"}
NOBODY: set[str] = set()
#: A removed question, whoever asked it: shown to nobody, and nobody may act on it.
REMOVED = {"view": NOBODY, "vote": NOBODY, "delete": NOBODY, "moderate": NOBODY}


def _table(readers: set[str]) -> dict[str, dict[str, set[str]]]:
    """question -> action -> roles allowed in a live event, for a space whose events ``readers``
    may see."""
    return {
        "asked by another": {
            "view": readers,
            "vote": WRITERS,
            "delete": MODERATORS,
            "moderate": MODERATORS,
        },
        "own": {"view": readers, "vote": WRITERS, "delete": WRITERS, "moderate": MODERATORS},
        "dismissed, asked by another": {
            "view": MODERATORS,
            "vote": NOBODY,
            "delete": MODERATORS,
            "moderate": MODERATORS,
        },
        # Its asker still sees it (marked dismissed) and may withdraw it.
        "own, dismissed": {
            "view": readers,
            "vote": NOBODY,
            "delete": WRITERS,
            "moderate": MODERATORS,
        },
        "removed, asked by another": REMOVED,
        "own, removed": REMOVED,
    }


#: visibility -> question -> action -> roles allowed, in a live event.
QUESTIONS = {
    "public": _table(EVERYONE),
    "network": _table(SIGNED_IN - {"banned"}),
    "private": _table(WRITERS),
}

#: A cancelled event in a network space: nobody votes any more, but askers may still withdraw
#: their questions and moderators still remove and mark them.
CANCELLED = {
    "asked by another": {"vote": NOBODY, "delete": MODERATORS, "moderate": MODERATORS},
    "own": {"vote": NOBODY, "delete": WRITERS},
    "own, dismissed": {"view": SIGNED_IN - {"banned"}, "delete": WRITERS},
}

#: An archived space (network): reading is as before, nobody votes, removes or marks; its
#: moderators still see what they dismissed.
ARCHIVED = {
    "asked by another": {
        "view": SIGNED_IN - {"banned"},
        "vote": NOBODY,
        "delete": NOBODY,
        "moderate": NOBODY,
    },
    "own": {"delete": NOBODY},
    "dismissed, asked by another": {"view": MODERATORS, "delete": NOBODY},
    "own, removed": REMOVED,
}


@dataclass
class Scene:
    """A space, an event in it with its chat open, an actor with some standing in the space, and
    the event's questions by name."""

    space: Space
    event: Event
    actor: object
    questions: dict[str, Question]


def _question(event: Event, author: User, name: str, remover: User) -> Question:
    question = Question(
        event_id=event.id,
        author_id=author.id,
        client_id=f"q-{name}",
        body_source=name,
        body_html=render_markdown(name),
        status=QuestionStatus.dismissed if "dismissed" in name else QuestionStatus.open,
    )
    if "removed" in name:
        question.removed_at, question.removed_by_id = utcnow(), remover.id
    db.session.add(question)
    return question


@pytest.fixture
def scene(make_space, make_user, add_member, person_in):
    """Build a scene. The actor's own questions were asked before their present standing (people
    leave, get banned or ask to rejoin after asking); an anonymous visitor has none."""

    def build(role: str, visibility: Visibility = Visibility.network) -> Scene:
        space = make_space(visibility=visibility)
        actor = person_in(role, space)
        asker = make_user("Asha Asker")
        add_member(space, asker)
        event = event_on_now(space)
        owner = space.memberships[0].user
        questions = {}
        for name in QUESTIONS["network"]:
            author = actor if name.startswith("own") else asker
            if isinstance(author, User):
                questions[name] = _question(event, author, name, owner)
        db.session.commit()
        return Scene(space, event, actor, questions)

    return build


def compare(scene: Scene, role: str, table: dict[str, dict[str, set[str]]]):
    """What the policy says and what the table says, keyed "<action> <question>"."""
    actual, expected = {}, {}
    for name, actions in table.items():
        if name not in scene.questions:
            continue
        for action, roles in actions.items():
            key = f"{action} {name}"
            actual[key] = can(scene.actor, action, scene.questions[name])
            expected[key] = role in roles
    return actual, expected


@pytest.mark.parametrize("visibility", list(QUESTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_question_table(visibility, role, scene):
    world = scene(role, Visibility(visibility))
    actual, expected = compare(world, role, QUESTIONS[visibility])
    assert actual == expected


@pytest.mark.parametrize("role", ROLES)
def test_a_cancelled_events_questions_can_still_be_withdrawn_and_removed(role, scene):
    world = scene(role)
    world.event.cancelled_at = utcnow()
    db.session.commit()
    actual, expected = compare(world, role, CANCELLED)
    assert actual == expected


@pytest.mark.parametrize("role", ROLES)
def test_in_an_archived_space_nobody_votes_removes_or_marks(role, scene):
    world = scene(role)
    world.space.archived_at = utcnow()
    db.session.commit()
    actual, expected = compare(world, role, ARCHIVED)
    assert actual == expected


@pytest.mark.parametrize("visibility", list(QUESTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_the_list_filter_and_the_rooms_check_agree_with_the_policy(visibility, role, scene):
    """The event's list of questions (join, page, transcript) and the live room's check for a
    dismissed question hold exactly the questions :func:`can` lets each role see."""
    world = scene(role, Visibility(visibility))
    seen = {name for name, q in world.questions.items() if can(world.actor, "view", q)}
    listed = set(
        db.session.scalars(
            select(Question.body_source).where(question_filter(world.actor, world.event))
        )
    )
    assert listed == seen
    if isinstance(world.actor, User):
        for name, question in world.questions.items():
            assert question_readers(question, [world.actor.id]) == (
                {world.actor.id} if name in seen else set()
            )
