"""An e-mail's unsubscribe link speaks for the address it was sent to, and only while the
account still uses that address."""

import hashlib

from itsdangerous import URLSafeTimedSerializer

from peerlearn.notifications import emails
from peerlearn.notifications.models import EmailFrequency
from tests.accounts.pages import Page
from tests.conftest import PASSWORD


def _change_address(client, outbox, new_email):
    client.post("/account/email", data={"email": new_email, "password": PASSWORD})
    client.get(outbox.last(new_email).link("/account/email/confirm/"))


def test_a_link_sent_to_an_old_address_no_longer_stops_email(
    client, new_client, sig, member, login, start_thread, post_reply, outbox
):
    asker = member("Asker", email="old@trust.nhs.uk")
    emails.set_email_frequency(asker, EmailFrequency.immediate)
    login(client, asker)
    thread = start_thread(client, sig, title="Huddle boards")
    other = new_client()
    login(other, member("Replier"))
    post_reply(other, thread, body=f"@{asker.handle} ours are by the lifts")
    old_link = outbox.last("old@trust.nhs.uk").link("/notifications/unsubscribe/")
    _change_address(client, outbox, "new@trust.nhs.uk")

    whoever_has_the_old_mailbox = new_client()
    page = Page(whoever_has_the_old_mailbox.get(old_link))
    assert page.h1 == "This link no longer applies"
    assert "sign in" in page.main_text and "Stop e-mail" not in page.main_text
    assert page.link("sign in") == "/notifications/settings"
    assert whoever_has_the_old_mailbox.post(old_link, csrf=False).status_code == 410
    assert emails.email_frequency(asker) is EmailFrequency.immediate
    assert emails.email_frequency(asker, sig.id) is EmailFrequency.immediate

    post_reply(other, thread, body=f"@{asker.handle} and by the stairs")
    new_link = outbox.last("new@trust.nhs.uk").link("/notifications/unsubscribe/")
    page = Page(whoever_has_the_old_mailbox.post(new_link, csrf=False))
    assert page.h1 == f"You will not get notification e-mail from {sig.name}"
    assert emails.email_frequency(asker, sig.id) is EmailFrequency.off


def test_a_link_sent_before_links_named_their_address_works_until_it_expires(
    app, new_client, member
):
    reader = member("Reader")
    with app.app_context():  # as unsubscribe_url made them before
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="peerlearn.unsubscribe")
        token = serializer.dumps({"uid": reader.id, "space": None})
    page = Page(new_client().post(f"/notifications/unsubscribe/{token}", csrf=False))
    assert page.h1 == "You will not get notification e-mail"
    assert emails.email_frequency(reader) is EmailFrequency.off


def test_a_link_does_not_let_its_finder_test_a_guessed_address(app, member):
    # The payload of a signed link can be read by anyone who has it (in a log, say): an unkeyed
    # hash of the address would confirm a guess such as firstname.lastname@nhs.net.
    reader = member("Reader", email="ailsa.brotherton@nhs.net")
    with app.app_context():
        link = emails.unsubscribe_url(reader)
    token = link.rsplit("/", 1)[1]
    payload = URLSafeTimedSerializer("any key").loads_unsafe(token)[1]
    guessed = "ailsa.brotherton@nhs.net"
    assert guessed not in str(payload)
    assert payload["to"] not in hashlib.sha256(guessed.encode()).hexdigest()
