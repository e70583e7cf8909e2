"""Becoming, being and stopping being a member of a space, as members and moderators see it: joining,
asking, inviting, leaving, removing, banning and roles, each one written to the audit log."""

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    MemberState,
    Space,
    Visibility,
)
from tests.accounts.pages import Page
from tests.spaces.flows import (
    SECRET,
    after,
    assert_audited,
    buttons,
    last_audit,
    membership,
    owner_of,
    page,
)

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


@pytest.mark.parametrize(
    ("policy", "state", "message"),
    [
        (JoinPolicy.open, MemberState.active, "You are already a member"),
        (JoinPolicy.request, MemberState.requested,
         "You have already asked to join; a moderator will reply"),
        (JoinPolicy.invite, MemberState.invited, "You are already a member"),
    ],
)  # fmt: skip
def test_a_second_click_on_join_says_the_first_one_worked(
    browser, make_user, add_member, make_space, policy, state, message
):
    """The second of two clicks on Join (Ask to join, Accept invitation) arrives once the first
    is done: it is told so on the page it came from, not refused with a 403."""
    space = make_space("Flow Coaching SIG", join_policy=policy)
    ann = make_user("Ann Joiner")
    if state is MemberState.invited:
        add_member(space, ann, state=state)
    ann_browser = browser(ann)
    ann_browser.post(f"/spaces/{space.slug}/join")
    home = after(ann_browser, ann_browser.post(f"/spaces/{space.slug}/join"))
    assert message in home.main_text
    assert membership(space, ann).state is (
        MemberState.requested if policy is JoinPolicy.request else MemberState.active
    )


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


@pytest.mark.parametrize("how", ["leave", "step down"])
@pytest.mark.parametrize(
    "account", [{"active": False}, {"confirmed": False}], ids=["deactivated", "unconfirmed"]
)
def test_an_owner_cannot_go_when_the_only_other_owner_is_not_listed(
    browser, make_user, add_member, space, account, how
):
    """Only someone the network lists (an active account with a confirmed address) can look
    after the space: a deactivated owner, or one who never confirmed their address, does not
    count as the owner who stays."""
    owner = owner_of(space)
    other = make_user("Gus Gone", **account)
    add_member(space, other, MemberRole.owner)
    owner_browser = browser(owner)
    if how == "leave":
        response = owner_browser.post(f"/spaces/{space.slug}/leave")
    else:
        response = owner_browser.post(
            f"/spaces/{space.slug}/members/{owner.id}/role", data={"role": "member"}
        )
    assert "A space needs an owner. Make someone else an owner first" in (
        after(owner_browser, response).main_text
    )
    assert membership(space, owner).role is MemberRole.owner


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


def test_inviting_someone_who_asked_to_join_says_they_are_now_a_member(
    browser, make_user, add_member, outbox, private_space, moderator
):
    """Inviting someone waiting for an answer approves their request: the page says so, rather
    than that an invitation was sent (none was: they were told they have joined)."""
    space = private_space
    rita = make_user("Rita Requester", "rita@trust.nhs.uk")
    add_member(space, rita, state=MemberState.requested)
    mo_browser = browser(moderator)
    members = after(
        mo_browser,
        mo_browser.post(
            f"/spaces/{space.slug}/members/invite", data={"email": "rita@trust.nhs.uk"}
        ),
    )
    assert "rita@trust.nhs.uk had asked to join and is now a member." in members.main_text
    assert "Invitation sent" not in members.main_text
    assert membership(space, rita).state is MemberState.active
    assert outbox.last("rita@trust.nhs.uk").subject == "You have joined QMS Pilots SIG on peerlearn"


def test_requests_from_accounts_since_deactivated_are_neither_counted_nor_listed(
    browser, make_user, add_member, private_space, moderator
):
    """Like the member count, the requests waiting are of people the network lists: a request
    from an account deactivated since is not one a moderator can answer."""
    space = private_space
    add_member(space, make_user("Rita Requester"), state=MemberState.requested)
    add_member(space, make_user("Gone Away", active=False), state=MemberState.requested)
    mo_browser = browser(moderator)
    home = page(mo_browser, f"/spaces/{space.slug}")
    assert home.link("1 request waiting") == f"/spaces/{space.slug}/members#requests"
    members = page(mo_browser, f"/spaces/{space.slug}/members")
    assert "Approve Rita Requester's request" in buttons(members)
    assert "Gone Away" not in members.main_text


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


@pytest.mark.parametrize("join_policy", ["open", "invite"])
def test_opening_a_space_admits_everyone_who_asked_to_join(
    browser, make_user, add_member, outbox, private_space, join_policy
):
    """Anyone may join an open space, so those who asked are admitted when it opens, each told
    and audited as an approval is; a space made invite-only leaves them for its moderators."""
    space, owner = private_space, owner_of(private_space)
    asked = [make_user("Rita Requester", "rita@trust.nhs.uk"), make_user("Ray Requester")]
    for person in asked:
        add_member(space, person, state=MemberState.requested)
    owner_browser = browser(owner)
    settings = {
        "name": space.name,
        "summary": space.summary,
        "description": space.description_source,
        "visibility": "private",
        "join_policy": join_policy,
    }
    home = after(owner_browser, owner_browser.post(f"/spaces/{space.slug}/settings", data=settings))
    assert "The space's settings have been saved." in home.main_text
    members = page(owner_browser, f"/spaces/{space.slug}/members")
    if join_policy == "invite":
        assert "had asked to join" not in home.main_text
        assert [membership(space, person).state for person in asked] == [MemberState.requested] * 2
        assert "Approve Rita Requester's request" in buttons(members)
        assert outbox.to("rita@trust.nhs.uk") == []
        assert (
            db.session.scalar(select(AuditEntry).where(AuditEntry.action == "membership.approved"))
            is None
        )
        return
    assert "The 2 people who had asked to join are now members." in home.main_text
    assert [membership(space, person).state for person in asked] == [MemberState.active] * 2
    approvals = db.session.execute(
        select(AuditEntry.actor_id, AuditEntry.subject_id, AuditEntry.space_id)
        .where(AuditEntry.action == "membership.approved")
        .order_by(AuditEntry.subject_id)
    ).all()
    assert approvals == [(owner.id, person.id, space.id) for person in asked]
    assert last_audit("space.updated").detail == {"join_policy": "request → open"}
    assert "Requests to join" not in members.main_text
    assert "Rita Requester" in members.main_text
    assert outbox.last("rita@trust.nhs.uk").subject == "You have joined QMS Pilots SIG on peerlearn"
    home = page(browser(asked[0]), f"/spaces/{space.slug}")
    assert "You are a member of this space." in home.main_text


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


def test_a_mail_server_that_is_away_never_fails_an_invitation_or_an_approval(
    app, browser, make_user, add_member, invite_space, private_space, moderator, refused_port,
    caplog,
):  # fmt: skip
    """The membership e-mail goes once the page has been answered, as every e-mail does: a mail
    server that refuses the connection is logged, and the moderator still lands on the members
    page that says it was done."""
    ivy, rita = make_user("Ivy Invitee"), make_user("Rita Requester")
    add_member(private_space, rita, state=MemberState.requested)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=refused_port)
    try:
        owner_browser = browser(owner_of(invite_space))
        invite = f"/spaces/{invite_space.slug}/members/invite"
        members = after(owner_browser, owner_browser.post(invite, data={"email": ivy.email}))
        assert "Invitation sent to" in members.main_text
        mo_browser = browser(moderator)
        approve = f"/spaces/{private_space.slug}/members/{rita.id}/approve"
        members = after(mo_browser, mo_browser.post(approve))
        assert "Rita Requester is now a member." in members.main_text
    finally:
        app.config.update(MAIL_SERVER=None)
    assert membership(invite_space, ivy).state is MemberState.invited
    assert membership(private_space, rita).state is MemberState.active
    assert 'membership e-mail "You are invited to join' in caplog.text
    assert "membership e-mail 'You have joined" in caplog.text


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
    assert response.status_code == 200
    members = Page(response)
    assert "<title>Error: Members of" in members.html
    assert members.error_for("email") == message
    assert members.summary_has(message, "email")
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


@pytest.mark.parametrize("account", ["deactivated", "never confirmed"])
def test_only_people_the_network_lists_can_be_invited(
    browser, make_user, outbox, invite_space, account
):
    """An account never confirmed cannot sign in, and its address may not even be its
    registrant's: it is refused like a deactivated one or no account at all, so the invitation
    list never names (nor links to the missing profile of) someone the network does not list."""
    target = make_user("Una Listed", "una@trust.nhs.uk", active=account != "deactivated",
                       confirmed=account != "never confirmed")  # fmt: skip
    owner_browser = browser(owner_of(invite_space))
    members = Page(
        owner_browser.post(
            f"/spaces/{invite_space.slug}/members/invite", data={"email": "una@trust.nhs.uk"}
        )
    )
    assert members.error_for("email") == (
        "Nobody with that e-mail address has a peerlearn account. "
        "Ask them to register first, then invite them"
    )
    assert membership(invite_space, target) is None
    assert outbox.messages() == []
