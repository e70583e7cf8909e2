"""Who is told what: fan-out, the notification centre, the live count, e-mail and unsubscribing."""

import email
import email.policy
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from peerlearn.accounts import services as accounts
from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions import following, marks
from peerlearn.discussions.models import (
    FollowState,
    SpaceSubscription,
    Thread,
    ThreadSubscription,
)
from peerlearn.extensions import db
from peerlearn.moderation.services import move_thread, set_post_hidden
from peerlearn.notifications import emails, services
from peerlearn.notifications.models import EmailFrequency, Notification, NotificationKind
from peerlearn.spaces.models import MemberRole, Membership, MemberState, Space, Visibility
from tests.concurrency import at_once


def kinds_for(user):
    return sorted(
        n.kind.value
        for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
    )


@pytest.fixture
def people(sig, member):
    return {name: member(name) for name in ("Asker", "Replier", "Follower", "Bystander")}


def test_fan_out_tells_each_person_once_and_never_the_author(
    client, new_client, sig, people, login, start_thread, post_reply
):
    asker, replier, follower, bystander = people.values()
    login(client, asker)
    thread = start_thread(client, sig, body=f"Hello @{replier.handle}")
    watcher = new_client()
    login(watcher, follower)
    watcher.post(f"/threads/{thread.id}/follow", data={"state": "following"})
    other = new_client()
    login(other, replier)
    reply = post_reply(other, thread, body=f"Replying, and mentioning @[{asker.display_name}]")
    post_reply(client, thread, body="Thanks!", to=reply)
    assert kinds_for(replier) == ["mention", "reply-to-post"]
    assert kinds_for(asker) == ["mention"]  # the mention outranks "reply in a thread you follow"
    assert kinds_for(follower) == ["reply-in-thread", "reply-in-thread"]
    assert kinds_for(bystander) == []


def test_new_threads_reach_space_followers(client, new_client, sig, people, login, start_thread):
    follower = people["Follower"]
    watcher = new_client()
    login(watcher, follower)
    watcher.post(f"/spaces/{sig.slug}/follow", data={"following": "yes"})
    login(client, people["Asker"])
    start_thread(client, sig, title="A brand new question")
    assert kinds_for(follower) == ["new-thread"]
    centre = watcher.get("/notifications").get_data(as_text=True)
    assert "started a new thread: A brand new question" in centre


def test_following_pressed_twice_at_once_follows_once(app, discussion):
    """A double click sends the form twice at the same moment: both are answered, one choice kept."""
    user_id, space_id, thread_id = discussion.reader.id, discussion.space.id, discussion.thread.id

    def follow_space():
        user, space = db.session.get(User, user_id), db.session.get(Space, space_id)
        following.set_space_following(user, space, True)

    def mute_thread():
        user, thread = db.session.get(User, user_id), db.session.get(Thread, thread_id)
        following.set_thread_following(user, thread, FollowState.muted)

    at_once(app, [follow_space, follow_space, mute_thread, mute_thread])
    db.session.rollback()  # see what they committed, as the next request would
    assert db.session.scalars(select(SpaceSubscription.user_id)).all() == [user_id]
    followed = select(ThreadSubscription.state).where(ThreadSubscription.user_id == user_id)
    assert db.session.scalars(followed).all() == [FollowState.muted]


def test_email_settings_saved_twice_at_once_keep_one_choice_each(app, discussion):
    """A double click on the e-mail settings form: both saves are answered, one row each."""
    user_id, space_id = discussion.reader.id, discussion.space.id

    def choose(space_wide):
        user = db.session.get(User, user_id)
        space = db.session.get(Space, space_id) if space_wide else None
        emails.set_email_frequency(user, EmailFrequency.immediate, space)

    at_once(app, [lambda: choose(False), lambda: choose(False), lambda: choose(True),
                  lambda: choose(True)])  # fmt: skip
    db.session.rollback()  # see what they committed, as the next request would
    user = db.session.get(User, user_id)
    assert emails.email_frequency(user) is EmailFrequency.immediate
    assert emails.space_overrides(user) == {space_id: EmailFrequency.immediate}


def test_a_helpful_mark_taken_back_and_given_again_tells_the_author_once(app, discussion):
    for helpful in (True, False, True, False, True):
        marks.set_helpful(discussion.reader, discussion.reply, helpful)
    assert kinds_for(discussion.replier) == ["post-helpful"]
    marks.set_helpful(discussion.moderator, discussion.reply, True)
    assert kinds_for(discussion.replier) == ["post-helpful", "post-helpful"]  # someone else's


def test_muting_a_thread_silences_it(
    client, new_client, sig, people, login, start_thread, post_reply
):
    asker, replier = people["Asker"], people["Replier"]
    login(client, asker)
    thread = start_thread(client, sig)
    client.post(f"/threads/{thread.id}/follow", data={"state": "muted"})
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} are you there?")
    assert kinds_for(asker) == []


def test_mentioning_someone_who_cannot_see_a_private_space_tells_nobody_and_says_so(
    client, make_space, make_user, add_member, login, start_thread
):
    private = make_space("Private group", visibility=Visibility.private)
    author, outsider = make_user("Author"), make_user("Outsider Person")
    add_member(private, author)
    login(client, author)
    response = client.post(
        f"/spaces/{private.slug}/threads/new",
        data={"title": "Secret", "body": f"cc @{outsider.handle}", "kind": "discussion"},
        follow_redirects=True,
    )
    assert "Outsider Person cannot see this space, so they were not notified" in response.get_data(
        as_text=True
    )
    assert kinds_for(outsider) == []


def test_an_account_never_confirmed_is_neither_linked_nor_notified_nor_shown(
    client, sig, add_member, make_user, login, start_thread
):
    """Anyone can register someone else's address: until it is confirmed, the account is not
    one of the network's people, so a mention of it is plain text and its profile is not found."""
    unconfirmed = make_user("Not Yet Confirmed", confirmed=False)
    add_member(sig, unconfirmed)
    author = make_user("Author")
    add_member(sig, author)
    login(client, author)
    thread = start_thread(client, sig, body=f"cc @{unconfirmed.handle} and @[Not Yet Confirmed]")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'href="/people/{unconfirmed.handle}"' not in page
    assert kinds_for(unconfirmed) == []
    assert client.get(f"/people/{unconfirmed.handle}").status_code == 404


def test_the_centre_lists_unread_first_and_opening_one_lands_on_the_post(
    client, new_client, sig, people, login, start_thread, post_reply
):
    asker, replier = people["Asker"], people["Replier"]
    login(client, asker)
    thread = start_thread(client, sig)
    other = new_client()
    login(other, replier)
    first = post_reply(other, thread, body=f"@{asker.handle} one")
    second = post_reply(other, thread, body=f"@{asker.handle} two")
    notes = db.session.scalars(
        select(Notification).where(Notification.user_id == asker.id).order_by(Notification.id)
    ).all()
    response = client.get(f"/notifications/{notes[0].id}")
    assert response.headers["Location"].endswith(f"/threads/{thread.id}/posts/{first.id}")
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index(f"/notifications/{notes[1].id}") < page.index(f"/notifications/{notes[0].id}")
    assert services.unread_count(asker) == 1
    client.post("/notifications/read")
    assert services.unread_count(asker) == 0
    assert second.id  # the second one was marked read by "mark all"


def test_a_notification_about_a_post_hidden_since_lands_on_its_thread(
    client, new_client, sig, people, member, login, start_thread, post_reply
):
    asker, replier = people["Asker"], people["Replier"]
    moderator = member("Mo Moderator", role=MemberRole.moderator)
    login(client, asker)
    thread = start_thread(client, sig, title="Board assurance")
    other = new_client()
    login(other, replier)
    reply = post_reply(other, thread, body=f"@{asker.handle} here is a patient's name")
    set_post_hidden(moderator, reply, True, reason="patient-identifiable information")
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == asker.id))
    response = client.get(f"/notifications/{note.id}", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"/threads/{thread.id}"
    page = response.get_data(as_text=True)
    assert "The post this notification was about is no longer available." in page
    assert "patient&#39;s name" not in page and "patient's name" not in page
    assert services.unread_count(asker) == 0


@pytest.mark.parametrize("junk", ["1x", "99999999999999999999", "²", ""])
def test_a_hand_made_notification_id_is_refused_not_read_as_all_of_them(
    client, new_client, sig, people, login, start_thread, post_reply, junk
):
    asker, replier = people["Asker"], people["Replier"]
    login(client, asker)
    thread = start_thread(client, sig)
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} one")
    assert services.unread_count(asker) == 1
    response = client.post("/notifications/read", data={"notification_id": junk})
    assert response.status_code == 400
    assert services.unread_count(asker) == 1


def test_someone_removed_from_a_private_space_stops_seeing_its_notifications(
    client, new_client, make_space, make_user, add_member, login, start_thread, post_reply
):
    private = make_space("Private group", visibility=Visibility.private)
    insider, author = make_user("Insider"), make_user("Author")
    membership = add_member(private, insider)
    add_member(private, author)
    login(client, author)
    thread = start_thread(client, private, title="Confidential plans", body=f"@{insider.handle}")
    assert services.unread_count(insider) == 1
    db.session.delete(db.session.get(Membership, membership.id))
    db.session.commit()
    viewer = new_client()
    login(viewer, insider)
    assert services.unread_count(insider) == 0
    assert "Confidential plans" not in viewer.get("/notifications").get_data(as_text=True)
    assert thread.id


def test_a_notification_from_a_space_left_since_lands_in_the_centre_not_on_a_404(
    client, new_client, make_space, make_user, add_member, login, start_thread
):
    """An old e-mail's link, or a tab left open, after its reader was removed from the space."""
    private = make_space("Private group", visibility=Visibility.private)
    insider, author = make_user("Insider"), make_user("Author")
    membership = add_member(private, insider)
    add_member(private, author)
    login(client, author)
    start_thread(client, private, title="Confidential plans", body=f"@{insider.handle}")
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == insider.id))
    db.session.delete(db.session.get(Membership, membership.id))
    db.session.commit()
    viewer = new_client()
    login(viewer, insider)
    response = viewer.get(f"/notifications/{note.id}", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/notifications"
    page = response.get_data(as_text=True)
    assert "The thread this notification was about is no longer available." in page
    assert "Confidential plans" not in page


def test_a_thread_moved_since_is_shown_and_e_mailed_as_in_its_new_space(
    app, client, new_client, sig, make_space, make_user, people, login, start_thread, post_reply
):
    asker, replier = people["Asker"], people["Replier"]
    flow = make_space("Flow coaching")
    emails.set_email_frequency(asker, EmailFrequency.off, flow)
    login(client, asker)
    thread = start_thread(client, sig, title="Patient flow huddles")
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} have a look")
    move_thread(make_user("Ada Admin", admin=True), thread, flow)
    page = client.get("/notifications").get_data(as_text=True)
    assert "in Flow coaching," in page and f"in {sig.name}," not in page
    assert emails.send_digests() == 0  # they want no e-mail from the space it is in now
    assert _eml(app, asker.email) == []


def _eml(app, address):
    messages = []
    for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            messages.append(message)
    return messages


def test_immediate_email_names_the_space_and_thread_and_offers_one_click_unsubscribe(
    app, client, new_client, sig, people, login, start_thread, post_reply
):
    asker, replier = people["Asker"], people["Replier"]
    emails.set_email_frequency(asker, EmailFrequency.immediate)
    login(client, asker)
    thread = start_thread(client, sig, title="Run charts or SPC?")
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} SPC, **always**")
    (message,) = _eml(app, asker.email)
    assert message["Subject"] == f"[{sig.name}] Run charts or SPC?"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<strong>always</strong>" in html
    unsubscribe = message["List-Unsubscribe"].strip("<>").split("peerlearn.test", 1)[1]
    anonymous = new_client()
    assert "Stop e-mail" in anonymous.get(unsubscribe).get_data(as_text=True)
    assert anonymous.post(unsubscribe, csrf=False).status_code == 200
    assert emails.email_frequency(asker, sig.id) is EmailFrequency.off


def test_the_network_wide_unsubscribe_link_stops_every_spaces_email_too(
    client, new_client, sig, make_space, people, login
):
    asker = people["Asker"]
    quiet = make_space("Quiet SIG")
    emails.set_email_frequency(asker, EmailFrequency.immediate, sig)
    emails.set_email_frequency(asker, EmailFrequency.off, quiet)
    anonymous = new_client()
    link = emails.unsubscribe_url(asker).split("peerlearn.test", 1)[1]
    page = anonymous.post(link, csrf=False).get_data(as_text=True)
    assert "You will not get notification e-mail" in page
    assert emails.email_frequency(asker) is EmailFrequency.off
    assert emails.email_frequency(asker, sig.id) is EmailFrequency.off
    assert emails.space_overrides(asker) == {quiet.id: EmailFrequency.off}


def test_a_space_stopped_from_its_link_can_be_undone_in_settings_without_being_a_member(
    client, new_client, make_space, make_user, login
):
    follower = make_user("Fay Follower")
    network = make_space("Open network space")  # readable by every member, not joined
    link = emails.unsubscribe_url(follower, network.id).split("peerlearn.test", 1)[1]
    new_client().post(link, csrf=False)
    assert emails.email_frequency(follower, network.id) is EmailFrequency.off
    login(client, follower)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert f'<label class="nhsuk-label" for="space-{network.id}">Open network space</label>' in page
    client.post("/notifications/settings", data={"email": "daily", f"space-{network.id}": ""})
    assert emails.space_overrides(follower) == {}


def test_a_mail_server_that_is_away_never_fails_the_reply_and_send_digests_catches_up(
    app, client, new_client, sig, people, login, start_thread, post_reply, caplog
):
    """Immediate e-mail goes out after the page is answered: a mail server that refuses the
    connection costs the replier nothing (their reply is stored and they land on it), and the
    next ``send-digests`` run, once the immediate send has had its chance, delivers it."""
    asker, replier = people["Asker"], people["Replier"]
    emails.set_email_frequency(asker, EmailFrequency.immediate)
    login(client, asker)
    thread = start_thread(client, sig, title="Flow coaching")
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    try:
        other = new_client()
        login(other, replier)
        reply = post_reply(other, thread, body=f"@{asker.handle} coach the coaches")
    finally:
        app.config.update(MAIL_SERVER=None)
    assert reply.body_source == f"@{asker.handle} coach the coaches"
    assert "immediate e-mail to user" in caplog.text and _eml(app, asker.email) == []
    assert emails.send_digests() == 0  # it may still be on its way
    later = utcnow() + emails.IMMEDIATE_GRACE + timedelta(minutes=1)
    assert emails.send_digests(later) == 1
    (message,) = _eml(app, asker.email)
    assert "Flow coaching" in message.get_body(preferencelist=("plain",)).get_content()
    assert emails.send_digests(later) == 0


def test_immediate_e_mail_goes_through_a_real_smtp_server_over_one_connection(
    client, new_client, sig, people, login, start_thread, post_reply, smtp_server
):
    """A reply that tells three followers at once sends their three e-mails over one SMTP
    connection, each with its own headers."""
    asker, replier, follower, bystander = people.values()
    readers = [asker, follower, bystander]
    for reader in readers:
        emails.set_email_frequency(reader, EmailFrequency.immediate)
    login(client, asker)
    thread = start_thread(client, sig, title="Gemba walks")
    other = new_client()
    login(other, replier)
    mentions = " ".join(f"@{reader.handle}" for reader in readers)
    post_reply(other, thread, body=f"{mentions} see you on the ward")
    for reader in readers:
        (message,) = smtp_server.to(reader.email)
        assert message["Subject"] == f"[{sig.name}] Gemba walks"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "see you on the ward" in message.get_body(preferencelist=("plain",)).get_content()
    assert smtp_server.connections == 1


def test_a_digest_run_sends_every_digest_over_one_smtp_connection(
    app, client, new_client, sig, people, login, start_thread, post_reply, smtp_server
):
    asker, replier, follower = people["Asker"], people["Replier"], people["Follower"]
    login(client, asker)
    thread = start_thread(client, sig, title="Huddle boards")
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} @{follower.handle} ours are by the lifts")
    assert smtp_server.received == []  # daily digests are the default
    assert emails.send_digests() == 2
    assert len(smtp_server.to(asker.email)) == len(smtp_server.to(follower.email)) == 1
    assert smtp_server.connections == 1


def test_daily_digests_send_unread_notifications_once(
    app, client, new_client, sig, people, login, start_thread, post_reply
):
    asker, replier = people["Asker"], people["Replier"]
    login(client, asker)
    thread = start_thread(client, sig, title="Kaizen events")
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} first")
    post_reply(other, thread, body=f"@{asker.handle} second")
    assert _eml(app, asker.email) == []  # daily digest is the default: nothing yet
    runner = app.test_cli_runner()
    assert "Sent 1 digest" in runner.invoke(args=["send-digests"]).output
    (digest,) = _eml(app, asker.email)
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert text.count("Kaizen events") == 2
    assert "Sent 0 digest" in runner.invoke(args=["send-digests"]).output


def test_no_digest_for_members_who_turned_email_off_or_read_everything(
    app, client, new_client, sig, people, login, start_thread, post_reply
):
    asker, replier, follower = people["Asker"], people["Replier"], people["Follower"]
    emails.set_email_frequency(follower, EmailFrequency.off)
    login(client, asker)
    thread = start_thread(client, sig)
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} @{follower.handle} hello")
    services.mark_read(asker)
    app.test_cli_runner().invoke(args=["send-digests"])
    assert _eml(app, asker.email) == [] and _eml(app, follower.email) == []


def test_an_unsubscribe_link_that_was_tampered_with_does_nothing(client):
    response = client.get("/notifications/unsubscribe/not-a-real-token")
    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)


def test_email_settings_save_network_and_space_choices(client, sig, member, login):
    user = member()
    login(client, user)
    client.post("/notifications/settings", data={"email": "immediate", f"space-{sig.id}": "off"})
    assert emails.email_frequency(user) is EmailFrequency.immediate
    assert emails.email_frequency(user, sig.id) is EmailFrequency.off


class TestLiveCount:
    def test_anonymous_socket_connections_are_refused(self, client, connect_socket):
        socket = connect_socket(client)
        assert not socket.is_connected()

    def test_the_count_arrives_on_connect_and_changes_when_a_reply_lands(
        self, client, new_client, sig, people, login, start_thread, post_reply, connect_socket
    ):
        asker, replier = people["Asker"], people["Replier"]
        login(client, asker)
        thread = start_thread(client, sig)
        socket = connect_socket(client)
        assert socket.is_connected()
        assert socket.get_received() == [
            {"name": "notifications", "args": [{"unread": 0}], "namespace": "/"}
        ]
        other = new_client()
        login(other, replier)
        post_reply(other, thread, body=f"@{asker.handle} look")
        received = socket.get_received()
        assert {"name": "notifications", "args": [{"unread": 1}], "namespace": "/"} in received
        # Another member's connection hears nothing about it.
        bystander = new_client()
        login(bystander, people["Bystander"])
        theirs = connect_socket(bystander)
        theirs.get_received()
        post_reply(other, thread, body=f"@{asker.handle} again")
        assert theirs.get_received() == []
        socket.disconnect()
        theirs.disconnect()

    def test_a_sign_in_that_ends_hears_no_more_counts_and_the_others_reconnect(
        self, app, client, new_client, sig, people, login, start_thread, post_reply, connect_socket
    ):
        """Signing out in one browser: a copy of its cookie that kept its connection open hears
        nothing more and cannot connect again; the member's other browser reconnects when told
        to (as the page does) and keeps its live count."""
        asker = people["Asker"]
        login(client, asker)
        thread = start_thread(client, sig)
        elsewhere = new_client()
        login(elsewhere, asker)
        copied = new_client()
        cookie = app.config["SESSION_COOKIE_NAME"]
        copied.set_cookie(cookie, client.get_cookie(cookie).value)
        sockets = {"copied": connect_socket(copied), "elsewhere": connect_socket(elsewhere)}
        for tab in sockets.values():
            tab.get_received()
        client.post("/logout")
        for tab in sockets.values():
            assert [e["name"] for e in tab.get_received()] == ["sign_in_changed"]
        assert not connect_socket(copied).is_connected()
        sockets["elsewhere"].disconnect()
        again = connect_socket(elsewhere)
        assert again.get_received()[0]["name"] == "notifications"
        replier = new_client()
        login(replier, people["Replier"])
        post_reply(replier, thread, body=f"@{asker.handle} look")
        assert sockets["copied"].get_received() == []
        assert {"name": "notifications", "args": [{"unread": 1}], "namespace": "/"} in (
            again.get_received()
        )

    def test_a_deactivated_account_hears_no_more_counts(
        self, client, new_client, sig, people, login, start_thread, post_reply, connect_socket,
        make_user,
    ):  # fmt: skip
        asker = people["Asker"]
        login(client, asker)
        thread = start_thread(client, sig)
        socket = connect_socket(client)
        socket.get_received()
        accounts.set_active(make_user("Ada Admin", admin=True), asker, False)
        assert [e["name"] for e in socket.get_received()] == ["sign_in_changed"]
        replier = new_client()
        login(replier, people["Replier"])
        post_reply(replier, thread, body=f"@{asker.handle} look")
        assert socket.get_received() == []
        assert not connect_socket(client).is_connected()


def test_kinds_have_readable_verbs():
    assert NotificationKind.post_solved.verb == "marked your post as the answer in"
    assert FollowState.muted.value == "muted"
    assert MemberState.active.value == "active"


def test_full_name_mentions_match_accented_names_on_every_database(
    client, sig, member, login, start_thread
):
    elodie = member("Élodie  Dupont")
    login(client, member("Writer"))
    thread = start_thread(client, sig, body="Thanks @[élodie dupont] for the template")
    assert kinds_for(elodie) == ["mention"]
    assert f'href="/people/{elodie.handle}"' in client.get(f"/threads/{thread.id}").get_data(
        as_text=True
    )
