"""The event page with its answer (RSVP) form and its live chat, and the chat's plain forms for browsers without JavaScript:
post a message, report one, ask a question, vote for one, withdraw or remove one. Routes on the events
blueprint (``create_app`` imports this module). With JavaScript, ``static/js/live-chat.js`` sends
the same over Socket.IO; both paths call the same services, so the same rules apply, and both
tell the live readers the same way."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from peerlearn.core.db import utcnow
from peerlearn.core.forms import show_error
from peerlearn.core.pagination import paginate
from peerlearn.events import chat, chat_history, questions, rsvps, services, sockets, sockets_qa
from peerlearn.events.forms import (
    ChatMessageForm,
    QuestionForm,
    RemoveQuestionForm,
    ReportMessageForm,
    RsvpForm,
    VoteForm,
)
from peerlearn.events.models import ChatMessage, Event, Question, RsvpStatus
from peerlearn.events.views import bp
from peerlearn.extensions import db, limiter
from peerlearn.moderation import services as moderation
from peerlearn.moderation.limits import refused_over_allowance
from peerlearn.moderation.models import FlagReason
from peerlearn.permissions import Action, authorize, can, deny, signed_in, visible_or_404

#: How the Q&A can be sorted (``?qa=``): most votes first, or in the order asked.
QA_ORDERS = ("votes", "time")


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """A contract payload with its time as a datetime, for templates."""
    return {**item, "at": datetime.fromisoformat(item["created_at"])}


def _qa_order() -> str:
    order = request.args.get("qa", "votes")
    return order if order in QA_ORDERS else "votes"


def live_panel(
    event: Event,
    message_form: ChatMessageForm | None = None,
    question_form: QuestionForm | None = None,
) -> dict[str, Any] | None:
    """What the event page shows of the live chat, or None when there is nothing to show (before
    the chat opens, or a closed chat nobody used, unless a form posted to it was refused: its
    error and its text are shown)."""
    viewer = signed_in(current_user)
    state = chat.state(event, current_user)
    messages, earlier_left_out = chat_history.history(event)
    refused = any(form is not None and form.errors for form in (message_form, question_form))
    if not state["open"] and not messages and not refused:
        return None
    moderator = can(current_user, Action.moderate, event)
    voted = set(questions.voted_ids(event, viewer)) if viewer else set()
    asked = [
        {
            **_shown(questions.payload(q)),
            "voted": q.id in voted,
            "removable": can(current_user, Action.delete, q),
        }
        for q in questions.for_event(event, current_user, _qa_order())  # type: ignore[arg-type]
    ]
    return {
        "open": state["open"],
        "state": state,
        "messages": [
            {**_shown(chat.payload(m, moderator)), "reportable": can(current_user, Action.flag, m)}
            for m in messages
        ],
        "earlier_left_out": earlier_left_out,
        "pinned": [_shown(chat.payload(m)) for m in chat.pinned_messages(event)],
        "questions": asked,
        "qa_order": _qa_order(),
        "can_post": can(current_user, Action.post, event),
        "moderator": moderator,
        "muted": bool(viewer) and chat.is_muted(event, viewer),  # type: ignore[arg-type]
        "me": viewer.id if viewer else None,
        "message_form": message_form or ChatMessageForm(prefix="message", formdata=None),
        "question_form": question_form or QuestionForm(prefix="question", formdata=None),
        "report_form": ReportMessageForm(formdata=None),
        # For the live chat's own Report control on messages that arrive after the page.
        "report_reasons": [[r.value, r.label] for r in FlagReason]
        if viewer and not event.space.archived
        else [],
    }


def _event_page(event: Event, rsvp_form: RsvpForm | None = None, **live_forms: Any) -> str:
    mine = rsvps.rsvp_of(current_user, event)
    counts = rsvps.rsvp_counts([event.id])[event.id]
    going = waiting = None  # a page of each list of who is going, for those who may attend
    if can(current_user, Action.attend, event):
        per_page = rsvps.PEOPLE_PER_PAGE
        going = paginate(rsvps.answers_query(event, waiting=False), per_page, arg="going",
                         total=counts["going"])  # fmt: skip
        waiting = paginate(rsvps.answers_query(event, waiting=True), per_page, arg="waiting",
                           total=counts["waiting"])  # fmt: skip
    form = rsvp_form or RsvpForm(data={"status": mine.status.value} if mine else None)
    live = live_panel(event, **live_forms)
    now = utcnow()
    opens, _ = chat.window(event)
    # Before the chat opens the page has no live panel: a timer there says when it has opened.
    opens_in, _ = chat.seconds_until_change(event, now)
    return render_template(
        "events/detail.html",
        event=event,
        space=event.space,
        counts=counts,
        going=going,
        waiting=waiting,
        mine=mine,
        queued=rsvps.waiting_position(mine),
        form=form,
        finished=event.ends_at < now,
        live=live,
        chat_opens_at=opens if opens > now and not event.cancelled else None,
        chat_opens_in=opens_in,
        live_errors=any(f is not None and f.errors for f in live_forms.values()),
    )


@bp.get("/events/<int:event_id>")
def detail(event_id: int) -> str:
    return _event_page(visible_or_404(Event, event_id))


@bp.post("/events/<int:event_id>/rsvp")
@login_required
@limiter.limit("30 per minute", methods=["POST"])
def rsvp(event_id: int) -> str | BaseResponse:
    """Answer the event; with no answer chosen, its page again, saying so beside the choices."""
    event = visible_or_404(Event, event_id)
    if event.cancelled:  # since the page was opened: say so, not "no permission"
        flash(rsvps.CANCELLED, "error")
        return redirect(url_for("events.detail", event_id=event.id))
    authorize(Action.post, event)
    form = RsvpForm()
    if not form.validate_on_submit():
        return _event_page(event, rsvp_form=form)
    try:
        answer = rsvps.set_rsvp(current_user, event, RsvpStatus(form.status.data))
    except rsvps.MayNotAnswer:
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
    return redirect(url_for("events.detail", event_id=event.id))


def _may_send(event: Event, bucket: str) -> None:
    """Refuse what the socket handlers refuse before the chat's own rules, as an error beside the
    text box: someone who may not post in the event (its space's members only; a cancelled
    event's chat is closed), or a member over their send limit (shared with the sockets')."""
    try:
        sockets.allowed(event, Action.post)
        sockets.rate_limit(bucket)
    except sockets.Refused as refused:
        raise chat.ChatError(refused.code, refused.message) from None


@dataclass(frozen=True)
class _PlainPost:
    """What a plain form posts: its form, the service storing it, how the live readers are told
    of it, and what the page says afterwards."""

    form: type[ChatMessageForm | QuestionForm]
    store: Callable[..., tuple[Any, bool]]
    tell: Callable[[Any], None]
    done: str


def _tell_message(message: Any) -> None:
    sockets.broadcast("message", chat.payload(message), message.event_id)


_POSTS = {
    "message": _PlainPost(
        ChatMessageForm, chat.post_message, _tell_message, "Your message has been posted."
    ),
    "question": _PlainPost(
        QuestionForm, questions.ask, sockets_qa.announce, "Your question has been added to the Q&A."
    ),
}


def _post_from_form(event_id: int, name: str) -> str | tuple[str, int] | BaseResponse:
    """Post a ``name`` ("message" or "question") from its plain form under the chat's rules,
    show it to the live readers once, and go to it; or, refused, show the page again with the
    error beside the box and the text kept (read-only when they can no longer post: the chat
    closed, they were muted or removed), so nothing typed is lost."""
    post = _POSTS[name]
    event = visible_or_404(Event, event_id)
    form = post.form(prefix=name)
    if form.validate_on_submit():
        try:
            _may_send(event, "chat-send" if name == "message" else "chat-ask")
            item, created = post.store(current_user, event, form.body.data, form.client_id.data)
        except chat.ChatError as error:
            show_error(form, error)
            if error.code == "forbidden":
                return _event_page(event, **{f"{name}_form": form}), 403
        else:
            if created:
                post.tell(item)
            flash(post.done, "success")
            return redirect(
                url_for("events.detail", event_id=event.id, _anchor=f"{name}-{item.id}")
            )
    return _event_page(event, **{f"{name}_form": form})


@bp.post("/events/<int:event_id>/chat")
@login_required
def post_message(event_id: int) -> str | tuple[str, int] | BaseResponse:
    return _post_from_form(event_id, "message")


@bp.post("/events/<int:event_id>/questions")
@login_required
def ask_question(event_id: int) -> str | tuple[str, int] | BaseResponse:
    return _post_from_form(event_id, "question")


@bp.route("/events/<int:event_id>/chat/<int:message_id>/report", methods=["GET", "POST"])
@login_required
def report_message(
    event_id: int, message_id: int
) -> str | BaseResponse | tuple[str, int, dict[str, str]]:
    """Report a message from the plain form beside it (the same rule as the socket's
    ``report_message``); a report that says no reason, or something else with no note, comes back
    on a page of its own, with the error, as every form does."""
    event = visible_or_404(Event, event_id)
    message = db.session.get(ChatMessage, message_id)
    if message is None or message.event_id != event.id:
        abort(404)
    authorize(Action.flag, message)
    form = ReportMessageForm()
    if form.validate_on_submit():
        if (refused := refused_over_allowance()) is not None:
            return refused
        try:
            moderation.flag_chat_message(
                current_user, message, FlagReason(form.reason.data), form.note.data or ""
            )
        except moderation.ModerationError as error:
            flash(error.message, "info")
        else:
            flash(
                "Thank you. The message is hidden until a moderator has looked at it."
                if message.hidden_at is not None
                else "Thank you. The space's moderators will look at your report.",
                "success",
            )
        return redirect(
            url_for("events.detail", event_id=event.id, _anchor=f"message-{message.id}")
        )
    return render_template("events/report_message.html", event=event, message=message, form=form)


def _question_or_404(event: Event, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.event_id != event.id:
        abort(404)
    return question


@bp.post("/events/<int:event_id>/questions/<int:question_id>/vote")
@login_required
def vote(event_id: int, question_id: int) -> BaseResponse:
    event = visible_or_404(Event, event_id)
    authorize(Action.post, event)
    question = _question_or_404(event, question_id)
    form = VoteForm()
    if form.validate_on_submit():
        up = form.up.data == "1"
        try:
            _may_send(event, "chat-vote")
            question = questions.vote(current_user, question, up)
        except chat.ChatError as error:
            if error.code == "not_found":
                abort(404)
            flash(error.message, "error")
        else:
            sockets_qa.announce(question)
            done = "Your vote has been counted." if up else "Your vote has been taken back."
            flash(done, "success")
    order = _qa_order()
    return redirect(
        url_for(
            "events.detail",
            event_id=event.id,
            qa=None if order == "votes" else order,
            _anchor=f"question-{question.id}",
        )
    )


@bp.post("/events/<int:event_id>/questions/<int:question_id>/remove")
@login_required
def remove_question(event_id: int, question_id: int) -> BaseResponse:
    """Withdraw your own question, or (moderators) remove anyone's, from the plain form on the
    event page or the transcript; it goes from every live screen at once."""
    event = visible_or_404(Event, event_id)
    question = _question_or_404(event, question_id)
    form = RemoveQuestionForm()
    back = form.back.data if form.validate_on_submit() else "event"
    if back == "transcript":
        there = url_for("events.transcript", event_id=event.id, _anchor="questions")
    else:
        order = _qa_order()
        there = url_for(
            "events.detail",
            event_id=event.id,
            qa=None if order == "votes" else order,
            _anchor="qa-heading",
        )
    if form.errors:
        return redirect(there)
    own = question.author_id == current_user.id
    try:
        if questions.remove(current_user, question):
            sockets_qa.announce(question)
    except chat.ChatError as error:
        if error.code == "not_found":
            abort(404)
        flash(error.message, "error")
    else:
        flash("Your question has been withdrawn." if own else "The question has been removed.",
              "success")  # fmt: skip
    return redirect(there)
