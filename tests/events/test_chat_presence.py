"""Who is here: one entry per person however many tabs, updated on join, leave and disconnect, and
shared between server processes through Redis; and whoever may no longer read a chat (a member
removed from the space, an outsider once the space is private, a deactivated account) is dropped
from it at once."""

import os
import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis
import sqlalchemy
from sqlalchemy import update

from peerlearn import init_socketio
from peerlearn.accounts import administration
from peerlearn.accounts import services as accounts
from peerlearn.accounts.models import SiteRole, User
from peerlearn.core.db import utcnow
from peerlearn.events import presence, sockets
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.organisations import services as organisations
from peerlearn.organisations.services import OrganisationData
from peerlearn.spaces import memberships
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import MemberRole, Space, Visibility
from peerlearn.spaces.services import get_membership
from tests.conftest import PASSWORD
from tests.discussions.test_query_counts import counting_statements
from tests.events.chat_helpers import ask, code, received
from tests.spaces.flows import owner_of

REDIS_URL = os.environ.get("PEERLEARN_TEST_REDIS_URL", "").strip()
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="PEERLEARN_TEST_REDIS_URL is not set")


def _names(people):
    return [person["name"] for person in people]


def test_presence_lists_each_person_once_however_many_tabs(
    live_event, member, make_organisation, chatter
):
    alice = member("Alice Able")
    alice.organisation = make_organisation("Lancashire Teaching Hospitals")
    db.session.commit()
    first_tab, second_tab = chatter(alice), chatter(alice)
    bob_user = member("Bob Baker")
    bob = chatter(bob_user)
    assert _names(ask(bob, "join", {"event_id": live_event.id})["presence"]) == ["Bob Baker"]
    ask(first_tab, "join", {"event_id": live_event.id})
    joined = ask(second_tab, "join", {"event_id": live_event.id})
    assert joined["presence"] == [
        {"id": alice.id, "name": "Alice Able", "organisation": "Lancashire Teaching Hospitals"},
        {"id": bob_user.id, "name": "Bob Baker", "organisation": bob_user.organisation.name},
    ]
    # Everyone in the room was told as each tab joined.
    assert [_names(p["people"]) for p in received(bob, "presence")] == [
        ["Bob Baker"],
        ["Alice Able", "Bob Baker"],
        ["Alice Able", "Bob Baker"],
    ]
    # Closing one tab keeps Alice here; closing the other takes her away.
    first_tab.disconnect("/live")
    assert [_names(p["people"]) for p in received(bob, "presence")] == [["Alice Able", "Bob Baker"]]
    second_tab.disconnect("/live")
    assert [_names(p["people"]) for p in received(bob, "presence")] == [["Bob Baker"]]


def users_read(statements):
    """The parameters of each statement that read the users table."""
    return [values for statement, values in statements if "FROM users" in statement]


def test_a_join_reads_only_newcomers_and_sees_renames_at_once(
    app, live_event, member, make_user, chatter
):
    """Present people's names are kept by the process: a join reads only the people it has not
    seen (a big room would otherwise be read whole on every join), and a profile saved or an
    organisation renamed shows in the next list at once."""
    people = [member(f"Person {n}") for n in range(5)]
    for person in people:
        ask(chatter(person), "join", {"event_id": live_event.id})
    with counting_statements(app, parameters=True) as statements:
        assert len(presence.people(live_event.id)) == 5
    assert users_read(statements) == []  # all five known already
    newcomer = member("Newcomer")
    presence.store().add(live_event.id, "a-sid", newcomer.id)
    with counting_statements(app, parameters=True) as statements:
        assert "Newcomer" in _names(presence.people(live_event.id))
    assert users_read(statements) == [[newcomer.id]]  # the newcomer only

    accounts.update_profile(
        people[0], display_name="Zoe Renamed", job_title="", organisation_id=None, bio=""
    )
    organisation = people[1].organisation
    data = OrganisationData(
        "Renamed Trust", organisation.kind, organisation.region, organisation.parent_id, None
    )
    organisations.save_organisation(make_user("Admin", admin=True), data, organisation)
    present = {person["id"]: person for person in presence.people(live_event.id)}
    assert present[people[0].id]["name"] == "Zoe Renamed"
    assert present[people[1].id]["organisation"] == "Renamed Trust"


def test_a_person_is_read_again_after_a_while(app, member, make_user):
    """A profile saved by another process reaches this one within PERSON_SECONDS."""
    now = [0.0]
    kept = presence.People(seconds=60, clock=lambda: now[0])
    person = member("Ann Old")
    assert kept.entries({person.id})[0]["name"] == "Ann Old"
    db.session.execute(update(User).where(User.id == person.id).values(display_name="Ann New"))
    db.session.commit()
    assert kept.entries({person.id})[0]["name"] == "Ann Old"
    now[0] = 61.0
    assert kept.entries({person.id})[0]["name"] == "Ann New"


def test_arrivals_close_together_are_told_in_one_list(
    app, live_event, member, chatter, monkeypatch
):
    # A big event's arrivals must not send every connection one list per arrival: the first
    # change is told at once, those within the interval after it together when it ends.
    monkeypatch.setitem(
        app.extensions, "peerlearn_presence_announcer", sockets.PresenceAnnouncer(2.0)
    )
    alice, bob, carol = (chatter(member(name)) for name in ("Alice Able", "Bob Baker", "Cy Cole"))
    ask(alice, "join", {"event_id": live_event.id})
    assert [_names(p["people"]) for p in received(alice, "presence")] == [["Alice Able"]]
    ask(bob, "join", {"event_id": live_event.id})
    ask(carol, "join", {"event_id": live_event.id})
    assert ask(bob, "leave", {"event_id": live_event.id})["ok"]
    assert received(alice, "presence") == []  # gathered, not yet told
    assert _told(alice) == [["Alice Able", "Cy Cole"]]
    # Once the interval has passed with nothing new, the next change is told at once again.
    time.sleep(2.2)
    ask(bob, "join", {"event_id": live_event.id})
    assert [_names(p["people"]) for p in received(alice, "presence")] == [
        ["Alice Able", "Bob Baker", "Cy Cole"]
    ]


def _told(socket):
    """The presence lists ``socket`` is told within a few seconds (at least one)."""
    deadline = time.monotonic() + 10
    told = received(socket, "presence")
    while not told and time.monotonic() < deadline:
        time.sleep(0.05)
        told = received(socket, "presence")
    return [_names(p["people"]) for p in told]


class Room:
    """A presence announcer on a clock of its own: ``sent`` holds (time, size) of each list
    told; scheduled tellings run when :meth:`run_later` says, sleeping on the same clock."""

    def __init__(self, monkeypatch, sizes):
        self.now = 0.0
        self.sent = []
        self.later = []
        self.sizes = iter(sizes)  # how many people each list holds
        self.during = None  # called while a list is being sent
        self.announcer = sockets.PresenceAnnouncer(1.0, clock=lambda: self.now)
        monkeypatch.setattr(sockets, "broadcast_presence", self._broadcast)
        monkeypatch.setattr(sockets.socketio, "sleep", self._sleep)
        monkeypatch.setattr(sockets.socketio, "start_background_task",
                            lambda fn, *args: self.later.append((fn, args)))  # fmt: skip

    def _broadcast(self, event_id, people=None):
        self.sent.append((self.now, event_id))
        if self.during is not None:
            during, self.during = self.during, None
            during()
        return [{"id": n} for n in range(next(self.sizes))]

    def _sleep(self, seconds):
        self.now += seconds

    def run_later(self):
        while self.later:
            fn, args = self.later.pop(0)
            fn(*args)


def test_a_bigger_room_is_told_less_often(app, monkeypatch):
    # Each list (and the number of copies sent) grows with the room, so the gap after a list of
    # 2,000 people is 20 intervals, not one; a change made while that list was being sent
    # waits for the whole gap too.
    room = Room(monkeypatch, sizes=[2000, 2000, 50, 50])
    room.during = lambda: room.announcer.changed(7)  # someone joins mid-send
    room.announcer.changed(7)
    room.run_later()
    assert room.sent == [(0.0, 7), (20.0, 7)]
    # A small room again: one interval.
    room.now = 45.0
    room.announcer.changed(7)  # told at once (the gap is over): 50 people
    room.announcer.changed(7)
    room.run_later()
    assert room.sent[2:] == [(45.0, 7), (46.0, 7)]


def test_the_gap_is_capped_and_an_empty_room_is_forgotten(app, monkeypatch):
    room = Room(monkeypatch, sizes=[10_000, 10_000, 0])
    room.announcer.changed(3)
    room.announcer.changed(3)
    room.run_later()
    assert room.sent == [(0.0, 3), (sockets.LONGEST_GAP * 1.0, 3)]
    room.now = 1000.0
    room.announcer.changed(3)  # everyone has left
    assert room.announcer._next == {}


def test_leaving_takes_a_person_out_of_the_list(live_event, member, chatter):
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    for socket in (alice, bob):
        ask(socket, "join", {"event_id": live_event.id})
    received(bob, "presence")
    assert ask(alice, "leave", {"event_id": live_event.id}) == {"ok": True}
    assert [_names(p["people"]) for p in received(bob, "presence")] == [["Bob Baker"]]
    # Leaving a chat one is not in changes nothing.
    assert ask(alice, "leave", {"event_id": live_event.id}) == {"ok": True}
    assert received(bob, "presence") == []
    assert code(ask(alice, "leave", {"event_id": "x"})) == "bad_request"


def test_presence_is_per_event(live_event, sig, member, chatter):
    other = Event(space=sig, title="Other", starts_at=live_event.starts_at,
                  ends_at=live_event.ends_at, venue="Preston")  # fmt: skip
    db.session.add(other)
    db.session.commit()
    alice, bob = chatter(member("Alice Able")), chatter(member("Bob Baker"))
    ask(alice, "join", {"event_id": live_event.id})
    assert _names(ask(bob, "join", {"event_id": other.id})["presence"]) == ["Bob Baker"]
    assert received(alice, "presence")[-1]["people"][0]["name"] == "Alice Able"


@pytest.mark.parametrize("how", ["removed", "banned"])
def test_a_member_removed_from_the_space_is_dropped_from_its_chats_at_once(
    live_event, sig, moderator, member, chatter, how
):
    leaving = member("Leaving Lee")
    lee, lee_again, bob = chatter(leaving), chatter(leaving), chatter(member("Bob Baker"))
    for socket in (lee, lee_again, bob):
        ask(socket, "join", {"event_id": live_event.id})
    for socket in (lee, lee_again, bob):
        socket.get_received("/live")
    if how == "removed":
        memberships.remove_member(moderator, get_membership(sig, leaving))
    else:
        memberships.ban(moderator, sig, leaving, "Disruptive")
    assert received(lee, "removed") == [{"event_id": live_event.id}]
    assert received(lee_again, "removed") == [{"event_id": live_event.id}]
    assert [_names(p["people"]) for p in received(bob, "presence")] == [["Bob Baker"]]
    # Nothing said in the room reaches them any more, and they cannot speak.
    ask(bob, "send", {"event_id": live_event.id, "body": "still here", "client_id": "b"})
    assert lee.get_received("/live") == [] and lee_again.get_received("/live") == []
    refused = ask(lee, "send", {"event_id": live_event.id, "body": "hello?", "client_id": "l"})
    # A banned member may not even see the space's events any more.
    assert code(refused) == ("forbidden" if how == "removed" else "not_found")


def test_a_role_change_does_not_drop_anyone(live_event, sig, member, chatter):
    user = member("Promoted Pat")
    pat = chatter(user)
    ask(pat, "join", {"event_id": live_event.id})
    pat.get_received("/live")
    memberships.change_role(owner_of(sig), get_membership(sig, user), MemberRole.moderator)
    assert received(pat, "removed") == []


def _settings(space, **changes):
    return spaces.SpaceData(
        **{"name": space.name, "summary": space.summary, "description": space.description_source,
           "visibility": space.visibility, "join_policy": space.join_policy, **changes}
    )  # fmt: skip


def test_a_space_made_private_drops_the_outsiders_from_its_chats_at_once(
    live_event, sig, moderator, member, make_user, chatter
):
    olly, bob = chatter(make_user("Olly Outsider")), chatter(member("Bob Baker"))
    for socket in (olly, bob):
        ask(socket, "join", {"event_id": live_event.id})
    # Renaming the space changes nobody's right to read: nobody is dropped.
    spaces.update_space(moderator, sig, _settings(sig, name="QMS SIG"))
    assert received(olly, "removed") == [] and received(bob, "removed") == []

    spaces.update_space(moderator, sig, _settings(sig, visibility=Visibility.private))
    assert received(olly, "removed") == [{"event_id": live_event.id}]
    assert [_names(p["people"]) for p in received(bob, "presence")] == [["Bob Baker"]]
    # The members' conversation goes on without the outsider, who cannot come back.
    ask(bob, "send", {"event_id": live_event.id, "body": "Members only now", "client_id": "b"})
    assert olly.get_received("/live") == []
    assert [m["body_html"] for m in received(bob)] == ["<p>Members only now</p>\n"]
    assert code(ask(olly, "join", {"event_id": live_event.id})) == "not_found"


def test_a_deactivated_account_is_dropped_from_every_chat_at_once(
    live_event, member, make_user, make_space, add_member, chatter
):
    other_space = make_space("Flow Coaching")
    other_event = Event(space=other_space, title="Flow", starts_at=live_event.starts_at,
                        ends_at=live_event.ends_at, venue="Preston")  # fmt: skip
    db.session.add(other_event)
    leaving = member("Dee Parted")
    add_member(other_space, leaving)
    dee, dee_elsewhere, bob = chatter(leaving), chatter(leaving), chatter(member("Bob Baker"))
    ask(dee, "join", {"event_id": live_event.id})
    ask(dee_elsewhere, "join", {"event_id": other_event.id})
    ask(bob, "join", {"event_id": live_event.id})
    for socket in (dee, dee_elsewhere, bob):
        socket.get_received("/live")

    administration.set_active(make_user("Ada Admin", admin=True), leaving, False)
    assert received(dee, "removed") == [{"event_id": live_event.id}]
    assert received(dee_elsewhere, "removed") == [{"event_id": other_event.id}]
    assert [_names(p["people"]) for p in received(bob, "presence")] == [["Bob Baker"]]
    ask(bob, "send", {"event_id": live_event.id, "body": "After Dee left", "client_id": "b"})
    assert dee.get_received("/live") == [] and dee_elsewhere.get_received("/live") == []
    refused = ask(dee, "join", {"event_id": live_event.id})
    assert code(refused) == "unauthorised"


@pytest.mark.parametrize("how", ["password changed", "signed out elsewhere", "signed out"])
def test_a_connection_whose_sign_in_ended_receives_nothing_more(
    live_event, member, new_client, login, connect_socket, chatter, how
):
    """A chat connection opened with a sign-in that has since ended (a copied cookie, a browser
    signed out everywhere by a password change or from another browser) is closed and cannot
    connect again, while the browser still signed in reconnects and carries on."""
    dee = member("Dee Parted")
    copied = new_client()
    login(copied, dee)
    thief = connect_socket(copied, namespace="/live")
    bob = chatter(member("Bob Baker"))
    own = new_client()
    login(own, dee)
    for socket in (thief, bob):
        assert ask(socket, "join", {"event_id": live_event.id})["ok"]
        socket.get_received("/live")

    if how == "password changed":
        form = {"current_password": PASSWORD, "password": "a whole new passphrase 42"}
        assert own.post("/account/password", data=form).status_code == 302
    elif how == "signed out elsewhere":
        form = {"password": PASSWORD}
        assert own.post("/account/sign-out-elsewhere", data=form).status_code == 302
    else:  # the copied browser's own sign-in ends: the thief's copy of it with it
        assert copied.post("/logout").status_code == 302
    assert not thief.is_connected("/live")  # closed by the server: nothing more reaches it
    assert [_names(p["people"]) for p in received(bob, "presence")] == [["Bob Baker"]]
    assert not connect_socket(copied, namespace="/live").is_connected("/live")
    if how != "signed out":
        again = connect_socket(own, namespace="/live")
        assert again.is_connected("/live")
        assert ask(again, "join", {"event_id": live_event.id})["ok"]


def test_an_administrator_who_is_one_no_more_leaves_private_chats(
    make_space, moderator, make_user, chatter
):
    private = make_space("Board Development", visibility=Visibility.private)
    board = Event(space=private, title="Board", starts_at=utcnow(),
                  ends_at=utcnow() + timedelta(hours=1), venue="Leeds")  # fmt: skip
    db.session.add(board)
    db.session.commit()
    ada = make_user("Ada Admin", admin=True)
    socket = chatter(ada)
    assert ask(socket, "join", {"event_id": board.id})["ok"]
    socket.get_received("/live")
    administration.set_site_role(make_user("Another Admin", admin=True), ada, SiteRole.member)
    assert received(socket, "removed") == [{"event_id": board.id}]
    assert code(ask(socket, "join", {"event_id": board.id})) == "not_found"


@pytest.fixture
def redis_app(make_app):
    """An app whose presence (and Socket.IO message queue) is in Redis, with its own key prefix."""
    prefix = f"peerlearn-test-{uuid.uuid4().hex}"
    yield lambda: make_app(REDIS_URL=REDIS_URL, PEERLEARN_PRESENCE_PREFIX=prefix)
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)


@needs_redis
def test_presence_is_shared_between_server_processes_through_redis(redis_app, live_event, member):
    """Two app instances stand for two server processes: each sees who joined through the other."""
    first, second = redis_app(), redis_app()
    # Plain ids: touching the suite's objects inside another app's context would load them
    # through that app's engine.
    event, alice, bob = live_event.id, member("Alice Able").id, member("Bob Baker").id
    with first.app_context():
        one = presence.store()
        one.add(event, "sid-a1", alice)
        one.add(event, "sid-a2", alice)
    with second.app_context():
        two = presence.store()
        two.add(event, "sid-b", bob)
        assert _names(presence.people(event)) == ["Alice Able", "Bob Baker"]
    with first.app_context():
        assert _names(presence.people(event)) == ["Alice Able", "Bob Baker"]
        assert one.event_ids() == two.event_ids() == {event}  # the chats someone is in
        one.discard(event, "sid-a1")
        assert _names(presence.people(event)) == ["Alice Able", "Bob Baker"]
    # A process that dies stops its heartbeat: its people drop out of everyone's list.
    redis.Redis.from_url(REDIS_URL).delete(f"{two._prefix}:process:{two.process}")  # type: ignore[attr-defined]
    with first.app_context():
        assert _names(presence.people(event)) == ["Alice Able"]


@needs_redis
def test_joining_with_presence_in_redis_shows_people_on_other_processes(
    app, redis_app, live_event, member, chatter
):
    """The Socket.IO test client cannot run over a message queue, so the suite's app keeps its
    queue-less Socket.IO and only its presence store is put in Redis, next to another process's."""
    other_process, event, bob = redis_app(), live_event.id, member("Bob Baker").id
    with other_process.app_context():
        presence.store().add(event, "elsewhere", bob)
    init_socketio(app)  # making the other app took Socket.IO (and its queue): hand it back
    app.extensions["peerlearn_presence"] = presence.RedisPresence(
        REDIS_URL, other_process.config["PEERLEARN_PRESENCE_PREFIX"]
    )
    alice = member("Alice Able")
    tabs = [chatter(alice), chatter(alice)]
    for tab in tabs:
        joined = ask(tab, "join", {"event_id": live_event.id})
    assert _names(joined["presence"]) == ["Alice Able", "Bob Baker"]
    for tab in tabs:
        tab.disconnect("/live")
    with other_process.app_context():
        assert _names(presence.people(event)) == ["Bob Baker"]


def test_a_member_banned_while_joining_is_not_left_in_the_room(
    app, live_event, sig, moderator, member, chatter
):
    """The ban is committed, and the room searched for the banned member, in the moment between
    their join asking the policy and their joining the room: the join asks again once in the
    room, so they do not stay there hearing everything."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite cannot commit a write while a statement is still reading")
    leaving = member("Leaving Lee")
    lee, bob = chatter(leaving), chatter(member("Bob Baker"))
    ask(bob, "join", {"event_id": live_event.id})
    ids = (moderator.id, sig.id, leaving.id)
    banned: list[bool] = []

    def ban() -> None:
        with app.app_context():
            actor, space, user = (db.session.get(model, id_) for model, id_ in
                                  zip((User, Space, User), ids, strict=True))  # fmt: skip
            memberships.ban(actor, space, user, "Disruptive")

    def ban_once_asked(conn, cursor, statement, parameters, context, executemany):
        if banned or "memberships" not in statement or "events" not in statement:
            return
        banned.append(True)
        other = threading.Thread(target=ban)
        other.start()
        other.join()

    sqlalchemy.event.listen(db.engine, "after_cursor_execute", ban_once_asked)
    try:
        ack = ask(lee, "join", {"event_id": live_event.id})
    finally:
        sqlalchemy.event.remove(db.engine, "after_cursor_execute", ban_once_asked)
    assert banned and code(ack) == "not_found"
    assert _names(presence.people(live_event.id)) == ["Bob Baker"]
    ask(bob, "send", {"event_id": live_event.id, "body": "Members only", "client_id": "b"})
    assert received(lee) == []
