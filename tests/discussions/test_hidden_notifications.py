"""A notification about a post a moderator hides leaves the centre and the header's count of
those who may no longer see the post, and comes back if the post is shown again. One about a
removed post leaves them for everyone, as it never goes out by e-mail."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from peerlearn.extensions import db
from peerlearn.moderation.services import set_post_hidden
from peerlearn.notifications.emails import send_digests
from peerlearn.notifications.models import Notification
from peerlearn.spaces.models import MemberRole

pytestmark = pytest.mark.usefixtures("header_count_every_time")


def centre_of(client, user):
    """The notification ids linked from the user's centre, and its header's unread count."""
    page = client.get("/notifications").get_data(as_text=True)
    notes = db.session.scalars(
        select(Notification.id).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    listed = [note for note in notes if f'href="/notifications/{note}"' in page]
    count = page.partition('data-notification-count aria-hidden="true">')[2].partition("<")[0]
    return listed, int(count)


@pytest.fixture
def story(new_client, sig, member, login, start_thread, post_reply):
    """A replier mentions the asker and a moderator twice; each has two notifications."""
    asker, replier = member("Asker"), member("Replier")
    moderator = member("Mo Moderator", role=MemberRole.moderator)
    readers = {asker: new_client(), moderator: new_client()}
    for reader, client in readers.items():
        login(client, reader)
    thread = start_thread(readers[asker], sig, title="Board assurance")
    other = new_client()
    login(other, replier)
    post_reply(other, thread, body=f"@{asker.handle} @{moderator.handle} useful")
    reply = post_reply(other, thread, body=f"@{asker.handle} @{moderator.handle} sent too soon")
    shown = {reader: centre_of(client, reader)[0] for reader, client in readers.items()}
    assert all(len(ids) == 2 for ids in shown.values())
    return SimpleNamespace(asker=asker, moderator=moderator, readers=readers, replier=other,
                           reply=reply, shown=shown)  # fmt: skip


def test_a_hidden_posts_notification_leaves_the_centre_until_the_post_is_shown_again(story):
    asker, moderator, readers, shown = story.asker, story.moderator, story.readers, story.shown
    set_post_hidden(moderator, story.reply, True, reason="patient-identifiable information")
    assert centre_of(readers[asker], asker) == (shown[asker][:1], 1)  # the older one stays
    assert centre_of(readers[moderator], moderator) == (shown[moderator], 2)  # they see it still

    set_post_hidden(moderator, story.reply, False)
    assert centre_of(readers[asker], asker) == (shown[asker], 2)


def test_a_removed_posts_notification_leaves_everyones_centre_and_e_mail(story, outbox):
    assert story.replier.post(f"/posts/{story.reply.id}/delete").status_code == 302  # its author
    for reader, client in story.readers.items():  # the moderator too: nothing is left to read
        assert centre_of(client, reader) == (story.shown[reader][:1], 1)
    send_digests()
    told = {mail.to: mail.text for mail in outbox.messages()}
    assert "useful" in told[story.asker.email] and "sent too soon" not in told[story.asker.email]
