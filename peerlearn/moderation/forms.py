"""Forms for reporting posts (and the note every report form has) and for moderators' tools."""

from flask_wtf import FlaskForm
from wtforms import Field, Form, RadioField, SelectChoice, SelectField
from wtforms.validators import Length, StopValidation

from peerlearn.core.forms import Required, TextAreaField, optional_int
from peerlearn.moderation.models import FlagReason
from peerlearn.moderation.services import SLOW_MODE_OPTIONS

#: The value of every report form's "Something else" reason.
SOMETHING_ELSE = "other"


def _said_for_something_else(form: Form, field: Field) -> None:
    """A report of "something else" tells the moderators nothing without its note; any other
    reason may come without one."""
    if (field.data or "").strip():
        return
    if form.reason.data == SOMETHING_ELSE:
        raise StopValidation("Say what is wrong, so that the moderators know what to look for")
    field.errors[:] = []
    raise StopValidation()


def report_note() -> TextAreaField:
    """The note of a report form (whose reason field is ``reason``) for the moderators."""
    return TextAreaField(
        "Anything the moderators should know",
        description="Optional, unless you chose Something else: then say what is wrong.",
        validators=[
            _said_for_something_else,
            Length(max=1000, message="Keep this to 1,000 characters or fewer"),
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
