"""Becoming, being and stopping being a member of a space, as members and moderators see it: joining,
asking, inviting, leaving, removing, banning and roles, each one written to the audit log."""

import html
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    Visibility,
)
from tests.accounts.pages import Page
from tests.conftest import Client

SECRET = "Our draft QMS maturity self-assessment"


@pytest.fixture
def browser(new_client, login) -> Callable[[User], Client]:
    """A browser of its own, signed in as the given person."""

    def open_as(user: User) -> Client:
        client = new_client()
        login(client, user)
        return client

    return open_as


@pytest.fixture
def space(make_space, make_user) -> Space:
    """A network space anyone may join, owned by Olive Owner."""
    return make_space("Flow Coaching SIG", owner=make_user("Olive Owner"))


def owner_of(space: Space) -> User:
    return next(m.user for m in space.memberships if m.role is MemberRole.owner)


def membership(space: Space, user: User) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(Membership.space_id == space.id, Membership.user_id == user.id)
    )


def last_audit(action: str) -> AuditEntry:
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )
    assert entry is not None, f"no {action} in the audit log"
    return entry


def assert_audited(action: str, *, actor: User, subject: User, space: Space) -> AuditEntry:
    entry = last_audit(action)
    assert (entry.actor_id, entry.subject_id, entry.space_id) == (actor.id, subject.id, space.id)
    assert entry.ip_address == "127.0.0.1"
    return entry


def page(client: Client, path: str) -> Page:
    result = Page(client.get(path))
    assert result.status == 200, (path, result.status)
    return result


def after(client: Client, response) -> Page:
    """The page a POST redirected to, with its confirmation message."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return page(client, response.location)


def buttons(result: Page) -> list[str]:
    """The accessible names of the page's buttons: their aria-label, or else their text."""
    names = []
    for attributes, text in re.findall(r"<button([^>]*)>(.*?)</button>", result.html, re.S):
        label = re.search(r'aria-label="([^"]*)"', attributes)
        names.append(html.unescape(label.group(1) if label else re.sub(r"\s+", " ", text).strip()))
    return names


# Open spaces -----------------------------------------------------------------------------------


def test_joining_an_open_space(browser, make_user, space):
    ann = make_user("Ann Joiner")
    ann_browser = browser(ann)
    home = page(ann_browser, f"/spaces/{space.slug}")
    assert "1 member" in home.main_text
    assert "Join this space" in buttons(home)

    home = after(ann_browser, ann_browser.post(f"/spaces/{space.slug}/join"))
    assert "You are now a member of Flow Coaching SIG." in home.main_text
    assert "2 members" in home.main_text
    assert "You are a member of this space." in home.main_text
    assert "Join this space" not in buttons(home)
    assert "Leave this space" in buttons(home)
    assert membership(space, ann).state is MemberState.active
    assert_audited("membership.joined", actor=ann, subject=ann, space=space)

    assert "Ann Joiner" in page(ann_browser, f"/spaces/{space.slug}/members").main_text


def test_leaving_a_space(browser, make_user, add_member, space):
    ann = make_user("Ann Leaver")
    add_member(space, ann)
    ann_browser = browser(ann)
    home = after(ann_browser, ann_browser.post(f"/spaces/{space.slug}/leave"))
    assert "You have left Flow Coaching SIG." in home.main_text
    assert "1 member" in home.main_text
    assert "Join this space" in buttons(home)
    assert membership(space, ann) is None
    assert_audited("membership.left", actor=ann, subject=ann, space=space)


def test_the_last_owner_cannot_leave(browser, space):
    owner = owner_of(space)
    owner_browser = browser(owner)
    home = after(owner_browser, owner_browser.post(f"/spaces/{space.slug}/leave"))
    assert "A space needs an owner. Make someone else an owner first" in home.main_text
    assert membership(space, owner).role is MemberRole.owner
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "membership.left")) is None
    )


# Spaces you ask to join ------------------------------------------------------------------------


@pytest.fixture
def private_space(make_space, make_user) -> Space:
    """A private space people ask to join, with a moderator."""
    space = make_space(
        "QMS Pilots SIG",
        visibility=Visibility.private,
        join_policy=JoinPolicy.request,
        owner=make_user("Olive Owner"),
    )
    space.description_html = f"<p>{SECRET}</p>"
    db.session.commit()
    return space


@pytest.fixture
def moderator(make_user, add_member, private_space) -> User:
    user = make_user("Mo Derator")
    add_member(private_space, user, MemberRole.moderator)
    return user


def test_asking_to_join_then_being_approved(browser, make_user, outbox, private_space, moderator):
    space = private_space
    rita = make_user("Rita Requester", "rita@trust.nhs.uk")
    rita_browser = browser(rita)

    home = page(rita_browser, f"/spaces/{space.slug}")
    assert SECRET not in home.html
    assert "Ask to join" in buttons(home)

    home = after(rita_browser, rita_browser.post(f"/spaces/{space.slug}/join"))
    assert "You have asked to join QMS Pilots SIG. Its moderators will reply." in home.main_text
    assert "Requested" in home.main_text
    assert "Withdraw request" in buttons(home)
    assert SECRET not in home.html
    assert membership(space, rita).state is MemberState.requested
    assert_audited("membership.requested", actor=rita, subject=rita, space=space)
    assert "QMS Pilots SIG Private Requested" in page(rita_browser, "/spaces").main_text

    mo_browser = browser(moderator)
    home = page(mo_browser, f"/spaces/{space.slug}")
    assert home.link("1 request waiting") == f"/spaces/{space.slug}/members#requests"
    members = page(mo_browser, f"/spaces/{space.slug}/members")
    assert (2, "Requests to join") in members.headings
    assert "Rita Requester" in members.main_text
    assert "Approve Rita Requester's request" in buttons(members)
    assert "Decline Rita Requester's request" in buttons(members)

    members = after(mo_browser, mo_browser.post(f"/spaces/{space.slug}/members/{rita.id}/approve"))
    assert "Rita Requester is now a member." in members.main_text
    assert "Requests to join" not in members.main_text
    assert membership(space, rita).state is MemberState.active
    assert_audited("membership.approved", actor=moderator, subject=rita, space=space)

    mail = outbox.last("rita@trust.nhs.uk")
    assert mail.subject == "You have joined QMS Pilots SIG on peerlearn"
    assert mail.link("/spaces/") == f"/spaces/{space.slug}"

    home = page(rita_browser, f"/spaces/{space.slug}")
    assert SECRET in home.main_text
    assert "You are a member of this space." in home.main_text


def test_a_moderator_declines_a_request(browser, make_user, add_member, private_space, moderator):
    space = private_space
    rita = make_user("Rita Requester")
    add_member(space, rita, state=MemberState.requested)
    mo_browser = browser(moderator)
    members = after(mo_browser, mo_browser.post(f"/spaces/{space.slug}/members/{rita.id}/decline"))
    assert "Rita Requester's request was declined." in members.main_text
    assert membership(space, rita) is None
    assert_audited("membership.declined", actor=moderator, subject=rita, space=space)
    assert "Ask to join" in buttons(page(browser(rita), f"/spaces/{space.slug}"))


def test_withdrawing_a_request(browser, make_user, add_member, private_space):
    space = private_space
    rita = make_user("Rita Requester")
    add_member(space, rita, state=MemberState.requested)
    rita_browser = browser(rita)
    home = after(rita_browser, rita_browser.post(f"/spaces/{space.slug}/leave"))
    assert "Your request to join has been withdrawn." in home.main_text
    assert "Ask to join" in buttons(home)
    assert membership(space, rita) is None
    assert_audited("membership.request_withdrawn", actor=rita, subject=rita, space=space)


def test_members_cannot_approve_requests(browser, make_user, add_member, private_space):
    space = private_space
    rita, member = make_user("Rita Requester"), make_user("Mem Ber")
    add_member(space, rita, state=MemberState.requested)
    add_member(space, member)
    member_browser = browser(member)
    members = page(member_browser, f"/spaces/{space.slug}/members")
    assert "Requests to join" not in members.main_text
    assert "Rita Requester" not in members.main_text
    response = member_browser.post(f"/spaces/{space.slug}/members/{rita.id}/approve")
    assert response.status_code == 403
    assert membership(space, rita).state is MemberState.requested


# Invite-only spaces ----------------------------------------------------------------------------


@pytest.fixture
def invite_space(make_space, make_user) -> Space:
    return make_space(
        "Directors' Peer Group", join_policy=JoinPolicy.invite, owner=make_user("Olive Owner")
    )


def test_an_invite_only_space_cannot_be_joined_without_an_invitation(
    browser, make_user, invite_space
):
    ivan = make_user("Ivan Outsider")
    ivan_browser = browser(ivan)
    home = page(ivan_browser, f"/spaces/{invite_space.slug}")
    assert "This space is invite only. Ask one of its moderators to invite you." in home.main_text
    assert not {"Join this space", "Ask to join"} & set(buttons(home))
    assert ivan_browser.post(f"/spaces/{invite_space.slug}/join").status_code == 403
    assert membership(invite_space, ivan) is None


def test_inviting_someone_who_accepts(browser, make_user, outbox, invite_space):
    owner = owner_of(invite_space)
    ivy = make_user("Ivy Invitee", "ivy@trust.nhs.uk")
    owner_browser = browser(owner)

    members = after(
        owner_browser,
        owner_browser.post(
            f"/spaces/{invite_space.slug}/members/invite", data={"email": " IVY@trust.nhs.uk "}
        ),
    )
    assert "Invitation sent to" in members.main_text
    assert (2, "Invitations waiting for an answer") in members.headings
    assert "Ivy Invitee" in members.main_text
    assert "Withdraw Ivy Invitee's invitation" in buttons(members)
    assert_audited("membership.invited", actor=owner, subject=ivy, space=invite_space)

    mail = outbox.last("ivy@trust.nhs.uk")
    assert mail.subject == "You are invited to join Directors' Peer Group on peerlearn"
    assert "Olive Owner has invited you" in mail.text

    ivy_browser = browser(ivy)
    home = page(ivy_browser, mail.link("/spaces/"))
    assert "You have been invited to join Directors' Peer Group by Olive Owner." in home.main_text
    assert {"Accept invitation", "Decline invitation"} <= set(buttons(home))
    assert "Invited" in page(ivy_browser, "/spaces").main_text

    home = after(ivy_browser, ivy_browser.post(f"/spaces/{invite_space.slug}/join"))
    assert "You are now a member of Directors' Peer Group." in home.main_text
    assert membership(invite_space, ivy).state is MemberState.active
    assert_audited("membership.invitation_accepted", actor=ivy, subject=ivy, space=invite_space)


def test_declining_an_invitation(browser, make_user, add_member, invite_space):
    ivy = make_user("Ivy Invitee")
    add_member(invite_space, ivy, state=MemberState.invited)
    ivy_browser = browser(ivy)
    home = after(ivy_browser, ivy_browser.post(f"/spaces/{invite_space.slug}/leave"))
    assert "You have declined the invitation." in home.main_text
    assert membership(invite_space, ivy) is None
    assert_audited("membership.invitation_declined", actor=ivy, subject=ivy, space=invite_space)


def test_a_moderator_withdraws_an_invitation(browser, make_user, add_member, invite_space):
    owner = owner_of(invite_space)
    ivy = make_user("Ivy Invitee")
    add_member(invite_space, ivy, state=MemberState.invited)
    owner_browser = browser(owner)
    members = after(
        owner_browser, owner_browser.post(f"/spaces/{invite_space.slug}/members/{ivy.id}/remove")
    )
    assert "Ivy Invitee has been removed." in members.main_text
    assert "Invitations waiting" not in members.main_text
    assert membership(invite_space, ivy) is None
    assert_audited("membership.removed", actor=owner, subject=ivy, space=invite_space)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (
            "nobody@trust.nhs.uk",
            "Nobody with that e-mail address has a peerlearn account. "
            "Ask them to register first, then invite them",
        ),
        ("mem@trust.nhs.uk", "Mem Ber is already a member"),
        (
            "not an address",
            "Enter an e-mail address in the correct format, like name@example.nhs.uk",
        ),
    ],
)
def test_invitations_that_cannot_be_sent_say_why(
    browser, make_user, add_member, outbox, invite_space, email, message
):
    add_member(invite_space, make_user("Mem Ber", "mem@trust.nhs.uk"))
    owner_browser = browser(owner_of(invite_space))
    response = owner_browser.post(
        f"/spaces/{invite_space.slug}/members/invite", data={"email": email}
    )
    members = after(owner_browser, response)
    assert f"The invitation was not sent: {message}" in members.main_text
    assert members.values["email"] == email  # ready to correct
    assert outbox.messages() == []
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "membership.invited"))
        is None
    )


def test_members_cannot_invite(browser, make_user, add_member, invite_space):
    member = make_user("Mem Ber")
    add_member(invite_space, member)
    target = make_user("Ivy Invitee", "ivy@trust.nhs.uk")
    member_browser = browser(member)
    assert (
        "Invite someone"
        not in page(member_browser, f"/spaces/{invite_space.slug}/members").main_text
    )
    response = member_browser.post(
        f"/spaces/{invite_space.slug}/members/invite", data={"email": "ivy@trust.nhs.uk"}
    )
    assert response.status_code == 403
    assert membership(invite_space, target) is None


# Removing and banning --------------------------------------------------------------------------


def test_a_moderator_removes_a_member(browser, make_user, add_member, space):
    mod, mem = make_user("Mo Derator"), make_user("Mem Ber")
    add_member(space, mod, MemberRole.moderator)
    add_member(space, mem)
    mo_browser = browser(mod)
    members = page(mo_browser, f"/spaces/{space.slug}/members")
    assert "Remove Mem Ber from Flow Coaching SIG" in buttons(members)
    assert "Remove Olive Owner from Flow Coaching SIG" not in buttons(members)
    assert "Remove Mo Derator from Flow Coaching SIG" not in buttons(members)

    members = after(mo_browser, mo_browser.post(f"/spaces/{space.slug}/members/{mem.id}/remove"))
    assert "Mem Ber has been removed." in members.main_text
    assert membership(space, mem) is None
    assert_audited("membership.removed", actor=mod, subject=mem, space=space)


def test_a_moderator_cannot_remove_or_ban_an_owner(browser, make_user, add_member, space):
    owner, mod = owner_of(space), make_user("Mo Derator")
    add_member(space, mod, MemberRole.moderator)
    mo_browser = browser(mod)
    for action in ("remove", "ban"):
        members = after(
            mo_browser, mo_browser.post(f"/spaces/{space.slug}/members/{owner.id}/{action}")
        )
        assert "Only an owner can change another owner's membership." in members.main_text
        assert membership(space, owner).role is MemberRole.owner


def test_banning_a_member(browser, make_user, add_member, make_space):
    space = make_space("Flow Coaching SIG", join_policy=JoinPolicy.request)
    owner, bea = owner_of(space), make_user("Bea Banned")
    add_member(space, bea)
    owner_browser = browser(owner)
    members = page(owner_browser, f"/spaces/{space.slug}/members")
    assert "Ban Bea Banned from Flow Coaching SIG" in buttons(members)

    members = after(
        owner_browser,
        owner_browser.post(
            f"/spaces/{space.slug}/members/{bea.id}/ban", data={"reason": "Repeated abuse"}
        ),
    )
    assert "Bea Banned has been banned from Flow Coaching SIG." in members.main_text
    assert (2, "Banned") in members.headings
    assert "Lift ban on Bea Banned" in buttons(members)
    assert membership(space, bea).state is MemberState.banned
    entry = assert_audited("membership.banned", actor=owner, subject=bea, space=space)
    assert entry.detail == {"reason": "Repeated abuse"}

    # The banned member can no longer read the network space, nor join or ask to join again.
    bea_browser = browser(bea)
    home = page(bea_browser, f"/spaces/{space.slug}")
    assert "You cannot read or join this space." in home.main_text
    assert "About this space" not in home.main_text
    assert not {"Join this space", "Ask to join", "Leave this space"} & set(buttons(home))
    assert bea_browser.get(f"/spaces/{space.slug}/members").status_code == 403
    assert bea_browser.post(f"/spaces/{space.slug}/join").status_code == 403
    home = after(bea_browser, bea_browser.post(f"/spaces/{space.slug}/leave"))
    assert "You are not a member of this space" in home.main_text
    assert membership(space, bea).state is MemberState.banned


def test_banning_someone_who_is_not_a_member_stops_them_joining(browser, make_user, space):
    owner, bea = owner_of(space), make_user("Bea Banned")
    owner_browser = browser(owner)
    after(owner_browser, owner_browser.post(f"/spaces/{space.slug}/members/{bea.id}/ban"))
    assert membership(space, bea).state is MemberState.banned
    assert_audited("membership.banned", actor=owner, subject=bea, space=space)
    assert browser(bea).post(f"/spaces/{space.slug}/join").status_code == 403


def test_lifting_a_ban(browser, make_user, add_member, space):
    owner, bea = owner_of(space), make_user("Bea Banned")
    add_member(space, bea, state=MemberState.banned)
    owner_browser = browser(owner)
    members = after(
        owner_browser, owner_browser.post(f"/spaces/{space.slug}/members/{bea.id}/unban")
    )
    assert "The ban on Bea Banned has been lifted." in members.main_text
    assert "Lift the ban" not in members.html
    assert membership(space, bea) is None
    assert_audited("membership.unbanned", actor=owner, subject=bea, space=space)

    bea_browser = browser(bea)
    after(bea_browser, bea_browser.post(f"/spaces/{space.slug}/join"))
    assert membership(space, bea).state is MemberState.active


# Roles -----------------------------------------------------------------------------------------


def test_an_owner_changes_a_members_role(browser, make_user, add_member, space):
    owner, mem = owner_of(space), make_user("Mem Ber")
    add_member(space, mem)
    owner_browser = browser(owner)
    members = page(owner_browser, f"/spaces/{space.slug}/members")
    assert "Change role for Mem Ber" in buttons(members)

    members = after(
        owner_browser,
        owner_browser.post(
            f"/spaces/{space.slug}/members/{mem.id}/role", data={"role": "moderator"}
        ),
    )
    assert "Mem Ber is now a moderator of Flow Coaching SIG." in members.main_text
    assert membership(space, mem).role is MemberRole.moderator
    entry = assert_audited("membership.role_changed", actor=owner, subject=mem, space=space)
    assert entry.detail == {"old": "member", "new": "moderator"}

    # Now she moderates: she sees the moderators' tools, but not the owners'.
    mem_browser = browser(mem)
    members = page(mem_browser, f"/spaces/{space.slug}/members")
    assert "Invite someone" in members.main_text
    assert "Change role for Mem Ber" not in buttons(members)


def test_an_owner_can_hand_over_ownership_and_then_leave(browser, make_user, add_member, space):
    owner, heir = owner_of(space), make_user("Hana Heir")
    add_member(space, heir)
    owner_browser = browser(owner)
    owner_browser.post(f"/spaces/{space.slug}/members/{heir.id}/role", data={"role": "owner"})
    home = after(owner_browser, owner_browser.post(f"/spaces/{space.slug}/leave"))
    assert "You have left Flow Coaching SIG." in home.main_text
    assert membership(space, heir).role is MemberRole.owner


def test_the_last_owner_cannot_step_down(browser, space):
    owner = owner_of(space)
    owner_browser = browser(owner)
    members = after(
        owner_browser,
        owner_browser.post(
            f"/spaces/{space.slug}/members/{owner.id}/role", data={"role": "member"}
        ),
    )
    assert "A space needs an owner. Make someone else an owner first" in members.main_text
    assert membership(space, owner).role is MemberRole.owner


def test_a_moderator_cannot_change_roles(browser, make_user, add_member, space):
    mod, mem = make_user("Mo Derator"), make_user("Mem Ber")
    add_member(space, mod, MemberRole.moderator)
    add_member(space, mem)
    mo_browser = browser(mod)
    assert not any(
        name.startswith("Change role")
        for name in buttons(page(mo_browser, f"/spaces/{space.slug}/members"))
    )
    response = mo_browser.post(
        f"/spaces/{space.slug}/members/{mem.id}/role", data={"role": "owner"}
    )
    assert response.status_code == 403
    assert membership(space, mem).role is MemberRole.member


def test_a_network_administrator_can_change_roles_without_being_a_member(
    browser, make_user, add_member, space
):
    admin, mem = make_user("Ada Admin", admin=True), make_user("Mem Ber")
    add_member(space, mem)
    admin_browser = browser(admin)
    after(
        admin_browser,
        admin_browser.post(
            f"/spaces/{space.slug}/members/{mem.id}/role", data={"role": "moderator"}
        ),
    )
    assert membership(space, mem).role is MemberRole.moderator
    assert_audited("membership.role_changed", actor=admin, subject=mem, space=space)


# Archived spaces -------------------------------------------------------------------------------


def test_an_archived_space_is_read_only(browser, make_user, add_member, make_space):
    space = make_space("Old Pilots SIG", archived=True)
    mem, visitor = make_user("Mem Ber"), make_user("Vi Sitor")
    add_member(space, mem)

    mem_browser = browser(mem)
    home = page(mem_browser, f"/spaces/{space.slug}")
    assert "This space is archived and read-only" in home.main_text
    assert "About this group." in home.main_text
    assert "Leave this space" not in buttons(home)
    home = after(mem_browser, mem_browser.post(f"/spaces/{space.slug}/leave"))
    assert "This space is archived and read-only" in home.main_text
    assert membership(space, mem).state is MemberState.active

    visitor_browser = browser(visitor)
    home = page(visitor_browser, f"/spaces/{space.slug}")
    assert "Join this space" not in buttons(home)
    assert visitor_browser.post(f"/spaces/{space.slug}/join").status_code == 403
    assert membership(space, visitor) is None

    owner_browser = browser(owner_of(space))
    assert owner_browser.post(f"/spaces/{space.slug}/members/{mem.id}/remove").status_code == 403
    assert membership(space, mem).state is MemberState.active


# The space's audit log -------------------------------------------------------------------------


def test_owners_and_administrators_read_the_spaces_audit_log(browser, make_user, add_member, space):
    owner, ann = owner_of(space), make_user("Ann Joiner")
    ann_browser = browser(ann)
    ann_browser.post(f"/spaces/{space.slug}/join")

    for reader in (owner, make_user("Ada Admin", admin=True)):
        log = page(browser(reader), f"/spaces/{space.slug}/audit")
        assert log.h1 == "Audit log"
        assert "Ann Joiner Joined membership.joined Ann Joiner" in log.main_text
        # Addresses are for the network's administrators, in the network-wide log only.
        assert "127.0.0.1" not in log.main_text


@pytest.mark.parametrize("role", [MemberRole.moderator, MemberRole.member])
def test_moderators_and_members_cannot_read_the_spaces_audit_log(
    browser, make_user, add_member, space, role
):
    user = make_user()
    add_member(space, user, role)
    user_browser = browser(user)
    assert user_browser.get(f"/spaces/{space.slug}/audit").status_code == 403
    assert "Audit log" not in page(user_browser, f"/spaces/{space.slug}").main_text
