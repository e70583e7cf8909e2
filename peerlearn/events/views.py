"""Event pages: lists, scheduling and calendar files (the event page, where members answer it,
is in :mod:`peerlearn.events.live_views`)."""

import hashlib
from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from peerlearn.accounts.models import User
from peerlearn.core.forms import show_error
from peerlearn.core.pagination import paginate
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events import calendars, rsvps, services
from peerlearn.events.forms import EventForm, parse_date, parse_end_time, parse_time
from peerlearn.events.models import Event
from peerlearn.extensions import limiter
from peerlearn.permissions import Action, authorize, space_or_404, visible_or_404

bp = Blueprint("events", __name__)


def _draft(form: EventForm, submission_key: str | None = None) -> services.EventDraft:
    starts, ends = services.london_span(
        parse_date(form.date.data),  # type: ignore[arg-type]
        parse_time(form.start_time.data),  # type: ignore[arg-type]
        parse_end_time(form.end_time.data),  # type: ignore[arg-type]
        parse_date(form.end_date.data) if form.end_date.data else None,
    )
    return services.EventDraft(
        title=form.title.data,
        description=form.description.data or "",
        starts_at=starts,
        ends_at=ends,
        joining_url=form.joining_url.data or None,
        venue=(form.venue.data or "").strip() or None,
        capacity=form.capacity.data,
        components=tuple(ImpactComponent(c) for c in form.components.data or []),
        submission_key=submission_key,
    )


# Lists -----------------------------------------------------------------------------------------


@bp.get("/events")
def index() -> str:
    past = request.args.get("when") == "past"
    page = paginate(services.events_query(current_user, past=past))
    return render_template(
        "events/index.html",
        page=page,
        past=past,
        counts=rsvps.rsvp_counts([e.id for e in page.items]),
    )


@bp.get("/spaces/<slug>/events")
def space_events(slug: str) -> str:
    space = space_or_404(slug)
    past = request.args.get("when") == "past"
    page = paginate(services.events_query(current_user, space=space, past=past))
    return render_template(
        "events/space_events.html",
        space=space,
        page=page,
        past=past,
        counts=rsvps.rsvp_counts([e.id for e in page.items]),
    )


# Scheduling ------------------------------------------------------------------------------------


@bp.route("/spaces/<slug>/events/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> str | BaseResponse:
    space = space_or_404(slug)
    authorize(Action.moderate, space)
    form = EventForm()
    if form.validate_on_submit():
        try:
            draft = _draft(form, submission_key=form.submission_key.data or None)
            event = services.create_event(current_user, space, draft)
        except services.EventError as error:
            show_error(form, error)
        else:
            flash(f"{event.title} has been scheduled.", "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", space=space, form=form, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int) -> str | BaseResponse:
    event = visible_or_404(Event, event_id)
    authorize(Action.moderate, event)
    if request.method == "GET":
        starts, ends = services.in_london(event.starts_at), services.in_london(event.ends_at)
        last = services.last_day(event.ends_at)
        form = EventForm(
            data={
                "title": event.title,
                "description": event.description_source,
                "date": f"{starts:%d/%m/%Y}",
                "start_time": f"{starts:%H:%M}",
                "end_time": f"{ends:%H:%M}",
                "end_date": f"{last:%d/%m/%Y}" if last > starts.date() else "",
                "joining_url": event.joining_url or "",
                "venue": event.venue or "",
                "capacity": event.capacity,
                "components": [c.value for c in event.components],
            }
        )
    else:
        form = EventForm()
    into_past = None
    if form.validate_on_submit():
        try:
            services.update_event(
                current_user, event, _draft(form), into_past=form.into_past.data == "yes"
            )
        except services.MovesIntoPast as warning:
            into_past, form.into_past.data = warning.message, "yes"  # saving again confirms
        except services.EventError as error:
            show_error(form, error)
        else:
            flash("The event has been updated.", "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template(
        "events/form.html", space=event.space, form=form, event=event, into_past=into_past
    )


def _moderate(
    event: Event, change: Callable[[User, Event], bool], done: str, again: str
) -> BaseResponse:
    """Make a moderator's change to the event and say on its page how it went: done, done
    already (a double click, or another moderator first), or refused."""
    try:
        changed = change(current_user, event)
    except services.EventError as error:
        flash(error.message, "error")
    else:
        flash(done if changed else again, "success" if changed else "info")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(event_id: int) -> str | BaseResponse:
    """Ask first (a page that works without JavaScript), then cancel."""
    event = visible_or_404(Event, event_id)
    authorize(Action.moderate, event)
    if request.method == "GET":
        try:
            if not event.cancelled:  # else its page says it was cancelled
                services.check_cancellable(event)
                return render_template(
                    "events/cancel.html",
                    event=event,
                    space=event.space,
                    counts=rsvps.rsvp_counts([event.id])[event.id],
                )
        except services.EventError as error:
            flash(error.message, "error")
        return redirect(url_for("events.detail", event_id=event.id))
    return _moderate(
        event,
        services.cancel_event,
        "The event has been cancelled. Calendars that follow it will show it as cancelled.",
        "The event had already been cancelled.",
    )


@bp.post("/events/<int:event_id>/reinstate")
@login_required
def reinstate(event_id: int) -> BaseResponse:
    event = visible_or_404(Event, event_id)
    authorize(Action.moderate, event)
    return _moderate(
        event,
        services.reinstate_event,
        "The event has been reinstated and will go ahead. Calendars that follow it will show it "
        "again, and everyone's answers are as they were.",
        "The event had already been reinstated.",
    )


# Calendars -------------------------------------------------------------------------------------


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/events/<int:event_id>/calendar.ics")
def event_ics(event_id: int) -> Response:
    event = visible_or_404(Event, event_id)
    return _ics(
        calendars.calendar_for([event], None, current_user),
        f"peerlearn-event-{event.id}.ics",
    )


def _feed_key() -> str:
    """A secret feed's own limit: calendar servers (Outlook's, Google's) and a trust's shared
    internet address fetch many members' feeds, so one network address would refuse all but the
    first few. Each feed (the personal one, and each space's below it) has its own; its 256-bit
    secret needs no limit on guessing; a digest keeps it out of the store."""
    args = request.view_args or {}
    feed = args.get("token", "") + "/" + args.get("slug", "")
    return "calendar-feed:" + hashlib.sha256(feed.encode()).hexdigest()


def _public_feed_key() -> str:
    """A public space's feed is the same for everyone who subscribes to it, so it is limited per
    subscriber's address, not per feed (which one busy subscriber would use up for all)."""
    slug = (request.view_args or {}).get("slug", "")
    return f"space-feed:{hashlib.sha256(slug.encode()).hexdigest()}:{request.remote_addr}"


_NO_FEED = "This calendar address is no longer valid.\n", 404


@bp.get("/calendar/<token>.ics")
@limiter.limit("60 per hour", key_func=_feed_key)
def feed(token: str) -> Response | tuple[str, int]:
    """A member's personal feed: the secret address is the only key, so no sign-in is needed."""
    user = calendars.feed_owner(token)
    if user is None:
        return _NO_FEED
    return _ics(calendars.personal_calendar(user), "peerlearn.ics")


@bp.get("/calendar/<token>/spaces/<slug>.ics")
@limiter.limit("60 per hour", key_func=_feed_key)
def member_space_feed(token: str, slug: str) -> Response | tuple[str, int]:
    """A space's feed as the member whose secret this is may read it now: the same answer
    (404) whether the address was renewed, the space does not exist or they may not read it."""
    user = calendars.feed_owner(token)
    space = calendars.readable_space(slug, user) if user is not None else None
    if user is None or space is None:
        return _NO_FEED
    return _ics(calendars.space_calendar(space, user), f"peerlearn-{space.slug}.ics")


@bp.get("/spaces/<slug>/events.ics")
@limiter.limit("60 per hour", key_func=_public_feed_key)
def space_feed(slug: str) -> Response | tuple[str, int]:
    """A space's feed at a plain address, as a visitor who is not signed in sees it (whoever
    asks: it is one address for everyone), so only a public space has one."""
    space = calendars.readable_space(slug, None)
    if space is None:
        return "This calendar is not public.\n", 404
    return _ics(calendars.space_calendar(space, None), f"peerlearn-{space.slug}.ics")


@bp.get("/spaces/<slug>/events/calendar")
def space_subscribe(slug: str) -> str:
    """How to subscribe to a space's events: its public address, and the reader's own."""
    space = space_or_404(slug)
    mine = (
        calendars.member_space_feed_url(current_user, space)
        if current_user.is_authenticated
        else None
    )
    return render_template(
        "events/space_calendar.html",
        space=space,
        public_url=calendars.public_space_feed_url(space),
        own_url=mine,
        webcal=calendars.webcal,
    )


@bp.route("/account/calendar", methods=["GET", "POST"])
@login_required
def calendar_settings() -> str | BaseResponse:
    if request.method == "POST":
        calendars.renew_feed(current_user)
        flash("Your calendar has a new address. The old address no longer works.", "success")
        return redirect(url_for("events.calendar_settings"))
    return render_template(
        "events/calendar.html",
        feed=calendars.feed_for(current_user),
        feed_url=calendars.feed_url(current_user),
        webcal=calendars.webcal,
    )


@bp.post("/account/calendar/interested")
@login_required
def calendar_interested() -> BaseResponse:
    include = request.form.get("include") == "yes"
    calendars.choose_interested(current_user, include)
    flash(
        "Your calendar now lists the events you are interested in too, marked tentative."
        if include
        else "Your calendar now lists only the events you are going to.",
        "success",
    )
    return redirect(url_for("events.calendar_settings"))
