"""Reporting a live chat message to the space's moderators: over Socket.IO (``report_message``)
and from the plain form beside each message, under the one rule and into the one queue that
reported posts use. A member's report of patient-identifiable information hides the message at
once from everyone but the moderators; the moderators restore it or remove it from their
queue, and every screen follows."""

import pytest
from sqlalchemy import select

from peerlearn.events import chat
from peerlearn.events.models import ChatMessage
from peerlearn.extensions import db
from peerlearn.moderation.models import Flag, FlagReason
from peerlearn.permissions import Action, can
from peerlearn.spaces.models import JoinPolicy, Visibility
from tests.events.chat_helpers import (
    PATIENT,
    ask,
    audited,
    code,
    event_on_now,
    joined,
    received,
    report,
)
from tests.roles import ACTIVE, ROLES, SIGNED_IN

# Who may report, role by role --------------------------------------------------------------

#: visibility -> the roles whose report of someone else's message is taken.
MAY_REPORT = {"network": SIGNED_IN - {"banned"}, "private": ACTIVE | {"admin"}}


@pytest.mark.parametrize("visibility", ["network", "private"])
@pytest.mark.parametrize("role", ROLES[1:])  # anonymous sockets cannot even connect
def test_who_may_report_a_message(visibility, role, make_space, person_in, member, add_member,
                                  chatter):  # fmt: skip
    space = make_space(visibility=Visibility(visibility), join_policy=JoinPolicy.open)
    live = event_on_now(space)
    author = member()
    add_member(space, author)
    message, _ = chat.post_message(author, live, "Hello", "m")
    outcome = code(report(chatter(person_in(role, space)), message, "spam"))
    if role in MAY_REPORT[visibility]:
        assert outcome == "ok"
        assert db.session.scalar(select(Flag).where(Flag.chat_message_id == message.id))
    else:
        assert outcome in {"forbidden", "not_found"}
        assert not db.session.scalar(select(Flag).where(Flag.chat_message_id == message.id))


#: role -> whether the policy lets them (flag, delete) a member's message, and their own.
POLICY = {
    "outsider": {"flag": True, "delete": False, "delete own": False},
    "requested": {"flag": True, "delete": False, "delete own": False},
    "invited": {"flag": True, "delete": False, "delete own": False},
    "member": {"flag": True, "delete": False, "delete own": True},
    "moderator": {"flag": True, "delete": True, "delete own": True},
    "owner": {"flag": True, "delete": True, "delete own": True},
    "banned": {"flag": False, "delete": False, "delete own": False},
    "admin": {"flag": True, "delete": True, "delete own": True},
    "anonymous": {"flag": False, "delete": False, "delete own": False},
}


@pytest.mark.parametrize("role", ROLES)
def test_the_policy_on_a_chat_message_role_by_role(role, make_space, person_in, member,
                                                   add_member):  # fmt: skip
    space = make_space(visibility=Visibility.network)
    live = event_on_now(space)
    person = person_in(role, space)
    author = member()
    add_member(space, author)
    theirs, _ = chat.post_message(author, live, "Hello", "m")
    expected = POLICY[role]
    assert can(person, Action.flag, theirs) is expected["flag"]
    assert can(person, Action.delete, theirs) is expected["delete"]
    if role == "anonymous":
        return
    mine = ChatMessage(event_id=live.id, author_id=person.id, client_id="own",
                       body_source="Mine", body_html="<p>Mine</p>")  # fmt: skip
    db.session.add(mine)
    db.session.commit()
    assert can(person, Action.flag, mine) is False  # nobody reports their own message
    assert can(person, Action.delete, mine) is expected["delete own"]


def test_nobody_reports_a_removed_or_hidden_message_or_one_in_an_archived_space(
    said, live_event, member, moderator
):
    reader = member()
    said.hidden_at = said.created_at
    db.session.commit()
    assert not can(reader, Action.flag, said)
    assert can(moderator, Action.view, said) and not can(reader, Action.view, said)
    said.hidden_at, said.deleted_at = None, said.created_at
    db.session.commit()
    assert not can(reader, Action.flag, said)
    said.deleted_at = None
    live_event.space.archived_at = said.created_at
    db.session.commit()
    assert not can(reader, Action.flag, said)


# Bad input gets a clear acknowledgement ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "bad_request"),
        ({}, "bad_request"),
        ({"message_id": "1", "reason": "spam"}, "bad_request"),
        ({"message_id": True, "reason": "spam"}, "bad_request"),
        ({"message_id": 99_999, "reason": "spam"}, "not_found"),
        ({"reason": "spam"}, "bad_request"),
        ({"message_id": "SAID"}, "bad_request"),
        ({"message_id": "SAID", "reason": "rude"}, "bad_request"),
        ({"message_id": "SAID", "reason": 3}, "bad_request"),
        ({"message_id": "SAID", "reason": "spam", "note": 5}, "bad_request"),
    ],
)
def test_every_bad_report_is_acknowledged_with_an_error(data, expected, said, member, chatter):
    if isinstance(data, dict) and data.get("message_id") == "SAID":
        data = {**data, "message_id": said.id}
    ack = ask(chatter(member()), "report_message", data)
    assert ack["ok"] is False
    assert ack["error"]["code"] == expected
    assert ack["error"]["message"]
    assert not db.session.scalars(select(Flag)).all()


def test_members_cannot_report_their_own_message(said, chatter):
    ack = report(chatter(said.author), said)
    assert code(ack) == "forbidden"
    assert ack["error"]["message"] == "You cannot report your own message"


def test_a_person_reports_a_message_once(said, member, chatter):
    socket = chatter(member())
    assert code(report(socket, said, "spam")) == "ok"
    ack = report(socket, said, "abusive")
    assert code(ack) == "already_reported"
    assert ack["error"]["message"] == "You have already reported this message"
    assert len(db.session.scalars(select(Flag)).all()) == 1


def test_reports_are_limited_to_twenty_an_hour(live_event, member, chatter):
    author = member()
    messages = [chat.post_message(author, live_event, f"m{n}", f"c{n}")[0] for n in range(21)]
    socket = chatter(member())
    codes = [code(report(socket, m, "spam")) for m in messages]
    assert codes == ["ok"] * 20 + ["rate_limited"]


def test_reports_over_the_socket_and_the_form_share_one_allowance(
    live_event, member, new_client, login, connect_socket
):
    """Twenty reports an hour however they are made: ten from the plain form beside each message
    and ten over the live chat leave none for either."""
    author, reporter = member(), member()
    messages = [chat.post_message(author, live_event, f"m{n}", f"c{n}")[0] for n in range(22)]
    browser = new_client()
    login(browser, reporter)
    socket = connect_socket(browser, namespace="/live")

    def by_form(message):
        url = f"/events/{live_event.id}/chat/{message.id}/report"
        return browser.post(url, data={"reason": "spam"}).status_code

    assert [by_form(m) for m in messages[:10]] == [302] * 10
    assert [code(report(socket, m, "spam")) for m in messages[10:20]] == ["ok"] * 10
    refused = report(socket, messages[20], "spam")
    assert code(refused) == "rate_limited"
    assert refused["error"]["message"].startswith(
        "You can make up to 20 reports an hour, and have made them all: you can report again in"
    )
    assert 0 < refused["error"]["retry_after"] <= 3600
    assert by_form(messages[21]) == 429
    reported = db.session.scalars(
        select(Flag.chat_message_id).where(Flag.reporter_id == reporter.id)
    )
    assert sorted(reported) == sorted(m.id for m in messages[:20])


# Hiding at once, for everyone but the moderators ---------------------------------------------


def test_a_members_patient_information_report_hides_the_message_from_every_screen(
    said, live_event, member, moderator, chatter
):
    reporter, reader = chatter(member()), chatter(member())
    mod = chatter(moderator)
    for socket in (reporter, reader, mod):
        joined(socket, live_event)
    ack = report(reporter, said, PATIENT, note="NHS number")
    assert ack == {"ok": True, "hidden": True}
    assert received(reader, "message_hidden") == [{"id": said.id}]
    (notice,) = received(mod, "message_hidden")
    assert notice["message"]["hidden"] and "943 476 5919" in notice["message"]["body_html"]
    # Whoever comes in now sees a placeholder; moderators still see the text, marked hidden.
    shown = joined(chatter(member()), live_event)["messages"][-1]
    assert shown["hidden"] and shown["body_html"] == ""
    reviewed = joined(chatter(moderator), live_event)["messages"][-1]
    assert reviewed["hidden"] and "943 476 5919" in reviewed["body_html"]
    # A reader catching up after it is told it was hidden.
    later = ask(reader, "catch_up", {"event_id": live_event.id, "after_id": said.id})
    assert later["hidden_ids"] == [said.id]
    assert "chat.message_hidden" in audited()


def test_only_moderators_screens_are_sent_a_hidden_messages_text(
    said, live_event, member, moderator, make_user, chatter, client, login
):
    """Moderators' screens are told a message was hidden, with its text, to mark it hidden;
    everyone else's only that it went. A restore brings it back to every screen."""
    reader, outsider, mod = chatter(member()), chatter(make_user()), chatter(moderator)
    for socket in (reader, outsider, mod):
        joined(socket, live_event)
    assert report(chatter(member()), said, PATIENT)["hidden"]

    for socket in (reader, outsider):
        told = [e for e in socket.get_received("/live") if e["name"] != "presence"]
        assert told == [{"name": "message_hidden", "args": [{"id": said.id}], "namespace": "/live"}]
    (notice,) = received(mod, "message_hidden")
    db.session.refresh(said)
    assert notice == {"id": said.id, "message": chat.payload(said, moderator=True)}
    assert notice["message"]["hidden"] and "943 476 5919" in notice["message"]["body_html"]

    login(client, moderator)
    client.post(f"/chat-messages/{said.id}/moderate", data={"action": "restore"})
    for socket in (reader, outsider, mod):
        (restored,) = received(socket, "message_restored")
        assert restored["message"]["hidden"] is False
        assert "943 476 5919" in restored["message"]["body_html"]


def test_a_non_members_patient_information_report_hides_only_once_seconded(
    said, live_event, make_user, chatter
):
    """The space is visible to the whole network: someone outside it may report, but is not
    answerable to its moderators, so their report alone waits in the queue."""
    assert code(report(chatter(make_user()), said)) == "ok"
    db.session.refresh(said)
    assert said.hidden_at is None
    assert code(report(chatter(make_user()), said)) == "ok"
    db.session.refresh(said)
    assert said.hidden_at is not None


def test_a_report_of_something_else_must_say_what_and_keep_it_short(said, member, chatter):
    """As on every report form: the note is optional, but for "Something else", and at most
    1,000 characters (refused, not cut short); the note reaches the moderators' queue."""
    socket = chatter(member())
    for note in ({}, {"note": "  "}):
        ack = report(socket, said, "other", **note)
        assert ack["error"] == {
            "code": "note",
            "message": "Say what is wrong, so that the moderators know what to look for",
        }
    ack = report(socket, said, "spam", note="x" * 1001)
    assert ack["error"]["code"] == "note" and "1,000 characters" in ack["error"]["message"]
    assert not db.session.scalars(select(Flag)).all()
    # What may not be reported at all is told so first.
    assert code(report(chatter(said.author), said, "other")) == "forbidden"
    # A line break counts once, as on the forms (a browser sends a textarea's as CRLF).
    note = "Selling a course\r\n" + "x" * 982
    assert code(report(socket, said, "other", note=note)) == "ok"
    flag = db.session.scalars(select(Flag)).one()
    assert (flag.reason, flag.note) == (FlagReason.other, "Selling a course\n" + "x" * 982)


def test_other_reasons_leave_the_message_up(said, member, chatter):
    assert report(chatter(member()), said, "abusive") == {"ok": True, "hidden": False}
    db.session.refresh(said)
    assert said.hidden_at is None


def test_a_hidden_message_leaves_the_pinned_list_and_the_transcript(
    said, live_event, member, moderator, client, login
):
    chat.set_pinned(moderator, said, True)
    from peerlearn.moderation import services

    services.flag_chat_message(member(), said, services.FlagReason.patient_information)
    assert chat.pinned_messages(live_event) == []
    login(client, member())
    page = client.get(f"/events/{live_event.id}/transcript").get_data(as_text=True)
    assert "943 476 5919" not in page


# Without JavaScript -------------------------------------------------------------------------


def test_the_plain_form_beside_a_message_reports_it(said, live_event, member, client, login):
    login(client, member())
    page = client.get(f"/events/{live_event.id}").get_data(as_text=True)
    action = f"/events/{live_event.id}/chat/{said.id}/report"
    assert action in page
    response = client.post(action, data={"reason": PATIENT}, follow_redirects=True)
    assert "The message is hidden until a moderator has looked at it" in response.get_data(
        as_text=True
    )
    db.session.refresh(said)
    assert said.hidden_at is not None
    page = client.get(f"/events/{live_event.id}").get_data(as_text=True)
    assert "943 476 5919" not in page and "reviews a report" in page


def test_the_plain_form_is_not_offered_for_your_own_message_and_refuses_it(
    said, live_event, client, login
):
    login(client, said.author)
    action = f"/events/{live_event.id}/chat/{said.id}/report"
    assert action not in client.get(f"/events/{live_event.id}").get_data(as_text=True)
    assert client.post(action, data={"reason": "spam"}).status_code == 403


def test_the_plain_form_must_say_why(said, live_event, member, client, login):
    """A report without a reason comes back on a page of its own: the error summary and the
    question's own error, the message being reported, and the reasons to choose from."""
    login(client, member())
    response = client.post(f"/events/{live_event.id}/chat/{said.id}/report", data={})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page and page.count("Choose why you are reporting") == 2
    assert "<h1>Report a chat message</h1>" in page and "943 476 5919" in page
    assert page.count('name="reason"') == len(FlagReason)
    assert not db.session.scalars(select(Flag)).all()


def test_the_plain_form_must_say_what_something_else_is(said, live_event, member, client, login):
    login(client, member())
    action = f"/events/{live_event.id}/chat/{said.id}/report"
    assert 'name="note"' in client.get(f"/events/{live_event.id}").get_data(as_text=True)
    page = client.post(action, data={"reason": "other", "note": ""}).get_data(as_text=True)
    assert page.count("Say what is wrong, so that the moderators know what to look for") == 2
    assert not db.session.scalars(select(Flag)).all()
    client.post(action, data={"reason": "other", "note": "Selling a course"})
    assert db.session.scalars(select(Flag.note)).one() == "Selling a course"


def test_the_plain_report_form_has_a_page_of_its_own(said, live_event, member, client, login):
    """(Where the form beside the message falls back to, and what a link to it shows.)"""
    login(client, member())
    page = client.get(f"/events/{live_event.id}/chat/{said.id}/report").get_data(as_text=True)
    assert "<h1>Report a chat message</h1>" in page and "There is a problem" not in page
    response = client.post(f"/events/{live_event.id}/chat/{said.id}/report",
                           data={"reason": "spam"}, follow_redirects=True)  # fmt: skip
    assert "The space&#39;s moderators will look at your report" in response.get_data(as_text=True)


def test_moderators_see_the_text_of_a_hidden_message_on_the_event_page(
    said, live_event, moderator, member, client, login
):
    from peerlearn.moderation import services

    services.flag_chat_message(member(), said, services.FlagReason.patient_information)
    login(client, moderator)
    page = client.get(f"/events/{live_event.id}").get_data(as_text=True)
    assert "943 476 5919" in page and "pl-chat__hidden-tag" in page


def test_a_reader_away_as_a_message_is_restored_gets_it_back_on_rejoining(
    said, live_event, member, moderator, chatter
):
    """The reader's screen showed the message hidden when the connection dropped; a moderator
    restored it meanwhile. Rejoining, the client names the messages it shows hidden and is given
    back those restored, as they now are; one still hidden, or not in this chat, stays out."""
    from peerlearn.moderation import services

    other, _ = chat.post_message(said.author, live_event, "Another, Mr Jones, NHS 123", "m2")
    services.flag_chat_message(member(), said, services.FlagReason.patient_information)
    services.flag_chat_message(member(), other, services.FlagReason.patient_information)
    services.set_chat_message_hidden(moderator, said, False)
    elsewhere = event_on_now(live_event.space)
    foreign, _ = chat.post_message(said.author, elsewhere, "In another chat", "m3")

    ack = ask(chatter(member()), "join", {"event_id": live_event.id, "after_id": other.id,
                                           "shown_hidden_ids": [said.id, other.id, foreign.id]})  # fmt: skip
    assert ack["ok"], ack
    assert [m["id"] for m in ack["restored"]] == [said.id]
    assert "943 476 5919" in ack["restored"][0]["body_html"]
    assert ack["hidden_ids"] == [other.id]
    assert "Mr Jones" not in str(ack["restored"])


@pytest.mark.parametrize(
    "shown",
    ["1", [True], [-1], ["1"], list(range(501))],
    ids=["text", "a-bool", "negative", "a-string", "501-ids"],
)
def test_a_rejoin_naming_hidden_messages_badly_is_refused(shown, live_event, member, chatter):
    ack = ask(chatter(member()), "join", {"event_id": live_event.id, "after_id": 0,
                                           "shown_hidden_ids": shown})  # fmt: skip
    assert code(ack) == "bad_request"
    assert "shown_hidden_ids must be a list of at most 500 whole numbers" in ack["error"]["message"]
