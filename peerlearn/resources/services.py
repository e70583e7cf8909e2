"""Library rules and transactions: sharing a file or a link, new versions, edits, downloads and
removal. Every change is audited; files and rows are written in one unit of work through the
storage layer. What a member enters is checked by the rules in :mod:`peerlearn.resources.drafts`;
reports on resources, and hiding them, are in :mod:`peerlearn.resources.reports`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core import signals
from peerlearn.core.db import change_if, insert_into, today_in_england, utcnow
from peerlearn.core.text import render_markdown
from peerlearn.extensions import db
from peerlearn.resources import extraction, files
from peerlearn.resources.drafts import (
    ResourceDraft,
    ResourceError,
    check_declaration,
    check_draft,
    check_link,
    clean_tags,
)
from peerlearn.resources.models import (
    Resource,
    ResourceAuthor,
    ResourceComponent,
    ResourceDownload,
    ResourceKind,
    ResourceQmsElement,
    ResourceTag,
    ResourceVersion,
)
from peerlearn.resources.storage import StorageTransaction, storage, storage_transaction
from peerlearn.spaces.models import Space

T = TypeVar("T")


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its content and the name its owner gave it."""

    stream: BinaryIO
    filename: str | None


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


# Files ------------------------------------------------------------------------------------------


def require_upload(upload: Upload | None) -> Upload:
    """A file to share: refused beside the file field when none was chosen."""
    if upload is None:
        raise files.UploadError("Select a file to upload")
    return upload


def check_upload(upload: Upload) -> None:
    """Check a file as sharing it would (its name, size and type; an image is re-encoded), and
    keep nothing: for a form refused for something else, so the file's own problem is told at
    the same time rather than once the rest is right. Its stream is read to the end."""
    transaction = StorageTransaction(storage())  # never placed, never committed
    try:
        _receive(transaction, upload)
    finally:
        transaction.discard_staged()


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
    actor: User,
    transaction: StorageTransaction,
    resource: Resource,
    upload: Upload,
    note: str,
    submission_key: str | None = None,
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
    now = utcnow()
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
        created_at=now,
        # Every caller has checked the uploader's declaration (check_declaration).
        pii_declared_at=now,
        pii_declared_by_id=actor.id,
        extracted_text=text,
        submission_key=submission_key,
    )
    db.session.add(version)
    resource.current_version = version
    return version


def shared_with(actor: User, key: str | None) -> Resource | None:
    """The resource ``actor`` already shared with this form's one-time key (``submission_key``,
    as for threads and replies), if any."""
    if not key:
        return None
    return db.session.scalar(
        select(Resource).where(Resource.created_by_id == actor.id, Resource.submission_key == key)
    )


def uploaded_with(actor: User, key: str | None) -> ResourceVersion | None:
    """The version ``actor`` already uploaded with the new-version form's one-time key
    (``submission_key``, as for sharing), if any."""
    if not key:
        return None
    return db.session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.created_by_id == actor.id, ResourceVersion.submission_key == key
        )
    )


@contextmanager
def once_per_key(previous: Callable[[], T | None]) -> Iterator[list[T]]:
    """Write something once however often its form is sent: the block's INSERT fails on the
    form's key, unique per author, when another sending of the same form committed first (both
    found nothing with ``previous`` at the same moment, as :func:`shared_with` or
    :func:`uploaded_with`); what that sending wrote is then put in the yielded list, after the
    block's own work is rolled back (files included, by the storage layer)."""
    found: list[T] = []
    try:
        yield found
    except IntegrityError:
        db.session.rollback()
        first = previous()
        if first is None:
            raise
        found.append(first)


def create_resource(
    actor: User, space: Space, draft: ResourceDraft, upload: Upload | None = None
) -> Resource:
    """Share a file (``upload``) or a link (``draft.link_url``) in the space's library. Nothing
    is kept unless everything is: the file, its row, the resource and its audit entry. The same
    form sent again (``draft.submission_key``: a double click, a resend after a lost response)
    returns the resource it shared, which is shared once even when both arrive at once."""
    previous = shared_with(actor, draft.submission_key)
    if previous is not None:
        return previous
    check_draft(actor, space, draft)
    if draft.link_url is None:
        require_upload(upload)
    kind = ResourceKind.file if upload is not None else ResourceKind.link
    resource = Resource(
        space=space, kind=kind, created_by_id=actor.id, submission_key=draft.submission_key
    )
    apply_draft(actor, resource, draft)
    with once_per_key(lambda: shared_with(actor, draft.submission_key)) as found:
        if upload is None:
            db.session.add(resource)
            db.session.flush()
            record("resource.link_added", actor=actor, space=space, resource_id=resource.id,
                   title=resource.title, url=resource.link_url)  # fmt: skip
            db.session.commit()
        else:
            with storage_transaction() as transaction:
                db.session.add(resource)
                version = _new_version(actor, transaction, resource, upload, "")
                db.session.flush()
                record("resource.uploaded", actor=actor, space=space, resource_id=resource.id,
                       title=resource.title, filename=version.filename, sha256=version.sha256,
                       visibility=resource.visibility.value,
                       classification=resource.classification.value)  # fmt: skip
    if found:
        return found[0]
    signals.resource_changed.send(resource)
    return resource


def add_version(
    actor: User,
    resource: Resource,
    upload: Upload | None,
    change_note: str,
    *,
    pii_declared: bool,
    submission_key: str | None = None,
) -> ResourceVersion:
    """Upload a new version of a file resource; earlier versions stay downloadable. Each version
    needs its uploader's word that it identifies no patient, recorded with it (who and when), as
    the first did: a new file is new content. The same form sent again (``submission_key``: a
    double click, a resend after a lost response) returns the version it uploaded, which is
    uploaded once even when both arrive at once; the second sending's file is not kept."""
    previous = uploaded_with(actor, submission_key)
    if previous is not None:
        return previous
    if resource.kind is not ResourceKind.file:
        raise ResourceError("Only files have versions", field="file")
    upload = require_upload(upload)
    note = " ".join(change_note.split())
    if not note:
        raise ResourceError("Say what changed in this version", field="change_note")
    check_declaration(pii_declared)
    resource_id = resource.id
    with (
        once_per_key(lambda: uploaded_with(actor, submission_key)) as found,
        storage_transaction() as transaction,
    ):
        version = _new_version(actor, transaction, resource, upload, note, submission_key)
        resource.updated_at = utcnow()
        db.session.flush()
        record("resource.version_added", actor=actor, space=resource.space,
               resource_id=resource_id, version=version.number, filename=version.filename,
               sha256=version.sha256, note=note)  # fmt: skip
    if found:
        return found[0]
    signals.resource_changed.send(resource)
    return version


def _details(resource: Resource) -> dict[str, object]:
    """What a change of a resource's details can change, by the name its audit entry gives it."""
    return {
        "title": resource.title,
        "summary": resource.summary_source,
        "type": resource.type,
        "components": resource.components,
        "qms_elements": resource.qms_elements,
        "tags": sorted(resource.tags),
        "organisation": resource.organisation_id,
        "authors": sorted(row.user_id for row in resource.author_rows),
        "licence": resource.licence,
        "adapted_from": resource.adapted_from_id,
        "review_by": resource.review_by,
        "classification": resource.classification,
        "visibility": resource.visibility,
        "link_url": resource.link_url,
    }


def update_resource(
    actor: User, resource: Resource, draft: ResourceDraft, *, also_changed: tuple[str, ...] = ()
) -> None:
    """Change a resource's description, tags, licence or visibility. The audit entry names the
    fields that changed (with ``also_changed``: a case study's sections), and the old and new
    title and web address when they changed, so a link pointed somewhere else leaves a trace of
    where it went before; a change of who can see it is audited on its own as well."""
    check_draft(actor, resource.space, draft, resource)
    before = (resource.visibility, resource.classification)
    old = _details(resource)
    apply_draft(actor, resource, draft)
    new = _details(resource)
    changed = [name for name in new if new[name] != old[name]] + list(also_changed)
    record("resource.updated", actor=actor, space=resource.space, resource_id=resource.id,
           title=resource.title, changed=changed,
           old_title=old["title"] if "title" in changed else None,
           old_url=old["link_url"] if "link_url" in changed else None,
           url=resource.link_url if "link_url" in changed else None)  # fmt: skip
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
    """The numbered version of a file resource, or its current one; None for a link or a case
    study, which have no files."""
    if resource.kind is not ResourceKind.file:
        return None
    if number is None:
        return resource.current_version
    return db.session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.number == number
        )
    )


def record_download(user: User | None, version: ResourceVersion) -> bool:
    """Count a member's download: once per member, version and day (the day in England, as
    members live it). Anonymous readers of public resources are not counted. True when this
    download counted."""
    if user is None:
        return False
    added = db.session.scalar(
        insert_into(db.session, ResourceDownload.__table__)
        .values(version_id=version.id, user_id=user.id, day=today_in_england())
        .on_conflict_do_nothing()
        .returning(ResourceDownload.__table__.c.version_id)  # type: ignore[attr-defined]
    )
    if added is None:  # already counted today
        return False
    db.session.execute(
        update(Resource)
        .where(Resource.id == version.resource_id)
        # Not an update of the resource (``updated_at`` would otherwise follow: search dates
        # resources by it).
        .values(download_count=Resource.download_count + 1, updated_at=Resource.updated_at)
    )
    db.session.commit()
    return True


def download_name(resource: Resource, version: ResourceVersion) -> str:
    """The name offered on download: the classification first, as the marking rules ask. The
    current version keeps its own name; any other says which version it is (``board (version
    1).pdf``), so two versions saved in one folder neither overwrite nor pass for each other."""
    filename = version.filename
    if version.id != resource.current_version_id:
        stem, _, extension = filename.rpartition(".")  # every stored name has an extension
        filename = f"{stem} (version {version.number}).{extension}"
    return f"{resource.classification.label}_{filename}"
