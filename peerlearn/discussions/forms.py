"""Forms for starting threads, replying and editing."""

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import Length, Optional

from peerlearn.core.forms import (
    Required,
    TextAreaField,
    optional_int,
    report,
    submission_key_field,
)
from peerlearn.discussions.models import ImpactComponent, ThreadKind
from peerlearn.discussions.services import MAX_BODY, MAX_TITLE, NOT_IN_THREAD, parse_tags

BODY_HINT = (
    "You can use Markdown: **bold**, _italic_, lists, > quotes and links. "
    "Mention someone with @ and their handle, like @aisha-khan, or @[Full Name]."
)


def _body(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        description=BODY_HINT,
        validators=[
            Required("Enter your message"),
            Length(max=MAX_BODY, message=f"Your message must be {MAX_BODY:,} characters or fewer"),
        ],
    )


def _parent_post_id(value: object) -> int | None:
    """The post a reply answers, as an id (None: the thread itself). A value that cannot be an
    id is refused as a post elsewhere would be; the field keeps it as text, naming no post."""
    try:
        return optional_int(value)
    except ValueError:
        raise ValueError(NOT_IN_THREAD) from None


class ThreadForm(FlaskForm):
    """Start a thread."""

    title = StringField(
        "Title",
        description="Say what you want to know or share, in a sentence.",
        validators=[
            Required("Enter a title"),
            Length(max=MAX_TITLE, message=f"Title must be {MAX_TITLE} characters or fewer"),
        ],
    )
    kind = RadioField(
        "Is this a question?",
        choices=[
            SelectChoice(ThreadKind.discussion.value, "No, it is a discussion"),
            SelectChoice(ThreadKind.question.value, "Yes: one reply can be marked as the answer"),
        ],
        default=ThreadKind.discussion.value,
        validators=[Required("Choose whether this is a question")],
    )
    body = _body("Your message")
    components = SelectMultipleField(
        "NHS IMPACT components (optional)",
        description="Choose any that the thread is about.",
        choices=[SelectChoice(c.value, f"{c.number}. {c.label}") for c in ImpactComponent],
        validators=[Optional()],
    )
    tags = StringField(
        "Tags (optional)",
        description="Up to 5, separated by commas, like board assurance, SPC.",
        validators=[Optional(), Length(max=250, message="Tags must be 250 characters or fewer")],
    )
    submission_key = submission_key_field()

    def validate_tags(self, field: StringField) -> None:
        report(parse_tags, field.data or "")


class ReplyForm(FlaskForm):
    """Reply to a thread or to one of its posts."""

    body = _body("Your reply")
    parent_id = HiddenField(filters=[_parent_post_id])
    submission_key = submission_key_field()


class EditPostForm(FlaskForm):
    """Edit a post (and the title, for an opening post)."""

    title = StringField(
        "Title",
        validators=[
            Optional(),
            Length(max=MAX_TITLE, message=f"Title must be {MAX_TITLE} characters or fewer"),
        ],
    )
    body = _body("Message")
    #: The saved text the form was filled from (``services.post_version``).
    based_on = HiddenField()
