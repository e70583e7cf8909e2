"""Resource library models: resources, their versions and stored files, and what hangs off them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.accounts.models import User
from peerlearn.core.db import today_in_england, utcnow
from peerlearn.core.links import link_host
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.moderation.models import FlagOutcome
from peerlearn.organisations.models import Organisation
from peerlearn.spaces.models import Space


class ResourceKind(enum.StrEnum):
    """What a resource is made of."""

    file = "file"  #: an uploaded file, with versions
    link = "link"  #: an address on another site
    case_study = "case-study"  #: a structured page written here

    @property
    def label(self) -> str:
        return {"file": "File", "link": "Link", "case-study": "Case study"}[self.value]


class ResourceType(enum.StrEnum):
    """What a resource is for."""

    tool = "tool"
    template = "template"
    guide = "guide"
    case_study = "case-study"
    policy = "policy"
    report = "report"
    presentation = "presentation"
    dataset = "dataset"
    other = "other"

    @property
    def label(self) -> str:
        return {
            "tool": "Tool",
            "template": "Template",
            "guide": "Guide",
            "case-study": "Case study",
            "policy": "Policy",
            "report": "Report",
            "presentation": "Presentation",
            "dataset": "Dataset",
            "other": "Other",
        }[self.value]


class QmsElement(enum.StrEnum):
    """The four elements of a quality management system."""

    quality_planning = "quality-planning"
    quality_control = "quality-control"
    quality_assurance = "quality-assurance"
    quality_improvement = "quality-improvement"

    @property
    def label(self) -> str:
        return {
            "quality-planning": "Quality planning",
            "quality-control": "Quality control",
            "quality-assurance": "Quality assurance",
            "quality-improvement": "Quality improvement",
        }[self.value]


class Licence(enum.StrEnum):
    """The terms on which others may reuse a resource."""

    ogl_3 = "ogl-3"
    cc_by_4 = "cc-by-4"
    cc_by_nc_4 = "cc-by-nc-4"
    members_only = "members-only"

    @property
    def label(self) -> str:
        return {
            "ogl-3": "Open Government Licence v3.0",
            "cc-by-4": "Creative Commons Attribution 4.0 (CC BY 4.0)",
            "cc-by-nc-4": "Creative Commons Attribution-NonCommercial 4.0 (CC BY-NC 4.0)",
            "members-only": "Network members only — no onward sharing",
        }[self.value]

    @property
    def url(self) -> str | None:
        """Where the licence's full text is published (None for the network's own terms)."""
        return {
            "ogl-3": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            "cc-by-4": "https://creativecommons.org/licenses/by/4.0/",
            "cc-by-nc-4": "https://creativecommons.org/licenses/by-nc/4.0/",
            "members-only": None,
        }[self.value]


class ResourceVisibility(enum.StrEnum):
    """Who may see a resource; never wider than its space allows."""

    space = "space"  #: the owning space's members
    network = "network"  #: any signed-in member of the network
    public = "public"  #: anyone

    @property
    def label(self) -> str:
        return {
            "space": "Members of this space",
            "network": "All network members",
            "public": "Anyone, including people not signed in",
        }[self.value]


class Classification(enum.StrEnum):
    """Government Security Classification marking of the material."""

    official = "official"
    official_sensitive = "official-sensitive"

    @property
    def label(self) -> str:
        return {"official": "OFFICIAL", "official-sensitive": "OFFICIAL-SENSITIVE"}[self.value]

    @property
    def sensitive(self) -> bool:
        return self is Classification.official_sensitive


class CaseStudySectionName(enum.StrEnum):
    """The sections of a structured case study, in reading order."""

    context = "context"
    aim = "aim"
    measures = "measures"
    approach = "approach"
    results = "results"
    what_did_not_work = "what-did-not-work"
    contact = "contact"

    @property
    def label(self) -> str:
        return {
            "context": "Context",
            "aim": "Aim",
            "measures": "Measures",
            "approach": "Approach",
            "results": "Results",
            "what-did-not-work": "What did not work",
            "contact": "Contact",
        }[self.value]


class ResourceFlagReason(enum.StrEnum):
    """Why a member reported a resource."""

    patient_information = "patient-information"
    copyright = "copyright"
    inaccurate = "inaccurate"
    spam = "spam"
    other = "other"

    @property
    def label(self) -> str:
        return {
            "patient-information": "Contains patient-identifiable information",
            "copyright": "Shared without permission or under the wrong licence",
            "inaccurate": "Out of date or wrong",
            "spam": "Spam or advertising",
            "other": "Something else",
        }[self.value]

    @property
    def hides(self) -> bool:
        """Reports of patient-identifiable information hide the resource until reviewed."""
        return self is ResourceFlagReason.patient_information


class StoredFile(db.Model):
    """File content in the storage layer, kept once however many versions share it."""

    __tablename__ = "stored_files"

    #: Hex SHA-256 of the content; also its address in storage.
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResourceVersion(db.Model):
    """One uploaded version of a file resource."""

    __tablename__ = "resource_versions"
    __table_args__ = (
        UniqueConstraint("resource_id", "number"),
        UniqueConstraint("created_by_id", "submission_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    #: 1 for the first upload, then 2, 3...
    number: Mapped[int]
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"), index=True)
    #: The name shown and offered on download (sanitised); never used as a path.
    filename: Mapped[str] = mapped_column(String(255))
    #: Media type decided from the content, not the name or the browser's claim.
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    change_note: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When and by whom this version was declared to hold no patient-identifiable information,
    #: as it was uploaded (empty for versions uploaded before every version needed it).
    pii_declared_at: Mapped[datetime | None]
    pii_declared_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Plain text for full-text search (filled by the search feature).
    extracted_text: Mapped[str | None] = mapped_column(Text)
    #: Withdrawn by a moderator: downloaded by moderators only, and never the current version.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The new-version form's one-time key, unique per uploader: the same form sent twice (a
    #: double click) uploads one version. A resource's first version has none (the sharing
    #: form's key, on the resource, covers it).
    submission_key: Mapped[str | None] = mapped_column(String(64))

    resource: Mapped[Resource] = relationship(foreign_keys=[resource_id], back_populates="versions")
    stored_file: Mapped[StoredFile] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    pii_declared_by: Mapped[User | None] = relationship(foreign_keys=[pii_declared_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])


class ResourceComponent(db.Model):
    """An NHS IMPACT component a resource is tagged with."""

    __tablename__ = "resource_components"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    component: Mapped[ImpactComponent] = mapped_column(primary_key=True, index=True)


class ResourceQmsElement(db.Model):
    """A QMS element a resource is tagged with."""

    __tablename__ = "resource_qms_elements"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    element: Mapped[QmsElement] = mapped_column(primary_key=True, index=True)


class ResourceTag(db.Model):
    """A free tag on a resource (lower case)."""

    __tablename__ = "resource_tags"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class ResourceAuthor(db.Model):
    """A member credited as an author of a resource."""

    __tablename__ = "resource_authors"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    user: Mapped[User] = relationship()


class Resource(db.Model):
    """A file, link or case study shared in a space's library."""

    __tablename__ = "resources"
    __table_args__ = (
        Index("ix_resources_space_created", "space_id", "created_at"),
        # The library's type filter, already in the order of its default sort (newest first).
        Index("ix_resources_type_created", "type", "created_at"),
        UniqueConstraint("created_by_id", "submission_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    kind: Mapped[ResourceKind]
    type: Mapped[ResourceType]
    title: Mapped[str] = mapped_column(String(200))
    summary_source: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    #: Where the material came from (provenance); defaults to the uploader's organisation.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    licence: Mapped[Licence]
    visibility: Mapped[ResourceVisibility] = mapped_column(default=ResourceVisibility.space)
    classification: Mapped[Classification] = mapped_column(default=Classification.official)
    #: When the sharer declared it holds no patient-identifiable information (required). A file's
    #: versions each carry their own declaration (:class:`ResourceVersion`).
    pii_declared_at: Mapped[datetime | None]
    #: The resource this one was adapted from.
    adapted_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="SET NULL"), index=True
    )
    #: From this day (in England) the resource is marked "due for review".
    review_by: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: Hidden by a moderator (or by a patient-information report) pending review.
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Removed: nobody sees it any more; its files stay until no version refers to them.
    deleted_at: Mapped[datetime | None]
    #: For links: the http(s) address.
    link_url: Mapped[str | None] = mapped_column(String(2000))
    #: For files: the newest version not withdrawn, downloaded by default.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_versions.id", ondelete="SET NULL", use_alter=True)
    )
    #: Downloads counted once per member per version per day, kept by the services.
    download_count: Mapped[int] = mapped_column(default=0)
    #: The sharing form's one-time key, unique per sharer: the same form sent twice (a double
    #: click) shares one resource.
    submission_key: Mapped[str | None] = mapped_column(String(64))
    #: The discussion thread for comments, created on first use.
    discussion_thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL")
    )

    space: Mapped[Space] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])
    adapted_from: Mapped[Resource | None] = relationship(remote_side=[id])
    current_version: Mapped[ResourceVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    versions: Mapped[list[ResourceVersion]] = relationship(
        foreign_keys=[ResourceVersion.resource_id],
        back_populates="resource",
        order_by=ResourceVersion.number.desc(),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    component_rows: Mapped[list[ResourceComponent]] = relationship(
        cascade="all, delete-orphan", order_by=ResourceComponent.component
    )
    qms_rows: Mapped[list[ResourceQmsElement]] = relationship(
        cascade="all, delete-orphan", order_by=ResourceQmsElement.element
    )
    tag_rows: Mapped[list[ResourceTag]] = relationship(
        cascade="all, delete-orphan", order_by=ResourceTag.tag
    )
    author_rows: Mapped[list[ResourceAuthor]] = relationship(cascade="all, delete-orphan")

    @property
    def components(self) -> list[ImpactComponent]:
        return sorted((row.component for row in self.component_rows), key=lambda c: c.number)

    @property
    def qms_elements(self) -> list[QmsElement]:
        order = list(QmsElement)
        return sorted((row.element for row in self.qms_rows), key=order.index)

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def authors(self) -> list[User]:
        return sorted((row.user for row in self.author_rows), key=lambda u: u.display_name)

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def due_for_review(self) -> bool:
        return self.review_by is not None and self.review_by <= today_in_england()

    @property
    def link_domain(self) -> str | None:
        """The host a link points at, shown beside it so readers know where they are going."""
        return link_host(self.link_url)

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.title!r}>"


class CaseStudySection(db.Model):
    """One section of a structured case study, written in Markdown."""

    __tablename__ = "case_study_sections"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[CaseStudySectionName] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")


class ResourceDownload(db.Model):
    """A member downloaded a version on a day: downloads count once per member, version and day."""

    __tablename__ = "resource_downloads"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("resource_versions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)


class ResourceUse(db.Model):
    """A member said "we're using this"; the count shown is of distinct organisations."""

    __tablename__ = "resource_uses"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: The member's organisation when they said so.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedResource(db.Model):
    """A resource a member saved to come back to."""

    __tablename__ = "saved_resources"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResourceFlag(db.Model):
    """One member's report about one resource."""

    __tablename__ = "resource_flags"
    __table_args__ = (UniqueConstraint("resource_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[ResourceFlagReason]
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[FlagOutcome | None]

    resource: Mapped[Resource] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
