"""The patient-information declaration, version by version: every upload of a file, the first or
a new version, needs its uploader's word that it identifies no patient; the declaration is kept
with the version (who, when), and the resource page says what was declared of the version it
offers."""

from __future__ import annotations

import io
import re

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from peerlearn.extensions import db
from peerlearn.resources.models import ResourceVersion
from peerlearn.spaces.models import MemberRole
from tests.resources.conftest import docx_bytes
from tests.resources.upload_helpers import count, field_error, stored_files

NO_DECLARATION = "Confirm that the resource contains no patient-identifiable information"


def _new_version(client, resource, **fields):
    data = {"file": (io.BytesIO(docx_bytes("Revised for 2027")), "board v2.docx"),
            "change_note": "Updated for the 2027 framework", **fields}  # fmt: skip
    return client.post(
        f"/resources/{resource.id}/versions/new", data=data, content_type="multipart/form-data"
    )


def _declaration(page: str) -> str:
    """What the resource page says beside its classification."""
    match = re.search(
        r'<dd class="nhsuk-summary-list__value" id="declaration">(.*?)</dd>', page, re.S
    )
    return " ".join(match.group(1).split())


def test_a_new_version_needs_the_declaration_too(client, login, app, qms, uploader,
                                                 make_file_resource):  # fmt: skip
    template = make_file_resource(qms, by=uploader)
    login(client, uploader)
    form = client.get(f"/resources/{template.id}/versions/new").get_data(as_text=True)
    assert "I confirm this version contains no patient-identifiable information" in form
    files_before = stored_files(app)

    response = _new_version(client, template)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(page, "pii_declaration") == NO_DECLARATION
    assert "Updated for the 2027 framework" in page  # the note is kept
    assert count(ResourceVersion) == 1 and stored_files(app) == files_before


def test_each_version_records_who_declared_it_and_when(
    client, new_client, login, qms, uploader, make_user, add_member, make_file_resource
):
    template = make_file_resource(qms, by=uploader)
    first = template.current_version
    assert (first.pii_declared_by_id, first.pii_declared_at) == (uploader.id, first.created_at)
    moderator = add_member(qms, make_user("Kwame Mensah"), role=MemberRole.moderator).user
    login(client, moderator)
    assert _new_version(client, template, pii_declaration="y").status_code == 302
    db.session.refresh(template)
    second = template.current_version
    assert second.number == 2 and second.pii_declared_by_id == moderator.id
    assert second.pii_declared_at is not None and second.pii_declared_at >= first.pii_declared_at

    reader = new_client()
    login(reader, uploader)
    said = _declaration(reader.get(f"/resources/{template.id}").get_data(as_text=True))
    assert said == (
        f"OFFICIAL. Kwame Mensah confirmed on {second.pii_declared_at:%-d %B %Y} that version 2 "
        "contains no patient-identifiable information."
    )


def test_a_version_uploaded_before_versions_were_declared_says_so(
    client, login, qms, uploader, make_file_resource
):
    template = make_file_resource(qms, by=uploader)
    login(client, uploader)
    _new_version(client, template, pii_declaration="y")
    db.session.refresh(template)
    template.current_version.pii_declared_at = None  # as the migration leaves an old version 2
    template.current_version.pii_declared_by_id = None
    db.session.commit()
    said = _declaration(client.get(f"/resources/{template.id}").get_data(as_text=True))
    assert said == (
        "OFFICIAL. Nobody has confirmed that version 2 contains no patient-identifiable "
        "information: it was uploaded before each version needed that confirmation."
    )


def test_the_migration_gives_first_versions_their_resource_s_declaration(
    app, client, login, qms, uploader, make_file_resource
):
    """Before each version was declared, the resource's declaration was its first version's (made
    by whoever shared it); later versions had none, and keep none."""
    template = make_file_resource(qms, by=uploader)
    login(client, uploader)
    _new_version(client, template, pii_declaration="y")
    declared_at, uploader_id = template.pii_declared_at, uploader.id
    db.session.commit()
    db.session.close()
    downgrade(revision="c4f2b8d6e913")
    upgrade()
    rows = db.session.execute(
        select(ResourceVersion.number, ResourceVersion.pii_declared_at,
               ResourceVersion.pii_declared_by_id).order_by(ResourceVersion.number)
    ).all()  # fmt: skip
    assert [tuple(row) for row in rows] == [(1, declared_at, uploader_id), (2, None, None)]
