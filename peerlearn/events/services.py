"""Event rules and transactions: scheduling in London time; changing, cancelling and reinstating
an event; and its places (the hold on them, and the waiting list moving up as places free).
Answering an event (RSVP) is in :mod:`peerlearn.events.rsvps`; calendar files are in
:mod:`peerlearn.events.calendars`."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core.db import hold, send_committed, utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.links import web_address_problem
from peerlearn.core.signals import (
    event_cancelled,
    event_changed,
    event_rearranged,
    event_reinstated,
    place_given,
)
from peerlearn.core.text import render_markdown
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events.changes import Arrangements, Rearrangement
from peerlearn.events.models import Event, EventComponent, Rsvp, RsvpStatus
from peerlearn.extensions import db
from peerlearn.permissions import event_filter
from peerlearn.spaces.models import Space

#: Events happen in England: times are entered and shown in London time, stored in UTC.
LONDON = ZoneInfo("Europe/London")
#: An end time of 00:00 is midnight at the end of the event's day (:func:`london_span`).
MIDNIGHT = time(0, 0)
MAX_TITLE = 200


class EventError(RuleError):
    """A rule about events was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


def london_to_utc(day: date, at: time, field: str) -> datetime:
    """A London wall-clock time as UTC; refuses times the clock change skips over, and those it
    repeats (which of the two would be a guess, and attendees could each guess differently)."""
    local = datetime.combine(day, at, tzinfo=LONDON)
    utc = local.astimezone(UTC)
    if utc.astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise EventError(
            f"{at:%H:%M} does not exist on {day:%-d %B %Y} because the clocks go forward. "
            "Choose another time",
            field=field,
        )
    if local.replace(fold=1).utcoffset() != local.utcoffset():
        raise EventError(
            f"{at:%H:%M} happens twice on {day:%-d %B %Y} because the clocks go back. "
            "Choose another time",
            field=field,
        )
    return utc


#: How many days after its date an event may end: a conference of a few days, not a date a
#: year out by mistake.
MAX_DAYS = 14


def london_span(
    day: date, starts: time, ends: time, end_day: date | None = None
) -> tuple[datetime, datetime]:
    """An event on ``day`` from ``starts`` to ``ends`` (London wall-clock times) as UTC, ending
    on ``end_day`` when it ends on a later day (at most :data:`MAX_DAYS` days later). An end of
    00:00 is midnight at the end of the day it ends on: 22:00 to 00:00 can mean nothing else,
    and an event cannot end at the start of the day it is on. Any other end on the event's own
    day must come after the start."""
    start = london_to_utc(day, starts, "start_time")
    if end_day is not None and end_day < day:
        raise EventError(
            f"The end date must be the day the event starts, {day:%-d %B %Y}, or a later day",
            field="end_date",
        )
    if end_day is not None and end_day - day > timedelta(days=MAX_DAYS):
        raise EventError(
            f"An event can end at most {MAX_DAYS} days after the day it starts: enter an end "
            f"date no later than {day + timedelta(days=MAX_DAYS):%-d %B %Y}",
            field="end_date",
        )
    last = end_day or day
    if ends == MIDNIGHT:
        return start, london_to_utc(last + timedelta(days=1), ends, "end_time")
    if last == day and ends <= starts:
        raise EventError(
            f"The event must end after it starts: enter an end time after {starts:%H:%M}, "
            "00:00 if it ends at midnight, or the day it ends as the end date",
            field="end_time",
        )
    return start, london_to_utc(last, ends, "end_time")


def last_day(ends_at: datetime) -> date:
    """The day an event ends on, in London, as its form gives it: one that ends at 00:00 ends
    at midnight at the end of the day before (:func:`london_span`)."""
    ends = in_london(ends_at)
    return ends.date() - timedelta(days=1) if ends.time() == MIDNIGHT else ends.date()


def in_london(value: datetime) -> datetime:
    """A stored UTC time in London time."""
    return value.astimezone(LONDON)


@dataclass(frozen=True)
class EventDraft:
    """What a moderator enters to schedule an event."""

    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    joining_url: str | None = None
    venue: str | None = None
    capacity: int | None = None
    components: tuple[ImpactComponent, ...] = ()
    #: The scheduling form's one-time key: sending the same form twice schedules one event.
    submission_key: str | None = None


def check_place(joining_url: str | None, venue: str | None) -> None:
    """An event happens somewhere: online (a joining link), in person (a venue), or both."""
    if not joining_url and not (venue or "").strip():
        raise EventError("Enter a joining link or a venue", field="joining_url")


def _apply(event: Event, draft: EventDraft) -> None:
    title = " ".join(draft.title.split())
    if not title:
        raise EventError("Enter a title", field="title")
    if draft.ends_at <= draft.starts_at:
        raise EventError("The event must end after it starts", field="end_time")
    check_place(draft.joining_url, draft.venue)
    problem = draft.joining_url and web_address_problem(draft.joining_url)
    if problem:
        raise EventError(problem, field="joining_url")
    if draft.capacity is not None and draft.capacity < 1:
        raise EventError("Capacity must be 1 or more, or left empty", field="capacity")
    event.title = title
    event.description_source = draft.description
    event.description_html = render_markdown(draft.description)
    event.starts_at, event.ends_at = draft.starts_at, draft.ends_at
    event.joining_url = draft.joining_url or None
    event.venue = draft.venue or None
    event.capacity = draft.capacity
    wanted = list(dict.fromkeys(draft.components))
    event.component_rows = [
        next((row for row in event.component_rows if row.component is c), None)
        or EventComponent(component=c)
        for c in wanted
    ]


def create_event(actor: User, space: Space, draft: EventDraft) -> Event:
    """Schedule an event in a space. The same form sent again (``draft.submission_key``: a
    double click, a resend after a lost response) returns the event it scheduled, which is made
    once even when both arrive at the same moment (the key is unique per moderator)."""
    previous = _scheduled_with(actor, draft.submission_key)
    if previous is not None:
        return previous
    if space.archived:
        raise EventError("This space is archived, so it cannot have new events")
    event = Event(space=space, created_by=actor, submission_key=draft.submission_key)
    _apply(event, draft)
    db.session.add(event)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # the other sending of the form was first
        previous = _scheduled_with(actor, draft.submission_key)
        if previous is None:
            raise
        return previous
    record("event.created", actor=actor, space=space, event_id=event.id, title=event.title)
    db.session.commit()
    event_changed.send(event)
    return event


def _scheduled_with(actor: User, key: str | None) -> Event | None:
    if not key:
        return None
    return db.session.scalar(
        select(Event).where(Event.created_by_id == actor.id, Event.submission_key == key)
    )


class MovesIntoPast(EventError):
    """A change would move an event people have answered into the past: the moderator is asked
    to confirm it (:func:`update_event`)."""


def update_event(actor: User, event: Event, draft: EventDraft, *, into_past: bool = False) -> None:
    """Change an event; calendars see the same UID with a higher SEQUENCE. Any date may be
    given, past ones too (to correct a mistyped date, or record an event after it), as Indico
    allows; but moving an event that people have answered into the past is made only once
    confirmed (``into_past``; :class:`MovesIntoPast` asks): it then takes no more answers, the
    answers stay as the record, and nobody waiting is given a place (:func:`promote_waiting`).
    Places are never cut below the number taken (:func:`_check_places`). The event is held and
    read again first, so that a cancellation or an answer made a moment ago counts. Those who
    answered it are told of a new time or place once it commits (:data:`event_rearranged`)."""
    hold_event(event)
    db.session.refresh(event, ["cancelled_at", "ends_at"])
    if event.cancelled:
        raise EventError("This event was cancelled, so it cannot be changed")
    _check_places(event, draft.capacity)
    if not into_past and not event.finished and draft.ends_at < utcnow():
        answered = _answer_count(event)
        if answered:
            raise MovesIntoPast(
                f"{answered} {'person has' if answered == 1 else 'people have'} answered this "
                "event. Once it is in the past, nobody can answer it or change their answer, "
                "nobody on the waiting list will be given a place, and the answers stay as the "
                "record of who came."
            )
    was, was_link = Arrangements.of(event), event.joining_url
    _apply(event, draft)
    event.sequence += 1
    if change := Rearrangement.since(was, was_link, event):
        send_committed(db.session, event_rearranged, event, by=actor, change=change)
    record("event.updated", actor=actor, space=event.space, event_id=event.id, title=event.title)
    promote_waiting(event)  # more places than before go to the people waiting longest
    db.session.commit()
    event_changed.send(event)


def _check_places(event: Event, capacity: int | None) -> None:
    """Refuse fewer places than people already have (as Eventbrite refuses fewer tickets than
    it has sold): each was told they have a place, and the waiting list counts on nobody
    holding a place beyond the limit. Someone who can no longer come gives theirs up."""
    taken = places_taken(event)
    if capacity is not None and capacity < taken:
        raise EventError(
            f"{taken} {'person is' if taken == 1 else 'people are'} going, so there must be at "
            f"least {taken} {'place' if taken == 1 else 'places'}. Enter {taken:,} or more, or "
            "leave it empty for no limit",
            field="capacity",
        )


def _answer_count(event: Event) -> int:
    query = select(func.count()).select_from(Rsvp).where(Rsvp.event_id == event.id)
    return db.session.scalar(query) or 0


def check_cancellable(event: Event) -> None:
    """Refuse to cancel an event that has finished: it took place, and marking it "will not go
    ahead" (and CANCELLED in calendars) would rewrite the record of who came."""
    if event.finished:
        raise EventError("This event has finished, so it cannot be cancelled")


def cancel_event(actor: User, event: Event) -> bool:
    """Cancel an event that has not finished (:func:`check_cancellable`); it stays listed (and
    in calendars) marked as cancelled, with its answers kept, so that it can be reinstated
    (:func:`reinstate_event`). The event is held first (:func:`hold_event`) and read again, so
    that a cancellation pressed twice, or by two moderators at once, is made and audited once,
    and an answer given at that moment is either in before it or refused. Returns whether this
    call cancelled it."""
    hold_event(event)
    db.session.refresh(event, ["cancelled_at", "sequence", "ends_at"])
    if event.cancelled:
        return False
    check_cancellable(event)
    event.cancelled_at = utcnow()
    event.sequence += 1
    record("event.cancelled", actor=actor, space=event.space, event_id=event.id, title=event.title)
    send_committed(db.session, event_cancelled, event, by=actor)
    db.session.commit()
    event_changed.send(event)
    return True


def reinstate_event(actor: User, event: Event) -> bool:
    """Take back the cancellation of an event that has not finished: it goes ahead again with
    the answers it had, and calendars see the same UID, CONFIRMED, with a higher SEQUENCE. Held
    and read again like a cancellation, so that pressed twice it is reinstated and audited once.
    Those who answered it, who were told it was cancelled, are told once it commits
    (:data:`event_reinstated`). Returns whether this call reinstated it."""
    hold_event(event)
    db.session.refresh(event, ["cancelled_at", "sequence", "ends_at"])
    if not event.cancelled:
        return False
    if event.finished:
        raise EventError("This event has finished, so it cannot be reinstated")
    event.cancelled_at = None
    event.sequence += 1
    record("event.reinstated", actor=actor, space=event.space, event_id=event.id, title=event.title)
    send_committed(db.session, event_reinstated, event, by=actor)
    promote_waiting(event)  # places given up while it was cancelled
    db.session.commit()
    event_changed.send(event)
    return True


# Reading ----------------------------------------------------------------------------------------


def events_query(viewer: object, *, space: Space | None = None, past: bool = False) -> Select:
    """Events the viewer may see: upcoming soonest first, or past most recent first."""
    now = utcnow()
    query = (
        select(Event)
        .where(event_filter(viewer))
        .options(selectinload(Event.space), selectinload(Event.component_rows))
    )
    if space is not None:
        query = query.where(Event.space_id == space.id)
    if past:
        return query.where(Event.ends_at < now).order_by(Event.starts_at.desc())
    return query.where(Event.ends_at >= now).order_by(Event.starts_at)


# Places -----------------------------------------------------------------------------------------


#: Who answered "going" first (ties, in the same instant, by id): the waiting list's order.
ANSWER_ORDER = (Rsvp.created_at, Rsvp.user_id)


def hold_event(event: Event) -> None:
    """Make this transaction the only one changing the event's places or its record until it
    ends (:func:`~peerlearn.core.db.hold`; its ``updated_at`` is the value kept, so calendars
    see no change), so that what is checked and what is written are a single step: without it,
    30 people answering a 5-place event at the same moment each counted before the others
    wrote, and 9 to 16 of them got a place; two moderators posting the record each found none
    and posted one."""
    hold(db.session, Event.updated_at, Event.id == event.id)


def places_taken(event: Event, excluding: int | None = None) -> int:
    """Confirmed places, not counting ``excluding`` (the member answering right now)."""
    query = (
        select(func.count())
        .select_from(Rsvp)
        .where(
            Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.going, Rsvp.waitlisted.is_(False)
        )
    )
    if excluding is not None:
        query = query.where(Rsvp.user_id != excluding)
    with db.session.no_autoflush:
        return db.session.scalar(query) or 0


def promote_waiting(event: Event) -> None:
    """Give free places to the people waiting longest, in the caller's transaction, which holds
    the event's places (:func:`hold_event`). Those given one are told once it commits
    (:data:`~peerlearn.core.signals.place_given`), and never if it does not. Nobody is given a
    place at an event that has finished (they would be told, urgently, of a place at an event
    that is over) or that is cancelled (reinstating it gives the places then:
    :func:`reinstate_event`); they stay on its waiting list."""
    if event.finished or event.cancelled:
        return
    if event.capacity is None:
        waiting = db.session.scalars(
            select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.waitlisted.is_(True))
        ).all()
    else:
        free = event.capacity - places_taken(event)
        if free <= 0:
            return
        waiting = db.session.scalars(
            select(Rsvp)
            .where(Rsvp.event_id == event.id, Rsvp.waitlisted.is_(True))
            .order_by(*ANSWER_ORDER)
            .limit(free)
        ).all()
    for rsvp in waiting:
        rsvp.waitlisted = False
    if waiting:
        given = [rsvp.user_id for rsvp in waiting]
        send_committed(db.session, place_given, event, user_ids=given)
