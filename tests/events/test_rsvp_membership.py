"""Answers to a space's events follow its membership: someone removed from the space, banned
from it or leaving it may no longer attend its events, so their answers to those not yet over are
withdrawn and their places go to the people waiting longest. A deactivated account gives up its
answers to every event not yet over in the same way."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from peerlearn.accounts import administration
from peerlearn.accounts.models import SiteRole, User
from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.events import calendars, rsvps
from peerlearn.events.models import Event, Rsvp, RsvpStatus
from peerlearn.extensions import db
from peerlearn.permissions import Action, can
from peerlearn.spaces import memberships
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import MemberRole, MemberState, Space, Visibility
from tests.concurrency import WRITES, at_once, first_writes_meet, one_inside_another
from tests.discussions.test_query_counts import counting_statements
from tests.events.answers import attendees
from tests.spaces.flows import owner_of


@pytest.fixture
def event(sig, moderator):
    """An event tomorrow with a single place."""
    return _event(sig, moderator, days=1, capacity=1)


def _event(space, moderator, *, days, capacity=None):
    starts = utcnow() + timedelta(days=days)
    event = Event(space=space, created_by=moderator, title=f"In {days} days", starts_at=starts,
                  ends_at=starts + timedelta(hours=1), venue="Leeds", capacity=capacity)  # fmt: skip
    db.session.add(event)
    db.session.commit()
    return event


def _went_to_past_event(person, space, moderator):
    """A past event of the space that ``person`` went to: the record of who came."""
    past = _event(space, moderator, days=-2)
    db.session.add(Rsvp(event_id=past.id, user_id=person.id, status=RsvpStatus.going))
    db.session.commit()
    return past


def _places(event):
    """Who has a place and who is waiting, each in the order they answered."""
    going, waiting = attendees(event)
    return [r.user.display_name for r in going], [r.user.display_name for r in waiting]


def _answer(event, user):
    return db.session.get(Rsvp, (event.id, user.id))


def _ban(moderator, space, user):
    memberships.ban(moderator, space, user)


def _remove(moderator, space, user):
    memberships.remove_member(moderator, spaces.get_membership(space, user))


def _leave(moderator, space, user):
    memberships.leave_space(user, space)


def _deactivate(admin, space, user):
    administration.set_active(admin, user, False)


def _take_role(admin, space, user):
    administration.set_site_role(admin, user, SiteRole.member)


@pytest.mark.parametrize("visibility", [Visibility.network, Visibility.private])
@pytest.mark.parametrize("change", [_remove, _ban, _leave])
def test_a_member_who_leaves_a_space_gives_up_their_place_to_the_first_waiting(
    sig, moderator, member, event, client, login, change, visibility
):
    sig.visibility = visibility
    db.session.commit()
    leaving, waiting = member("Leaving Member"), member("Waiting Member")
    interested_elsewhere = _event(sig, moderator, days=2)
    past = _went_to_past_event(leaving, sig, moderator)
    rsvps.set_rsvp(leaving, interested_elsewhere, RsvpStatus.interested)
    rsvps.set_rsvp(leaving, event, RsvpStatus.going)
    rsvps.set_rsvp(waiting, event, RsvpStatus.going)
    assert _places(event) == (["Leaving Member"], ["Waiting Member"])

    change(moderator, sig, leaving)

    db.session.expire_all()
    assert _places(event) == (["Waiting Member"], [])
    assert _answer(event, leaving) is None
    assert _answer(interested_elsewhere, leaving) is None
    assert _answer(past, leaving).status is RsvpStatus.going  # the record of who came stays
    assert event not in calendars.feed_events(leaving)  # nor in their calendar
    login(client, moderator)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "1 going of 1" in page and "waiting list" not in page.split("Who is going")[0]
    assert "Leaving Member" not in page


def test_a_member_on_the_waiting_list_leaves_it(sig, moderator, member, event):
    holder, leaving, last = member("Holder"), member("Leaving Member"), member("Last")
    for person in (holder, leaving, last):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    _remove(moderator, sig, leaving)
    db.session.expire_all()
    assert _places(event) == (["Holder"], ["Last"])


def test_an_administrator_leaving_a_space_may_still_attend_and_keeps_their_answer(
    sig, moderator, event, make_user, add_member
):
    """What an answer needs is the policy's ``attend``, not a membership: an administrator may
    attend any event, member or not."""
    admin = make_user("Network Admin", admin=True)
    add_member(sig, admin)
    rsvps.set_rsvp(admin, event, RsvpStatus.going)
    memberships.leave_space(admin, sig)
    db.session.expire_all()
    assert _places(event) == (["Network Admin"], [])


def test_a_new_role_keeps_the_answer(sig, member, event):
    promoted = member("Promoted")
    rsvps.set_rsvp(promoted, event, RsvpStatus.going)
    memberships.change_role(
        owner_of(sig), spaces.get_membership(sig, promoted), MemberRole.moderator
    )
    db.session.expire_all()
    assert _places(event) == (["Promoted"], [])


def test_two_members_removed_at_once_each_free_a_place_for_someone_waiting(
    app, sig, moderator, member, event
):
    """Both removals found the event as it was before either freed a place: the places are
    given one at a time, so each goes to a different person waiting, the longest waiting first."""
    event.capacity = 2
    db.session.commit()
    people = [member(name) for name in ("First", "Second", "Third", "Fourth", "Fifth")]
    for person in people:
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    assert _places(event) == (["First", "Second"], ["Third", "Fourth", "Fifth"])
    moderator_id, space_id = moderator.id, sig.id

    def remove(user_id: int):
        def call() -> None:
            space = db.session.get(Space, space_id)
            _remove(db.session.get(User, moderator_id), space, db.session.get(User, user_id))

        return call

    with first_writes_meet("DELETE FROM rsvps", before=True):
        at_once(app, [remove(people[0].id), remove(people[1].id)])
    db.session.expire_all()
    assert _places(event) == (["Third", "Fourth"], ["Fifth"])


@pytest.mark.parametrize("answered", [False, True])
@pytest.mark.parametrize("change", [_remove, _ban, _leave])
def test_ending_a_membership_holds_nothing_of_the_persons_own(
    app, sig, moderator, member, event, change, answered
):
    """The withdrawal takes nothing more than the change does: the person's account row is not
    held (an answer given at that moment waits on their membership instead), so their own
    account's writes, and the many removals of people who answered nothing, wait for nothing
    they do not need."""
    leaving = member("Leaving Member")
    if answered:
        rsvps.set_rsvp(leaving, event, RsvpStatus.going)
    with counting_statements(app) as statements:
        change(moderator, sig, leaving)
    assert [s for s in statements if s.startswith("UPDATE users")] == []
    db.session.expire_all()
    assert _answer(event, leaving) is None


# Answering at the moment of removal --------------------------------------------------------------


@pytest.mark.parametrize("change", [_remove, _ban])
def test_an_answer_checked_just_before_a_removal_is_refused_once_it_writes(
    app, sig, moderator, member, event, client, login, change
):
    """The answer's request asked the policy before the removal committed (the view's check,
    its membership then kept in the request and the session), and holds the event after the
    removal and its withdrawal: it asks again, reading the membership as it is now, and is
    refused as anyone who may not answer is. The place stays free."""
    leaving = member("Leaving Member")
    login(client, leaving)
    moderator_id, space_id, leaving_id = moderator.id, sig.id, leaving.id
    answers = []

    def answer() -> None:
        answers.append(client.post(f"/events/{event.id}/rsvp", data={"status": "going"}))

    def remove() -> None:
        space = db.session.get(Space, space_id)
        change(db.session.get(User, moderator_id), space, db.session.get(User, leaving_id))

    one_inside_another(app, answer, remove, "UPDATE")  # the first hold: the view has checked
    assert [response.status_code for response in answers] == [403]
    db.session.expire_all()
    assert _answer(event, leaving) is None
    assert _places(event) == ([], [])


def test_a_ban_is_seen_by_an_answer_that_loaded_the_membership_before_it(
    app, sig, moderator, member, event
):
    """The answering request still holds the membership it read before the ban (as a page that
    listed the member's spaces would): the policy asks again of the database, not of that."""
    banned = member("Banned Member")
    moderator_id, space_id, banned_id, event_id = moderator.id, sig.id, banned.id, event.id
    refusals, kept = [], []

    def answer() -> None:
        user, answered = db.session.get(User, banned_id), db.session.get(Event, event_id)
        kept.append(spaces.get_membership(answered.space, user))
        assert can(user, Action.post, answered)
        try:
            rsvps.set_rsvp(user, answered, RsvpStatus.going)
        except rsvps.MayNotAnswer as refusal:
            refusals.append(refusal.message)

    def ban() -> None:
        space = db.session.get(Space, space_id)
        _ban(db.session.get(User, moderator_id), space, db.session.get(User, banned_id))

    one_inside_another(app, answer, ban, "UPDATE")
    assert refusals == ["You can no longer answer this event"]
    db.session.expire_all()
    assert _answer(event, banned) is None


@pytest.mark.parametrize(
    ("change", "written"),
    [
        (_remove, "DELETE FROM memberships"),
        (_ban, "UPDATE memberships"),
        (_deactivate, "UPDATE users"),
    ],
)
def test_a_removal_just_after_an_answer_was_checked_withdraws_it(
    app, sig, moderator, member, event, make_user, change, written
):
    """The answer was checked, its member's standing and the event held, before the removal
    deleted the membership (a ban changed it, a deactivation the account), and is written after
    the removal began: the removal's write waits for it (the answer keeps the membership and
    the account from changing), then its withdrawal sees the answer and withdraws it. (On SQLite the removal cannot write at all while the answer holds the
    single write lock, so the answer is committed before the removal either way: there, this
    passes without the fix too.)"""
    leaving = member("Leaving Member")
    actor = make_user("Network Admin", admin=True) if change is _deactivate else moderator
    actor_id, space_id, leaving_id, event_id = actor.id, sig.id, leaving.id, event.id

    def answer() -> None:
        rsvps.set_rsvp(
            db.session.get(User, leaving_id), db.session.get(Event, event_id), RsvpStatus.going
        )

    def remove() -> None:
        space = db.session.get(Space, space_id)
        change(db.session.get(User, actor_id), space, db.session.get(User, leaving_id))

    # The answer waits between its check and its write while the removal (ban, deactivation)
    # goes on to its write (on SQLite, to its first write), which then waits for the answer.
    resume = written if db.engine.dialect.name == "postgresql" else WRITES
    one_inside_another(app, answer, remove, "INSERT INTO rsvps", resume=resume)
    db.session.expire_all()
    assert _answer(event, leaving) is None
    assert _places(event) == ([], [])


# Deactivated accounts ---------------------------------------------------------------------------


def test_a_deactivated_account_gives_up_its_answers_to_events_still_to_come(
    sig, moderator, member, event, make_space, add_member, make_user, client, login
):
    admin = make_user("Network Admin", admin=True)
    other_space = make_space("Flow Coaching")
    leaving, first, second = member("Leaving Member"), member("First Waiting"), member("Second")
    add_member(other_space, leaving)
    elsewhere = _event(other_space, moderator, days=3)
    past = _went_to_past_event(leaving, sig, moderator)
    rsvps.set_rsvp(leaving, elsewhere, RsvpStatus.interested)
    for person in (leaving, first, second):
        rsvps.set_rsvp(person, event, RsvpStatus.going)
    assert _places(event) == (["Leaving Member"], ["First Waiting", "Second"])

    login(client, admin)
    assert client.post(f"/admin/users/{leaving.id}/deactivate").status_code == 302

    db.session.expire_all()
    assert _places(event) == (["First Waiting"], ["Second"])
    assert _answer(event, leaving) is None
    assert _answer(elsewhere, leaving) is None
    assert _answer(past, leaving).status is RsvpStatus.going  # the record of who came stays

    administration.set_active(admin, db.session.get(User, leaving.id), True)
    db.session.expire_all()
    assert _answer(event, leaving) is None  # reactivation brings nothing back
    assert _answer(elsewhere, leaving) is None
    assert _places(event) == (["First Waiting"], ["Second"])


def test_a_new_site_role_keeps_the_answers(sig, moderator, member, event, make_user):
    admin = make_user("Network Admin", admin=True)
    promoted = member("Promoted")
    rsvps.set_rsvp(promoted, event, RsvpStatus.going)
    administration.set_site_role(admin, promoted, SiteRole.admin)
    db.session.expire_all()
    assert _places(event) == (["Promoted"], [])


def test_an_administrator_role_taken_away_withdraws_the_answers_it_allowed(
    sig, moderator, member, event, make_space, add_member, make_user, client, login
):
    """An administrator may attend any event; once the role is taken away, only the events of
    the spaces they belong to. Their answers to the others' events still to come are withdrawn,
    each place going to the person waiting longest; the rest stay."""
    admin, former = make_user("Network Admin", admin=True), make_user("Former Admin", admin=True)
    waiting = member("Waiting Member")
    own_space = make_space("Flow Coaching")
    add_member(own_space, former)
    own_event, past = (
        _event(own_space, moderator, days=3),
        _went_to_past_event(former, sig, moderator),
    )
    rsvps.set_rsvp(former, own_event, RsvpStatus.going)
    rsvps.set_rsvp(former, event, RsvpStatus.going)
    rsvps.set_rsvp(waiting, event, RsvpStatus.going)
    assert _places(event) == (["Former Admin"], ["Waiting Member"])

    login(client, admin)
    assert client.post(f"/admin/users/{former.id}/remove-admin").status_code == 302

    db.session.expire_all()
    assert _places(event) == (["Waiting Member"], [])
    assert _answer(event, former) is None
    assert _answer(own_event, former).status is RsvpStatus.going  # a member there: it stays
    assert _answer(past, former).status is RsvpStatus.going  # the record of who came stays


@pytest.mark.parametrize(("change", "refused"), [(_deactivate, 302), (_take_role, 403)])
def test_an_answer_checked_just_before_an_account_change_is_refused_once_it_writes(
    app, sig, event, client, login, make_user, change, refused
):
    """An administrator who is not a member of the space answers its event; the view allows
    it, then their account is deactivated or their role taken away before the answer holds the
    event: asked again, the policy refuses it (a deactivated account is sent to sign in, as
    anyone no longer signed in), and nothing is written."""
    admin_id = make_user("Network Admin", admin=True).id
    answering = make_user("Answering Admin", admin=True)
    login(client, answering)
    answering_id = answering.id
    answers = []

    def answer() -> None:
        answers.append(client.post(f"/events/{event.id}/rsvp", data={"status": "going"}))

    def account_change() -> None:
        user = db.session.get(User, answering_id)
        change(db.session.get(User, admin_id), None, user)

    one_inside_another(app, answer, account_change, "UPDATE")  # the first hold: view checked
    assert [r.status_code for r in answers] == [refused]
    if refused == 302:
        assert answers[0].location.startswith("/login")
    db.session.expire_all()
    assert _answer(event, answering) is None
    assert _places(event) == ([], [])


def test_a_ban_lifted_at_the_moment_it_is_made_waits_for_it(app, sig, moderator, member, event):
    """Another moderator lifts the ban while the ban is withdrawing the member's answers, in its
    own unit of work: the lifting waits for the ban to commit, then finds it and lifts it. Both
    succeed, and the answers stay withdrawn, as the lifted ban leaves the member outside the
    space."""
    banned = member("Banned Member")
    rsvps.set_rsvp(banned, event, RsvpStatus.going)
    moderator_id, space_id, banned_id = moderator.id, sig.id, banned.id

    def ban() -> None:
        space = db.session.get(Space, space_id)
        _ban(db.session.get(User, moderator_id), space, db.session.get(User, banned_id))

    def unban() -> None:
        space = db.session.get(Space, space_id)
        user, actor = db.session.get(User, banned_id), db.session.get(User, moderator_id)
        memberships.unban(actor, spaces.get_membership(space, user))

    # The ban, about to hold the event in its withdrawal, waits while the unban reaches its hold.
    one_inside_another(app, ban, unban, "UPDATE events", resume=WRITES)
    db.session.expire_all()
    assert spaces.get_membership(sig, banned) is None
    assert _answer(event, banned) is None


@pytest.mark.parametrize("change", [_remove, _ban, _leave, _deactivate])
def test_a_withdrawal_that_fails_leaves_neither_it_nor_the_change_half_done(
    sig, moderator, member, event, make_user, monkeypatch, change
):
    """The answers are withdrawn in the unit of work that ends the membership or deactivates the
    account. If the withdrawal fails (a lock error, say) after the membership and the answer
    were deleted, the change fails with it and all of it is rolled back: the person is still a
    member and active, their place and the waiting list are as they were, and nothing is
    audited."""
    admin = make_user("Network Admin", admin=True)
    leaving, waiting = member("Leaving Member"), member("Waiting Member")
    rsvps.set_rsvp(leaving, event, RsvpStatus.going)
    rsvps.set_rsvp(waiting, event, RsvpStatus.going)
    audited = db.session.scalar(select(func.count()).select_from(AuditEntry))

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(rsvps, "promote_waiting", fail)
    with pytest.raises(RuntimeError):
        change(admin, sig, leaving)
    db.session.rollback()  # as the request's end does
    monkeypatch.undo()

    db.session.expire_all()
    assert spaces.get_membership(sig, leaving).state is MemberState.active
    assert db.session.get(User, leaving.id).active
    assert _places(event) == (["Leaving Member"], ["Waiting Member"])
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audited
