"""Moderation pages: reporting a post, the queues (reported posts, live chat messages and library
resources), moderators' decisions on them, and moderators' actions on threads."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from peerlearn.core.errors import RuleError
from peerlearn.core.forms import show_error
from peerlearn.core.pagination import paginate
from peerlearn.discussions.models import Post, Thread
from peerlearn.events.models import ChatMessage
from peerlearn.extensions import db
from peerlearn.moderation import services
from peerlearn.moderation.forms import FlagForm, MoveThreadForm, SlowModeForm
from peerlearn.moderation.limits import refused_over_allowance
from peerlearn.moderation.models import FlagOutcome, FlagReason
from peerlearn.permissions import (
    NETWORK,
    Action,
    authorize,
    moderated_space_ids,
    space_or_404,
    visible_or_404,
)
from peerlearn.resources import reports as resource_reports
from peerlearn.spaces.models import Space

bp = Blueprint("moderation", __name__)


def _back_to(post: Post) -> Response:
    return redirect(url_for("discussions.permalink", thread_id=post.thread_id, post_id=post.id))


@bp.route("/posts/<int:post_id>/report", methods=["GET", "POST"])
@login_required
def report(post_id: int) -> str | Response | tuple[str, int, dict[str, str]]:
    post = visible_or_404(Post, post_id)
    authorize(Action.flag, post)
    form = FlagForm()
    if form.validate_on_submit():
        if (refused := refused_over_allowance()) is not None:
            return refused
        reason = FlagReason(form.reason.data)
        try:
            services.flag_post(current_user, post, reason, form.note.data or "")
        except services.ModerationError as error:
            flash(error.message, "info")
        else:
            flash(
                "Thank you. The post is hidden until a moderator has looked at it."
                if post.hidden_at is not None
                else "Thank you. The space's moderators will look at your report.",
                "success",
            )
        return _back_to(post)
    return render_template("moderation/report.html", post=post, form=form)


@bp.get("/spaces/<slug>/moderation")
@login_required
def space_queue(slug: str) -> str:
    space = space_or_404(slug, Action.moderate)
    return _queue(space)


@bp.get("/moderation")
@login_required
def network_queue() -> str:
    authorize(Action.moderate, NETWORK)
    return _queue(None)


def _queue(space: Space | None) -> str:
    """Reported posts, a page at a time, and every reported library resource (few: each report
    is someone's deliberate act), in the spaces the moderator moderates."""
    page = paginate(services.queue_query(current_user, space))
    messages = services.reported_chat_messages(current_user, space) if page.page == 1 else []
    return render_template(
        "moderation/queue.html",
        space=space,
        page=page,
        flags=services.open_flags(page.items),
        messages=messages,
        message_flags=services.open_flags(messages),
        reported=resource_reports.reported_resources(current_user, space),
    )


#: A moderator's decisions on a reported chat message, and what the queue then says.
_MESSAGE_DECISIONS = {
    "hide": "The message is hidden from everyone but moderators.",
    "restore": "The message is visible again and its reports are dismissed.",
    "delete": "The message is removed from the chat.",
}


@bp.post("/chat-messages/<int:message_id>/moderate")
@login_required
def moderate_chat_message(message_id: int) -> Response:
    message = visible_or_404(ChatMessage, message_id)
    authorize(Action.moderate, message)
    action = request.form.get("action", "")
    if action in _MESSAGE_DECISIONS:
        try:
            services.resolve_chat_message(current_user, message, action)
        except RuleError as error:  # no longer a moderator, as the message's space now stands
            flash(error.message, "error")
            # The queue is no longer theirs to see: back to the chat the message is in.
            return redirect(url_for("events.detail", event_id=message.event_id))
        flash(_MESSAGE_DECISIONS[action], "success")
    else:
        flash("Choose hide, restore or remove.", "error")
    if request.form.get("next") == "space":
        return redirect(url_for("moderation.space_queue", slug=message.event.space.slug))
    return redirect(url_for("moderation.network_queue", _anchor="reported-messages"))


@bp.post("/posts/<int:post_id>/moderate")
@login_required
def moderate_post(post_id: int) -> Response:
    post = visible_or_404(Post, post_id)
    authorize(Action.moderate, post)
    try:
        _decide(post, request.form.get("action"))
    except RuleError as error:  # no longer a moderator, as the post's space now stands
        flash(error.message, "error")
    target = request.form.get("next")
    if target == "queue":
        return redirect(url_for("moderation.space_queue", slug=post.thread.space.slug))
    return _back_to(post)


def _decide(post: Post, action: str | None) -> None:
    """A moderator's decision on a post, and what the page then says."""
    if action == "hide":
        services.resolve(current_user, post, FlagOutcome.hidden)
        flash("The post is hidden.", "success")
    elif action == "restore":
        services.resolve(current_user, post, FlagOutcome.dismissed)
        flash("The post is visible again.", "success")
    elif action == "dismiss":
        if services.resolve(current_user, post, FlagOutcome.dismissed, only_if_reported=True):
            flash("Reports dismissed.", "success")
        else:
            flash("Another moderator has already dealt with the reports on this post.", "info")
    else:
        flash("Choose hide, restore or dismiss.", "error")


#: What a thread already was when a moderator's action on it changed nothing.
_ALREADY = {"pin": "pinned", "unpin": "unpinned", "lock": "locked", "unlock": "unlocked",
            "hide": "hidden", "unhide": "visible"}  # fmt: skip


@bp.post("/threads/<int:thread_id>/moderate")
@login_required
def moderate_thread(thread_id: int) -> Response:
    thread = visible_or_404(Thread, thread_id)
    authorize(Action.moderate, thread)
    try:
        _change_thread(thread, request.form.get("action", ""))
    except RuleError as error:  # no longer a moderator, as the thread's space now stands
        flash(error.message, "error")
    return redirect(url_for("discussions.thread", thread_id=thread.id))


def _change_thread(thread: Thread, action: str) -> None:
    """A moderator's change to a thread, and what the page then says."""
    changes = {
        "pin": ("pinned", True, "The thread is pinned to the top of the list."),
        "unpin": ("pinned", False, "The thread is no longer pinned."),
        "lock": ("locked", True, "The thread is locked: nobody but moderators can reply."),
        "unlock": ("locked", False, "The thread is open for replies again."),
        "hide": ("hidden", True, "The thread is hidden from everyone but moderators."),
        "unhide": ("hidden", False, "The thread is visible again."),
    }
    if action in changes:
        name, value, message = changes[action]
        if services.set_thread_flag(current_user, thread, name, value):
            flash(message, "success")
        else:  # another moderator (or the same click, twice) has just done it
            flash(f"The thread was already {_ALREADY[action]}.", "info")
    elif action == "slow_mode":
        form = SlowModeForm()
        if form.validate():
            if services.set_slow_mode(current_user, thread, int(form.seconds.data)):
                flash("Slow mode updated.", "success")
            else:  # another moderator (or the same click, twice) has just set it
                flash("Slow mode was already set to that.", "info")
    else:
        flash("That is not a moderation action.", "error")


@bp.route("/threads/<int:thread_id>/move", methods=["GET", "POST"])
@login_required
def move(thread_id: int) -> str | Response:
    thread = visible_or_404(Thread, thread_id)
    authorize(Action.moderate, thread)
    targets = db.session.scalars(
        select(Space)
        .where(
            Space.id.in_(moderated_space_ids(current_user)),
            Space.id != thread.space_id,
            Space.archived_at.is_(None),
        )
        .order_by(Space.name)
    ).all()
    form = MoveThreadForm()
    form.space_id.choices = [SelectChoice("", "Choose a space")] + [
        SelectChoice(str(s.id), s.name) for s in targets
    ]
    if form.validate_on_submit():
        target = next((s for s in targets if s.id == form.space_id.data), None)
        if target is None:
            form.space_id.errors = [*form.space_id.errors, "Choose a space you moderate"]
        else:
            try:
                services.move_thread(current_user, thread, target)
            except RuleError as error:
                show_error(form, error)
            else:
                flash(f"The thread is now in {target.name}.", "success")
                return redirect(url_for("discussions.thread", thread_id=thread.id))
    return render_template("moderation/move.html", thread=thread, form=form)
