"""Answering an event (RSVP): going, interested or not going; a place, or the waiting list when
the event is full; and withdrawing the answers of someone who may no longer attend. With who
answered, as the event's pages read it. The event's places themselves (the hold on them, and
the waiting list moving up as places free) are in :mod:`peerlearn.events.services`."""

from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.core.db import hold, utcnow
from peerlearn.core.signals import standing_changing
from peerlearn.events.models import Event, Rsvp, RsvpStatus
from peerlearn.events.services import (
    ANSWER_ORDER,
    EventError,
    hold_event,
    places_taken,
    promote_waiting,
)
from peerlearn.extensions import db
from peerlearn.permissions import Action, can, forget_standing
from peerlearn.spaces.models import Membership, Space

#: Why a cancelled event takes no answer, whether it was cancelled before the answer was sent or
#: as it was being saved.
CANCELLED = "This event was cancelled, so it takes no answers"


class MayNotAnswer(EventError):
    """The policy does not let them answer the event, asked again once their answers and the
    event are held (:func:`set_rsvp`): refused as the view refuses anyone who may not."""


# Reading ----------------------------------------------------------------------------------------


def rsvp_counts(event_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per event: how many are going (with a place), waiting, interested and not going."""
    counts: dict[int, dict[str, int]] = {
        i: {"going": 0, "waiting": 0, "interested": 0, "not-going": 0} for i in event_ids
    }
    if not event_ids:
        return counts
    rows = db.session.execute(
        select(Rsvp.event_id, Rsvp.status, Rsvp.waitlisted, func.count())
        .where(Rsvp.event_id.in_(event_ids))
        .group_by(Rsvp.event_id, Rsvp.status, Rsvp.waitlisted)
    )
    for event_id, status, waitlisted, count in rows:
        key = "waiting" if waitlisted else status.value
        counts[event_id][key] += count
    return counts


def rsvp_of(user: object, event: Event) -> Rsvp | None:
    """The member's own answer, if they gave one."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.get(Rsvp, (event.id, user.id))  # type: ignore[attr-defined]


#: People per page of an event's list of who is going, and of its waiting list.
PEOPLE_PER_PAGE = 50


def answers_query(event: Event, *, waiting: bool) -> Select[tuple[Rsvp]]:
    """Who is going with a place, in the order they answered, or (``waiting``) who is on the
    waiting list, in the order places come to them; with their organisations, for a page of
    them (:func:`~peerlearn.core.pagination.paginate`)."""
    return (
        select(Rsvp)
        .where(
            Rsvp.event_id == event.id,
            Rsvp.status == RsvpStatus.going,
            Rsvp.waitlisted.is_(waiting),
        )
        .options(selectinload(Rsvp.user).selectinload(User.organisation))
        .order_by(*ANSWER_ORDER)
    )


def waiting_position(rsvp: Rsvp | None) -> int | None:
    """Where the answer is on its event's waiting list (1: the next place to come free is
    theirs), or None when it is not on it; counted, not read from the whole list."""
    if rsvp is None or rsvp.status is not RsvpStatus.going or not rsvp.waitlisted:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Rsvp)
        .where(
            Rsvp.event_id == rsvp.event_id,
            Rsvp.status == RsvpStatus.going,
            Rsvp.waitlisted.is_(True),
            tuple_(*ANSWER_ORDER) < tuple_(*(getattr(rsvp, key.key) for key in ANSWER_ORDER)),
        )
    )
    return (ahead or 0) + 1


# Answering --------------------------------------------------------------------------------------


def hold_standing(user: User, event: Event) -> None:
    """Keep what lets the person answer the event from changing until this transaction ends, and
    have the policy read it again: their account's row is held (:func:`~peerlearn.core.db.hold`,
    before any event is), and their membership of the event's space, if any, locked against
    change (``FOR SHARE``; SQLite lets one transaction write at a time, and the hold made this
    one it). A deactivation, a change of site role, a removal or a ban (each writing that row,
    and withdrawing answers in the same unit of work: :func:`withdraw_answers`) then either
    waits for the answer to commit and withdraws it, or commits first and is seen by it. Without
    it, an answer checked just before a removal committed was written just after the withdrawal
    had looked for answers, and kept its place. The withdrawal itself takes nothing more than
    the change does, so a removal of someone who answered nothing holds nothing of theirs."""
    hold(db.session, User.site_role, User.id == user.id)
    db.session.execute(
        select(Membership.id)
        .where(Membership.user_id == user.id, Membership.space_id == event.space_id)
        .with_for_update(read=True)
    )
    forget_standing(user)


def set_rsvp(user: User, event: Event, status: RsvpStatus) -> Rsvp:
    """Answer an event. Going to a full event puts you on its waiting list; giving up a place
    gives it to the first person waiting, in the same transaction, so nobody answering at that
    moment can take it first. Answers to one event are taken one at a time
    (:func:`~peerlearn.events.services.hold_event`), so its places are never given out twice.
    The policy (``post``) is asked again once the person's standing and the event are held
    (:func:`hold_standing`): a removal, ban, deactivation or change of role committed since the
    request's own check refuses the answer (:class:`MayNotAnswer`)."""
    hold_standing(user, event)
    hold_event(event)
    # As held: cancelled, or moved into the past, a moment ago, it takes no answer; its places
    # cut a moment ago, they count.
    db.session.refresh(event, ["cancelled_at", "ends_at", "capacity"])
    if event.finished:
        raise EventError("This event has finished")
    if event.cancelled:
        raise EventError(CANCELLED)
    if not can(user, Action.post, event):
        raise MayNotAnswer("You can no longer answer this event")
    rsvp = db.session.get(Rsvp, (event.id, user.id))
    had_place = _has_place(rsvp)
    if rsvp is None:
        rsvp = Rsvp(event_id=event.id, user_id=user.id, status=status)
        db.session.add(rsvp)
    elif rsvp.status is not status:
        rsvp.status = status
        rsvp.created_at = utcnow()  # a new answer joins the back of any queue
    if status is RsvpStatus.going and not had_place:
        taken = places_taken(event, excluding=user.id)
        rsvp.waitlisted = event.capacity is not None and taken >= event.capacity
    elif status is not RsvpStatus.going:
        rsvp.waitlisted = False
    if had_place and status is not RsvpStatus.going:
        _place_given_up(event)
    db.session.commit()
    return rsvp


def _has_place(rsvp: Rsvp | None) -> bool:
    return rsvp is not None and rsvp.status is RsvpStatus.going and not rsvp.waitlisted


def _place_given_up(event: Event) -> None:
    """A place was just given up in the caller's transaction, which holds the event's places
    (:func:`~peerlearn.events.services.hold_event`): it goes to the person waiting longest
    (:func:`~peerlearn.events.services.promote_waiting`)."""
    db.session.flush()
    promote_waiting(event)


def withdraw_answers(user: User, space: Space | None = None) -> None:
    """Withdraw the person's answers to events not yet over (the space's, or every space's) that
    they may no longer attend (the policy's ``attend``: they were removed from the space, banned,
    or left it; or their account was deactivated, or lost the administrator role that let them
    attend events of spaces they do not belong to), each place they held going to the person
    waiting longest, as if they had answered "not going". Answers to past events stay: they are
    the record of who came. Written in the caller's unit of work, which made the change and
    commits it (:func:`_withdraw_on_narrowing`), after the change itself is written: an answer
    given at the same moment either commits before that write can be made (:func:`hold_standing`)
    and is seen here, or sees the change and is refused."""
    answered = select(Rsvp.event_id).where(Rsvp.user_id == user.id)
    query = (
        select(Event)
        .where(Event.id.in_(answered), Event.ends_at >= utcnow())
        .options(selectinload(Event.space))
        .order_by(Event.id)  # held in one order, so that two withdrawals never deadlock
    )
    if space is not None:
        query = query.where(Event.space_id == space.id)
    events = db.session.scalars(query).all()
    for event in events:
        if can(user, Action.attend, event):
            continue
        hold_event(event)
        db.session.refresh(event, ["cancelled_at", "ends_at", "capacity"])  # as held
        rsvp = db.session.get(Rsvp, (event.id, user.id), populate_existing=True)
        if rsvp is None:
            continue
        had_place = _has_place(rsvp)
        db.session.delete(rsvp)
        if had_place:
            _place_given_up(event)
    db.session.flush()


@standing_changing.connect
def _withdraw_on_narrowing(user: User, space: Space | None, **_: Any) -> None:
    """Someone's membership of ``space`` ended (removed, banned, they left), or their account was
    deactivated or lost the administrator role (``space`` None): the answers they may no longer
    give are withdrawn in the same unit of work, so that the change and the withdrawal commit
    together or not at all. Asked only then, not on every change: an active member of an
    archived space may not answer either, but keeps the answers given before it was archived.
    Reactivating an account, or joining again, brings none of them back."""
    withdraw_answers(user, space)
