"""Event rules and transactions: scheduling in London time, RSVP with capacity and a waiting list,
and calendar files (one event, or a member's personal feed) made with icalendar."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.accounts.services import external_url
from peerlearn.audit.services import record
from peerlearn.core.db import hold, insert_into, send_committed, utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.signals import event_changed, place_given, standing_changing
from peerlearn.core.text import render_markdown
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events.models import (
    CalendarFeed,
    Event,
    EventComponent,
    Rsvp,
    RsvpStatus,
    new_feed_token,
)
from peerlearn.extensions import db
from peerlearn.permissions import (
    Action,
    Actor,
    can,
    event_filter,
    forget_standing,
    remember_memberships,
)
from peerlearn.spaces.models import Membership, Space

#: Events happen in England: times are entered and shown in London time, stored in UTC.
LONDON = ZoneInfo("Europe/London")
MAX_TITLE = 200
#: How long cancelled and past events stay in personal feeds, so calendars can update them.
FEED_HISTORY = timedelta(days=90)


class EventError(RuleError):
    """A rule about events was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


class MayNotAnswer(EventError):
    """The policy does not let them answer the event, asked again once their answers and the
    event are held (:func:`set_rsvp`): refused as the view refuses anyone who may not."""


def london_to_utc(day: date, at: time, field: str) -> datetime:
    """A London wall-clock time as UTC; refuses times the clock change skips over."""
    local = datetime.combine(day, at, tzinfo=LONDON)
    utc = local.astimezone(UTC)
    if utc.astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise EventError(
            f"{at:%H:%M} does not exist on {day:%-d %B %Y} because the clocks go forward. "
            "Choose another time",
            field=field,
        )
    return utc


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


def _apply(event: Event, draft: EventDraft) -> None:
    title = " ".join(draft.title.split())
    if not title:
        raise EventError("Enter a title", field="title")
    if draft.ends_at <= draft.starts_at:
        raise EventError("The event must end after it starts", field="end_time")
    if not draft.joining_url and not draft.venue:
        raise EventError("Enter a joining link or a venue", field="joining_url")
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
    """Schedule an event in a space."""
    if space.archived:
        raise EventError("This space is archived, so it cannot have new events")
    event = Event(space=space, created_by=actor)
    _apply(event, draft)
    db.session.add(event)
    db.session.flush()
    record("event.created", actor=actor, space=space, event_id=event.id, title=event.title)
    db.session.commit()
    event_changed.send(event)
    return event


def update_event(actor: User, event: Event, draft: EventDraft) -> None:
    """Change an event; calendars see the same UID with a higher SEQUENCE."""
    if event.cancelled:
        raise EventError("This event was cancelled, so it cannot be changed")
    _apply(event, draft)
    event.sequence += 1
    record("event.updated", actor=actor, space=event.space, event_id=event.id, title=event.title)
    hold_event(event)
    _promote_waiting(event)  # more places than before go to the people waiting longest
    db.session.commit()
    event_changed.send(event)


def cancel_event(actor: User, event: Event) -> bool:
    """Cancel an event; it stays listed (and in calendars) marked as cancelled. The event is
    held first (:func:`hold_event`) and read again, so that a cancellation pressed twice, or by
    two moderators at once, is made and audited once, and an answer given at that moment is
    either in before it or refused. Returns whether this call cancelled it."""
    hold_event(event)
    db.session.refresh(event, ["cancelled_at", "sequence"])
    if event.cancelled:
        return False
    event.cancelled_at = utcnow()
    event.sequence += 1
    record("event.cancelled", actor=actor, space=event.space, event_id=event.id, title=event.title)
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


def attendees(event: Event) -> tuple[list[Rsvp], list[Rsvp]]:
    """Who is going (in the order they answered) and who is on the waiting list."""
    rows = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.going)
        .options(selectinload(Rsvp.user).selectinload(User.organisation))
        .order_by(Rsvp.created_at, Rsvp.user_id)
    ).all()
    return [r for r in rows if not r.waitlisted], [r for r in rows if r.waitlisted]


# RSVP -------------------------------------------------------------------------------------------


def hold_event(event: Event) -> None:
    """Make this transaction the only one changing the event's places or its record until it
    ends (:func:`~peerlearn.core.db.hold`; its ``updated_at`` is the value kept, so calendars
    see no change), so that what is checked and what is written are a single step: without it,
    30 people answering a 5-place event at the same moment each counted before the others
    wrote, and 9 to 16 of them got a place; two moderators posting the record each found none
    and posted one."""
    hold(db.session, Event.updated_at, Event.id == event.id)


def _places_taken(event: Event, excluding: int | None = None) -> int:
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
    (:func:`hold_event`), so its places are never given out twice. The policy (``post``) is
    asked again once the person's standing and the event are held (:func:`hold_standing`): a
    removal, ban, deactivation or change of role committed since the request's own check refuses
    the answer (:class:`MayNotAnswer`)."""
    if event.ends_at < utcnow():
        raise EventError("This event has finished")
    hold_standing(user, event)
    hold_event(event)
    db.session.refresh(event, ["cancelled_at"])  # as held: cancelled a moment ago, no answer
    if event.cancelled:
        raise EventError("This event was cancelled")
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
        taken = _places_taken(event, excluding=user.id)
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
    (:func:`hold_event`): it goes to the person waiting longest."""
    db.session.flush()
    _promote_waiting(event)


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


def _promote_waiting(event: Event) -> None:
    """Give free places to the people waiting longest, in the caller's transaction, which holds
    the event's places (:func:`hold_event`). Those given one are told once it commits
    (:data:`~peerlearn.core.signals.place_given`), and never if it does not."""
    if event.capacity is None:
        waiting = db.session.scalars(
            select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.waitlisted.is_(True))
        ).all()
    else:
        free = event.capacity - _places_taken(event)
        if free <= 0:
            return
        waiting = db.session.scalars(
            select(Rsvp)
            .where(Rsvp.event_id == event.id, Rsvp.waitlisted.is_(True))
            .order_by(Rsvp.created_at, Rsvp.user_id)
            .limit(free)
        ).all()
    for rsvp in waiting:
        rsvp.waitlisted = False
    if waiting:
        given = [rsvp.user_id for rsvp in waiting]
        send_committed(db.session, place_given, event, user_ids=given)


# Calendars --------------------------------------------------------------------------------------


def _vevent(event: Event, attending: bool) -> CalendarEvent:
    """The event as a calendar entry; its joining link only for those ``attending`` (see
    :func:`calendar_for`)."""
    item = CalendarEvent()
    item.add("uid", event.uid)
    item.add("sequence", event.sequence)
    item.add("dtstamp", event.updated_at or utcnow())
    item.add("last-modified", event.updated_at or utcnow())
    item.add("dtstart", event.starts_at.astimezone(UTC))
    item.add("dtend", event.ends_at.astimezone(UTC))
    item.add("summary", event.title)
    page = external_url("events.detail", event_id=event.id)
    description = event.description_source.strip()
    link = event.joining_url if attending else None
    if link:
        description = f"Join online: {link}\n\n{description}"
    elif event.joining_url:
        description = (
            f"Online: members of {event.space.name} get the joining link.\n\n{description}"
        )
    item.add("description", f"{description}\n\nEvent page: {page}".strip())
    item.add("url", page)
    item.add("location", event.venue or link or "Online")
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    return item


def calendar_for(events: list[Event], name: str, reader: Actor) -> bytes:
    """An iCalendar file for some events (PUBLISH: works in Outlook and Google Calendar), as
    ``reader`` may have it: the joining link only in the events they may attend, the rule the
    event page follows (``Action.attend``)."""
    remember_memberships(reader, {event.space_id for event in events})
    calendar = Calendar()
    calendar.add("prodid", "-//peerlearn//events//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(_vevent(event, can(reader, Action.attend, event)))
    return calendar.to_ical()


def feed_for(user: User) -> CalendarFeed:
    """The member's calendar feed, made on first use (two first uses at once make one)."""
    feed = db.session.get(CalendarFeed, user.id)
    if feed is None:
        db.session.execute(
            insert_into(db.session, CalendarFeed.__table__)
            .values(user_id=user.id, token=new_feed_token(), created_at=utcnow())
            .on_conflict_do_nothing()
        )
        db.session.commit()
        feed = db.session.get_one(CalendarFeed, user.id)
    return feed


def renew_feed(user: User) -> CalendarFeed:
    """Replace the feed's secret address; the old one stops working at once."""
    token, now = new_feed_token(), utcnow()
    db.session.execute(
        insert_into(db.session, CalendarFeed.__table__)
        .values(user_id=user.id, token=token, created_at=now)
        .on_conflict_do_update(index_elements=["user_id"], set_={"token": token, "created_at": now})
    )
    db.session.commit()
    return db.session.get_one(CalendarFeed, user.id)


def feed_owner(token: str) -> User | None:
    """The active member a feed address belongs to, if it is current."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.active else None


def feed_events(user: User) -> list[Event]:
    """The events the member is going to (cancelled ones too, so calendars drop them), that
    they may still see, from the last 90 days onwards."""
    going = select(Rsvp.event_id).where(
        Rsvp.user_id == user.id, Rsvp.status == RsvpStatus.going, Rsvp.waitlisted.is_(False)
    )
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.id.in_(going),
                event_filter(user),
                Event.ends_at >= utcnow() - FEED_HISTORY,
            )
            .options(selectinload(Event.space))
            .order_by(Event.starts_at)
        )
    )


def feed_url(user: User) -> str:
    """The absolute address to paste into a calendar app."""
    return external_url("events.feed", token=feed_for(user).token)
