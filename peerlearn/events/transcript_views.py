"""After the event: the transcript page, its Markdown and CSV downloads, and posting the record
to the space's forum; and the events help page. Routes on the events blueprint (``create_app``
imports this module)."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from peerlearn.core.pagination import paginate
from peerlearn.core.text import render_markdown
from peerlearn.events import chat, questions, rsvps, transcripts
from peerlearn.events.models import Event
from peerlearn.events.views import bp
from peerlearn.permissions import Action, authorize, visible_or_404

#: Chat messages per transcript page.
PER_PAGE = 100


@bp.get("/events/<int:event_id>/transcript")
def transcript(event_id: int) -> str:
    event = visible_or_404(Event, event_id)
    return render_template(
        "events/transcript.html",
        event=event,
        space=event.space,
        page=paginate(transcripts.messages_query(event), per_page=PER_PAGE),
        pinned=chat.pinned_messages(event),
        questions=questions.for_event(event, current_user),
        status_labels=transcripts.STATUS_LABELS,
        removed=transcripts.REMOVED,
        chat_open=chat.is_open(event),
        opened=transcripts.chat_has_opened(event),
        record_thread=transcripts.record_thread(event),
    )


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/events/<int:event_id>/transcript.md")
def transcript_markdown(event_id: int) -> Response:
    event = visible_or_404(Event, event_id)
    return _download(
        transcripts.transcript_markdown(event, current_user),
        "text/markdown",
        transcripts.filename(event, "md"),
    )


@bp.get("/events/<int:event_id>/transcript.csv")
def transcript_csv(event_id: int) -> Response:
    event = visible_or_404(Event, event_id)
    return _download(
        transcripts.transcript_csv(event), "text/csv", transcripts.filename(event, "csv")
    )


@bp.route("/events/<int:event_id>/record", methods=["GET", "POST"])
@login_required
def post_record(event_id: int) -> str | BaseResponse:
    """Confirm (GET), then post (POST) the record of the event to its space's forum."""
    event = visible_or_404(Event, event_id)
    authorize(Action.moderate, event)
    existing = transcripts.record_thread(event)
    if request.method == "POST":
        try:
            thread, new = transcripts.post_record(current_user, event)
        except transcripts.RecordError as error:
            flash(error.message, "error")
            return redirect(url_for("events.transcript", event_id=event.id))
        flash(
            f"The record is posted to the forum of {event.space.name}."
            if new
            else "The record was already posted to the forum, so nothing new was posted: "
            "here it is.",
            "success",
        )
        return redirect(url_for("discussions.thread", thread_id=thread.id))
    return render_template(
        "events/post_record.html",
        event=event,
        space=event.space,
        existing=existing,
        opened=transcripts.chat_has_opened(event),
        title=transcripts.record_title(event),
        preview=render_markdown(transcripts.record_body(event, current_user)),
    )


@bp.get("/help/events")
def help_page() -> str:
    """How events, the live chat, the Q&A and transcripts work, for members and moderators."""
    return render_template("events/help.html", people_per_page=rsvps.PEOPLE_PER_PAGE)
