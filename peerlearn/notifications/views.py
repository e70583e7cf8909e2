"""The notification centre, e-mail settings and one-click unsubscribe."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice

from peerlearn.core.forms import Required
from peerlearn.core.ids import to_id
from peerlearn.core.pagination import paginate
from peerlearn.discussions.models import Post, Thread
from peerlearn.events.models import Event
from peerlearn.extensions import csrf, db
from peerlearn.notifications import emails, services
from peerlearn.notifications.models import EmailFrequency, Notification
from peerlearn.permissions import Action, can, space_filter
from peerlearn.spaces.models import Membership, MemberState, Space

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


class EmailSettingsForm(FlaskForm):
    """How notification e-mail arrives."""

    email = RadioField(
        "Send me notification e-mail",
        choices=[SelectChoice(f.value, f.label) for f in EmailFrequency],
        validators=[Required("Choose how you want notification e-mail")],
        description=(
            "News of an event you answered (a place from its waiting list, a cancellation, a new"
            " time or place) comes straight away unless you choose never."
        ),
    )


@bp.get("")
@login_required
def centre() -> str:
    page = paginate(services.centre_query(current_user), per_page=30)
    return render_template(
        "notifications/centre.html",
        page=page,
        threads=services.threads_for(page.items),
        events=services.events_for(page.items),
    )


@bp.get("/<int:notification_id>")
@login_required
def open(notification_id: int) -> Response:
    notification = db.get_or_404(Notification, notification_id)
    if notification.user_id != current_user.id:
        # An e-mail's link opened where someone else is signed in (a shared computer): say so,
        # and nothing about it, rather than "page not found".
        flash(
            "This notification was sent to someone else. To open it, sign out, then sign in as"
            " the person it was sent to.",
            "info",
        )
        return redirect(url_for("notifications.centre"))
    services.mark_read(current_user, [notification.id])
    if notification.event_id is not None:
        event = db.session.get(Event, notification.event_id)
        if event is None or not can(current_user, Action.view, event):
            flash("The event this notification was about is no longer available.", "info")
            return redirect(url_for("notifications.centre"))
        return redirect(url_for("events.detail", event_id=event.id))
    thread = db.session.get(Thread, notification.thread_id)
    if thread is None or not can(current_user, Action.view, thread):
        # They left (or were removed from) its space, or it was hidden or moved out of their
        # sight since: say so in the centre rather than land on a "page not found".
        flash("The thread this notification was about is no longer available.", "info")
        return redirect(url_for("notifications.centre"))
    if notification.post_id:
        post = db.session.get(Post, notification.post_id)
        if post is None or not can(current_user, Action.view, post):
            # Hidden or removed since: the thread, if they still see it, rather than a 404.
            flash("The post this notification was about is no longer available.", "info")
            return redirect(url_for("discussions.thread", thread_id=notification.thread_id))
        return redirect(
            url_for(
                "discussions.permalink",
                thread_id=notification.thread_id,
                post_id=notification.post_id,
            )
        )
    return redirect(url_for("discussions.thread", thread_id=notification.thread_id))


@bp.post("/read")
@login_required
def read_all() -> Response:
    given = request.form.getlist("notification_id")
    ids = request.form.getlist("notification_id", type=to_id)
    if len(ids) != len(given):  # a hand-made form: never read "1x" as "all of them"
        abort(400)
    services.mark_read(current_user, ids or None)
    flash("Marked as read." if ids else "All notifications are marked as read.", "success")
    return redirect(url_for("notifications.centre"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> str | Response:
    form = EmailSettingsForm(
        data=None
        if request.method == "POST"
        else {"email": emails.email_frequency(current_user).value}
    )
    overrides = emails.space_overrides(current_user)
    # The spaces they belong to, and any other they still see that has a choice of its own (a
    # space they follow without joining, stopped from an e-mail's link), so it can be undone.
    spaces = db.session.scalars(
        select(Space)
        .outerjoin(
            Membership,
            (Membership.space_id == Space.id)
            & (Membership.user_id == current_user.id)
            & (Membership.state == MemberState.active),
        )
        .where(
            Membership.user_id.is_not(None) | Space.id.in_(list(overrides)),
            space_filter(current_user, Action.list),
        )
        .order_by(Space.name)
    ).all()
    if form.validate_on_submit():
        emails.set_email_frequency(current_user, EmailFrequency(form.email.data))
        for space in spaces:
            choice = request.form.get(f"space-{space.id}", "")
            emails.set_email_frequency(
                current_user,
                EmailFrequency(choice) if choice in set(EmailFrequency) else None,
                space,
            )
        flash("Your e-mail settings have been saved.", "success")
        return redirect(url_for("notifications.settings"))
    return render_template(
        "notifications/settings.html",
        form=form,
        spaces=spaces,
        overrides=overrides,
        frequencies=list(EmailFrequency),
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients POST here for one-click unsubscribe
def unsubscribe(token: str) -> str | Response | tuple[str, int]:
    try:
        found = emails.read_unsubscribe(token)
    except emails.LinkOutdated:  # whoever has their old mailbox speaks for them no longer
        return render_template("notifications/unsubscribe.html", outdated=True), 410
    if found is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    user, space = found
    if space is not None and not can(user, Action.list, space):
        space = None
    if request.method == "POST":
        if space is None:
            emails.stop_all_email(user)
        else:
            emails.set_email_frequency(user, EmailFrequency.off, space)
        return render_template("notifications/unsubscribe.html", done=True, space=space)
    return render_template("notifications/unsubscribe.html", space=space, token=token)


@bp.app_context_processor
def _header_count() -> dict[str, object]:
    """The header's notification count (updated live over Socket.IO by static/js/live.js)."""

    def unread_notifications() -> int:
        return services.header_count(current_user) if current_user.is_authenticated else 0

    def notifications_label(count: int) -> Markup:
        # Printed unescaped by the NHS.UK header macro: built only from a number.
        hidden = "unread notification" if count == 1 else "unread notifications"
        return Markup(
            'Notifications <span class="pl-count" data-notification-count aria-hidden="true">{0}'
            '</span><span class="nhsuk-u-visually-hidden" data-notification-label>, {0} {1}</span>'
        ).format(int(count), hidden)

    return {
        "unread_notifications": unread_notifications,
        "notifications_label": notifications_label,
    }
