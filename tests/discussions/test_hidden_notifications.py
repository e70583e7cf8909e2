"""A notification about a post a moderator hides leaves the centre and the header's count of
those who may no longer see the post, and comes back if the post is shown again. One about a
removed post leaves them for everyone, as it never goes out by e-mail. Either way the header of
pages already open hears the new count at once, and the next page shows it (not a kept one)."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from peerlearn.extensions import db
from peerlearn.moderation.services import set_post_hidden
from peerlearn.notifications.emails import send_digests
from peerlearn.notifications.models import Notification
from peerlearn.spaces.models import MemberRole


def centre_of(client, user):
    """The notification ids linked from the user's centre, and its header's unread count."""
    page = client.get("/notifications").get_data(as_text=True)
    notes = db.session.scalars(
        select(Notification.id).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    listed = [note for note in notes if f'href="/notifications/{note}"' in page]
    return listed, header_count_on(page)


def header_count_on(page: str) -> int:
    """The unread count a page's header shows."""
    return int(page.partition('data-notification-count aria-hidden="true">')[2].partition("<")[0])


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


@pytest.mark.usefixtures("header_count_every_time")
def test_a_hidden_posts_notification_leaves_the_centre_until_the_post_is_shown_again(story):
    asker, moderator, readers, shown = story.asker, story.moderator, story.readers, story.shown
    set_post_hidden(moderator, story.reply, True, reason="patient-identifiable information")
    assert centre_of(readers[asker], asker) == (shown[asker][:1], 1)  # the older one stays
    assert centre_of(readers[moderator], moderator) == (shown[moderator], 2)  # they see it still

    set_post_hidden(moderator, story.reply, False)
    assert centre_of(readers[asker], asker) == (shown[asker], 2)


@pytest.mark.usefixtures("header_count_every_time")
def test_a_removed_posts_notification_leaves_everyones_centre_and_e_mail(story, outbox):
    assert story.replier.post(f"/posts/{story.reply.id}/delete").status_code == 302  # its author
    for reader, client in story.readers.items():  # the moderator too: nothing is left to read
        assert centre_of(client, reader) == (story.shown[reader][:1], 1)
    send_digests()
    told = {mail.to: mail.text for mail in outbox.messages()}
    assert "useful" in told[story.asker.email] and "sent too soon" not in told[story.asker.email]


# The live header count, with the count kept between pages as it is when serving -----------------


def heard(socket):
    """The unread counts a page's socket has been sent since last asked."""
    return [
        message["args"][0]["unread"]
        for message in socket.get_received()
        if message["name"] == "notifications"
    ]


@pytest.fixture
def open_pages(story, connect_socket, new_client, member, login):
    """The asker's and the moderator's open pages (each has heard its count of 2), and a page of
    someone with no notifications at all."""
    bystander = new_client()
    login(bystander, member("Bystander"))
    sockets = {reader: connect_socket(client) for reader, client in story.readers.items()}
    sockets[None] = connect_socket(bystander)
    assert [heard(sockets[r]) for r in (story.asker, story.moderator, None)] == [[2], [2], [0]]
    yield sockets
    for socket in sockets.values():
        socket.disconnect()


def test_a_reader_sees_the_count_drop_when_a_moderator_removes_the_post(story, open_pages):
    asker, moderator = story.asker, story.moderator
    assert centre_of(story.readers[asker], asker)[1] == 2  # the header's count is now kept
    removed = story.readers[moderator].post(f"/posts/{story.reply.id}/delete")
    assert removed.status_code == 302
    assert heard(open_pages[asker]) == [1]
    assert heard(open_pages[moderator]) == [1]  # nothing is left to read, for them either
    assert heard(open_pages[None]) == []
    assert centre_of(story.readers[asker], asker) == (story.shown[asker][:1], 1)


def test_hiding_a_post_and_showing_it_again_moves_its_readers_counts(story, open_pages):
    asker, moderator, readers = story.asker, story.moderator, story.readers
    hide = readers[moderator].post(f"/posts/{story.reply.id}/moderate", data={"action": "hide"})
    assert hide.status_code == 302
    assert heard(open_pages[asker]) == [1]
    assert heard(open_pages[moderator]) == [2]  # a moderator still sees it
    assert centre_of(readers[asker], asker)[1] == 1

    show = readers[moderator].post(f"/posts/{story.reply.id}/moderate", data={"action": "restore"})
    assert show.status_code == 302
    assert heard(open_pages[asker]) == [2]
    assert centre_of(readers[asker], asker)[1] == 2
    assert heard(open_pages[None]) == []


def test_hiding_a_thread_and_showing_it_again_moves_its_readers_counts(story, open_pages):
    asker, moderator, readers = story.asker, story.moderator, story.readers
    thread = f"/threads/{story.reply.thread_id}/moderate"
    assert readers[moderator].post(thread, data={"action": "hide"}).status_code == 302
    assert heard(open_pages[asker]) == [0]
    assert centre_of(readers[asker], asker) == ([], 0)

    assert readers[moderator].post(thread, data={"action": "unhide"}).status_code == 302
    assert heard(open_pages[asker]) == [2]
    assert centre_of(readers[asker], asker) == (story.shown[asker], 2)
    assert heard(open_pages[None]) == []
