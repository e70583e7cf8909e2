"""Form pieces every feature may use: the text area, value coercion, the e-mail format message,
services' rules reported beside their fields, the one-time submission key, and the people
directory filter (the network's directory and each space's member list share it)."""

import enum
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import wtforms
from flask_wtf import FlaskForm
from wtforms import Field, Form, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from peerlearn.core.errors import RuleError
from peerlearn.core.ids import to_id

#: The message for an e-mail address in the wrong format, the NHS way.
EMAIL_FORMAT = "Enter an e-mail address in the correct format, like name@example.nhs.uk"


def single_line_breaks(text: str) -> str:
    """Text with each line break one character (``\\n``), however the browser sent it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TextAreaField(wtforms.TextAreaField):
    """The text area every form uses: each line break is one character, as the browser counted it
    (a ``maxlength``, a counter), and as it is stored. Browsers send them as two (CRLF, as HTML's
    form encoding says), so a ``Length`` limit counted a 20,000-character message with 64 line
    breaks as 20,064 and refused it."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = single_line_breaks(self.data)


def optional_int(value: object) -> int | None:
    """Coerce a select's or hidden field's value to an id (see :func:`~peerlearn.core.ids.to_id`),
    leaving the empty placeholder as None."""
    if value in ("", None):
        return None
    return to_id(value)


def chosen(field: SelectField) -> str | None:
    """A select's value when it is one of the choices offered (not the empty placeholder), else
    None: a filter ignores a stale bookmark's or a hand-edited URL's value rather than fail."""
    value = field.data or ""
    offered = {
        getattr(c, "value", c[0] if isinstance(c, tuple) else c) for c in field.choices or []
    }
    return value if value and value in offered else None


def chosen_id(field: SelectField) -> int | None:
    """A select of ids' chosen id (see :func:`chosen`)."""
    value = chosen(field)
    try:
        return to_id(value)
    except ValueError:
        return None


E = TypeVar("E", bound=enum.StrEnum)


def chosen_member(kind: type[E], field: SelectField) -> E | None:
    """A select of an enumeration's values: the chosen member (see :func:`chosen`)."""
    value = chosen(field)
    return kind(value) if value is not None and value in set(kind) else None


def show_error(form: FlaskForm, error: RuleError) -> None:
    """Show a service's refusal the way a validation error is shown: beside its field, or at the
    top of the form's error summary."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


P = ParamSpec("P")
R = TypeVar("R")


def report(rule: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Apply a service's rule in a form's ``validate_<field>``: its refusal becomes the field's
    validation error, so it is shown with every other field's problem in one round rather than
    once the rest is right. The service applies the rule again when it acts."""
    try:
        return rule(*args, **kwargs)
    except RuleError as error:
        raise ValidationError(error.message) from None


def put_first(form: Form, *names: str) -> None:
    """Give these fields first, in this order, when the form is iterated: the order the page
    shows them in, which its error summary follows (a subclass's fields come after its base's)."""
    for name in reversed(names):
        form._fields.move_to_end(name, last=False)


class Required(InputRequired):
    """A field that must be filled in: like ``InputRequired`` (which also marks the input
    ``required`` for the browser), and also refusing a value of nothing but spaces, which the
    services would strip to an empty name or title."""

    def __call__(self, form: Form, field: Field) -> None:
        super().__call__(form, field)
        if isinstance(field.data, str) and not field.data.strip():
            field.errors[:] = []
            raise StopValidation(self.message or field.gettext("This field is required."))


def strip_whitespace(value: object) -> object:
    """Drop the spaces a pasted value often carries."""
    return value.strip() if isinstance(value, str) else value


def submission_key_field() -> HiddenField:
    """A form's one-time key: fresh each time the form is first shown, and the same in every
    submission of it (a double click, a resend after a lost response), so that the service
    stores what it makes once (a unique key per author, and the stored row returned again:
    :func:`~peerlearn.discussions.services.start_thread`,
    :func:`~peerlearn.events.services.create_event`)."""
    return HiddenField(default=lambda: uuid.uuid4().hex, validators=[Optional(), Length(max=64)])


class DirectoryFilterForm(FlaskForm):
    """Filter a people directory by name, organisation and region (a GET form: no CSRF).

    The view fills ``organisation.choices`` and ``region.choices``; :meth:`filters` accepts
    only values among them.
    """

    class Meta:
        csrf = False

    q = StringField("Name", validators=[Optional(), Length(max=100)])
    organisation = SelectField("Organisation", coerce=str, validate_choice=False)
    region = SelectField("Region", coerce=str, validate_choice=False)

    def filters(self) -> dict[str, object]:
        """The filter values to pass to ``people_query``; anything unknown is ignored."""

        return {
            "q": (self.q.data or "").strip()[:100],
            "organisation_id": chosen_id(self.organisation),
            "region": chosen(self.region),
        }
