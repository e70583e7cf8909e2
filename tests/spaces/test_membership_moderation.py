"""Moderators and owners run a space's membership: the members page, removing, banning, roles,
archiving and the audit log."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.events import chat
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.moderation.models import FlagReason
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    MemberState,
)
from peerlearn.spaces.services import set_archived
from tests.spaces.flows import after, assert_audited, buttons, membership, owner_of, page

# The members page ------------------------------------------------------------------------------


def test_sending_an_invitation_is_the_members_pages_one_primary_button(
    browser, make_user, add_member, space
):
    """NHS.UK design: one primary action per page. Filtering the list is secondary, as on the
    network's directory."""
    add_member(space, make_user("Mem Ber"))
    members = page(browser(owner_of(space)), f"/spaces/{space.slug}/members")
    styles = {
        re.sub(r"\s+", " ", text).strip(): set(
            re.search(r'class="([^"]*)"', attrs).group(1).split()
        )
        for attrs, text in re.findall(r"<button\b([^>]*)>(.*?)</button>", members.html, re.S)
    }
    primary = [
        name
        for name, classes in styles.items()
        if "nhsuk-button" in classes and not any(c.startswith("nhsuk-button--") for c in classes)
    ]
    assert primary == ["Send invitation"]
    assert "nhsuk-button--secondary" in styles["Filter members"]


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
        assert "Only an owner can remove or ban an owner." in members.main_text
        assert membership(space, owner).role is MemberRole.owner


#: The viewer's role -> the roles of the people whose membership they may remove or ban.
REMOVES_OR_BANS = {
    "member": set(),
    "moderator": {"member"},
    "owner": {"member", "moderator", "owner"},
    "admin": {"member", "moderator", "owner"},
}


@pytest.mark.parametrize("action", ["remove", "ban", "role"])
@pytest.mark.parametrize("target_role", ["member", "moderator", "owner"])
@pytest.mark.parametrize("viewer_role", list(REMOVES_OR_BANS))
def test_who_may_remove_ban_or_change_the_role_of_whom(
    browser, make_user, add_member, space, viewer_role, target_role, action
):
    """A moderator removes and bans plain members only; a moderator or an owner is removed,
    banned or given another role only by an owner or a network administrator. The page offers
    only the buttons the viewer may use."""
    viewer = make_user("Vi Ewer", admin=viewer_role == "admin")
    if viewer_role != "admin":
        add_member(space, viewer, MemberRole(viewer_role))
    tess = make_user("Tess Target")
    add_member(space, tess, MemberRole(target_role))
    viewer_browser = browser(viewer)
    if action == "role":
        allowed = viewer_role in {"owner", "admin"}
        button = "Change role for Tess Target"
    else:
        allowed = target_role in REMOVES_OR_BANS[viewer_role]
        button = f"{action.capitalize()} Tess Target from Flow Coaching SIG"
    assert (button in buttons(page(viewer_browser, f"/spaces/{space.slug}/members"))) is allowed

    new_role = "moderator" if target_role == "member" else "member"
    response = viewer_browser.post(
        f"/spaces/{space.slug}/members/{tess.id}/{action}", data={"role": new_role}
    )
    after_it = membership(space, tess)
    if allowed:
        assert response.status_code == 302
        if action == "remove":
            assert after_it is None
        elif action == "ban":
            assert after_it.state is MemberState.banned
        else:
            assert after_it.role is MemberRole(new_role)
        return
    if viewer_role == "member" or action == "role":
        assert response.status_code == 403
    else:
        whom = "an owner" if target_role == "owner" else "a moderator"
        message = f"Only an owner can remove or ban {whom}."
        assert message in after(viewer_browser, response).main_text
    assert (after_it.state, after_it.role) == (MemberState.active, MemberRole(target_role))


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
    refused = bea_browser.get(f"/spaces/{space.slug}/members")
    assert refused.status_code == 403
    assert "You are banned from this space" in refused.get_data(as_text=True)
    # Someone refused who is not banned is not told they are.
    outsider = browser(make_user("Ola Outsider"))
    refused = outsider.post(f"/spaces/{space.slug}/members/{bea.id}/unban")
    assert refused.status_code == 403
    assert "banned from this space" not in refused.get_data(as_text=True)
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


def test_banning_someone_already_banned_says_so_and_changes_nothing(
    browser, make_user, add_member, space
):
    """A second click on Ban (or a second moderator's) must not audit the ban twice, nor move
    the date the banned list shows the ban from."""
    owner, bea = owner_of(space), make_user("Bea Banned")
    add_member(space, bea)
    owner_browser = browser(owner)
    ban = f"/spaces/{space.slug}/members/{bea.id}/ban"
    after(owner_browser, owner_browser.post(ban, data={"reason": "Repeated abuse"}))
    banned_since = membership(space, bea).updated_at

    members = after(owner_browser, owner_browser.post(ban, data={"reason": "Again"}))
    assert "Bea Banned is already banned." in members.main_text
    assert membership(space, bea).updated_at == banned_since
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "membership.banned")
    ).all()
    assert [entry.detail for entry in entries] == [{"reason": "Repeated abuse"}]


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


def test_opening_an_archived_space_admits_nobody(browser, make_user, add_member, make_space):
    """An administrator may still change an archived space's settings, but nobody joins a
    read-only space: those who had asked stay asking, untold, until it is restored."""
    space = make_space("Old Pilots SIG", join_policy=JoinPolicy.request, archived=True)
    rita = make_user("Rita Requester")
    add_member(space, rita, state=MemberState.requested)
    admin_browser = browser(make_user("Ada Admin", admin=True))
    settings = {"name": space.name, "summary": "", "description": "", "visibility": "network",
                "join_policy": "open"}  # fmt: skip
    home = after(admin_browser, admin_browser.post(f"/spaces/{space.slug}/settings", data=settings))
    assert "The space's settings have been saved." in home.main_text
    assert "asked to join" not in home.main_text
    assert membership(space, rita).state is MemberState.requested
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "membership.approved"))
        is None
    )


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


def test_owners_still_read_the_audit_log_of_an_archived_space(
    browser, make_user, add_member, space
):
    """Archiving makes a space read-only, not its history unreadable: its owners still find and
    read its audit log, archiving included; they change nothing."""
    owner, ann = owner_of(space), make_user("Ann Joiner")
    browser(ann).post(f"/spaces/{space.slug}/join")
    set_archived(make_user("Ada Admin", admin=True), space, True)

    owner_browser = browser(owner)
    home = page(owner_browser, f"/spaces/{space.slug}")
    assert home.main_link(f"Audit log for {space.name}") == f"/spaces/{space.slug}/audit"
    assert f"Settings for {space.name}" not in home.main_text
    log = page(owner_browser, f"/spaces/{space.slug}/audit")
    assert "Ann Joiner Joined membership.joined Ann Joiner" in log.main_text
    assert "Archived the space" in log.main_text
    assert owner_browser.get(f"/spaces/{space.slug}/settings").status_code == 403


def test_the_audit_log_names_what_was_done_to_a_reported_chat_message_in_plain_words(
    browser, make_user, add_member, space
):
    owner, ada, rex = owner_of(space), make_user("Ada Author"), make_user("Rex Reporter")
    for person in (ada, rex):
        add_member(space, person)
    event = Event(space=space, created_by=owner, title="QMS in practice",
                  starts_at=utcnow() + timedelta(minutes=10),
                  ends_at=utcnow() + timedelta(minutes=100))  # fmt: skip
    db.session.add(event)
    db.session.commit()
    message, _ = chat.post_message(ada, event, "Mrs Smith, NHS number 943 476 5919", "m1")
    moderation.flag_chat_message(rex, message, FlagReason.patient_information)  # hides it
    moderation.resolve_chat_message(owner, message, "restore")

    log = page(browser(owner), f"/spaces/{space.slug}/audit")
    for said in ("Reported a chat message", "Hid a chat message", "Dealt with reports",
                 "Restored a chat message"):  # fmt: skip
        assert said in log.main_text
    assert "Dealt with reports on a post" not in log.main_text


@pytest.mark.parametrize("role", [MemberRole.moderator, MemberRole.member])
def test_moderators_and_members_cannot_read_the_spaces_audit_log(
    browser, make_user, add_member, space, role
):
    user = make_user()
    add_member(space, user, role)
    user_browser = browser(user)
    assert user_browser.get(f"/spaces/{space.slug}/audit").status_code == 403
    assert "Audit log" not in page(user_browser, f"/spaces/{space.slug}").main_text
