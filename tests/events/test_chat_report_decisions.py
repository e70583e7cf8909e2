"""The moderators' decisions on reported live chat messages: the space's queue and the network's,
restoring or removing a message there or deleting it in the chat (its reports closed and
audited either way), and a decision refused once the moderator is no longer one."""

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.events import chat
from peerlearn.events.models import ChatMessage
from peerlearn.extensions import db
from peerlearn.moderation.models import Flag, FlagOutcome
from peerlearn.spaces import memberships
from peerlearn.spaces.models import MemberRole, Space
from peerlearn.spaces.services import get_membership
from tests.accounts.pages import Page
from tests.concurrency import WRITES, at_once, one_inside_another
from tests.events.chat_helpers import (
    PATIENT,
    ask,
    joined,
    received,
    report,
)
from tests.spaces.flows import owner_of

# The moderators' queue ----------------------------------------------------------------------


def test_the_queue_shows_a_reported_message_and_a_moderator_restores_it(
    said, live_event, sig, member, moderator, chatter, client, login
):
    reader = chatter(member())
    joined(reader, live_event)
    report(chatter(member()), said, PATIENT, note="a patient's name")
    login(client, moderator)
    queue = client.get(f"/spaces/{sig.slug}/moderation").get_data(as_text=True)
    assert "Reported live chat messages" in queue
    assert "943 476 5919" in queue and "a patient&#39;s name" in queue
    assert "Restore and dismiss" in queue
    received(reader, "message_hidden")

    response = client.post(f"/chat-messages/{said.id}/moderate",
                           data={"action": "restore", "next": "space"})  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/spaces/{sig.slug}/moderation")
    db.session.refresh(said)
    assert said.hidden_at is None
    (restored,) = received(reader, "message_restored")
    assert restored["id"] == said.id and "943 476 5919" in restored["message"]["body_html"]
    flag = db.session.scalar(select(Flag).where(Flag.chat_message_id == said.id))
    assert flag.outcome is FlagOutcome.dismissed
    queue = client.get(f"/spaces/{sig.slug}/moderation").get_data(as_text=True)
    assert "943 476 5919" not in queue


def test_a_moderator_removes_a_reported_message_from_the_queue(
    said, live_event, member, moderator, chatter, client, login
):
    reader = chatter(member())
    joined(reader, live_event)
    report(chatter(member()), said, "abusive")
    login(client, moderator)
    client.post(f"/chat-messages/{said.id}/moderate", data={"action": "delete"})
    db.session.refresh(said)
    assert said.deleted_at is not None
    assert received(reader, "message_deleted") == [{"id": said.id}]
    flag = db.session.scalar(select(Flag).where(Flag.chat_message_id == said.id))
    assert flag.outcome is FlagOutcome.hidden


def test_closing_the_reports_on_a_message_its_author_removed_empties_the_queue(
    said, sig, member, moderator, chatter, client, login
):
    report(chatter(member()), said, "abusive")
    chat.delete_message(said.author, said)
    login(client, moderator)
    queue = client.get(f"/spaces/{sig.slug}/moderation").get_data(as_text=True)
    assert "This message has been removed." in queue and "Close reports" in queue
    client.post(f"/chat-messages/{said.id}/moderate", data={"action": "delete", "next": "space"})
    flag = db.session.scalar(select(Flag).where(Flag.chat_message_id == said.id))
    assert flag.resolved_at is not None and flag.outcome is FlagOutcome.hidden
    queue = client.get(f"/spaces/{sig.slug}/moderation").get_data(as_text=True)
    assert "There are no reported chat messages waiting" in queue


def audit_log() -> list[str]:
    """Every action in the audit log, oldest first (signing in aside)."""
    query = select(AuditEntry.action).where(AuditEntry.action.not_like("auth.%"))
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def test_a_moderator_removing_a_reported_message_in_the_chat_closes_its_reports(
    said, live_event, sig, member, moderator, chatter, client, login
):
    """Removed live, with the chat's Delete button, as from the queue: its open reports are
    closed and audited, it leaves the queue, and every screen is told once."""
    reader, mod = chatter(member()), chatter(moderator)
    for socket in (reader, mod):
        joined(socket, live_event)
    report(chatter(member()), said, "abusive")
    report(chatter(member()), said, "spam")
    before = audit_log()

    assert ask(mod, "delete", {"message_id": said.id}) == {"ok": True}
    assert received(reader, "message_deleted") == [{"id": said.id}]
    db.session.expire_all()
    flags = db.session.scalars(select(Flag).where(Flag.chat_message_id == said.id)).all()
    assert [(f.outcome, f.resolved_by_id) for f in flags] == [
        (FlagOutcome.hidden, moderator.id),
        (FlagOutcome.hidden, moderator.id),
    ]
    assert all(f.resolved_at is not None for f in flags)
    assert audit_log() == [*before, "flags.resolved", "chat.message_deleted"]
    login(client, moderator)
    queue = client.get(f"/spaces/{sig.slug}/moderation").get_data(as_text=True)
    assert "There are no reported chat messages waiting" in queue
    # Removing it again changes nothing, and tells nobody.
    assert ask(mod, "delete", {"message_id": said.id}) == {"ok": True}
    assert received(reader, "message_deleted") == []
    assert audit_log() == [*before, "flags.resolved", "chat.message_deleted"]


def test_an_author_removing_their_reported_message_leaves_its_reports_to_the_moderators(
    said, sig, member, moderator, chatter, client, login
):
    report(chatter(member()), said, "abusive")
    assert ask(chatter(said.author), "delete", {"message_id": said.id}) == {"ok": True}
    flag = db.session.scalar(select(Flag).where(Flag.chat_message_id == said.id))
    assert flag.resolved_at is None
    login(client, moderator)
    queue = client.get(f"/spaces/{sig.slug}/moderation").get_data(as_text=True)
    assert "This message has been removed." in queue and "Close reports" in queue


#: How a moderator decides on a reported message: from the queue's form, or live in the chat.
DECISIONS = ["hide", "restore", "delete", "delete in the chat"]


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_moderator_made_a_plain_member_as_they_decide_on_a_message_is_refused(
    app, decision, said, live_event, sig, member, moderator, chatter, new_client, login
):
    """The queue's page (or the chat's check) found them a moderator, and an owner's making
    them a plain member is committed before the decision holds the message and its space: the
    decision asks the policy again, as held, and is refused, saying why; the message, its
    reports and the audit log are as they were."""
    report(chatter(member()), said, PATIENT if decision == "restore" else "abusive")
    browser = new_client()
    login(browser, moderator)
    socket = chatter(moderator)
    owner_id, moderator_id, space_id, said_id = owner_of(sig).id, moderator.id, sig.id, said.id

    def as_it_is():
        db.session.expire_all()
        message = db.session.get(ChatMessage, said_id)
        open_reports = select(Flag).where(Flag.chat_message_id == said_id,
                                          Flag.resolved_at.is_(None))  # fmt: skip
        return message.hidden_at, message.deleted_at, len(db.session.scalars(open_reports).all())

    before, audited_before = as_it_is(), audit_log()
    answers = []

    def decide() -> None:
        if decision == "delete in the chat":
            answers.append(ask(socket, "delete", {"message_id": said_id}))
        else:
            path = f"/chat-messages/{said_id}/moderate"
            answers.append(browser.post(path, data={"action": decision, "next": "space"}))

    def demote() -> None:
        space = db.session.get(Space, space_id)
        target = get_membership(space, db.session.get(User, moderator_id))
        memberships.change_role(db.session.get(User, owner_id), target, MemberRole.member)

    one_inside_another(app, decide, demote, WRITES)
    (answer,) = answers
    refusal = "You are no longer a moderator of this space."
    if decision == "delete in the chat":
        assert answer == {"ok": False, "error": {"code": "forbidden", "message": refusal}}
    else:
        assert answer.status_code == 302
        assert answer.location.endswith(f"/events/{live_event.id}")
        assert f"Important: {refusal}" in Page(browser.get(answer.location)).main_text
    assert as_it_is() == before
    assert audit_log() == [*audited_before, "membership.role_changed"]


def test_a_message_hidden_by_reports_a_moment_ago_cannot_be_pinned(
    app, said, live_event, member, moderator
):
    """The moderator's request read the message before reports hid it, and pins after: the
    pin is refused as the message now stands, so its text never reaches the pinned list."""
    from peerlearn.moderation import services

    assert said.hidden_at is None  # as the moderator's request read it
    reporter_id, said_id = member().id, said.id

    def hide() -> None:
        reporter = db.session.get(User, reporter_id)
        message = db.session.get(ChatMessage, said_id)
        services.flag_chat_message(reporter, message, services.FlagReason.patient_information)

    at_once(app, [hide])
    with pytest.raises(chat.ChatError, match="A hidden message cannot be pinned"):
        chat.set_pinned(moderator, said, True)
    db.session.rollback()
    assert chat.pinned_messages(live_event) == []


@pytest.mark.parametrize("role", ["member", "outsider"])
def test_only_moderators_decide_on_a_reported_message(role, said, sig, person_in, client, login):
    login(client, person_in(role, sig))
    response = client.post(f"/chat-messages/{said.id}/moderate", data={"action": "restore"})
    assert response.status_code == 403


def test_a_reported_message_waits_in_the_network_queue_for_administrators(
    said, member, make_user, client, login
):
    report_by = member()
    from peerlearn.moderation import services

    services.flag_chat_message(report_by, said, services.FlagReason.spam)
    login(client, make_user(admin=True))
    assert "943 476 5919" in client.get("/moderation").get_data(as_text=True)
