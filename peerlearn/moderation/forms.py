"""Forms for reporting posts."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from peerlearn.moderation.models import FlagReason


class FlagForm(FlaskForm):
    """Report a post to the space's moderators."""

    reason = RadioField(
        "Why are you reporting this post?",
        choices=[SelectChoice(r.value, r.label) for r in FlagReason],
        validators=[InputRequired("Choose why you are reporting this post")],
    )
    note = TextAreaField(
        "Anything the moderators should know (optional)",
        validators=[Optional(), Length(max=1000, message="Keep this to 1,000 characters or fewer")],
    )
