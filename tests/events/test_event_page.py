"""The event page tells each reader what they can do about the event: answer it, or what stands
in the way."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peerlearn.core.db import utcnow
from peerlearn.events import rsvps
from peerlearn.events.models import Rsvp, RsvpStatus
from peerlearn.events.services import cancel_event
from peerlearn.extensions import db
from peerlearn.spaces.models import JoinPolicy, Visibility
from tests.events.test_space_feeds import _event
from tests.roles import ROLES

#: role -> what the event page's "Are you going?" section offers them, in an open public space.
OFFERED = {
    "anonymous": "Sign in</a> to say you are going",
    "outsider": "to say you are going",  # join the space first
    "requested": "Only members of",
    "invited": "to say you are going",  # accept the invitation first
    "member": "Save my answer",
    "moderator": "Save my answer",
    "owner": "Save my answer",
    "banned": "Only members of",
    "admin": "Save my answer",
}


def _answering(client, event):
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    return page.split("<h2>Are you going?</h2>")[1].split("</form>")[0].split("<h2")[0]


@pytest.mark.parametrize("role", ROLES)
def test_the_page_offers_each_reader_only_what_they_can_do(
    client, make_space, person_in, login, role
):
    space = make_space("Flow Coaching", visibility=Visibility.public)
    event = _event(space)
    person = person_in(role, space)
    if role != "anonymous":
        login(client, person)
    section = _answering(client, event)
    assert OFFERED[role] in section
    joins = f'Join <a href="/spaces/{space.slug}">Flow Coaching</a> to say you are going'
    assert (joins in section) is (role in {"outsider", "invited"})


def test_nobody_is_asked_to_join_an_invite_only_space(client, make_space, make_user, login):
    space = make_space("Flow Coaching", visibility=Visibility.public, join_policy=JoinPolicy.invite)
    event = _event(space)
    login(client, make_user())
    section = _answering(client, event)
    assert "Join <a" not in section
    assert "Only members of" in section


@pytest.mark.parametrize("role", ["member", "outsider", "admin"])
def test_an_archived_spaces_events_say_they_take_no_answers(
    client, make_space, person_in, login, role
):
    space = make_space("Flow Coaching", visibility=Visibility.public, archived=True)
    event = _event(space)
    login(client, person_in(role, space))
    section = _answering(client, event)
    assert "Flow Coaching is archived, so its events take no more answers." in section
    assert "Join <a" not in section and "Save my answer" not in section


def test_saving_no_answer_says_so_beside_the_choices(client, sig, member, login):
    event = _event(sig)
    login(client, member())
    response = client.post(f"/events/{event.id}/rsvp", data={})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Error: " in page
    summary = page.split("There is a problem")[1].split("</ul>")[0]
    assert 'href="#status"' in summary and "Choose whether you are going" in summary
    choices = page.split("<h2>Are you going?</h2>")[1].split("</fieldset>")[0]
    assert "Choose whether you are going" in choices.split('id="status"')[0]  # before them
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 0


def test_answering_an_event_cancelled_since_the_page_was_opened_says_it_was_cancelled(
    client, sig, moderator, member, login
):
    event = _event(sig)
    login(client, member())
    cancel_event(moderator, event)
    response = client.post(
        f"/events/{event.id}/rsvp", data={"status": "going"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This event was cancelled, so it takes no answers" in page
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 0


def test_a_member_of_an_archived_space_still_sees_the_answer_they_gave(client, sig, member, login):
    event = _event(sig)
    person = member()
    rsvps.set_rsvp(person, event, RsvpStatus.going)
    sig.archived_at = utcnow()
    db.session.commit()
    login(client, person)
    section = _answering(client, event)
    assert "You answered: <strong>Going</strong>." in section
    assert "is archived, so its events take no more answers." in section


def test_a_finished_events_page_says_it_has_finished(client, sig, member, login):
    event = _event(sig, starts_at=utcnow() - timedelta(days=1))
    login(client, member())
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "This event has finished." in page
    assert "Are you going?" not in page
    event.starts_at, event.ends_at = utcnow() + timedelta(days=1), utcnow() + timedelta(days=2)
    db.session.commit()
    assert "This event has finished." not in client.get(f"/events/{event.id}").get_data(
        as_text=True
    )
