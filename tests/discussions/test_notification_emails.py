"""Notification e-mail: immediate e-mail and daily digests, each member's choices, unsubscribe
links, and a mail server that is away."""

import email
import email.policy
from datetime import timedelta
from pathlib import Path

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.discussions import services as discussions
from peerlearn.discussions.services import ThreadDraft
from peerlearn.extensions import db
from peerlearn.moderation.services import move_thread
from peerlearn.notifications import emails, services
from peerlearn.notifications.models import EmailFrequency
from peerlearn.spaces.models import Space
from tests.concurrency import at_once, first_writes_meet


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
    post_reply(other, thread, body=f"@{asker.handle} SPC, **always**: [see](/threads/{thread.id})")
    (message,) = _eml(app, asker.email)
    assert message["Subject"] == f"[{sig.name}] Run charts or SPC?"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"  # no out-of-office replies
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<strong>always</strong>" in html
    # The post's links to the site's pages (its mention's too) lead there from a mail client.
    assert f'href="http://peerlearn.test/people/{asker.handle}"' in html
    assert f'href="http://peerlearn.test/threads/{thread.id}"' in html and 'href="/' not in html
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
    app, client, new_client, sig, people, login, start_thread, post_reply, caplog, refused_port
):
    """Immediate e-mail goes out after the page is answered: a mail server that refuses the
    connection costs the replier nothing (their reply is stored and they land on it), and the
    next ``send-digests`` run, once the immediate send has had its chance, delivers it."""
    asker, replier = people["Asker"], people["Replier"]
    emails.set_email_frequency(asker, EmailFrequency.immediate)
    login(client, asker)
    thread = start_thread(client, sig, title="Flow coaching")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=refused_port)
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
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Flow coaching" in text
    assert "digest" not in text  # they chose e-mail straight away, and have never had one
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


def test_an_address_the_mail_server_refuses_costs_nobody_else_their_e_mail(
    client, new_client, sig, people, login, start_thread, post_reply, smtp_server, caplog
):
    """One member's mailbox gone (the server refuses it) is logged, and the others' immediate
    e-mails and digests still go; the refused one's notifications wait for a later run."""
    asker, replier, follower, bystander = people.values()
    login(client, asker)
    thread = start_thread(client, sig, title="Standard work")
    for reader in (asker, follower):
        emails.set_email_frequency(reader, EmailFrequency.immediate)
    smtp_server.refused.add(asker.email)
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} @{follower.handle} @{bystander.handle} hi")
    assert len(smtp_server.to(follower.email)) == 1
    assert emails.send_digests() == 1  # the bystander's; the asker's may still be on its way
    assert len(smtp_server.to(bystander.email)) == 1
    assert emails.send_digests(utcnow() + emails.IMMEDIATE_GRACE * 2) == 0
    assert smtp_server.to(asker.email) == [] and "refused" in caplog.text
    smtp_server.refused.clear()
    assert emails.send_digests(utcnow() + emails.IMMEDIATE_GRACE * 2) == 1
    assert len(smtp_server.to(asker.email)) == 1


def test_a_message_the_mail_server_rejects_costs_nobody_else_their_digest(
    app, sig, people, smtp_server, caplog
):
    """A filter at the mail server rejects one member's digest for what a post in it says: the
    others' still go, and the rejected one is tried again next run."""
    asker, replier, follower = people["Asker"], people["Replier"], people["Follower"]
    thread, _ = discussions.start_thread(asker, sig, ThreadDraft("Spread and adoption", "How?"))
    discussions.reply(replier, thread, f"@{asker.handle} @{follower.handle} see the guide")
    smtp_server.rejected.add(asker.email)
    assert emails.send_digests() == 1
    assert smtp_server.to(asker.email) == [] and len(smtp_server.to(follower.email)) == 1
    assert "rejected" in caplog.text
    smtp_server.rejected.clear()
    assert emails.send_digests() == 1
    assert len(smtp_server.to(asker.email)) == 1


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


def test_two_digest_runs_at_once_send_each_digest_once(app, sig, people):
    """A cron job started twice (or overrunning into the next): both runs find the same unsent
    notifications, and each member still gets one digest, from whichever claimed them first."""
    asker, replier, follower = people["Asker"], people["Replier"], people["Follower"]
    thread, _ = discussions.start_thread(asker, sig, ThreadDraft("Lean management", "Where?"))
    discussions.reply(replier, thread, f"@{asker.handle} @{follower.handle} huddle at nine")
    sent = []
    with first_writes_meet("UPDATE notifications", before=True):
        at_once(app, [lambda: sent.append(emails.send_digests())] * 2)
    assert sorted(sent) in ([0, 2], [1, 1])
    assert len(_eml(app, asker.email)) == len(_eml(app, follower.email)) == 1


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
