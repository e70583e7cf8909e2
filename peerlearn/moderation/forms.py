"""Forms for reporting posts."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from peerlearn.core.forms import Required, TextAreaField, optional_int
from peerlearn.moderation.models import FlagReason
from peerlearn.moderation.services import SLOW_MODE_OPTIONS


class FlagForm(FlaskForm):
    """Report a post to the space's moderators."""

    reason = RadioField(
        "Why are you reporting this post?",
        choices=[SelectChoice(r.value, r.label) for r in FlagReason],
        validators=[Required("Choose why you are reporting this post")],
    )
    note = TextAreaField(
        "Anything the moderators should know (optional)",
        validators=[Optional(), Length(max=1000, message="Keep this to 1,000 characters or fewer")],
    )


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
