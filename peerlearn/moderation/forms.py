"""Forms for reporting posts (and the note every report form has) and for moderators' tools."""

from flask_wtf import FlaskForm
from wtforms import Field, Form, RadioField, SelectChoice, SelectField
from wtforms.validators import Length, StopValidation

from peerlearn.core.forms import Required, TextAreaField, optional_int
from peerlearn.moderation.models import FlagReason
from peerlearn.moderation.services import (
    NOTE_TOO_LONG,
    REPORT_NOTE_LENGTH,
    SAY_WHAT,
    SLOW_MODE_OPTIONS,
    says_too_little,
)


def _said_for_something_else(form: Form, field: Field) -> None:
    """Optional, except for a report of something else (``services.says_too_little``)."""
    if says_too_little(form.reason.data, field.data):
        raise StopValidation(SAY_WHAT)
    if not (field.data or "").strip():
        field.errors[:] = []
        raise StopValidation()


def report_note() -> TextAreaField:
    """The note of a report form (whose reason field is ``reason``) for the moderators."""
    return TextAreaField(
        "Anything the moderators should know",
        description="Optional, unless you chose Something else: then say what is wrong.",
        validators=[
            _said_for_something_else,
            Length(max=REPORT_NOTE_LENGTH, message=NOTE_TOO_LONG),
        ],
    )


class FlagForm(FlaskForm):
    """Report a post to the space's moderators."""

    reason = RadioField(
        "Why are you reporting this post?",
        choices=[SelectChoice(r.value, r.label) for r in FlagReason],
        validators=[Required("Choose why you are reporting this post")],
    )
    note = report_note()


class MoveThreadForm(FlaskForm):
    """Move a thread to another space the moderator moderates (choices filled by the view)."""

    space_id = SelectField(
        "Move to",
        coerce=optional_int,
        validate_choice=False,
        validators=[Required("Choose where to move the thread")],
    )


class SlowModeForm(FlaskForm):
    """Set slow mode on a thread."""

    seconds = SelectField(
        "Slow mode",
        choices=[SelectChoice(str(seconds), label) for seconds, label in SLOW_MODE_OPTIONS],
        default="0",
    )
