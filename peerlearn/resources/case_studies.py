"""Structured case studies: a resource written here as a page (context, aim, measures, approach,
results, what did not work, contact) rather than uploaded as a file.

A case study carries the same description, licence, visibility, classification and declaration as
any resource, checked by the same rules in :mod:`peerlearn.resources.services`; each section goes
through the one text pipeline when it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core import signals
from peerlearn.core.text import render_markdown
from peerlearn.extensions import db
from peerlearn.resources import services
from peerlearn.resources.models import (
    CaseStudySection,
    CaseStudySectionName,
    Resource,
    ResourceKind,
    ResourceType,
)
from peerlearn.spaces.models import Space

S = CaseStudySectionName

#: The sections a case study cannot do without.
REQUIRED = (S.context, S.aim, S.approach, S.results)
#: The longest a section may be.
MAX_SECTION = 10_000


def field_name(name: CaseStudySectionName) -> str:
    """The form field for a section (``what-did-not-work`` → ``what_did_not_work``)."""
    return name.value.replace("-", "_")


def _check_sections(sections: Mapping[CaseStudySectionName, str]) -> dict[S, str]:
    cleaned = {name: (sections.get(name) or "").strip() for name in CaseStudySectionName}
    for name in REQUIRED:
        if not cleaned[name]:
            raise services.ResourceError(
                f"Enter the {name.label.lower()} of the case study", field=field_name(name)
            )
    for name, text in cleaned.items():
        if len(text) > MAX_SECTION:
            raise services.ResourceError(
                f"{name.label} must be {MAX_SECTION:,} characters or fewer (it is {len(text):,})",
                field=field_name(name),
            )
    return cleaned


def _write_sections(resource: Resource, sections: dict[S, str]) -> bool:
    """Write the sections as given; whether any of them changed."""
    existing = {row.name: row for row in sections_of(resource)} if resource.id else {}
    changed = False
    for name, source in sections.items():
        row = existing.get(name)
        if not source:
            if row is not None:
                db.session.delete(row)
                changed = True
            continue
        if row is None:
            row = CaseStudySection(resource_id=resource.id, name=name)
            db.session.add(row)
        if row.source != source:
            row.source, row.html = source, render_markdown(source)
            changed = True
    return changed


def create_case_study(
    actor: User,
    space: Space,
    draft: services.ResourceDraft,
    sections: Mapping[CaseStudySectionName, str],
) -> Resource:
    """Publish a case study in the space's library, once however often its form is sent (as
    :func:`~peerlearn.resources.services.create_resource`)."""
    previous = services.shared_with(actor, draft.submission_key)
    if previous is not None:
        return previous
    draft = replace(draft, type=ResourceType.case_study)
    services.check_draft(actor, space, draft)  # the rules every resource follows
    cleaned = _check_sections(sections)
    resource = Resource(space=space, kind=ResourceKind.case_study, created_by_id=actor.id,
                        submission_key=draft.submission_key)  # fmt: skip
    services.apply_draft(actor, resource, draft)
    with services.once_per_key(lambda: services.shared_with(actor, draft.submission_key)) as found:
        db.session.add(resource)
        db.session.flush()
        _write_sections(resource, cleaned)
        record("resource.case_study_added", actor=actor, space=space, resource_id=resource.id,
               title=resource.title, visibility=resource.visibility.value,
               classification=resource.classification.value)  # fmt: skip
        db.session.commit()
    if found:
        return found[0]
    signals.resource_changed.send(resource)
    return resource


def update_case_study(
    actor: User,
    resource: Resource,
    draft: services.ResourceDraft,
    sections: Mapping[CaseStudySectionName, str],
) -> None:
    """Change a case study's sections and description (audited like any resource edit)."""
    if resource.kind is not ResourceKind.case_study:
        raise services.ResourceError("Only case studies have sections")
    draft = replace(draft, type=ResourceType.case_study)
    cleaned = _check_sections(sections)
    services.check_draft(actor, resource.space, draft, resource)
    services.lock_resource(resource)  # another edit's sections are read once it has saved them
    rewritten = _write_sections(resource, cleaned)
    # Checks again, audits and commits.
    services.update_resource(
        actor, resource, draft, also_changed=("sections",) if rewritten else ()
    )


def sections_of(resource: Resource) -> list[CaseStudySection]:
    """The case study's written sections, in reading order."""
    order = list(CaseStudySectionName)
    rows = db.session.scalars(
        select(CaseStudySection).where(CaseStudySection.resource_id == resource.id)
    )
    return sorted(rows, key=lambda row: order.index(row.name))
