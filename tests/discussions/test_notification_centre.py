"""Reading notifications: the centre (unread first), opening one, marking them read, and the
posts a thread page shows, which count as read; and what the centre keeps from whoever may no
longer see it. Who is told what is in test_notifications.py."""

import re

import pytest
from sqlalchemy import select

from peerlearn.discussions import reading
from peerlearn.extensions import db
from peerlearn.moderation.services import set_post_hidden
from peerlearn.notifications import services
from peerlearn.notifications.models import Notification
from peerlearn.spaces.models import MemberRole, Membership, Visibility
from tests.discussions.test_hidden_notifications import header_count_on, heard
from tests.discussions.test_query_counts import counting_statements


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


def test_reading_a_thread_marks_read_what_told_of_its_posts_and_nothing_else(
    client, new_client, sig, people, login, start_thread, post_reply, connect_socket
):
    asker, replier, follower = people["Asker"], people["Replier"], people["Follower"]
    login(client, asker)
    here, elsewhere = start_thread(client, sig, title="Here"), start_thread(client, sig)
    other = new_client()
    login(other, replier)
    post_reply(other, here, body=f"@{asker.handle} one")
    post_reply(other, here, body=f"@{asker.handle} two, and @{follower.handle}")
    post_reply(other, elsewhere, body=f"@{asker.handle} three")
    assert header_count_on(client.get("/about").get_data(as_text=True)) == 3
    other_tab = connect_socket(client)
    assert heard(other_tab) == [3]

    page = client.get(f"/threads/{here.id}").get_data(as_text=True)

    assert header_count_on(page) == 1  # the page itself counts what is left
    assert heard(other_tab) == [1]  # and the member's other pages hear it
    unread = db.session.scalars(
        select(Notification.post_id).where(
            Notification.user_id == asker.id, Notification.read_at.is_(None)
        )
    ).all()
    assert unread == [elsewhere.last_post_id]
    assert services.unread_count(follower) == 1  # nobody else's are touched
    other_tab.disconnect()


def test_a_notification_about_a_hidden_post_is_not_read_by_seeing_its_placeholder(
    client, new_client, sig, people, member, login, start_thread, post_reply
):
    asker, moderator = people["Asker"], member("Mo Moderator", role=MemberRole.moderator)
    login(client, asker)
    thread, elsewhere = start_thread(client, sig), start_thread(client, sig)
    other = new_client()
    login(other, people["Replier"])
    reply = post_reply(other, thread, body=f"@{asker.handle} look")
    post_reply(other, elsewhere, body=f"@{asker.handle} and here")  # something else unread
    set_post_hidden(moderator, reply, True, reason="spam")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "look" not in page.split("maincontent")[1]
    set_post_hidden(moderator, reply, False)
    assert services.unread_count(asker) == 2  # shown again, and still news to them


def test_a_thread_page_writes_nothing_when_none_of_its_posts_told_the_reader_anything(
    app, client, new_client, sig, people, login, start_thread, post_reply
):
    """On SQLite a write would hold up every other writer while the page renders."""
    asker = people["Asker"]
    login(client, asker)
    here, elsewhere = start_thread(client, sig, title="Here"), start_thread(client, sig)
    other = new_client()
    login(other, people["Replier"])
    post_reply(other, here, body="No mention here.")
    post_reply(other, elsewhere, body=f"@{asker.handle} over here")
    client.get(f"/threads/{here.id}")  # records how far they have read

    with counting_statements(app) as statements:
        page = client.get(f"/threads/{here.id}").get_data(as_text=True)

    assert header_count_on(page) == 1
    assert [s for s in statements if s.lstrip().startswith(("INSERT", "UPDATE", "DELETE"))] == []


def test_a_post_on_another_page_of_the_thread_stays_unread(
    client, new_client, sig, people, login, start_thread, post_reply, monkeypatch
):
    monkeypatch.setattr(reading, "ROOTS_PER_PAGE", 2)
    asker, replier = people["Asker"], people["Replier"]
    login(client, asker)
    thread = start_thread(client, sig)
    other = new_client()
    login(other, replier)
    for n in range(3):
        post_reply(other, thread, body=f"@{asker.handle} reply {n}")
    assert services.unread_count(asker) == 3

    first = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert header_count_on(first) == 1
    second = client.get(f"/threads/{thread.id}?page=2").get_data(as_text=True)
    assert "reply 2" in second
    assert header_count_on(second) == 0


def test_a_notifications_link_is_its_words_alone(
    client, new_client, sig, people, login, start_thread, post_reply
):
    """No space is underlined at either end of the link, before the words that follow it."""
    login(client, people["Asker"])
    thread = start_thread(client, sig, title="Board assurance")
    other = new_client()
    login(other, people["Replier"])
    post_reply(other, thread, body=f"@{people['Asker'].handle} have a look")
    page = client.get("/notifications").get_data(as_text=True)
    links = re.findall(r'<a href="/notifications/\d+">([^<]*)</a>', page)
    assert links == ["Replier mentioned you in Board assurance"]


def test_a_notification_about_a_post_hidden_since_lands_on_its_thread(
    client, people, member, replied_to_the_asker
):
    asker, moderator = people["Asker"], member("Mo Moderator", role=MemberRole.moderator)
    thread, reply = replied_to_the_asker(f"@{asker.handle} here is a patient's name")
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


def test_a_link_to_someone_elses_notification_says_whose_it_is_not_a_404(discussion, browser):
    """An e-mail's link opened where a colleague is still signed in (a shared computer on a
    ward): they are told to sign in as its recipient, nothing about it, and it stays unread."""
    (note,) = db.session.scalars(
        select(Notification).where(Notification.user_id == discussion.author.id)
    )
    colleague = browser(discussion.reader)
    response = colleague.get(f"/notifications/{note.id}", follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/notifications"
    page = response.get_data(as_text=True)
    assert "This notification was sent to someone else." in page
    assert discussion.thread.title not in page
    assert db.session.get(Notification, note.id).read_at is None
