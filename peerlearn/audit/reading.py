"""Reading the audit log: what each entry's detail may show its reader.

An entry about a library resource may carry the material itself (a file's name and digest, a
link's address, a version's note). A network administrator reads every audit log but not
OFFICIAL-SENSITIVE material in a space they are not a member of (the permission policy), so
those details are left out for them, as the resource's own page leaves them out."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.permissions import reads_material, remember_memberships
from peerlearn.resources.models import Resource

#: Details that are the material rather than facts about it.
MATERIAL = frozenset({"url", "old_url", "filename", "sha256", "note"})


def shown_details(user: Any, entries: list[AuditEntry]) -> dict[int, dict[str, Any]]:
    """Each entry's detail as ``user`` may see it, by entry id: two statements for a page (the
    resources named, with their spaces, and the reader's memberships of those spaces)."""
    ids = {entry.detail.get("resource_id") for entry in entries if entry.detail}
    ids.discard(None)
    named = select(Resource).where(Resource.id.in_(ids)).options(joinedload(Resource.space))
    resources = {resource.id: resource for resource in db.session.scalars(named)} if ids else {}
    remember_memberships(user, {resource.space_id for resource in resources.values()})
    unread = {resource.id for resource in resources.values() if not reads_material(user, resource)}
    shown = {}
    for entry in entries:
        detail = entry.detail or {}
        if detail.get("resource_id") in unread:
            detail = {key: value for key, value in detail.items() if key not in MATERIAL}
        shown[entry.id] = detail
    return shown
