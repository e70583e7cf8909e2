"""The e-mails peerlearn sends: plain text, addressed by name, with the link to follow and the
sign-off, and never HTML-escaped (an apostrophe is an apostrophe)."""

from peerlearn.spaces import memberships
from peerlearn.spaces.models import JoinPolicy, MemberState


def assert_plain_and_signed(mail, name):
    assert mail.text.startswith(f"Hello {name},")
    assert mail.text.rstrip().endswith("peerlearn")
    for leftover in ("{{", "}}", "{%", "&#39;", "&amp;", "&lt;", "None"):
        assert leftover not in mail.text, leftover


def test_account_emails_are_plain_text_with_their_links(client, register, make_user, outbox):
    register(email="ann@trust.nhs.uk", display_name="Ann O'Neill & Co")
    confirm = outbox.last("ann@trust.nhs.uk")
    assert_plain_and_signed(confirm, "Ann O'Neill & Co")
    assert "http://peerlearn.test/confirm/" in confirm.text
    assert "7 days" in confirm.text

    make_user("Existing O'Brien", email="existing@trust.nhs.uk")
    register(email="existing@trust.nhs.uk")
    assert_plain_and_signed(outbox.last("existing@trust.nhs.uk"), "Existing O'Brien")

    client.post("/password/forgot", data={"email": "existing@trust.nhs.uk"})
    reset = outbox.last("existing@trust.nhs.uk")
    assert_plain_and_signed(reset, "Existing O'Brien")
    assert "http://peerlearn.test/password/reset/" in reset.text


def test_space_emails_name_the_space_and_link_to_it(make_user, make_space, add_member, outbox):
    moderator = make_user("Mo O'Hara")
    space = make_space("Flow & QMS group", owner=moderator, join_policy=JoinPolicy.request)
    invitee = make_user("Ian Vitee", email="ian@trust.nhs.uk")
    memberships.invite(moderator, space, "ian@trust.nhs.uk")
    invited = outbox.last("ian@trust.nhs.uk")
    assert_plain_and_signed(invited, "Ian Vitee")
    assert "Mo O'Hara has invited you to join Flow & QMS group" in invited.text
    assert f"http://peerlearn.test/spaces/{space.slug}" in invited.text
    assert invitee.email == invited.to

    asker = make_user("Ada Sker", email="ada@trust.nhs.uk")
    request = add_member(space, asker, state=MemberState.requested)
    memberships.approve_request(moderator, request)
    approved = outbox.last("ada@trust.nhs.uk")
    assert_plain_and_signed(approved, "Ada Sker")
    assert "Your request to join Flow & QMS group on peerlearn has been approved" in approved.text
    assert f"http://peerlearn.test/spaces/{space.slug}" in approved.text
