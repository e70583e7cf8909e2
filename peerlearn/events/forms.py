"""Forms for scheduling events and answering them."""

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import AnyOf, Length, NumberRange, Optional, ValidationError

from peerlearn.core.db import utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.forms import (
    Required,
    TextAreaField,
    show_error,
    strip_whitespace,
    submission_key_field,
)
from peerlearn.core.links import web_address_problem
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events.models import RsvpStatus
from peerlearn.events.services import check_place, london_span
from peerlearn.moderation.forms import report_note
from peerlearn.moderation.models import FlagReason

_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y")
#: The earliest date an event can have: room to record past events, none for a mistyped year.
EARLIEST_DATE = date(2000, 1, 1)
#: How many years ahead an event can be scheduled (to the end of that year). A date far beyond
#: is a typing mistake, and year 9999 left no room for the chat's window after the event.
YEARS_AHEAD = 10


def parse_date(text: str) -> date | None:
    """A date written the British way (14/11/2026, 14 November 2026) or as 2026-11-14."""
    text = " ".join((text or "").split())
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def date_problem(text: str, name: str, example: str) -> str:
    """What someone is told of a date :func:`parse_date` cannot read: a date in the right format
    that does not exist (31/02/2026) is not a format mistake."""
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2}", text.strip()):
        return f"{name.capitalize()} must be a real date, like {example}"
    return f"Enter {name} in the format day/month/year, like {example}"


def parse_time(text: str) -> time | None:
    """A 24-hour time: 14:00, 14.00 or 1400."""
    match = re.fullmatch(r"([01]?\d|2[0-3])[:.]?([0-5]\d)", (text or "").strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def parse_end_time(text: str) -> time | None:
    """An end time: as :func:`parse_time`, or 24:00 for midnight at the end of the day, which
    is read as 00:00 is (:func:`~peerlearn.events.services.london_span`)."""
    if re.fullmatch(r"24[:.]?00", (text or "").strip()):
        return time(0, 0)
    return parse_time(text)


def _check_date(text: str, name: str) -> None:
    day = parse_date(text)
    if day is None:
        raise ValidationError(date_problem(text, name, "14/11/2026"))
    first, last = EARLIEST_DATE, date(utcnow().year + YEARS_AHEAD, 12, 31)
    if not first <= day <= last:
        raise ValidationError(
            f"{name.capitalize()} must be between {first:%-d %B %Y} and {last:%-d %B %Y}"
        )


class EventForm(FlaskForm):
    """Schedule or change an event (times are London time)."""

    title = StringField(
        "Title",
        validators=[
            Required("Enter a title"),
            Length(max=200, message="Title must be 200 characters or fewer"),
        ],
    )
    description = TextAreaField(
        "What the event is about",
        description="You can use Markdown.",
        validators=[
            Optional(),
            Length(max=20_000, message="The description must be 20,000 characters or fewer"),
        ],
    )
    date = StringField(
        "Date",
        description="For example, 14/11/2026",
        validators=[Required("Enter the date of the event")],
        filters=[strip_whitespace],
    )
    start_time = StringField(
        "Start time",
        description="UK time, 24-hour clock, for example 14:00",
        validators=[Required("Enter a start time")],
        filters=[strip_whitespace],
    )
    end_time = StringField(
        "End time",
        description="For example, 15:30. If it ends at midnight, enter 00:00",
        validators=[Required("Enter an end time")],
        filters=[strip_whitespace],
    )
    end_date = StringField(
        "End date (optional)",
        description="Only for an event that ends on a later day, for example 15/11/2026",
        validators=[Optional()],
        filters=[strip_whitespace],
    )
    joining_url = StringField(
        "Joining link (optional)",
        description="The video call's web address, starting https://",
        validators=[
            Optional(),
            Length(max=500, message="The link must be 500 characters or fewer"),
        ],
        filters=[strip_whitespace],
    )
    venue = StringField(
        "Venue (optional)",
        description="For an event in person: the building and address.",
        validators=[
            Optional(),
            Length(max=300, message="The venue must be 300 characters or fewer"),
        ],
    )
    capacity = IntegerField(
        "Places (optional)",
        description="Leave empty for no limit. When it is full, people can join a waiting list.",
        validators=[
            Optional(),
            NumberRange(min=1, max=100_000, message="Places must be a number from 1 to 100,000"),
        ],
        invalid_value_message="Places must be a whole number, like 30",
    )
    components = SelectMultipleField(
        "NHS IMPACT components (optional)",
        choices=[SelectChoice(c.value, f"{c.number}. {c.label}") for c in ImpactComponent],
        validators=[Optional()],
    )
    #: "yes" once the moderator has been told what moving the event into the past means, and
    #: has saved again (:class:`~peerlearn.events.services.MovesIntoPast`).
    into_past = HiddenField()
    #: Scheduling only: the same form sent twice schedules one event.
    submission_key = submission_key_field()

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """Every field's own checks, then the event's rules across fields (its span, a place to
        meet) wherever the fields they read passed theirs, so that one round lists every
        problem. The service applies the rules again when it acts."""
        valid = super().validate(extra_validators)
        for rule in (self._check_span, self._check_place):
            try:
                rule()
            except RuleError as error:
                show_error(self, error)
                valid = False
        return valid

    def _check_span(self) -> None:
        fields = (self.date, self.start_time, self.end_time, self.end_date)
        if any(field.errors for field in fields):
            return
        london_span(
            parse_date(self.date.data),  # type: ignore[arg-type]
            parse_time(self.start_time.data),  # type: ignore[arg-type]
            parse_end_time(self.end_time.data),  # type: ignore[arg-type]
            parse_date(self.end_date.data) if self.end_date.data else None,
        )

    def _check_place(self) -> None:
        if not (self.joining_url.errors or self.venue.errors):
            check_place(self.joining_url.data, self.venue.data)

    def validate_date(self, field: StringField) -> None:
        _check_date(field.data, "the date")

    def validate_end_date(self, field: StringField) -> None:
        _check_date(field.data, "the end date")

    def validate_start_time(self, field: StringField) -> None:
        if parse_time(field.data) is None:
            raise ValidationError("Enter a start time like 14:00")

    def validate_end_time(self, field: StringField) -> None:
        if parse_end_time(field.data) is None:
            raise ValidationError("Enter an end time like 15:30")

    def validate_joining_url(self, field: StringField) -> None:
        problem = web_address_problem(field.data or "")
        if field.data and problem:
            raise ValidationError(problem)


class RsvpForm(FlaskForm):
    """Answer an event."""

    status = RadioField(
        "Are you going?",
        choices=[SelectChoice(s.value, s.label) for s in RsvpStatus],
        validators=[Required("Choose whether you are going")],
    )


def new_client_id() -> str:
    """The id a plain form's post carries, so that sending the same form twice stores it once."""
    return uuid.uuid4().hex


class ChatMessageForm(FlaskForm):
    """Post a message to an event's live chat without JavaScript (the chat's rules apply)."""

    client_id = HiddenField(default=new_client_id, validators=[Required(), Length(max=64)])
    body = TextAreaField(
        "Your message",
        description="You can use Markdown. Links are made clickable.",
        validators=[Required("Write a message")],
    )


class QuestionForm(FlaskForm):
    """Ask a question in an event's Q&A without JavaScript."""

    client_id = HiddenField(default=new_client_id, validators=[Required(), Length(max=64)])
    body = TextAreaField(
        "Your question",
        description="Up to 500 characters. Others can vote for it.",
        validators=[Required("Write your question")],
    )


class VoteForm(FlaskForm):
    """Vote for a question, or take the vote back (``up`` is "1" or "0")."""

    up = StringField(validators=[Required()])


class RemoveQuestionForm(FlaskForm):
    """Withdraw your own question, or (moderators) remove one, without JavaScript. ``back`` says
    which page the button was on, to go back to it: the event page or the transcript."""

    back = HiddenField(default="event", validators=[AnyOf(["event", "transcript"])])


class ReportMessageForm(FlaskForm):
    """Report a chat message to the space's moderators without JavaScript (the live chat sends
    ``report_message`` instead)."""

    reason = RadioField(
        "Why are you reporting this message?",
        choices=[SelectChoice(r.value, r.label) for r in FlagReason],
        validators=[Required("Choose why you are reporting this message")],
    )
    note = report_note()
