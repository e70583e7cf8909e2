"""Forms for sharing a file or link, describing it, new versions and reports.

Each form reports the library's rules (:mod:`peerlearn.resources.drafts`, and the file checks in
:mod:`peerlearn.resources.services`) beside their fields along with its own checks, so a member
sees every problem in one round, with what they typed kept; the services check again."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import Length, Optional, ValidationError

from peerlearn.accounts.models import User
from peerlearn.core.errors import RuleError
from peerlearn.core.forms import (
    Required,
    TextAreaField,
    put_first,
    report,
    strip_whitespace,
    submission_key_field,
)
from peerlearn.core.ids import to_id
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events.forms import date_problem, parse_date
from peerlearn.extensions import db
from peerlearn.moderation.forms import report_note
from peerlearn.organisations.models import Organisation
from peerlearn.resources import drafts, services
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    Resource,
    ResourceFlagReason,
    ResourceKind,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.spaces.models import Space


def resource_id_from(text: str | None) -> int | None:
    """A resource's id from what was typed: ``12``, ``/resources/12`` or its full address. A
    number no row can have (0, or past :data:`~peerlearn.core.ids.MAX_ID`) is not one."""
    match = re.fullmatch(r"\s*(?:\S*/resources/)?([0-9]{1,12})/?\s*", text or "")
    try:
        return to_id(match.group(1)) if match else None
    except ValueError:
        return None


def _tags(text: str | None) -> tuple[str, ...]:
    return tuple((text or "").split(","))


def _member(kind: type[Any], value: object) -> Any:
    """The enumeration's member with this value, or None."""
    try:
        return kind(value)
    except ValueError:
        return None


class _FileUpload:
    """Mixin for a form with a ``file`` field. The file is checked as sharing it would check it
    (its name, size and type) when the form is refused for something else, so its problem is
    told in the same round: browsers do not keep a chosen file, so one told later costs the
    member choosing it, and sending the form, again."""

    file: FileField

    def wants_file(self) -> bool:
        return True

    def upload(self) -> services.Upload | None:
        """The file chosen, when the form is for one."""
        data = self.file.data
        if not self.wants_file() or data is None or not getattr(data, "filename", None):
            return None
        return services.Upload(stream=data.stream, filename=data.filename)

    def validate_file(self, field: FileField) -> None:
        if self.wants_file():
            report(services.require_upload, self.upload())

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)  # type: ignore[misc]
        upload = self.upload()
        if not valid and upload is not None and not self.file.errors:
            try:
                services.check_upload(upload)
            except RuleError as error:
                self.file.errors.append(error.message)
        return valid


#: What the patient-information declaration asks, on the sharing and new-version forms alike.
PII_DECLARATION_HINT = (
    "No names, NHS numbers, dates of birth, addresses or other details that could identify a "
    "patient, alone or together."
)


class ResourceForm(FlaskForm):
    """Describe a resource in ``space`` (and change ``resource``): everything but the file
    itself. It offers the visibilities the space allows and every organisation; ``actor`` is who
    fills it in (what they may see decides what it may be adapted from)."""

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
        # What the space allows is offered; validate_visibility explains any other choice.
        validate_choice=False,
    )
    pii_declaration = BooleanField(
        "I confirm this contains no patient-identifiable information",
        description=PII_DECLARATION_HINT,
    )
    #: For links only (checked in validate_link_url).
    link_url = StringField(
        "Web address", description="Starting https://", filters=[strip_whitespace]
    )
    #: Sharing only: the same form sent twice shares one resource.
    submission_key = submission_key_field()

    def __init__(
        self, *args: Any, space: Space, actor: User, resource: Resource | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.space, self.actor, self.resource = space, actor, resource
        self.visibility.choices = [  # type: ignore[assignment]
            SelectChoice(v.value, v.label) for v in drafts.visibility_choices(space)
        ]
        # Blank means the sharer's own on a new resource, and not recorded on one being changed.
        organisations = db.session.execute(
            select(Organisation.id, Organisation.name).order_by(Organisation.name)
        ).all()
        self.organisation_id.choices = [  # type: ignore[assignment]
            SelectChoice("", "Your own organisation" if resource is None else "Not recorded"),
            *(SelectChoice(str(i), name) for i, name in organisations),
        ]
        put_first(self, "link_url")  # a link's address comes first on its edit page

    def is_link(self) -> bool:
        """Whether it describes a link (whose address it then needs)."""
        return self.resource is not None and self.resource.kind is ResourceKind.link

    def validate_tags(self, field: StringField) -> None:
        report(drafts.clean_tags, _tags(field.data))

    def validate_authors(self, field: StringField) -> None:
        report(drafts.authors_from_handles, field.data or "", self.resource)

    def validate_adapted_from(self, field: StringField) -> None:
        original_id = resource_id_from(field.data)
        if original_id is None:
            raise ValidationError("Enter the address of a resource, like /resources/12")
        report(drafts.check_adapted_from, self.actor, original_id, self.resource)

    def validate_review_by(self, field: StringField) -> None:
        if not field.data:
            return
        review_by = parse_date(field.data)
        if review_by is None:
            raise ValidationError(date_problem(field.data, "the date", "31/03/2027"))
        report(drafts.check_review_by, review_by, self.resource)

    def validate_visibility(self, field: RadioField) -> None:
        visibility = _member(ResourceVisibility, field.data)
        if visibility is None:
            raise ValidationError("Choose who can see it")
        classification = _member(Classification, self.classification.data)
        report(drafts.check_visibility, self.space, visibility, classification)
        licence = _member(Licence, self.licence.data)
        report(drafts.check_licence_reach, licence, visibility, self.resource)

    def validate_licence(self, field: RadioField) -> None:
        original_id = resource_id_from(self.adapted_from.data)
        licence = _member(Licence, field.data)
        report(drafts.check_adapted_licence, self.actor, licence, original_id, self.resource)

    def validate_pii_declaration(self, field: BooleanField) -> None:
        report(drafts.check_declaration, bool(field.data))

    def validate_link_url(self, field: StringField) -> None:
        if self.is_link():
            report(drafts.check_link, field.data)

    def draft(self) -> drafts.ResourceDraft:
        """The draft the form describes, once it is valid."""
        authors = drafts.authors_from_handles(self.authors.data or "", self.resource)
        return drafts.ResourceDraft(
            title=self.title.data or "",
            summary=self.summary.data or "",
            type=ResourceType(self.type.data),
            licence=Licence(self.licence.data),
            visibility=ResourceVisibility(self.visibility.data),
            classification=Classification(self.classification.data),
            pii_declared=bool(self.pii_declaration.data),
            components=tuple(ImpactComponent(c) for c in self.components.data or []),
            qms_elements=tuple(QmsElement(e) for e in self.qms_elements.data or []),
            tags=_tags(self.tags.data),
            organisation_id=int(self.organisation_id.data) if self.organisation_id.data else None,
            adapted_from_id=resource_id_from(self.adapted_from.data),
            review_by=parse_date(self.review_by.data) if self.review_by.data else None,
            author_ids=tuple(a.id for a in authors),
            link_url=(self.link_url.data or "") if self.is_link() else None,
            submission_key=(self.submission_key.data or None) if self.resource is None else None,
        )


def fields_of(resource: Resource) -> dict[str, object]:
    """The description form's fields as the resource stands."""
    return {
        "title": resource.title,
        "summary": resource.summary_source,
        "type": resource.type.value,
        "components": [c.value for c in resource.components],
        "qms_elements": [e.value for e in resource.qms_elements],
        "tags": ", ".join(resource.tags),
        "organisation_id": str(resource.organisation_id or ""),
        "authors": ", ".join(
            f"@{a.handle}" for a in resource.authors if a.id != resource.created_by_id
        ),
        "licence": resource.licence.value,
        "classification": resource.classification.value,
        "visibility": resource.visibility.value,
        "adapted_from": str(resource.adapted_from_id or ""),
        "review_by": f"{resource.review_by:%d/%m/%Y}" if resource.review_by else "",
        "pii_declaration": resource.pii_declared_at is not None,
        "link_url": resource.link_url or "",
    }


class NewResourceForm(_FileUpload, ResourceForm):
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        put_first(self, "kind", "file", "link_url")  # as the page shows them

    def is_link(self) -> bool:
        return self.kind.data == ResourceKind.link.value

    def wants_file(self) -> bool:
        return self.kind.data == ResourceKind.file.value


class VersionForm(_FileUpload, FlaskForm):
    """Upload a new version of a file, with its own patient-information declaration."""

    file = FileField("New version")
    change_note = TextAreaField(
        "What changed",
        description="Shown in the version history, for example: updated for the 2027 framework.",
        validators=[
            Required("Say what changed in this version"),
            Length(max=1000, message="The change note must be 1,000 characters or fewer"),
        ],
    )
    pii_declaration = BooleanField(
        "I confirm this version contains no patient-identifiable information",
        description=PII_DECLARATION_HINT,
    )

    #: The same form sent twice uploads one version.
    submission_key = submission_key_field()

    def validate_pii_declaration(self, field: BooleanField) -> None:
        report(drafts.check_declaration, bool(field.data))


class FlagForm(FlaskForm):
    """Report a resource to the space's moderators."""

    reason = RadioField(
        "What is wrong with it?",
        choices=[SelectChoice(r.value, r.label) for r in ResourceFlagReason],
        validators=[Required("Choose what is wrong with it")],
    )
    note = report_note()


def _audited_reason(example: str) -> TextAreaField:
    """A moderator's optional reason for a change to a version, kept in the audit log."""
    return TextAreaField(
        "Why (optional)",
        description=f"Recorded in the space's audit log, for example: {example}.",
        validators=[Optional(), Length(max=500, message="Keep it to 500 characters or fewer")],
    )


class WithdrawVersionForm(FlaskForm):
    """A moderator confirms withdrawing one version of a file."""

    reason = _audited_reason("page 3 lists patients")


class RestoreVersionForm(FlaskForm):
    """A moderator confirms restoring a withdrawn version of a file."""

    reason = _audited_reason("the names on page 3 are of staff, not patients")
