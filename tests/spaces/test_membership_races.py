"""Membership changes to one space arriving at the same moment (a double click, two moderators,
a moderator and the member): each is made as if it came alone, after the other, or refused with
the reason a request coming second would be given; none fails, and a space never loses its last
owner."""

from collections.abc import Callable

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from peerlearn.accounts.models import User
from peerlearn.extensions import db
from peerlearn.permissions import Action, can
from peerlearn.spaces import memberships, services
from peerlearn.spaces.models import JoinPolicy, MemberRole, Membership, MemberState, Space
from tests.concurrency import WRITES, at_once, first_writes_meet, one_inside_another
from tests.spaces.flows import membership, owner_of


def racing(app, space: Space, *calls: Callable[[Space], object]) -> list[str]:
    """Run each call with the space, at the same moment (each after its checks, before its first
    write); the reasons given to those refused."""
    space_id = space.id
    refusals: list[str] = []

    def run(call: Callable[[Space], object]) -> Callable[[], None]:
        def request() -> None:
            try:
                call(db.session.get(Space, space_id))
            except services.SpaceError as refusal:
                refusals.append(refusal.message)

        return request

    with first_writes_meet(WRITES, parties=len(calls), before=True):
        at_once(app, [run(call) for call in calls])
    db.session.rollback()  # see what they committed, as the next request would
    return refusals


def as_user(user: User, action: Callable[[User, Space], object]) -> Callable[[Space], object]:
    """``action`` done by ``user`` (looked up again in the request's own session)."""
    user_id = user.id
    return lambda space: action(db.session.get(User, user_id), space)


def owners(space: Space) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Membership.space_id == space.id, Membership.role == MemberRole.owner
        )
    )


def step_down(user: User, space: Space) -> None:
    memberships.change_role(user, services.get_membership(space, user), MemberRole.member)


def test_two_owners_leaving_at_once_leave_one_owner(app, make_user, add_member, space):
    first = owner_of(space)  # before there are two to choose from
    other = make_user("Otto Owner")
    add_member(space, other, MemberRole.owner)
    refusals = racing(
        app, space, as_user(first, memberships.leave_space), as_user(other, memberships.leave_space)
    )
    assert owners(space) == 1
    assert refusals == ["A space needs an owner. Make someone else an owner first"]


def test_two_owners_stepping_down_at_once_leave_one_owner(app, make_user, add_member, space):
    first = owner_of(space)  # before there are two to choose from
    other = make_user("Otto Owner")
    add_member(space, other, MemberRole.owner)
    refusals = racing(app, space, as_user(first, step_down), as_user(other, step_down))
    assert owners(space) == 1
    assert refusals == ["A space needs an owner. Make someone else an owner first"]


def members_in(space: Space) -> list[Membership]:
    return list(db.session.scalars(select(Membership).where(Membership.space_id == space.id)))


def test_a_double_click_on_join_joins_once(app, make_user, space):
    ann = make_user("Ann Joiner")
    join = as_user(ann, memberships.join_space)
    assert racing(app, space, join, join) == ["You are already a member"]
    assert len(members_in(space)) == 2


def test_asking_to_join_while_a_moderator_invites_admits_them_once(
    app, make_user, make_space, outbox
):
    space = make_space("QMS Pilots SIG", join_policy=JoinPolicy.request)
    rita = make_user("Rita Requester", "rita@trust.nhs.uk")

    def invite(actor: User, space: Space) -> None:
        memberships.invite(actor, space, "rita@trust.nhs.uk")

    refusals = racing(
        app, space, as_user(rita, memberships.join_space), as_user(owner_of(space), invite)
    )
    rows = {m.user_id: m.state for m in members_in(space)}
    # Whichever came first, the other found it: an invitation accepted by asking, or a request
    # approved by inviting.
    assert rows[rita.id] is MemberState.active
    assert refusals == []


def moderating(action: Callable[..., object], member: User) -> Callable[[User, Space], object]:
    """A moderator's ``action`` on ``member``'s membership, as the members page sends it."""
    member_id = member.id

    def act(actor: User, space: Space) -> None:
        action(actor, services.get_membership(space, db.session.get(User, member_id)))

    return act


@pytest.mark.parametrize(
    ("first", "second", "refused"),
    [
        # Approved first, the withdrawal comes second and leaves: gone either way.
        ("approve", "withdraw", {(), ("There is no request to approve",)}),
        (
            "decline",
            "withdraw",
            {("There is no request to decline",), ("You are not a member of this space",)},
        ),
        (
            "approve",
            "decline",
            {("There is no request to approve",), ("There is no request to decline",)},
        ),
    ],
)
def test_a_request_answered_as_it_is_withdrawn_or_answered_is_answered_once(
    app, make_user, add_member, space, first, second, refused
):
    rita = make_user("Rita Requester")
    add_member(space, rita, state=MemberState.requested)
    owner = owner_of(space)
    calls = {
        "approve": as_user(owner, moderating(memberships.approve_request, rita)),
        "decline": as_user(owner, moderating(memberships.decline_request, rita)),
        "withdraw": as_user(rita, memberships.leave_space),
    }
    assert tuple(racing(app, space, calls[first], calls[second])) in refused
    assert membership(space, rita) is None or membership(space, rita).state is MemberState.active


def test_a_ban_lifted_by_two_moderators_at_once_is_lifted_once(app, make_user, space):
    ben = make_user("Ben Banned")
    memberships.ban(owner_of(space), space, ben)
    owner = owner_of(space)
    lift = as_user(owner, moderating(memberships.unban, ben))
    assert racing(app, space, lift, lift) == ["That person is not banned"]


def test_asking_to_join_as_the_space_is_opened_joins_it(app, make_user, make_space):
    """The request to join read the space as it was (by request); the owner's save that opens it
    is committed before the request holds the space. It joins the open space as it now stands,
    instead of leaving a request that nobody will answer."""
    space = make_space("QMS Pilots SIG", join_policy=JoinPolicy.request)
    rita, owner_id, space_id = make_user("Rita Requester"), owner_of(space).id, space.id
    assert space.join_policy is JoinPolicy.request  # as the request to join read it
    data = services.SpaceData(space.name, "", "", space.visibility, JoinPolicy.open)

    def open_it() -> None:
        services.update_space(db.session.get(User, owner_id), db.session.get(Space, space_id), data)

    at_once(app, [open_it])
    memberships.join_space(rita, space)
    assert membership(space, rita).state is MemberState.active


def test_leaving_as_the_space_is_archived_is_refused(app, make_user, add_member, space):
    """The member's request found the space open; the administrator's archiving is committed
    before the leaving holds it: refused, as leaving an archived space is; the member stays."""
    mel = make_user("Mel Member")
    add_member(space, mel)
    space_id, mel_id = space.id, mel.id
    refusals: list[str] = []

    def leave() -> None:
        space = db.session.get(Space, space_id)
        assert not space.archived  # as the request read it
        try:
            memberships.leave_space(db.session.get(User, mel_id), space)
        except services.SpaceError as refusal:
            refusals.append(refusal.message)

    taking = archive(make_user("Ada Admin", admin=True))
    one_inside_another(app, leave, lambda: taking(db.session.get(Space, space_id)), "UPDATE spaces")
    db.session.rollback()  # see what they committed, as the next request would
    assert refusals == ["This space is archived and read-only"]
    assert membership(space, mel).state is MemberState.active


def archive(admin: User) -> Callable[[Space], object]:
    """An administrator's archiving the space, in a request of its own."""
    admin_id = admin.id
    return lambda space: services.set_archived(db.session.get(User, admin_id), space, True)


@pytest.mark.parametrize("action", ["remove", "ban"])
def test_a_member_made_a_moderator_as_a_moderator_removes_them_stays(
    app, make_user, add_member, space, action
):
    """The moderator's request found a plain member (as the members page asks the policy), and
    the owner's making that member a moderator is committed before the removal or ban holds the
    space: refused, as it is once the page is out of date; the member stays."""
    mo, pat = make_user("Mo Moderator"), make_user("Pat Promoted")
    add_member(space, mo, MemberRole.moderator)
    add_member(space, pat)
    refusals = one_taking_the_right(app, space, mo, action, pat, promote(owner_of(space), pat))
    assert membership(space, pat).state is MemberState.active
    assert membership(space, pat).role is MemberRole.moderator
    assert refusals == ["Only an owner can remove or ban a moderator."]


#: Each moderator's action on someone's membership, as the members page sends it: the person's
#: membership (state and role) before it; and after it, when it is refused.
TARGETS = {
    "approve": (MemberState.requested, MemberRole.member),
    "decline": (MemberState.requested, MemberRole.member),
    "remove": (MemberState.active, MemberRole.member),
    "ban": (MemberState.active, MemberRole.member),
    "ban an outsider": None,
    "unban": (MemberState.banned, MemberRole.member),
    "invite": None,
    "role": (MemberState.active, MemberRole.member),
}


@pytest.mark.parametrize("action", list(TARGETS))
@pytest.mark.parametrize("change", ["demoted", "archived"])
def test_a_moderator_losing_the_right_as_they_act_on_someone_is_told_so(
    app, make_user, add_member, space, action, change
):
    """The moderator's (for a role, the owner's) request found itself a moderator (an owner) of
    an open space, as the members page asks the policy, and another owner's making it a plain
    member, or an administrator's archiving the space, is committed before the action holds the
    space: refused, saying which, as the actor stands now; the person's membership is as it
    was (someone outside stays outside, neither invited nor banned)."""
    olive, pat = owner_of(space), make_user("Pat Person")
    mo = make_user("Mo Moderator")
    add_member(space, mo, MemberRole.owner if action == "role" else MemberRole.moderator)
    if TARGETS[action] is not None:
        add_member(space, pat, TARGETS[action][1], TARGETS[action][0])
    if change == "demoted":
        taking = promote(olive, mo, MemberRole.member)
    else:
        taking = archive(make_user("Ada Admin", admin=True))
    refusals = one_taking_the_right(app, space, mo, action.split()[0], pat, taking)
    assert refusals == [
        "This space is archived and read-only"
        if change == "archived"
        else "You are no longer an owner of this space."
        if action == "role"
        else "You are no longer a moderator of this space."
    ]
    kept = membership(space, pat)
    assert ((kept.state, kept.role) if kept else None) == TARGETS[action]


def promote(
    owner: User, user: User, role: MemberRole = MemberRole.moderator
) -> Callable[[Space], object]:
    """The owner's giving ``user`` the ``role``, in a request of its own."""
    owner_id, user_id = owner.id, user.id

    def change(space: Space) -> None:
        target = services.get_membership(space, db.session.get(User, user_id))
        memberships.change_role(db.session.get(User, owner_id), target, role)

    return change


#: Each moderator's action on a person, as the members page sends it (the owner's, for a role).
ACTIONS: dict[str, Callable[[User, Space, User], object]] = {
    "approve": lambda actor, space, user: memberships.approve_request(
        actor, services.get_membership(space, user)
    ),
    "decline": lambda actor, space, user: memberships.decline_request(
        actor, services.get_membership(space, user)
    ),
    "remove": lambda actor, space, user: memberships.remove_member(
        actor, services.get_membership(space, user)
    ),
    "ban": lambda actor, space, user: memberships.ban(actor, space, user),
    "unban": lambda actor, space, user: memberships.unban(
        actor, services.get_membership(space, user)
    ),
    "invite": lambda actor, space, user: memberships.invite(actor, space, user.email),
    "role": lambda actor, space, user: memberships.change_role(
        actor, services.get_membership(space, user), MemberRole.moderator
    ),
}


def one_taking_the_right(
    app, space: Space, mo: User, action: str, user: User, change: Callable[[Space], object]
) -> list[str]:
    """``mo``'s ``action`` (:data:`ACTIONS`) on ``user``, checked by the policy as the members
    page checks it, overtaken by ``change`` just before it holds the space; the reasons given
    if refused."""
    space_id, user_id = space.id, user.id
    refusals: list[str] = []

    def act(actor: User, space: Space) -> None:
        person = db.session.get(User, user_id)
        target = services.get_membership(space, person)
        right = Action.manage if action == "role" else Action.moderate
        assert can(actor, right, target or space)
        try:
            ACTIONS[action](actor, space, person)
        except services.SpaceError as refusal:
            refusals.append(refusal.message)

    one_inside_another(
        app,
        lambda: as_user(mo, act)(db.session.get(Space, space_id)),
        lambda: change(db.session.get(Space, space_id)),
        "UPDATE spaces",  # the action's hold of the space: it has checked
    )
    db.session.rollback()  # see what they committed, as the next request would
    return refusals


def test_a_request_withdrawn_the_moment_it_is_approved_leaves_the_approval_told(
    app, make_user, add_member, space, outbox
):
    """The approval is committed, and the request withdrawn (the person leaving) before the
    approver's request has told them: the approver's page does not fail over the membership
    that has gone, and the person is told of the approval they then left."""
    rita = make_user("Rita Requester")
    add_member(space, rita, state=MemberState.requested)
    owner, rita_id, space_id = owner_of(space), rita.id, space.id

    def withdraw() -> None:
        memberships.leave_space(db.session.get(User, rita_id), db.session.get(Space, space_id))

    told = []

    def then(session: Session) -> None:
        if not told:
            told.append(True)
            at_once(app, [withdraw])

    event.listen(Session, "after_commit", then)
    try:
        memberships.approve_request(owner, services.get_membership(space, rita))
    finally:
        event.remove(Session, "after_commit", then)
    db.session.rollback()
    assert services.get_membership(space, db.session.get(User, rita_id)) is None
    assert [mail.subject for mail in outbox.to(rita.email)] == [
        f"You have joined {space.name} on peerlearn"
    ]
