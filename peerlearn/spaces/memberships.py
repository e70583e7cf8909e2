"""Membership changes: a member joins, asks to join, accepts an invitation or leaves; a moderator
approves or declines a request, invites, removes, bans, lifts a ban or changes a role.

Views ask the permission policy first; these functions then enforce the state machine
(requested → active, invited → active, active → banned …), audit each change in the same unit of
work, and send :data:`~peerlearn.core.signals.membership_changed` once it is committed. A
membership that ends sends :data:`~peerlearn.core.signals.standing_changing` inside that unit of
work, for what must end with it (answers to events) to end in the same commit.
"""

from sqlalchemy import func, select

from peerlearn.accounts.directory import find_listed_person, listed_people
from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.signals import standing_changing
from peerlearn.extensions import db
from peerlearn.permissions import Action, can, forget_standing
from peerlearn.spaces.models import JoinPolicy, MemberRole, Membership, MemberState, Space
from peerlearn.spaces.services import (
    SpaceError,
    admit_request,
    announce_membership,
    email_member,
    hold_space,
    tell_admitted,
)

# Memberships: the member's own actions -----------------------------------------------------------


def _held_membership(space: Space, user: User) -> Membership | None:
    """Hold the space's memberships (:func:`~peerlearn.spaces.services.hold_space`), then read the
    user's membership as it stands now, not as this request read it before another's change was
    committed."""
    hold_space(space)
    return db.session.scalar(
        select(Membership)
        .where(Membership.space_id == space.id, Membership.user_id == user.id)
        .execution_options(populate_existing=True)
    )


def _held_in(membership: Membership, states: set[MemberState], refusal: str) -> Membership:
    """The membership as it stands once its space is held (:func:`_held_membership`), if it is
    still in one of ``states``; otherwise refused with ``refusal`` (another moderator, or the
    person themselves, got there first)."""
    current = _held_membership(membership.space, membership.user)
    if current is None or current.state not in states:
        raise SpaceError(refusal)
    return current


def _end(actor: User, current: Membership, action: str) -> None:
    """Delete a held membership, audited as ``action``, and announce it once committed."""
    space, user = current.space, current.user
    db.session.delete(current)
    record(action, actor=actor, subject=user, space=space)
    _ending(space, user)
    db.session.commit()
    announce_membership(space, user, None)


def _ending(space: Space, user: User, *, banned: bool = False) -> None:
    """The user's membership of the space ends in this unit of work: flush it, and let what ends
    with it (:data:`~peerlearn.core.signals.standing_changing`) end in the same commit. A
    receiver's failure is raised, and the membership change rolled back with it."""
    db.session.flush()
    standing_changing.send(user, space=space, banned=banned)


def join_space(user: User, space: Space) -> MemberState:
    """Join an open space, ask to join a by-request one, or accept an invitation; says which
    (active, or requested), as committed: the membership itself may be answered, and gone, a
    moment later."""
    membership = _held_membership(space, user)
    if membership is not None and membership.state is MemberState.invited:
        membership.state = MemberState.active
        action = "membership.invitation_accepted"
    elif membership is not None:
        raise SpaceError(
            {
                MemberState.active: "You are already a member",
                MemberState.requested: "You have already asked to join; a moderator will reply",
                MemberState.banned: "You cannot join this space",
            }[membership.state]
        )
    elif space.join_policy is JoinPolicy.open:
        membership = Membership(space=space, user=user, state=MemberState.active)
        action = "membership.joined"
    elif space.join_policy is JoinPolicy.request:
        membership = Membership(space=space, user=user, state=MemberState.requested)
        action = "membership.requested"
    else:
        raise SpaceError("This space is by invitation only")
    db.session.add(membership)
    record(action, actor=user, subject=user, space=space)
    state = membership.state  # before the commit, as approve_request reads what it tells
    db.session.commit()
    announce_membership(space, user, state)
    return state


def leave_space(user: User, space: Space) -> None:
    """Leave, withdraw a request, or decline an invitation. The last owner cannot leave."""
    membership = _held_membership(space, user)
    if space.archived:  # as held: one archived a moment ago counts
        raise SpaceError("This space is archived and read-only")
    if membership is None or membership.state is MemberState.banned:
        raise SpaceError("You are not a member of this space")
    action = {
        MemberState.active: "membership.left",
        MemberState.requested: "membership.request_withdrawn",
        MemberState.invited: "membership.invitation_declined",
    }[membership.state]
    if membership.state is MemberState.active and membership.role is MemberRole.owner:
        _ensure_another_owner(space, membership)
    _end(user, membership, action)


def _ensure_another_owner(space: Space, membership: Membership) -> None:
    """Refuse to lose ``membership``'s ownership unless another owner can still act: one the
    network lists (:func:`listed_people`). An owner whose account is deactivated, or whose
    address was never confirmed, cannot look after the space."""
    owners = db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.space_id == space.id,
            Membership.role == MemberRole.owner,
            Membership.state == MemberState.active,
            Membership.id != membership.id,
            listed_people(),
        )
    )
    if not owners:
        raise SpaceError("A space needs an owner. Make someone else an owner first")


# Memberships: moderators' actions ----------------------------------------------------------------


def approve_request(actor: User, membership: Membership) -> None:
    """Admit someone who asked to join, and tell them by e-mail."""
    current = _held_in(membership, {MemberState.requested}, "There is no request to approve")
    ensure_may_moderate(actor, current.space)
    # Read before the commit: once it is committed the membership may go at once (withdrawn,
    # removed), and reading it again would fail.
    space, user = current.space, current.user
    admit_request(actor, current)
    db.session.commit()
    tell_admitted(space, user)


def decline_request(actor: User, membership: Membership) -> None:
    """Turn down a request to join."""
    current = _held_in(membership, {MemberState.requested}, "There is no request to decline")
    ensure_may_moderate(actor, current.space)
    _end(actor, current, "membership.declined")


def invite(actor: User, space: Space, email: str) -> MemberState:
    """Invite an existing member of the network by their e-mail address: one the network lists
    (active, with a confirmed address, as :func:`listed_people` says). Someone who had asked to
    join is admitted instead. Says which (invited, or active), as committed: the membership
    itself may be answered, and gone, a moment later."""
    user = find_listed_person(email)
    if user is None:
        raise SpaceError(
            "Nobody with that e-mail address has a peerlearn account. "
            "Ask them to register first, then invite them",
            field="email",
        )
    membership = _held_membership(space, user)
    ensure_may_moderate(actor, space)
    if membership is not None:
        if membership.state is MemberState.requested:
            approve_request(actor, membership)
            return MemberState.active
        raise SpaceError(
            {
                MemberState.active: f"{user.display_name} is already a member",
                MemberState.invited: f"{user.display_name} has already been invited",
                MemberState.banned: f"{user.display_name} is banned. Lift the ban first",
            }[membership.state],
            field="email",
        )
    membership = Membership(
        space=space, user=user, state=MemberState.invited, invited_by_id=actor.id
    )
    db.session.add(membership)
    record("membership.invited", actor=actor, subject=user, space=space)
    db.session.commit()
    email_member(user, space, "email/invited.txt", f"You are invited to join {space.name} on peerlearn",
            inviter=actor)  # fmt: skip
    announce_membership(space, user, MemberState.invited)
    return MemberState.invited


def remove_member(actor: User, membership: Membership) -> None:
    """Take someone out of the space (or withdraw their invitation)."""
    current = _held_in(
        membership, {MemberState.active, MemberState.invited}, "That person is not a member"
    )
    ensure_may_moderate(actor, current.space, current)
    if current.role is MemberRole.owner:
        _ensure_another_owner(current.space, current)
    _end(actor, current, "membership.removed")


def ban(actor: User, space: Space, user: User, reason: str = "") -> Membership:
    """Ban someone from the space: they lose membership and cannot join, request or post."""
    if user.id == actor.id:
        raise SpaceError("You cannot ban yourself")
    membership = _held_membership(space, user)
    ensure_may_moderate(actor, space, membership)
    if membership is not None and membership.state is MemberState.banned:
        # A second click on Ban, or a second moderator's: the ban, its audit entry and the date
        # it is listed from stand as the first left them.
        raise SpaceError(f"{user.display_name} is already banned.")
    if membership is not None and membership.role is MemberRole.owner:
        _ensure_another_owner(space, membership)
    if membership is None:
        membership = Membership(space=space, user=user)
        db.session.add(membership)
    membership.state = MemberState.banned
    membership.role = MemberRole.member
    record("membership.banned", actor=actor, subject=user, space=space, reason=reason[:500] or None)
    _ending(space, user, banned=True)
    db.session.commit()
    announce_membership(space, user, MemberState.banned)
    return membership


def ensure_may_moderate(
    actor: User,
    space: Space,
    membership: Membership | None = None,
    *,
    action: Action = Action.moderate,
) -> None:
    """Refuse a moderator's action unless the policy lets ``actor`` ``action`` (``moderate``:
    admit, decline, invite, remove, ban, lift a ban, and in discussions hide, restore, remove
    and edit others' posts, pin, lock, hide, slow and move threads; ``manage``: change a role)
    the space as held (:func:`_held_membership`, or
    :func:`~peerlearn.spaces.services.hold_space` after the thread), and ``membership`` if given
    (someone to remove or ban; None: the action is on a plain member, or on someone a ban is to
    keep out). Every moderator's action asks here once it holds the space, so the actor's own
    role and the space are read as held (:func:`~peerlearn.permissions.forget_standing`), not as
    the request's check found them: one made a plain member a moment ago, or in a space archived
    a moment ago, acts on nobody, and is told which. The target's role is read as held too: one
    made a moderator a moment ago is an owner's to remove, however the moderator's request found
    them."""
    forget_standing(actor)
    if not can(actor, action, space):
        if space.archived:
            raise SpaceError("This space is archived and read-only")
        raise SpaceError(
            "You are no longer an owner of this space."
            if action is Action.manage
            else "You are no longer a moderator of this space."
        )
    if membership is not None and not can(actor, action, membership):
        role = "an owner" if membership.role is MemberRole.owner else "a moderator"
        raise SpaceError(f"Only an owner can remove or ban {role}.")


def unban(actor: User, membership: Membership) -> None:
    """Lift a ban; the person may then join again like anyone else."""
    current = _held_in(membership, {MemberState.banned}, "That person is not banned")
    ensure_may_moderate(actor, current.space)
    _end(actor, current, "membership.unbanned")


def change_role(actor: User, membership: Membership, role: MemberRole) -> None:
    """Make a member a moderator or owner, or back (the space's owners and network
    administrators only, as held); a space always keeps an owner."""
    current = _held_in(membership, {MemberState.active}, "Only active members can be given a role")
    space, user = current.space, current.user
    ensure_may_moderate(actor, space, current, action=Action.manage)
    if current.role is role:
        return
    if current.role is MemberRole.owner:
        _ensure_another_owner(space, current)
    old = current.role
    current.role = role
    record(
        "membership.role_changed",
        actor=actor,
        subject=user,
        space=space,
        old=old.value,
        new=role.value,
    )
    db.session.commit()
    announce_membership(space, user, MemberState.active)
