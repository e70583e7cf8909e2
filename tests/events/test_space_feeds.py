"""Each space's events as a calendar feed: a plain address for a public space, and for any space a
member may read an address below their own secret one, asked of the one permission policy again
at every fetch."""

from datetime import timedelta

import pytest
from icalendar import Calendar

from peerlearn.core.db import utcnow
from peerlearn.events import calendars
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.spaces.models import Visibility
from tests.events.conftest import form_for

#: visibility -> role -> whether their own address for the space's feed works. A public space's
#: plain address works for everyone, any other space's for nobody.
OWN_FEED = {
    Visibility.public: {"outsider": True, "member": True, "ex-member": True, "banned": True},
    Visibility.network: {"outsider": True, "member": True, "ex-member": True, "banned": False},
    Visibility.private: {"outsider": False, "member": True, "ex-member": False, "banned": False},
}


def _event(space, title="Flow coaching clinic", **fields):
    starts = fields.pop("starts_at", utcnow() + timedelta(days=7))
    event = Event(
        space=space,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        joining_url="https://meet.example.org/flow",
        **fields,
    )
    db.session.add(event)
    db.session.commit()
    return event


def _entries(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return {str(item["summary"]): item for item in Calendar.from_ical(response.data).walk("VEVENT")}


@pytest.fixture
def joined(client, space_with_event, make_user, add_member, login):
    """A space with an event, and a member of it signed in on ``client``."""

    def make(visibility):
        space, event = space_with_event(visibility)
        person = make_user()
        add_member(space, person)
        login(client, person)
        return space, event, person

    return make


def _own_address(client, space):
    """The address the subscription page gives the signed-in reader for the space."""
    page = client.get(f"/spaces/{space.slug}/events/calendar").get_data(as_text=True)
    return (
        "/calendar/"
        + page.split('id="own-feed-url" type="text" value="')[1]
        .split("/calendar/")[1]
        .split('"')[0]
    )


@pytest.fixture
def owner(make_user):
    return make_user("Grace Owusu")


@pytest.fixture
def space_with_event(make_space, owner):
    def make(visibility):
        space = make_space("Flow Coaching", visibility=visibility, owner=owner)
        return space, _event(space)

    return make


@pytest.mark.parametrize("visibility", list(Visibility))
def test_the_plain_address_is_for_public_spaces_only(
    new_client, space_with_event, make_user, login, visibility
):
    space, _ = space_with_event(visibility)
    for signed_in in (False, True):  # the address is the same for everyone who asks
        client = new_client()
        if signed_in:
            login(client, make_user())
        response = client.get(f"/spaces/{space.slug}/events.ics")
        if visibility is Visibility.public:
            (item,) = _entries(response).values()
            assert "meet.example.org" not in item.to_ical().decode()  # nor any joining link
        else:
            assert response.status_code == 404
            assert b"Flow coaching" not in response.data


@pytest.mark.parametrize("visibility", list(Visibility))
@pytest.mark.parametrize("role", ["outsider", "member", "ex-member", "banned"])
def test_my_own_address_for_a_space_works_while_the_policy_lets_me_read_it(
    client, new_client, space_with_event, owner, make_user, add_member, login, visibility, role
):
    space, _ = space_with_event(visibility)
    me, person = new_client(), make_user()
    login(me, person)
    if role == "outsider":  # who may not even open a private space's page: their secret, guessed
        address = f"/calendar/{calendars.feed_for(person).token}/spaces/{space.slug}.ics"
    else:  # ex-members and the banned subscribed while they were members
        add_member(space, person)
        address = _own_address(me, space)
    if role == "ex-member":
        assert me.post(f"/spaces/{space.slug}/leave").status_code == 302
    elif role == "banned":
        login(client, owner)
        response = client.post(
            f"/spaces/{space.slug}/members/{person.id}/ban", data={"reason": "Abuse"}
        )
        assert response.status_code == 302
    response = new_client().get(address)  # a calendar server: no session, only the address
    if OWN_FEED[visibility][role]:
        assert list(_entries(response)) == ["Flow coaching clinic"]
    else:
        assert response.status_code == 404
        assert b"Flow coaching" not in response.data


def test_a_visitor_is_offered_the_public_address_and_no_other(client, space_with_event):
    space, _ = space_with_event(Visibility.public)
    page = client.get(f"/spaces/{space.slug}/events").get_data(as_text=True)
    assert "Subscribe to this space's events" in page
    page = client.get(f"/spaces/{space.slug}/events/calendar").get_data(as_text=True)
    assert f"http://peerlearn.test/spaces/{space.slug}/events.ics" in page
    assert f'href="webcal://peerlearn.test/spaces/{space.slug}/events.ics"' in page
    assert "/calendar/" not in page.replace("/events/calendar", "")


def test_a_member_of_a_private_space_gets_only_their_own_address(client, joined):
    space, _, person = joined(Visibility.private)
    page = client.get(f"/spaces/{space.slug}/events/calendar").get_data(as_text=True)
    assert "events.ics" not in page.replace(f"/spaces/{space.slug}.ics", "")
    token = calendars.feed_for(person).token
    assert f'href="webcal://peerlearn.test/calendar/{token}/spaces/{space.slug}.ics"' in page
    assert "with the links to join them online" in page


def test_a_members_own_feed_has_the_joining_links_and_the_public_one_does_not(
    client, new_client, joined
):
    space, _, _ = joined(Visibility.public)
    (mine,) = _entries(new_client().get(_own_address(client, space))).values()
    (public,) = _entries(new_client().get(f"/spaces/{space.slug}/events.ics")).values()
    assert str(mine["location"]) == "https://meet.example.org/flow"
    assert str(public["location"]) == "Online"


def test_the_feed_lists_upcoming_and_recent_events_as_their_own_files_do(
    client, new_client, make_space, owner, login
):
    space = make_space("Flow Coaching", visibility=Visibility.public, owner=owner)
    now = utcnow()
    _event(space, "Next month", starts_at=now + timedelta(days=30))
    _event(space, "Last month", starts_at=now - timedelta(days=30))
    _event(space, "Last year", starts_at=now - timedelta(days=365))
    _event(make_space("Another group", visibility=Visibility.public), "Elsewhere")
    cancelled = _event(space, "Called off", starts_at=now + timedelta(days=3))
    login(client, owner)
    assert client.post(f"/events/{cancelled.id}/cancel").status_code == 302

    feed = _entries(new_client().get(f"/spaces/{space.slug}/events.ics"))
    assert sorted(feed) == ["Called off", "Last month", "Next month"]
    assert str(feed["Called off"]["status"]) == "CANCELLED"
    assert str(feed["Next month"]["status"]) == "CONFIRMED"
    (own_file,) = Calendar.from_ical(
        new_client().get(f"/events/{cancelled.id}/calendar.ics").data
    ).walk("VEVENT")
    for field in ("uid", "sequence", "status", "dtstart"):
        assert feed["Called off"][field].to_ical() == own_file[field].to_ical()
    # The UID stays when the event changes; the SEQUENCE goes up.
    uid, sequence = str(feed["Next month"]["uid"]), int(feed["Next month"]["sequence"])
    next_month = db.session.scalar(db.select(Event).where(Event.title == "Next month"))
    when = next_month.starts_at + timedelta(days=1)
    client.post(
        f"/events/{next_month.id}/edit",
        data=form_for(day=f"{when:%d/%m/%Y}", title="Next month, moved"),
    )
    moved = _entries(new_client().get(f"/spaces/{space.slug}/events.ics"))["Next month, moved"]
    assert str(moved["uid"]) == uid and int(moved["sequence"]) == sequence + 1


def test_renewing_my_address_ends_my_space_feeds_too(client, new_client, joined):
    space, _, _ = joined(Visibility.network)
    old = _own_address(client, space)
    assert new_client().get(old).status_code == 200
    client.post("/account/calendar")
    response = new_client().get(old)
    assert response.status_code == 404
    assert b"no longer valid" in response.data
    new = _own_address(client, space)
    assert new != old and new_client().get(new).status_code == 200


def test_a_deactivated_members_space_feed_stops(client, new_client, joined):
    space, _, person = joined(Visibility.public)
    address = _own_address(client, space)
    person.active = False
    db.session.commit()
    assert new_client().get(address).status_code == 404


def test_each_space_feed_has_its_own_limit(client, make_space, make_user, add_member):
    person = make_user()
    spaces = [make_space(visibility=Visibility.network) for _ in range(2)]
    token = calendars.feed_for(person).token
    first, second = (f"/calendar/{token}/spaces/{space.slug}.ics" for space in spaces)
    for _ in range(60):
        assert client.get(first).status_code == 200
    assert client.get(first).status_code == 429
    assert client.get(second).status_code == 200
    assert client.get(f"/calendar/{token}.ics").status_code == 200


def test_a_public_feed_is_limited_per_subscriber_address(client, make_space):
    space = make_space(visibility=Visibility.public)
    for _ in range(60):
        assert client.get(f"/spaces/{space.slug}/events.ics").status_code == 200
    assert client.get(f"/spaces/{space.slug}/events.ics").status_code == 429
    other = client.get(
        f"/spaces/{space.slug}/events.ics", environ_overrides={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert other.status_code == 200


def test_my_feed_lists_events_im_interested_in_once_i_choose_so(client, new_client, joined):
    space, going, _ = joined(Visibility.network)
    maybe = _event(space, "Maybe this")
    _event(space, "Not this")
    client.post(f"/events/{going.id}/rsvp", data={"status": "going"})
    client.post(f"/events/{maybe.id}/rsvp", data={"status": "interested"})
    page = client.get("/account/calendar").get_data(as_text=True)
    feed = "/calendar/" + page.split("/calendar/")[1].split('"')[0]
    assert list(_entries(new_client().get(feed))) == ["Flow coaching clinic"]

    assert "List events I am interested in too" in page
    client.post("/account/calendar/interested", data={"include": "yes"})
    entries = _entries(new_client().get(feed))  # the same address: no new subscription
    assert sorted(entries) == ["Flow coaching clinic", "Maybe this"]
    assert str(entries["Maybe this"]["status"]) == "TENTATIVE"
    assert str(entries["Maybe this"]["transp"]) == "TRANSPARENT"  # not shown as busy
    assert str(entries["Flow coaching clinic"]["status"]) == "CONFIRMED"
    uid = str(entries["Maybe this"]["uid"])

    client.post(f"/events/{maybe.id}/rsvp", data={"status": "going"})
    firm = _entries(new_client().get(feed))["Maybe this"]
    assert str(firm["uid"]) == uid and str(firm["status"]) == "CONFIRMED"  # the same entry

    client.post(f"/events/{maybe.id}/rsvp", data={"status": "interested"})
    client.post("/account/calendar/interested", data={"include": "no"})
    assert list(_entries(new_client().get(feed))) == ["Flow coaching clinic"]


def test_a_cancelled_event_im_interested_in_is_marked_cancelled(
    client, new_client, owner, joined, login
):
    _, event, person = joined(Visibility.network)
    client.post(f"/events/{event.id}/rsvp", data={"status": "interested"})
    client.post("/account/calendar/interested", data={"include": "yes"})
    moderator = new_client()
    login(moderator, owner)
    assert moderator.post(f"/events/{event.id}/cancel").status_code == 302
    feed = f"/calendar/{calendars.feed_for(person).token}.ics"
    (item,) = _entries(new_client().get(feed)).values()
    assert str(item["status"]) == "CANCELLED"


def test_renewing_my_address_keeps_my_choice_of_interested_events(client, make_user, login):
    person = make_user()
    login(client, person)
    client.post("/account/calendar/interested", data={"include": "yes"})
    client.post("/account/calendar")
    assert calendars.feed_for(person).include_interested


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("Flow, Coaching; Leeds", b"X-WR-CALNAME:Flow\\, Coaching\\; Leeds events"),
        ("Flow\nCoaching", b"X-WR-CALNAME:Flow\\nCoaching events"),
    ],
)
def test_the_feeds_name_is_written_as_calendar_text(new_client, make_space, name, written):
    """The calendar's name is text (RFC 5545 3.3.11): a comma or semicolon in the space's name is
    escaped, so a strict calendar app does not read it as a list, and a line break in it does
    not break the file."""
    space = make_space(name, visibility=Visibility.public)
    _event(space)
    response = new_client().get(f"/spaces/{space.slug}/events.ics")
    assert response.status_code == 200
    assert written in response.data.replace(b"\r\n ", b"")
    assert _entries(response)  # the file still reads as a calendar with its event
