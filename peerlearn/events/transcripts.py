"""An event's record once the chat has run: the transcript (page, Markdown and CSV downloads) and
"post the record to the forum", which starts a thread in the event's space through the discussion
services, so followers are notified as for any other thread."""

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.accounts.services import external_url
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.templating import local_end
from peerlearn.core.text import escape_markdown
from peerlearn.discussions.models import Post, Thread
from peerlearn.discussions.services import DiscussionError, ThreadDraft, start_thread, tag_slug
from peerlearn.events.chat import pinned_messages, window
from peerlearn.events.models import ChatMessage, Event, Question, QuestionStatus
from peerlearn.events.questions import for_event
from peerlearn.events.services import hold_event, in_london
from peerlearn.extensions import db
from peerlearn.permissions import Action, Actor, can

#: What a removed message shows in its place, on the page and in the downloads.
REMOVED = "Message removed"
#: A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "time_utc",
    "time_london",
    "author",
    "organisation",
    "text",
    "pinned",
    "deleted",
)
STATUS_LABELS = {
    QuestionStatus.answered: "Answered",
    QuestionStatus.open: "Not answered",
    QuestionStatus.dismissed: "Dismissed",
}


class RecordError(RuleError):
    """The record of an event cannot be posted (see :class:`~peerlearn.core.errors.RuleError`)."""


# Reading ----------------------------------------------------------------------------------------


def messages_query(event: Event) -> Select:
    """The whole chat in the order it was written (server id), authors loaded."""
    return (
        select(ChatMessage)
        .where(ChatMessage.event_id == event.id)
        .options(selectinload(ChatMessage.author).selectinload(User.organisation))
        .order_by(ChatMessage.id)
    )


def chat_has_opened(event: Event) -> bool:
    """Whether the chat's window has begun (so there is something to record)."""
    opens, _ = window(event)
    return utcnow() >= opens


def author_name(item: ChatMessage | Question) -> str:
    """Who wrote a message or asked a question (their account may since have gone)."""
    return item.author.display_name if item.author else "A former member"


def author_organisation(item: ChatMessage | Question) -> str:
    """The author's organisation's name, or an empty string."""
    author = item.author
    return author.organisation.name if author and author.organisation else ""


def filename(event: Event, extension: str) -> str:
    """``qms-in-practice-2027-01-14-transcript.md``: readable, ASCII, safe in a header."""
    title = tag_slug(event.title) or f"event-{event.id}"
    return f"{title}-{in_london(event.starts_at):%Y-%m-%d}-transcript.{extension}"


def _when(event: Event) -> str:
    ends = local_end(event.ends_at, event.starts_at)
    return f"{in_london(event.starts_at):%A %-d %B %Y, %H:%M} to {ends} (UK time)"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _shortened(text: str, limit: int = 500) -> str:
    """One line of at most ``limit`` characters (the transcript keeps the whole text)."""
    line = _one_line(text)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _votes(count: int) -> str:
    return f"{count} vote{'' if count == 1 else 's'}"


# Downloads --------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def transcript_csv(event: Event) -> str:
    """The chat as CSV, one row per message (removed ones keep their place, without text).

    Starts with a byte-order mark so Excel opens it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for message in db.session.scalars(messages_query(event)):
        deleted = not message.shown  # removed, or hidden pending a report's review
        row = (
            message.id,
            _utc(message.created_at),
            in_london(message.created_at).isoformat(timespec="seconds"),
            author_name(message),
            author_organisation(message),
            "" if deleted else message.body_source,
            "yes" if message.pinned_at and not deleted else "no",
            "yes" if deleted else "no",
        )
        writer.writerow([_cell(value) for value in row])
    return "\ufeff" + out.getvalue()


def _quoted(text: str) -> str:
    """Message text as a Markdown block quote, so no message can break the document's shape."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def transcript_markdown(event: Event, viewer: Actor) -> str:
    """The whole record as Markdown, as ``viewer`` may see it: pinned messages, the Q&A (without
    removed questions, and with dismissed ones only for the space's moderators and their
    askers), then the chat in order."""
    lines = [
        f"# Transcript: {event.title}",
        "",
        f"{event.space.name}. {_when(event)}.",
        "",
        f"Event page: {external_url('events.detail', event_id=event.id)}",
        "",
        "## Pinned messages",
        "",
    ]
    pinned = pinned_messages(event)
    lines += [
        f"- {author_name(m)}, {in_london(m.created_at):%H:%M}: {_one_line(m.body_source)}"
        for m in pinned
    ] or ["None."]
    lines += ["", "## Questions", ""]
    asked = for_event(event, viewer)
    for status in (QuestionStatus.answered, QuestionStatus.open, QuestionStatus.dismissed):
        group = [q for q in asked if q.status is status]
        if group:
            lines += [f"### {STATUS_LABELS[status]}", ""]
            lines += [
                f"- {_one_line(q.body_source)} (asked by {author_name(q)}, {_votes(q.vote_count)})"
                for q in group
            ]
            lines.append("")
    if not asked:
        lines += ["None.", ""]
    lines += ["## Chat", ""]
    count = 0
    for message in db.session.scalars(messages_query(event)):
        count += 1
        organisation = author_organisation(message)
        who = f"{author_name(message)}" + (f" ({organisation})" if organisation else "")
        pin = ", pinned" if message.pinned_at and message.shown else ""
        lines += [f"**{who}**, {in_london(message.created_at):%H:%M}{pin}", ""]
        body = message.body_source if message.shown else f"_{REMOVED}_"
        lines += [_quoted(body), ""]
    if not count:
        lines += ["Nobody wrote in the chat.", ""]
    return "\n".join(lines).rstrip() + "\n"


# The record in the forum ------------------------------------------------------------------------


def record_title(event: Event) -> str:
    """The record thread's title."""
    return f"Record: {event.title}"[:200]


def record_body(event: Event, moderator: User) -> str:
    """The record thread's opening post (Markdown), as the moderator posting it sees it: answered
    questions (which every reader of the event sees; never a removed question, nor a dismissed
    one), pinned messages and links, and where to find the whole transcript."""
    page = external_url("events.detail", event_id=event.id)
    transcript = external_url("events.transcript", event_id=event.id)
    lines = [
        f"The record of [{escape_markdown(event.title)}]({page}), {_when(event)}.",
        "",
        "**Answered questions**",
        "",
    ]
    answered = [q for q in for_event(event, moderator) if q.status is QuestionStatus.answered]
    lines += [
        f"- {_one_line(q.body_source)} "
        f"(asked by {escape_markdown(author_name(q))}, {_votes(q.vote_count)})"
        for q in answered
    ] or ["No questions were marked answered."]
    lines += ["", "**Pinned messages and links**", ""]
    lines += [
        f"- {escape_markdown(author_name(m))}: {_shortened(m.body_source)}"
        for m in pinned_messages(event)
    ] or ["Nothing was pinned."]
    lines += [
        "",
        f"The whole chat and every question are in the [transcript]({transcript}), which you "
        "can also download as Markdown or CSV.",
    ]
    return "\n".join(lines)


def record_thread(event: Event) -> Thread | None:
    """The thread the record was posted to, if it was (and still exists)."""
    return db.session.get(Thread, event.record_thread_id) if event.record_thread_id else None


def _posted_record(event: Event, key: str) -> Thread | None:
    """The record thread posted under ``key`` by someone who may post it, if one was: by this
    moderator's earlier press, or by another moderator a moment before. Anyone can choose a
    form's key, so a thread by someone who may not post the record is never taken for it."""
    posts = db.session.scalars(
        select(Post)
        .join(Post.thread)
        .where(Post.submission_key == key, Thread.space_id == event.space_id)
        .order_by(Post.id)
    )
    return next(
        (p.thread for p in posts if p.author and can(p.author, Action.moderate, event)), None
    )


def post_record(actor: User, event: Event) -> tuple[Thread, bool]:
    """Start the record thread in the event's space and say whether it is new: once posted,
    the same thread is returned and nothing more is posted, whoever asks.

    The event is held first (:func:`~peerlearn.events.services.hold_event`), so two moderators
    pressing at the same moment post one record: the second finds the first's thread, which is
    committed before the hold ends."""
    if not chat_has_opened(event):
        raise RecordError("The chat has not opened yet, so there is nothing to record")
    hold_event(event)
    db.session.refresh(event, ["record_thread_id"])
    existing = record_thread(event)
    if existing is not None:
        return existing, False
    # The opening post's one-time key: a press that overtook another finds its thread.
    key = f"event-record-{event.id}"
    earlier = _posted_record(event, key)
    if earlier is None:
        draft = ThreadDraft(
            title=record_title(event),
            body=record_body(event, actor),
            components=tuple(event.components),
            tags=("event record",),
            submission_key=key,
        )
        try:
            thread, _ = start_thread(actor, event.space, draft)
        except DiscussionError as error:  # two presses at once: the other one posted it
            earlier = _posted_record(event, key)
            if earlier is None:
                raise RecordError(error.message) from error
    if earlier is not None:
        event.record_thread_id = earlier.id
        db.session.commit()
        return earlier, False
    event.record_thread_id = thread.id
    record("event.record_posted", actor=actor, space=event.space, event_id=event.id,
           thread_id=thread.id)  # fmt: skip
    db.session.commit()
    return thread, True
