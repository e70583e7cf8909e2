"""Membership rules in the one permission policy: who may act on someone's membership of a space
(:func:`membership_allows`): remove or ban them, answer their request, withdraw their
invitation, lift their ban, or change their role."""

from __future__ import annotations

from peerlearn.permissions import Action, Actor, space_allows
from peerlearn.spaces.models import MemberRole, Membership


def membership_allows(
    user: Actor, action: Action | str, target: Membership, membership: Membership | None
) -> bool:
    """Rules for ``target``, someone's membership of a space, given the user's own membership of
    that space. Pure: no database access.

    ``moderate`` (remove, ban, approve, decline, withdraw an invitation, lift a ban) is for the
    space's moderators while the target is a plain member (or asking, invited or banned, which
    only plain members are); a moderator or an owner is removed or banned only by those who
    also ``manage`` the space: its owners and network administrators. ``manage`` (change the
    role) is theirs alone. Nobody moderates an archived space, so nobody removes or bans there."""
    action = Action(action)

    def on_space(space_action: Action) -> bool:
        return space_allows(user, space_action, target.space, membership)

    if action is Action.moderate:
        return on_space(Action.moderate) and (
            target.role is MemberRole.member or on_space(Action.manage)
        )
    if action is Action.manage:
        return on_space(Action.manage)
    return False
