"""Library rules and transactions: sharing a file or a link, new versions, edits, downloads and
removal. Every change is audited; files and rows are written in one unit of work through the
storage layer. Reports on resources, and hiding them, are in :mod:`peerlearn.resources.reports`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select, update

from peerlearn.accounts.directory import listed_people
from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core import signals
from peerlearn.core.db import change_if, insert_into, utcnow
from peerlearn.core.errors import RuleError
from peerlearn.core.text import render_markdown
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation
from peerlearn.permissions import Action, can
from peerlearn.resources import extraction, files
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    Resource,
    ResourceAuthor,
    ResourceComponent,
    ResourceDownload,
    ResourceKind,
    ResourceQmsElement,
    ResourceTag,
    ResourceType,
    ResourceVersion,
    ResourceVisibility,
)
from peerlearn.resources.storage import StorageTransaction, storage_transaction
from peerlearn.spaces.models import Space, Visibility

MAX_TITLE = 200
MAX_TAGS = 10
MAX_TAG = 50


class ResourceError(RuleError):
    """A rule about the library was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


@dataclass(frozen=True)
class ResourceDraft:
    """What a member enters about a resource (everything but the file itself)."""

    title: str
    type: ResourceType
    licence: Licence
    visibility: ResourceVisibility
    classification: Classification
    #: The member confirmed it holds no patient-identifiable information.
    pii_declared: bool
    summary: str = ""
    components: tuple[ImpactComponent, ...] = ()
    qms_elements: tuple[QmsElement, ...] = ()
    tags: tuple[str, ...] = ()
    #: The originating organisation. None: the sharer's own for a new resource; not recorded
    #: for one being changed (an edit never records provenance nobody chose).
    organisation_id: int | None = None
    adapted_from_id: int | None = None
    review_by: date | None = None
    #: Other members credited as authors (the uploader always is).
    author_ids: tuple[int, ...] = ()
    #: For a link: its address.
    link_url: str | None = None


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its content and the name its owner gave it."""

    stream: BinaryIO
    filename: str | None


# Checking what was entered ---------------------------------------------------------------------


def widest_visibility(space: Space) -> ResourceVisibility:
    """The widest visibility a resource in this space may have: never wider than the space."""
    return {
        Visibility.public: ResourceVisibility.public,
        Visibility.network: ResourceVisibility.network,
        Visibility.private: ResourceVisibility.space,
    }[space.visibility]


def visibility_choices(space: Space) -> list[ResourceVisibility]:
    """The visibilities offered for a resource in this space, narrowest first."""
    widest = list(ResourceVisibility).index(widest_visibility(space))
    return list(ResourceVisibility)[: widest + 1]


def check_link(url: str | None) -> str:
    """A link's address, if it is an http or https address with a host. An address Python
    cannot take apart (an unclosed ``[`` of an IPv6 host, say) is refused beside the field like
    any other wrong one."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        raise ResourceError(
            "Enter the web address in the correct format, like https://www.england.nhs.uk/",
            field="link_url",
        ) from None
    if parts.scheme.lower() not in {"http", "https"} or not hostname:
        raise ResourceError(
            "Enter a web address starting https:// or http:// (other kinds of link, such as "
            "javascript:, are not allowed)",
            field="link_url",
        )
    if len(url) > 2000:
        raise ResourceError("The web address must be 2,000 characters or fewer", field="link_url")
    return url


def clean_tags(tags: tuple[str, ...]) -> list[str]:
    """Free tags in lower case, each once, in the order given."""
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(tag.lower().split()).strip("#")
        if not tag or tag in cleaned:
            continue
        if len(tag) > MAX_TAG:
            raise ResourceError(f"Each tag must be {MAX_TAG} characters or fewer", field="tags")
        cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ResourceError(f"Add at most {MAX_TAGS} tags", field="tags")
    return cleaned


def check_draft(
    actor: User, space: Space, draft: ResourceDraft, resource: Resource | None = None
) -> None:
    """Refuse a draft that breaks a rule, before any file is touched. ``resource`` is the one
    being changed, once it exists."""
    title = " ".join(draft.title.split())
    if not title:
        raise ResourceError("Enter a title", field="title")
    if len(title) > MAX_TITLE:
        raise ResourceError(f"Title must be {MAX_TITLE} characters or fewer", field="title")
    if not draft.pii_declared:
        raise ResourceError(
            "Confirm that the resource contains no patient-identifiable information",
            field="pii_declaration",
        )
    if draft.visibility not in visibility_choices(space):
        raise ResourceError(
            "This space's library can only be shared as widely as the space itself: choose "
            + " or ".join(f"“{v.label}”" for v in visibility_choices(space)),
            field="visibility",
        )
    if draft.classification is Classification.official_sensitive and (
        draft.visibility is not ResourceVisibility.space
    ):
        raise ResourceError(
            "OFFICIAL-SENSITIVE material can only be shared with this space's members: choose "
            f"“{ResourceVisibility.space.label}”, or mark it OFFICIAL if it is not sensitive",
            field="visibility",
        )
    if (
        draft.organisation_id is not None
        and db.session.get(Organisation, draft.organisation_id) is None
    ):
        raise ResourceError("Choose an organisation from the list", field="organisation_id")
    if draft.adapted_from_id is not None:
        original = db.session.get(Resource, draft.adapted_from_id)
        # Provenance left as it was stands, even once the original is out of the editor's sight
        # (removed, or narrowed): it is only checked when it is given or changed.
        kept = resource is not None and draft.adapted_from_id == resource.adapted_from_id
        if original is None or not (kept or can(actor, Action.view, original)):
            raise ResourceError(
                "Choose a resource you can see in the library", field="adapted_from"
            )
        if resource is not None:
            _check_adaptation(resource, original)
    clean_tags(draft.tags)


def _check_adaptation(resource: Resource, original: Resource) -> None:
    """Refuse to record ``resource`` as adapted from itself, or from one of its own adaptations
    however far down (A from B when B is from A, or from C from A): "adapted from" traces where
    material came from, so it never runs in a loop. A loop recorded before this check ends the
    walk rather than running it for ever."""
    if original.id == resource.id:
        raise ResourceError(
            "A resource cannot be adapted from itself. Enter the resource you adapted, or leave "
            "this empty",
            field="adapted_from",
        )
    seen = {original.id}
    ancestor_id = original.adapted_from_id
    while ancestor_id is not None and ancestor_id not in seen:
        if ancestor_id == resource.id:
            raise ResourceError(
                f"“{original.title}” was adapted from this resource, directly or through others, "
                "so this resource cannot be adapted from it",
                field="adapted_from",
            )
        seen.add(ancestor_id)
        ancestor_id = db.session.scalar(
            select(Resource.adapted_from_id).where(Resource.id == ancestor_id)
        )


def apply_draft(actor: User, resource: Resource, draft: ResourceDraft) -> None:
    resource.title = " ".join(draft.title.split())
    resource.type = draft.type
    resource.licence = draft.licence
    resource.visibility = draft.visibility
    resource.classification = draft.classification
    resource.summary_source = draft.summary
    resource.summary_html = render_markdown(draft.summary)
    if resource.id is None:  # being shared now
        resource.organisation_id = draft.organisation_id or actor.organisation_id
    else:
        resource.organisation_id = draft.organisation_id
    resource.adapted_from_id = draft.adapted_from_id
    resource.review_by = draft.review_by
    if draft.pii_declared and resource.pii_declared_at is None:
        resource.pii_declared_at = utcnow()
    resource.component_rows = [
        ResourceComponent(component=c) for c in dict.fromkeys(draft.components)
    ]
    resource.qms_rows = [ResourceQmsElement(element=e) for e in dict.fromkeys(draft.qms_elements)]
    resource.tag_rows = [ResourceTag(tag=t) for t in clean_tags(draft.tags)]
    author_ids = dict.fromkeys([resource.created_by_id or actor.id, *draft.author_ids])
    resource.author_rows = [ResourceAuthor(user_id=i) for i in author_ids if i is not None]
    if resource.kind is ResourceKind.link:
        resource.link_url = check_link(draft.link_url)


_HANDLE = re.compile(r"@?([A-Za-z0-9][A-Za-z0-9_-]*)")


def authors_from_handles(text: str) -> list[User]:
    """Members named by their @handles (comma or space separated): people the network lists
    (:func:`~peerlearn.accounts.directory.listed_people`), as for mentions; an unknown handle is
    an error beside the authors field."""
    handles = [m.group(1).lower() for m in _HANDLE.finditer(text or "")]
    if len(handles) > 10:
        raise ResourceError("Name at most 10 other authors", field="authors")
    found = {
        u.handle.lower(): u
        for u in db.session.scalars(select(User).where(User.handle.in_(handles), listed_people()))
    }
    unknown = [h for h in handles if h not in found]
    if unknown:
        raise ResourceError(
            "No member has the handle " + ", ".join(f"@{h}" for h in unknown), field="authors"
        )
    return list(dict.fromkeys(found[h] for h in handles))


# Sharing and versions --------------------------------------------------------------------------


def _receive(transaction: StorageTransaction, upload: Upload) -> tuple[str, str, object]:
    """Receive, check and (for images) re-encode an upload; returns its display name, type and
    staged content. Every refusal is an :class:`~peerlearn.resources.files.UploadError`."""
    filename = files.clean_filename(upload.filename)
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    staged = transaction.receive(upload.stream, limit)
    if staged.size == 0:
        raise files.UploadError("The selected file is empty")
    file_type = files.identify(staged.path, filename)
    if file_type.image_format:
        with files.reencoded_image(
            staged.path,
            file_type,
            max_pixels=current_app.config["UPLOAD_MAX_PIXELS"],
            timeout=current_app.config["UPLOAD_IMAGE_TIMEOUT"],
        ) as clean:
            staged = transaction.receive(clean)
    return filename, file_type.mime, staged


def lock_resource(resource: Resource) -> None:
    """Hold the resource's row until the commit (marking it updated), so that two changes made
    from what each then reads of it (its versions, its sections) are made one after the other
    rather than both from the same state. The row lock on PostgreSQL; the write lock on SQLite."""
    db.session.execute(
        update(Resource).where(Resource.id == resource.id).values(updated_at=utcnow())
    )


def _next_number(resource: Resource) -> int:
    """The number the resource's next version takes, read once the resource is locked, so two
    versions uploaded at the same moment are numbered one after the other."""
    if resource.id is None:
        return 1
    lock_resource(resource)
    latest = db.session.scalar(
        select(func.max(ResourceVersion.number)).where(ResourceVersion.resource_id == resource.id)
    )
    return (latest or 0) + 1


def _new_version(
    actor: User, transaction: StorageTransaction, resource: Resource, upload: Upload, note: str
) -> ResourceVersion:
    filename, mime, staged = _receive(transaction, upload)
    # The words inside, for search (bounded, in a child process; None when not read).
    text = extraction.extract_text(
        staged.path,  # type: ignore[attr-defined]
        mime,
        max_bytes=current_app.config["EXTRACTION_MAX_BYTES"],
        timeout=current_app.config["EXTRACTION_TIMEOUT"],
    )
    stored = transaction.store(staged)  # type: ignore[arg-type]
    number = _next_number(resource)
    version = ResourceVersion(
        resource=resource,
        number=number,
        stored_file=stored,
        sha256=stored.sha256,
        filename=filename,
        mime=mime,
        size=stored.size,
        change_note=" ".join(note.split())[:1000],
        created_by_id=actor.id,
        extracted_text=text,
    )
    db.session.add(version)
    resource.current_version = version
    return version


def create_resource(
    actor: User, space: Space, draft: ResourceDraft, upload: Upload | None = None
) -> Resource:
    """Share a file (``upload``) or a link (``draft.link_url``) in the space's library. Nothing
    is kept unless everything is: the file, its row, the resource and its audit entry."""
    check_draft(actor, space, draft)
    kind = ResourceKind.file if upload is not None else ResourceKind.link
    resource = Resource(space=space, kind=kind, created_by_id=actor.id)
    apply_draft(actor, resource, draft)
    if upload is None:
        db.session.add(resource)
        db.session.flush()
        record("resource.link_added", actor=actor, space=space, resource_id=resource.id,
               title=resource.title, url=resource.link_url)  # fmt: skip
        db.session.commit()
        signals.resource_changed.send(resource)
        return resource
    with storage_transaction() as transaction:
        db.session.add(resource)
        version = _new_version(actor, transaction, resource, upload, "")
        db.session.flush()
        record("resource.uploaded", actor=actor, space=space, resource_id=resource.id,
               title=resource.title, filename=version.filename, sha256=version.sha256,
               visibility=resource.visibility.value,
               classification=resource.classification.value)  # fmt: skip
    signals.resource_changed.send(resource)
    return resource


def add_version(
    actor: User, resource: Resource, upload: Upload, change_note: str
) -> ResourceVersion:
    """Upload a new version of a file resource; earlier versions stay downloadable."""
    if resource.kind is not ResourceKind.file:
        raise ResourceError("Only files have versions", field="file")
    note = " ".join(change_note.split())
    if not note:
        raise ResourceError("Say what changed in this version", field="change_note")
    resource_id = resource.id
    with storage_transaction() as transaction:
        version = _new_version(actor, transaction, resource, upload, note)
        resource.updated_at = utcnow()
        db.session.flush()
        record("resource.version_added", actor=actor, space=resource.space,
               resource_id=resource_id, version=version.number, filename=version.filename,
               sha256=version.sha256, note=note)  # fmt: skip
    signals.resource_changed.send(resource)
    return version


def update_resource(actor: User, resource: Resource, draft: ResourceDraft) -> None:
    """Change a resource's description, tags, licence or visibility; a change of who can see it
    is audited on its own."""
    check_draft(actor, resource.space, draft, resource)
    before = (resource.visibility, resource.classification)
    apply_draft(actor, resource, draft)
    record("resource.updated", actor=actor, space=resource.space, resource_id=resource.id,
           title=resource.title)  # fmt: skip
    if before != (resource.visibility, resource.classification):
        record("resource.visibility_changed", actor=actor, space=resource.space,
               resource_id=resource.id, old=f"{before[0].value}/{before[1].value}",
               new=f"{resource.visibility.value}/{resource.classification.value}")  # fmt: skip
    db.session.commit()
    signals.resource_changed.send(resource)


def delete_resource(actor: User, resource: Resource) -> bool:
    """Remove a resource: nobody sees it any more. Its files stay for the audit trail. One
    statement removes it only if it is still there, so removing it again (a double click, or
    two people at the same moment) changes and audits nothing: False."""
    if not change_if(db.session, resource, Resource.deleted_at.is_(None), deleted_at=utcnow()):
        db.session.rollback()
        return False
    record("resource.deleted", actor=actor, space=resource.space, resource_id=resource.id,
           title=resource.title)  # fmt: skip
    db.session.commit()
    signals.resource_changed.send(resource)
    return True


# Downloads -------------------------------------------------------------------------------------


def version_for(resource: Resource, number: int | None) -> ResourceVersion | None:
    """The numbered version of a file resource, or its current one."""
    if number is None:
        return resource.current_version
    return db.session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.number == number
        )
    )


def record_download(user: User | None, version: ResourceVersion) -> bool:
    """Count a member's download: once per member, version and day. Anonymous readers of public
    resources are not counted. True when this download counted."""
    if user is None:
        return False
    added = db.session.scalar(
        insert_into(db.session, ResourceDownload.__table__)
        .values(version_id=version.id, user_id=user.id, day=utcnow().date())
        .on_conflict_do_nothing()
        .returning(ResourceDownload.__table__.c.version_id)  # type: ignore[attr-defined]
    )
    if added is None:  # already counted today
        return False
    db.session.execute(
        update(Resource)
        .where(Resource.id == version.resource_id)
        .values(download_count=Resource.download_count + 1)
    )
    db.session.commit()
    return True


def download_name(resource: Resource, version: ResourceVersion) -> str:
    """The name offered on download: the classification first, as the marking rules ask."""
    return f"{resource.classification.label}_{version.filename}"
