"""The roles every permission table is written for, and the standing each one has in a space."""

from peerlearn.spaces.models import MemberRole, MemberState

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

#: role -> (MemberRole, MemberState) of the membership a person in that role holds.
STATES = {
    "requested": (MemberRole.member, MemberState.requested),
    "invited": (MemberRole.member, MemberState.invited),
    "member": (MemberRole.member, MemberState.active),
    "moderator": (MemberRole.moderator, MemberState.active),
    "owner": (MemberRole.owner, MemberState.active),
    "banned": (MemberRole.member, MemberState.banned),
}
