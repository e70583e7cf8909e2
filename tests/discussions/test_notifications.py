"""Who is told what: fan-out and the live count. Reading them (the centre, opening one, a thread
page's posts) is in test_notification_centre.py; e-mail and unsubscribing are in
test_notification_emails.py."""

import pytest
from sqlalchemy import select

from peerlearn.accounts import administration
from peerlearn.accounts.models import User
from peerlearn.discussions import following, marks
from peerlearn.discussions.models import (
    FollowState,
    SpaceSubscription,
    Thread,
    ThreadSubscription,
)
from peerlearn.extensions import db
from peerlearn.notifications.models import Notification, NotificationKind
from peerlearn.spaces.models import MemberRole, MemberState, Space, Visibility
from tests.accounts.pages import Page
from tests.concurrency import at_once
from tests.discussions.test_hidden_notifications import centre_of, heard
from tests.discussions.test_query_counts import counting_statements
from tests.spaces.flows import owner_of


def kinds_for(user):
    return sorted(
        n.kind.value
        for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
    )


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


def test_a_helpful_mark_taken_back_and_given_again_tells_the_author_once(app, discussion):
    for helpful in (True, False, True, False, True):
        marks.set_helpful(discussion.reader, discussion.reply, helpful)
    assert kinds_for(discussion.replier) == ["post-helpful"]
    marks.set_helpful(discussion.moderator, discussion.reply, True)
    assert kinds_for(discussion.replier) == ["post-helpful", "post-helpful"]  # someone else's


def test_quoting_a_post_does_not_mention_again_the_people_it_mentions(
    client, new_client, sig, people, login, start_thread, post_reply
):
    """As on Discourse, a mention inside a quote is linked but tells nobody: the person quoting
    did not write it, and its reader was told when it was first written."""
    asker, replier, bystander = people["Asker"], people["Replier"], people["Bystander"]
    login(client, asker)
    thread = start_thread(client, sig, body=f"@{bystander.handle} how did yours go?")
    assert kinds_for(bystander) == ["mention"]
    other = new_client()
    login(other, replier)
    quoted = other.get(f"/threads/{thread.id}/reply?to={thread.last_post_id}&quote=1")
    body = Page(quoted).values["body"]
    assert f"> @{bystander.handle} how did yours go?" in body
    reply = post_reply(other, thread, body=body + "Same question here.")
    assert kinds_for(bystander).count("mention") == 1  # not a second one
    assert f'href="/people/{bystander.handle}"' in reply.body_html


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


NOT_NOTIFIED = "Outsider Person cannot see or take part in this space, so they were not notified"


@pytest.fixture
def in_private(client, make_space, make_user, add_member, login):
    """A private space, its member signed in on ``client``, and someone outside it."""
    private = make_space("Private group", visibility=Visibility.private)
    author, outsider = make_user("Author"), make_user("Outsider Person")
    add_member(private, author)
    login(client, author)
    return private, outsider


def test_mentioning_someone_who_cannot_see_a_private_space_tells_nobody_and_says_so(
    client, in_private
):
    private, outsider = in_private
    response = client.post(
        f"/spaces/{private.slug}/threads/new",
        data={"title": "Secret", "body": f"cc @{outsider.handle}", "kind": "discussion"},
        follow_redirects=True,
    )
    assert NOT_NOTIFIED in response.get_data(as_text=True)
    assert kinds_for(outsider) == []


def test_a_mention_added_by_an_edit_says_whom_it_cannot_reach(client, in_private, start_thread):
    private, outsider = in_private
    thread = start_thread(client, private, title="Secret", body="Thoughts welcome.")
    response = client.post(
        f"/posts/{thread.last_post_id}/edit",  # the opening post
        data={"title": "Secret", "body": f"Thoughts welcome. cc @{outsider.handle}"},
        follow_redirects=True,
    )
    assert NOT_NOTIFIED in response.get_data(as_text=True)
    assert kinds_for(outsider) == []


def test_a_mention_a_moderator_adds_to_someones_post_is_told_in_the_moderators_name(
    client, new_client, people, member, login, replied_to_the_asker
):
    asker, moderator = people["Asker"], member("Mo Moderator", role=MemberRole.moderator)
    _, reply = replied_to_the_asker("See the QMS guide.")
    tidier = new_client()
    login(tidier, moderator)
    edited = tidier.post(
        f"/posts/{reply.id}/edit", data={"body": f"See the QMS guide. cc @{asker.handle}"}
    )
    assert edited.status_code == 302
    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == asker.id, Notification.kind == NotificationKind.mention
        )
    )
    assert [note.actor_id for note in told] == [moderator.id]
    centre = client.get("/notifications").get_data(as_text=True)
    assert "Mo Moderator mentioned you in Board assurance" in centre


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

    def test_a_count_is_worked_out_only_for_a_member_with_a_page_open(
        self, app, client, new_client, sig, people, login, start_thread, post_reply, connect_socket
    ):
        """Counting a member's unread notifications takes a query: a reply pays it for a member
        whose page is connected to hear the count, not for one with no page open (seeding the
        demo, which has no pages at all, made hundreds of counts for nobody)."""
        asker, replier = people["Asker"], people["Replier"]
        login(client, asker)
        thread = start_thread(client, sig)
        other = new_client()
        login(other, replier)

        def counts_made_while_replying() -> int:
            token = other.csrf_token()  # not in the count: it fetches a page with a header
            with counting_statements(app) as statements:
                post_reply(other, thread, body=f"@{asker.handle} look", csrf_token=token)
            return sum("count(" in s and "notifications.read_at IS NULL" in s for s in statements)

        assert counts_made_while_replying() == 0
        socket = connect_socket(client)
        assert socket.get_received() == [
            {"name": "notifications", "args": [{"unread": 1}], "namespace": "/"}
        ]
        assert counts_made_while_replying() == 1
        assert socket.get_received() == [
            {"name": "notifications", "args": [{"unread": 2}], "namespace": "/"}
        ]
        socket.disconnect()

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
        administration.set_active(make_user("Ada Admin", admin=True), asker, False)
        assert [e["name"] for e in socket.get_received()] == ["sign_in_changed"]
        replier = new_client()
        login(replier, people["Replier"])
        post_reply(replier, thread, body=f"@{asker.handle} look")
        assert socket.get_received() == []
        assert not connect_socket(client).is_connected()

    def test_leaving_a_private_space_drops_its_notifications_from_the_live_count(
        self, client, new_client, make_space, member, login, start_thread, connect_socket
    ):
        """Leaving a private space with unread notifications from it: the open page's header
        hears the lower count at once, and the next page shows it (not a kept one)."""
        private = make_space("Private group", visibility=Visibility.private)
        leaver, author = member("Leaver", space=private), member("Author", space=private)
        other = new_client()
        login(other, author)
        start_thread(other, private, title="Confidential plans", body=f"@{leaver.handle}")
        login(client, leaver)
        socket = connect_socket(client)
        assert heard(socket) == [1]
        assert centre_of(client, leaver)[1] == 1  # kept for the next pages from here

        assert client.post(f"/spaces/{private.slug}/leave").status_code == 302
        assert heard(socket) == [0]
        assert centre_of(client, leaver)[1] == 0
        socket.disconnect()

    def test_a_space_made_private_drops_its_notifications_from_outsiders_live_counts(
        self, client, new_client, sig, people, make_user, login, start_thread, connect_socket
    ):
        """Someone outside a network space, mentioned there, hears their count drop when its
        owner makes it private; a member of it hears the same count as before."""
        outsider, asker = make_user("Outsider"), people["Asker"]
        login(client, asker)
        start_thread(client, sig, body=f"@{outsider.handle} @{people['Replier'].handle}")
        outsiders, members = new_client(), new_client()
        login(outsiders, outsider)
        login(members, people["Replier"])
        sockets = [connect_socket(outsiders), connect_socket(members)]
        assert [heard(socket) for socket in sockets] == [[1], [1]]

        settings = {"name": sig.name, "summary": sig.summary, "visibility": "private",
                    "description": sig.description_source, "join_policy": "open"}  # fmt: skip
        owners = new_client()
        login(owners, owner_of(sig))
        assert owners.post(f"/spaces/{sig.slug}/settings", data=settings).status_code == 302
        assert [heard(socket) for socket in sockets] == [[0], [1]]
        for socket in sockets:
            socket.disconnect()


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
