"""Calendar files made with icalendar: one event's; a member's personal feed at a secret,
renewable address listing the events they are going to (and, if they choose, those they are
interested in); and each space's feed of its events, at a plain address for a public space and,
for any space a member may read, below their personal feed's secret address. Every file describes
an event the same way, so calendars follow it by its UID and take a higher SEQUENCE as a change
(:func:`~peerlearn.events.services.update_event`), whichever feed they read it from."""

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Timezone, vText
from icalendar import Event as CalendarEvent
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.accounts.services import external_url
from peerlearn.core.db import insert_into, utcnow
from peerlearn.events.models import CalendarFeed, Event, Rsvp, RsvpStatus, new_feed_token
from peerlearn.extensions import db
from peerlearn.permissions import Action, Actor, can, event_filter, remember_memberships
from peerlearn.spaces.models import Space

#: The UK's time zone as calendars describe it (the clock changes since 1996, matching
#: Europe/London), in every calendar file: the events' times are in UTC, but a calendar must hold
#: at least one component (RFC 5545 3.4), and a feed with no events yet would otherwise hold none.
LONDON_ZONE = "\r\n".join(
    (
        "BEGIN:VTIMEZONE",
        "TZID:Europe/London",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0000",
        "TZOFFSETTO:+0100",
        "TZNAME:BST",
        "DTSTART:19810329T010000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0000",
        "TZNAME:GMT",
        "DTSTART:19961027T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
        "",
    )
)

#: How long cancelled and past events stay in feeds, so calendars can update them.
FEED_HISTORY = timedelta(days=90)


def _vevent(
    event: Event, made: datetime, attending: bool, interested: bool = False
) -> CalendarEvent:
    """The event as a calendar entry in a file ``made`` now; its joining link only for those
    ``attending`` (see :func:`calendar_for`). One the reader is only ``interested`` in is
    TENTATIVE and does not make them busy; its UID and SEQUENCE are the event's all the same.
    DTSTAMP is when the file was made, as RFC 5545 (3.8.7.2) has it in a file with a METHOD, and
    LAST-MODIFIED when the event last changed: an entry that changes for its reader alone (firm
    once they answer Going, with the joining link once they join the space) keeps its SEQUENCE,
    and a calendar comparing two copies of it takes the later file's."""
    item = CalendarEvent()
    item.add("uid", event.uid)
    item.add("sequence", event.sequence)
    item.add("dtstamp", made)
    item.add("last-modified", event.updated_at or made)
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
    if event.cancelled:
        item.add("status", "CANCELLED")
    elif interested:
        item.add("status", "TENTATIVE")
        item.add("transp", "TRANSPARENT")
    else:
        item.add("status", "CONFIRMED")
    return item


def calendar_for(
    events: list[Event], name: str | None, reader: Actor, interested: Collection[int] = ()
) -> bytes:
    """An iCalendar file for some events (PUBLISH: works in Outlook and Google Calendar), as
    ``reader`` may have it: the joining link only in the events they may attend, the rule the
    event page follows (``Action.attend``); the events whose ids are in ``interested`` marked
    tentative. A feed is a calendar of its own and has a ``name``; one event's file has none,
    or Outlook would add it to a new calendar of that name rather than the reader's own."""
    remember_memberships(reader, {event.space_id for event in events})
    calendar = Calendar()
    calendar.add("prodid", "-//peerlearn//events//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # An X- property is written as it is given unless typed: as text, its commas, semicolons and
    # line breaks are escaped (RFC 5545 3.3.11), as the events' own SUMMARY and LOCATION are.
    if name is not None:
        calendar.add("x-wr-calname", vText(name))
    calendar.add_component(Timezone.from_ical(LONDON_ZONE))
    made = utcnow()
    for event in events:
        calendar.add_component(
            _vevent(event, made, can(reader, Action.attend, event), event.id in interested)
        )
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


def _answered(user: User, status: RsvpStatus) -> Select[tuple[int]]:
    """The ids of the events the member answered ``status`` (going with a place, not waiting)."""
    return select(Rsvp.event_id).where(
        Rsvp.user_id == user.id, Rsvp.status == status, Rsvp.waitlisted.is_(False)
    )


def feed_events(user: User) -> list[Event]:
    """The events the member is going to, and those they are interested in if they chose so
    (cancelled ones too, so calendars drop them), that they may still see, from the last 90 days
    onwards."""
    answered = Event.id.in_(_answered(user, RsvpStatus.going))
    chosen = select(CalendarFeed.include_interested).where(CalendarFeed.user_id == user.id)
    if db.session.scalar(chosen):
        answered = answered | Event.id.in_(_answered(user, RsvpStatus.interested))
    return list(
        db.session.scalars(
            select(Event)
            .where(answered, event_filter(user), Event.ends_at >= utcnow() - FEED_HISTORY)
            .options(selectinload(Event.space))
            .order_by(Event.starts_at)
        )
    )


def personal_calendar(user: User) -> bytes:
    """The member's personal feed (:func:`feed_events`), events they are only interested in
    marked tentative."""
    events = feed_events(user)
    interested = set(
        db.session.scalars(
            _answered(user, RsvpStatus.interested).where(
                Rsvp.event_id.in_([event.id for event in events])
            )
        )
    )
    return calendar_for(events, "peerlearn events", user, interested)


def choose_interested(user: User, include: bool) -> CalendarFeed:
    """Have the member's personal feed list the events they are interested in, or not."""
    feed = feed_for(user)
    feed.include_interested = include
    db.session.commit()
    return feed


def feed_url(user: User) -> str:
    """The absolute address to paste into a calendar app."""
    return external_url("events.feed", token=feed_for(user).token)


# Spaces' feeds -----------------------------------------------------------------------------------


def readable_space(slug: str, reader: Actor) -> Space | None:
    """The space with this address if ``reader`` may read its events now, by the one permission
    policy (``Action.view``), asked again at every fetch: a feed stops the moment its reader
    leaves a private space, is banned from a network one, or the space stops being public."""
    space = db.session.scalar(select(Space).where(Space.slug == slug))
    return space if space is not None and can(reader, Action.view, space) else None


def space_feed_events(space: Space, reader: Actor) -> list[Event]:
    """The space's events that ``reader`` may see, upcoming and from the last 90 days (cancelled
    ones too, so calendars mark them cancelled)."""
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.space_id == space.id,
                event_filter(reader),
                Event.ends_at >= utcnow() - FEED_HISTORY,
            )
            .options(selectinload(Event.space))
            .order_by(Event.starts_at)
        )
    )


def space_calendar(space: Space, reader: Actor) -> bytes:
    """The space's feed as ``reader`` may have it: joining links only if they may attend."""
    return calendar_for(space_feed_events(space, reader), f"{space.name} events", reader)


def public_space_feed_url(space: Space) -> str | None:
    """The plain address of the space's feed, which anyone may subscribe to, if it has one: only
    a space that visitors who are not signed in may read."""
    if not can(None, Action.view, space):
        return None
    return external_url("events.space_feed", slug=space.slug)


def member_space_feed_url(user: User, space: Space) -> str:
    """The member's own secret address of the space's feed, below their personal feed's: renewing
    that address ends this one too."""
    return external_url("events.member_space_feed", token=feed_for(user).token, slug=space.slug)


def webcal(url: str) -> str:
    """The same address for the ``webcal://`` scheme, which calendar apps open as a subscription."""
    return "webcal://" + url.split("://", 1)[1]
