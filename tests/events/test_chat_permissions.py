"""Who may do what in an event's chat, role by role (the roles of tests/roles.py), for a space
visible to the whole network and for a private one (network administrators may take part
anywhere, as the policy lets them post in any space). The moderators' tools have their own table in
test_chat_moderation.py."""

import pytest

from peerlearn.events import questions
from peerlearn.permissions import Action, can, event_readers
from peerlearn.spaces.models import JoinPolicy, Visibility
from tests.events.chat_helpers import ask, code, event_on_now
from tests.roles import ACTIVE, ROLES, SIGNED_IN

#: visibility -> client event -> the roles whose request is carried out.
EXPECTED = {
    "network": {
        "join": SIGNED_IN - {"banned"},
        "catch_up": SIGNED_IN - {"banned"},
        "send": ACTIVE | {"admin"},
        "ask": ACTIVE | {"admin"},
        "vote": ACTIVE | {"admin"},
    },
    "private": {
        "join": ACTIVE | {"admin"},
        "catch_up": ACTIVE | {"admin"},
        "send": ACTIVE | {"admin"},
        "ask": ACTIVE | {"admin"},
        "vote": ACTIVE | {"admin"},
    },
}


@pytest.mark.parametrize("visibility", ["network", "private"])
@pytest.mark.parametrize("event", ["join", "catch_up", "send", "ask", "vote"])
@pytest.mark.parametrize("role", ROLES[1:])  # anonymous sockets cannot even connect
def test_chat_table(visibility, event, role, make_space, person_in, member, add_member, chatter):
    space = make_space(visibility=Visibility(visibility), join_policy=JoinPolicy.open)
    live = event_on_now(space)
    asker = member()
    add_member(space, asker)
    question, _ = questions.ask(asker, live, "Why?", "q")
    data = {
        "join": {"event_id": live.id},
        "catch_up": {"event_id": live.id, "after_id": 0},
        "send": {"event_id": live.id, "body": "Hello", "client_id": "m"},
        "ask": {"event_id": live.id, "body": "How?", "client_id": "q"},
        "vote": {"question_id": question.id, "up": True},
    }[event]
    outcome = code(ask(chatter(person_in(role, space)), event, data))
    if role in EXPECTED[visibility][event]:
        assert outcome == "ok"
    else:
        # Those who may not see the event are told it does not exist; the others are refused.
        assert outcome in {"forbidden", "not_found"}
        if role in EXPECTED[visibility]["join"]:
            assert outcome == "forbidden"


@pytest.mark.parametrize("visibility", list(Visibility))
def test_who_may_stay_in_a_chat_is_who_may_join_it(visibility, make_space, person_in, make_user):
    """The policy's answer for a whole room at once (asked when who may read changes) is its
    answer for each person: the signed-in people who may see the event, and no deactivated
    account, even in a public space."""
    space = make_space(visibility=visibility)
    live = event_on_now(space)
    people = {role: person_in(role, space) for role in ROLES[1:]}
    deactivated = make_user("Dee Parted", active=False)
    readers = event_readers(live, [person.id for person in [*people.values(), deactivated]])
    assert readers == {person.id for person in people.values() if can(person, Action.view, live)}
    expected = {
        Visibility.public: SIGNED_IN,
        Visibility.network: SIGNED_IN - {"banned"},
        Visibility.private: ACTIVE | {"admin"},
    }[visibility]
    assert readers == {people[role].id for role in expected}
