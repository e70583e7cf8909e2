"""The case study form: the description every resource has (from :mod:`peerlearn.resources.forms`)
and the seven sections, each in Markdown."""

from typing import Any

from wtforms import SelectChoice, SelectField
from wtforms.validators import Length, Optional

from peerlearn.accounts.models import User
from peerlearn.core.forms import Required, TextAreaField, put_first
from peerlearn.resources.case_studies import MAX_SECTION, REQUIRED, field_name, sections_of
from peerlearn.resources.forms import ResourceForm, fields_of
from peerlearn.resources.models import CaseStudySectionName, Resource, ResourceType

S = CaseStudySectionName

#: What each section asks for.
HINTS = {
    S.context: "Where this happened, who was involved and why it mattered.",
    S.aim: "What you set out to achieve, by how much and by when.",
    S.measures: "How you knew whether things were improving: outcome, process and balancing measures.",
    S.approach: "What you did: the method, the changes you tested and how you involved people.",
    S.results: "What changed, with numbers where you have them. Never include patient-identifiable information.",
    S.what_did_not_work: "What you tried that did not work, and what you would do differently.",
    S.contact: "Who to ask for more, for example a role and a team e-mail address.",
}


def _section(name: CaseStudySectionName) -> TextAreaField:
    required = name in REQUIRED
    return TextAreaField(
        name.label if required else f"{name.label} (optional)",
        description=HINTS[name],
        validators=[
            Required(f"Enter the {name.label.lower()} of the case study")
            if required
            else Optional(),
            Length(
                max=MAX_SECTION, message=f"{name.label} must be {MAX_SECTION:,} characters or fewer"
            ),
        ],
    )


class CaseStudyForm(ResourceForm):
    """Write or edit a case study. Its type is always "case study" (set by the view)."""

    #: Not a choice here: never read from the request, always "case study".
    type = SelectField(
        "Type",
        choices=[SelectChoice(ResourceType.case_study.value, ResourceType.case_study.label)],
        validators=[Optional()],
        validate_choice=False,
    )

    context = _section(S.context)
    aim = _section(S.aim)
    measures = _section(S.measures)
    approach = _section(S.approach)
    results = _section(S.results)
    what_did_not_work = _section(S.what_did_not_work)
    contact = _section(S.contact)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type.data = ResourceType.case_study.value  # not a choice
        put_first(self, "title", "summary", *(field_name(name) for name in S))  # as on the page

    def section_fields(self) -> list:
        """The section fields, in reading order."""
        return [getattr(self, field_name(name)) for name in CaseStudySectionName]

    def sections(self) -> dict[CaseStudySectionName, str]:
        """What was written in each section."""
        return {name: getattr(self, field_name(name)).data or "" for name in CaseStudySectionName}


def case_study_form(resource: Resource, actor: User) -> CaseStudyForm:
    """The case study form filled from the resource, its sections included. On a POST, each
    field the request sent shows what was sent instead (the general form, posted from a page
    left open, sends all but the sections)."""
    data = fields_of(resource)
    for section in sections_of(resource):
        data[field_name(section.name)] = section.source
    return CaseStudyForm(data=data, space=resource.space, actor=actor, resource=resource)
