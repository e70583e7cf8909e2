"""Event pages: lists, scheduling, the event page with RSVP, and calendar files."""

import hashlib

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from peerlearn.core.forms import show_error
from peerlearn.core.pagination import paginate
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events import services
from peerlearn.events.forms import EventForm, RsvpForm, parse_date, parse_time
from peerlearn.events.models import Event, RsvpStatus
from peerlearn.extensions import limiter
from peerlearn.permissions import Action, authorize, deny, space_or_404, visible_or_404

bp = Blueprint("events", __name__)


def _draft(form: EventForm) -> services.EventDraft:
    day = parse_date(form.date.data)
    starts = services.london_to_utc(day, parse_time(form.start_time.data), "start_time")  # type: ignore[arg-type]
    ends = services.london_to_utc(day, parse_time(form.end_time.data), "end_time")  # type: ignore[arg-type]
    return services.EventDraft(
        title=form.title.data,
        description=form.description.data or "",
        starts_at=starts,
        ends_at=ends,
        joining_url=form.joining_url.data or None,
        venue=(form.venue.data or "").strip() or None,
        capacity=form.capacity.data,
        components=tuple(ImpactComponent(c) for c in form.components.data or []),
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
        counts=services.rsvp_counts([e.id for e in page.items]),
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
        counts=services.rsvp_counts([e.id for e in page.items]),
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
            event = services.create_event(current_user, space, _draft(form))
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
        form = EventForm(
            data={
                "title": event.title,
                "description": event.description_source,
                "date": f"{starts:%d/%m/%Y}",
                "start_time": f"{starts:%H:%M}",
                "end_time": f"{ends:%H:%M}",
                "joining_url": event.joining_url or "",
                "venue": event.venue or "",
                "capacity": event.capacity,
                "components": [c.value for c in event.components],
            }
        )
    else:
        form = EventForm()
    if form.validate_on_submit():
        try:
            services.update_event(current_user, event, _draft(form))
        except services.EventError as error:
            show_error(form, error)
        else:
            flash("The event has been updated.", "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", space=event.space, form=form, event=event)


@bp.post("/events/<int:event_id>/cancel")
@login_required
def cancel(event_id: int) -> BaseResponse:
    event = visible_or_404(Event, event_id)
    authorize(Action.moderate, event)
    if services.cancel_event(current_user, event):
        flash(
            "The event has been cancelled. Calendars that follow it will show it as cancelled.",
            "success",
        )
    else:  # a double click, or another moderator first
        flash("The event had already been cancelled.", "info")
    return redirect(url_for("events.detail", event_id=event.id))


# RSVP (the event page itself is in live_views.py) ----------------------------------------------


@bp.post("/events/<int:event_id>/rsvp")
@login_required
@limiter.limit("30 per minute", methods=["POST"])
def rsvp(event_id: int) -> str | BaseResponse:
    event = visible_or_404(Event, event_id)
    authorize(Action.post, event)
    form = RsvpForm()
    if form.validate_on_submit():
        try:
            answer = services.set_rsvp(current_user, event, RsvpStatus(form.status.data))
        except services.MayNotAnswer:
            deny()  # removed, banned or deactivated since authorize() above asked
        except services.EventError as error:
            flash(error.message, "error")
        else:
            flash(
                "The event is full: you are on the waiting list and will get a place if one frees up."
                if answer.waitlisted
                else f"Your answer is saved: {answer.status.label.lower()}.",
                "success",
            )
    else:
        flash("Choose whether you are going.", "error")
    return redirect(url_for("events.detail", event_id=event.id))


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
        services.calendar_for([event], event.title, current_user),
        f"peerlearn-event-{event.id}.ics",
    )


def _feed_key() -> str:
    """The feed's own limit: calendar servers (Outlook's, Google's) and a trust's shared internet
    address fetch many members' feeds, so one network address would refuse all but the first
    few. Its 256-bit secret needs no limit on guessing; a digest keeps it out of the store."""
    token = (request.view_args or {}).get("token", "")
    return "calendar-feed:" + hashlib.sha256(token.encode()).hexdigest()


@bp.get("/calendar/<token>.ics")
@limiter.limit("60 per hour", key_func=_feed_key)
def feed(token: str) -> Response | tuple[str, int]:
    """A member's personal feed: the secret address is the only key, so no sign-in is needed."""
    user = services.feed_owner(token)
    if user is None:
        return "This calendar address is no longer valid.\n", 404
    return _ics(
        services.calendar_for(services.feed_events(user), "peerlearn events", user),
        "peerlearn.ics",
    )


@bp.route("/account/calendar", methods=["GET", "POST"])
@login_required
def calendar_settings() -> str | BaseResponse:
    if request.method == "POST":
        services.renew_feed(current_user)
        flash("Your calendar has a new address. The old address no longer works.", "success")
        return redirect(url_for("events.calendar_settings"))
    return render_template("events/calendar.html", feed_url=services.feed_url(current_user))
