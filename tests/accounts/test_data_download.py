"""Downloading your data: one JSON file of what the member gave and did, with nothing another
member wrote, no text a moderator hid, and titles only of what the member may still see."""

import json
from datetime import timedelta

from peerlearn.core.db import utcnow
from peerlearn.discussions import services as discussions
from peerlearn.discussions.marks import set_helpful
from peerlearn.events import chat
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.spaces.models import MemberRole, Visibility

PATIENT = "Mrs Jane Doe, NHS number 943 476 5919, waited 14 hours"


def _download(client, user) -> dict:
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="peerlearn-data-{user.handle}-'
    )
    return json.loads(response.get_data(as_text=True))


def test_a_member_downloads_what_they_wrote_and_did_and_nothing_of_anyone_else(
    client, login, make_user, make_space, add_member
):
    aisha, rachel = make_user("Aisha Khan"), make_user("Rachel Moss")
    moderator = make_user("Kwame Mensah")
    qms = make_space("Quality Management Systems")
    for person in (aisha, rachel):
        add_member(qms, person)
    add_member(qms, moderator, MemberRole.moderator)
    thread, _ = discussions.start_thread(
        aisha, qms, discussions.ThreadDraft("Board QMS reporting", "How do you report maturity?")
    )
    theirs, _ = discussions.reply(rachel, thread, "Rachel's own answer, not Aisha's to take.")
    mine, _ = discussions.reply(aisha, thread, "First wording of my reply.", parent=theirs)
    discussions.edit_post(aisha, mine, "Better wording of my reply.")
    slip, _ = discussions.reply(aisha, thread, PATIENT)
    moderation.set_post_hidden(moderator, slip, True, "patient-identifiable information")
    set_helpful(aisha, theirs, True)

    event = Event(space=qms, created_by=moderator, title="QMS in practice",
                  starts_at=utcnow() + timedelta(minutes=10), ends_at=utcnow() + timedelta(hours=1),
                  joining_url="https://meet.example.org/qms")  # fmt: skip
    db.session.add(event)
    db.session.commit()
    chat.post_message(aisha, event, "Hello from Lancashire", "a1")
    chat.post_message(rachel, event, "Rachel's chat message", "r1")

    # A private group Aisha wrote in and has since left: named, its thread not.
    private = make_space("Board development", visibility=Visibility.private)
    membership = add_member(private, aisha)
    board, _ = discussions.start_thread(
        aisha, private, discussions.ThreadDraft("Confidential board paper", "My private words.")
    )
    db.session.delete(membership)  # as leaving does
    db.session.commit()

    login(client, aisha)
    data = _download(client, aisha)
    text = json.dumps(data)

    assert data["account"]["display_name"] == "Aisha Khan"
    assert data["account"]["email"] == aisha.email
    assert [m["space"] for m in data["memberships"]] == ["Quality Management Systems"]
    words = {post["id"]: post for post in data["posts"]}
    assert words[mine.id]["text"] == "Better wording of my reply."
    assert words[mine.id]["earlier_versions"][0]["text"] == "First wording of my reply."
    assert words[mine.id]["thread"]["title"] == "Board QMS reporting"
    # Hidden for patient information: noted, never included.
    assert words[slip.id]["text"] is None and "Hidden by a moderator" in words[slip.id]["note"]
    assert "943 476 5919" not in text
    # Nothing anyone else wrote.
    assert "Rachel's own answer" not in text and "Rachel's chat message" not in text
    assert [m["text"] for m in data["chat_messages"]] == ["Hello from Lancashire"]
    assert data["chat_messages"][0]["event"]["title"] == "QMS in practice"
    assert [mark["post_id"] for mark in data["helpful"]] == [theirs.id]
    # Her own words in the group she left are hers; the group's thread title is not shown.
    left = next(post for post in data["posts"] if post["thread"]["id"] == board.id)
    assert left["text"] == "My private words."
    assert left["thread"] == {"id": board.id, "space": "Board development"}


def test_only_a_signed_in_member_downloads_and_only_their_own(client, new_client, login, make_user):
    assert client.get("/account/data.json").status_code == 302  # to sign in
    aisha, rachel = make_user("Aisha Khan"), make_user("Rachel Moss")
    login(client, aisha)
    other = new_client()
    login(other, rachel)
    assert _download(client, aisha)["account"]["email"] == aisha.email
    theirs = _download(other, rachel)
    assert theirs["account"]["email"] == rachel.email
