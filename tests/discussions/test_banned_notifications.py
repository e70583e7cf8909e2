"""A ban ends someone's part in a space, even a public one they may still read: they are told of
nothing there (new threads, replies, mentions, marks, e-mail already due), their follows of the
space and its threads end, and they cannot follow again while banned. Lifted, the ban leaves
them following nothing there until they choose to; threads they muted stay muted."""

import pytest
from sqlalchemy import func, select

from peerlearn.discussions import services
from peerlearn.discussions.models import FollowState, SpaceSubscription, ThreadSubscription
from peerlearn.extensions import db
from peerlearn.notifications import emails
from peerlearn.notifications.models import EmailFrequency, Notification
from peerlearn.spaces.models import MemberRole, Membership, MemberState, Visibility
from tests.accounts.pages import Page
from tests.concurrency import one_inside_another


def kinds_for(user):
    return sorted(
        n.kind.value
        for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
    )


def follows_of(user):
    """What the member follows or mutes: spaces followed, and (thread id, state) pairs."""
    spaces = db.session.scalars(
        select(SpaceSubscription.space_id).where(SpaceSubscription.user_id == user.id)
    )
    threads = db.session.execute(
        select(ThreadSubscription.thread_id, ThreadSubscription.state).where(
            ThreadSubscription.user_id == user.id
        )
    )
    return set(spaces), {(thread_id, state) for thread_id, state in threads}


@pytest.fixture
def square(make_space):
    """A public space: anyone may read it, banned people included."""
    return make_space("Improvement square", visibility=Visibility.public)


@pytest.fixture
def story(app, new_client, square, member, login, start_thread, post_reply):
    """In the public space, Bea follows the space, follows one thread (she posted in it) and
    muted another; Mo moderates; Pat posts."""
    bea, pat = member("Bea Banned", space=square), member("Pat Poster", space=square)
    mo = member("Mo Moderator", space=square, role=MemberRole.moderator)
    clients = {person: new_client() for person in (bea, pat, mo)}
    for person, client in clients.items():
        login(client, person)
    followed = start_thread(clients[pat], square, title="Board reporting")
    bea_post = post_reply(clients[bea], followed, body="We report monthly.")
    muted = start_thread(clients[pat], square, title="Car parking")
    clients[bea].post(f"/spaces/{square.slug}/follow", data={"following": "yes"})
    clients[bea].post(f"/threads/{muted.id}/follow", data={"state": "muted"})
    assert follows_of(bea) == (
        {square.id},
        {(followed.id, FollowState.following), (muted.id, FollowState.muted)},
    )
    return {"bea": bea, "pat": pat, "mo": mo, "clients": clients, "followed": followed,
            "muted": muted, "bea_post": bea_post}  # fmt: skip


def ban(story, square, action="ban"):
    response = story["clients"][story["mo"]].post(
        f"/spaces/{square.slug}/members/{story['bea'].id}/{action}"
    )
    assert response.status_code == 302


def test_a_banned_member_hears_nothing_more_from_a_public_space(
    square, story, start_thread, post_reply
):
    bea, pat, clients = story["bea"], story["pat"], story["clients"]
    ban(story, square)
    assert follows_of(bea) == (set(), {(story["muted"].id, FollowState.muted)})

    before = kinds_for(bea)
    start_thread(clients[pat], square, title="A new thread nobody banned hears of")
    post_reply(clients[pat], story["followed"], body="A reply in the thread she followed")
    post_reply(clients[pat], story["followed"], body="A reply to her post", to=story["bea_post"])
    response = clients[pat].post(
        f"/threads/{story['followed'].id}/reply",
        data={"body": f"Mentioning @{bea.handle}"},
        follow_redirects=True,
    )
    assert "Bea Banned cannot see or take part in this space, so they were not notified" in (
        response.get_data(as_text=True)
    )
    assert kinds_for(bea) == before

    # She may still read the space, but not follow it or its threads again.
    page = clients[bea].get(f"/spaces/{square.slug}/threads").get_data(as_text=True)
    assert "Follow this space" not in page
    page = clients[bea].get(f"/threads/{story['followed'].id}").get_data(as_text=True)
    assert "Follow this thread" not in page
    assert (
        clients[bea].post(f"/spaces/{square.slug}/follow", data={"following": "yes"}).status_code
        == 403
    )
    assert clients[bea].post(f"/threads/{story['followed'].id}/follow",
                             data={"state": "following"}).status_code == 403  # fmt: skip
    assert follows_of(bea) == (set(), {(story["muted"].id, FollowState.muted)})


def test_e_mail_due_before_the_ban_is_not_sent_after_it(app, square, story, post_reply, outbox):
    bea = story["bea"]
    post_reply(story["clients"][story["pat"]], story["followed"], body="Told before the ban")
    assert kinds_for(bea) == ["reply-in-thread"]
    emails.set_email_frequency(bea, EmailFrequency.daily)
    ban(story, square)
    emails.send_digests()
    assert [mail for mail in outbox.messages() if mail.to == bea.email] == []


def test_once_the_ban_is_lifted_they_follow_nothing_until_they_choose_to(
    square, story, start_thread, post_reply
):
    bea, pat, clients = story["bea"], story["pat"], story["clients"]
    ban(story, square)
    ban(story, square, "unban")
    assert follows_of(bea) == (set(), {(story["muted"].id, FollowState.muted)})

    start_thread(clients[pat], square, title="Nobody told her to follow again")
    post_reply(clients[pat], story["followed"], body="Nor this thread")
    assert kinds_for(bea) == []
    post_reply(clients[pat], story["followed"], body=f"But @{bea.handle} is told of a mention")
    assert kinds_for(bea) == ["mention"]

    clients[bea].post(f"/spaces/{square.slug}/follow", data={"following": "yes"})
    start_thread(clients[pat], square, title="Following again by choice")
    assert kinds_for(bea) == ["mention", "new-thread"]
    count = select(func.count()).select_from(SpaceSubscription)
    assert db.session.scalar(count.where(SpaceSubscription.user_id == bea.id)) == 1


# A follow and a ban at the same moment ----------------------------------------------------------

#: The follow's first statement once its request has checked the policy: its hold of the space
#: (``SELECT … FOR SHARE``), or, without one, its write.
FOLLOW_CHECKED = ("SELECT spaces.id \nFROM spaces", "INSERT INTO space_subscriptions",
                  "INSERT INTO thread_subscriptions")  # fmt: skip


@pytest.fixture
def at_once_with_a_ban(app, square, member, make_user, browser):
    """Bea's following the public space or a thread in it (as a member of it, or as someone
    outside it who reads it) and Mo's banning her, in requests of their own, ``one_inside_another``
    in the order given; Bea's response. Afterwards she is banned."""

    def race(what: str, who: str, *, follow_first: bool) -> Page:
        pat = member("Pat Poster", space=square)
        mo = member("Mo Moderator", space=square, role=MemberRole.moderator)
        bea = member("Bea Banned", space=square) if who == "member" else make_user("Bea Banned")
        thread, _ = services.start_thread(pat, square, services.ThreadDraft("Rotas", "Weekly?"))
        bea_client, mo_client = browser(bea), browser(mo)
        if what == "space":
            path, data = f"/spaces/{square.slug}/follow", {"following": "yes"}
        else:
            path, data = f"/threads/{thread.id}/follow", {"state": "following"}
        ban_path = f"/spaces/{square.slug}/members/{bea.id}/ban"
        responses = []

        def follow() -> None:
            responses.append(bea_client.post(path, data=data))

        def ban() -> None:
            assert mo_client.post(ban_path).status_code == 302

        if follow_first:  # the follow holds the space: the ban waits for it, then ends it
            one_inside_another(app, follow, ban, FOLLOW_CHECKED[1:], resume="UPDATE spaces")
        else:  # the ban is committed between the follow's check and its write
            one_inside_another(app, follow, ban, FOLLOW_CHECKED)
        (response,) = responses
        assert response.status_code == 302
        db.session.expire_all()
        assert follows_of(bea) == (set(), set())
        banned = select(Membership.state).where(Membership.user_id == bea.id)
        assert db.session.scalar(banned) is MemberState.banned
        return Page(bea_client.get(response.location, follow_redirects=True))

    return race


@pytest.mark.parametrize("what", ["space", "thread"])
@pytest.mark.parametrize("who", ["member", "outsider"])
def test_a_follow_made_as_its_follower_is_banned_is_refused(at_once_with_a_ban, what, who):
    """Bea's request found her free to follow (the page's check); Mo's ban is committed before
    her follow is written: refused, saying why, and she follows nothing there."""
    shown = at_once_with_a_ban(what, who, follow_first=False)
    refusal = "You are banned from this space, so you cannot follow it or its threads"
    assert f"Important: {refusal}" in shown.main_text


@pytest.mark.parametrize("what", ["space", "thread"])
@pytest.mark.parametrize("who", ["member", "outsider"])
def test_a_ban_made_as_its_member_follows_ends_the_follow(at_once_with_a_ban, what, who):
    """Bea's follow holds the space before Mo's ban does: the ban waits for it to be written,
    then ends it with her other follows."""
    at_once_with_a_ban(what, who, follow_first=True)
