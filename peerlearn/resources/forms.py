"""Forms for sharing a file or link, describing it, new versions and reports."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from peerlearn.core.forms import Required, strip_whitespace
from peerlearn.core.ids import to_id
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events.forms import parse_date
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    ResourceFlagReason,
    ResourceKind,
    ResourceType,
    ResourceVisibility,
)


def resource_id_from(text: str | None) -> int | None:
    """A resource's id from what was typed: ``12``, ``/resources/12`` or its full address. A
    number no row can have (0, or past :data:`~peerlearn.core.ids.MAX_ID`) is not one."""
    match = re.fullmatch(r"\s*(?:\S*/resources/)?([0-9]{1,12})/?\s*", text or "")
    try:
        return to_id(match.group(1)) if match else None
    except ValueError:
        return None


class ResourceForm(FlaskForm):
    """Describe a resource (and change it): everything but the file itself. The view narrows
    ``visibility.choices`` to what the space allows and fills ``organisation_id.choices``."""

    title = StringField(
        "Title",
        validators=[
            Required("Enter a title"),
            Length(max=200, message="Title must be 200 characters or fewer"),
        ],
    )
    summary = TextAreaField(
        "Summary (optional)",
        description="What it is, who it is for and how you have used it. You can use Markdown.",
        validators=[
            Optional(),
            Length(max=10_000, message="The summary must be 10,000 characters or fewer"),
        ],
    )
    type = SelectField(
        "Type",
        choices=[
            SelectChoice("", "Choose a type"),
            *(SelectChoice(t.value, t.label) for t in ResourceType),
        ],
        validators=[Required("Choose a type")],
    )
    components = SelectMultipleField(
        "NHS IMPACT components (optional)",
        choices=[SelectChoice(c.value, f"{c.number}. {c.label}") for c in ImpactComponent],
        validators=[Optional()],
    )
    qms_elements = SelectMultipleField(
        "Quality management system elements (optional)",
        choices=[SelectChoice(e.value, e.label) for e in QmsElement],
        validators=[Optional()],
    )
    tags = StringField(
        "Tags (optional)",
        description="Separate tags with commas, for example: board assurance, flow",
        validators=[Optional(), Length(max=600, message="Tags must be 600 characters or fewer")],
    )
    organisation_id = SelectField(
        "Originating organisation",
        description="Where the material comes from. It is shown on the resource.",
        validators=[Optional()],
    )
    authors = StringField(
        "Other authors (optional)",
        description="Their @handles, separated by commas. You are credited as an author.",
        validators=[Optional(), Length(max=400)],
    )
    licence = RadioField(
        "Licence",
        description="The terms on which other members and organisations may reuse it.",
        choices=[SelectChoice(licence.value, licence.label) for licence in Licence],
        validators=[Required("Choose a licence")],
    )
    classification = RadioField(
        "Classification",
        description="OFFICIAL-SENSITIVE material can only be shared with this space's members.",
        choices=[SelectChoice(c.value, c.label) for c in Classification],
        default=Classification.official.value,
        validators=[Required("Choose a classification")],
    )
    visibility = RadioField(
        "Who can see it",
        choices=[SelectChoice(v.value, v.label) for v in ResourceVisibility],
        default=ResourceVisibility.space.value,
        validators=[Required("Choose who can see it")],
        # The view offers what the space allows; the service explains any other choice.
        validate_choice=False,
    )
    adapted_from = StringField(
        "Adapted from (optional)",
        description="If you adapted another resource in the library, its address or number.",
        validators=[Optional(), Length(max=300)],
        filters=[strip_whitespace],
    )
    review_by = StringField(
        "Review by (optional)",
        description="When it should be checked again, for example 31/03/2027.",
        validators=[Optional()],
        filters=[strip_whitespace],
    )
    pii_declaration = BooleanField(
        "I confirm this contains no patient-identifiable information",
        description="No names, NHS numbers, dates of birth, addresses or other details that "
        "could identify a patient, alone or together.",
    )
    #: For links only.
    link_url = StringField(
        "Web address",
        description="Starting https://",
        validators=[
            Optional(),
            Length(max=2000, message="The web address must be 2,000 characters or fewer"),
        ],
        filters=[strip_whitespace],
    )

    def validate_adapted_from(self, field: StringField) -> None:
        if field.data and resource_id_from(field.data) is None:
            raise ValidationError("Enter the address of a resource, like /resources/12")

    def validate_review_by(self, field: StringField) -> None:
        if field.data and parse_date(field.data) is None:
            raise ValidationError("Enter the date in the format day/month/year, like 31/03/2027")


class NewResourceForm(ResourceForm):
    """Share a file or a link in a space's library."""

    kind = RadioField(
        "What are you sharing?",
        choices=[
            SelectChoice(ResourceKind.file.value, "A file"),
            SelectChoice(ResourceKind.link.value, "A link to a web page"),
        ],
        default=ResourceKind.file.value,
        validators=[Required("Choose a file or a link")],
    )
    file = FileField("File")


class VersionForm(FlaskForm):
    """Upload a new version of a file."""

    file = FileField("New version")
    change_note = TextAreaField(
        "What changed",
        description="Shown in the version history, for example: updated for the 2027 framework.",
        validators=[
            Required("Say what changed in this version"),
            Length(max=1000, message="The change note must be 1,000 characters or fewer"),
        ],
    )


class FlagForm(FlaskForm):
    """Report a resource to the space's moderators."""

    reason = RadioField(
        "What is wrong with it?",
        choices=[SelectChoice(r.value, r.label) for r in ResourceFlagReason],
        validators=[Required("Choose what is wrong with it")],
    )
    note = TextAreaField(
        "Anything the moderators should know (optional)",
        validators=[Optional(), Length(max=1000, message="Keep it to 1,000 characters or fewer")],
    )
