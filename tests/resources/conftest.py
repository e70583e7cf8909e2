"""Fixtures for library tests: resources made directly (for policy and list tests), and small real
files of each allowed type (for uploads and downloads)."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.extensions import db
from peerlearn.resources.models import (
    Classification,
    Licence,
    Resource,
    ResourceKind,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.spaces.models import Space


def first_member(space: Space) -> User:
    """The space's first member (its factory-made owner): memberships come back from the
    database in no particular order once others have joined."""
    return min(space.memberships, key=lambda m: m.id).user


@pytest.fixture
def make_resource(app: Any) -> Callable[..., Resource]:
    """A link resource written straight to the database (no files, no form): for tests of who
    sees what. Uploads go through the real form in their own tests."""
    counter = iter(range(1, 100_000))

    def make(
        space: Space,
        *,
        by: User | None = None,
        title: str | None = None,
        visibility: ResourceVisibility = ResourceVisibility.network,
        classification: Classification = Classification.official,
        type: ResourceType = ResourceType.guide,
        licence: Licence = Licence.ogl_3,
        hidden: bool = False,
        deleted: bool = False,
        commit: bool = True,
    ) -> Resource:
        author = by or first_member(space)
        resource = Resource(
            space=space,
            kind=ResourceKind.link,
            type=type,
            title=title or f"Resource {next(counter)}",
            licence=licence,
            visibility=visibility,
            classification=classification,
            organisation_id=author.organisation_id,
            pii_declared_at=utcnow(),
            created_by=author,
            link_url="https://www.england.nhs.uk/nhsimpact/",
            hidden_at=utcnow() if hidden else None,
            deleted_at=utcnow() if deleted else None,
        )
        db.session.add(resource)
        if commit:
            db.session.commit()
        return resource

    return make


# Small real files ------------------------------------------------------------------------------


def pdf_bytes(text: str = "Board QMS assurance template") -> bytes:
    """A minimal valid one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def docx_bytes(text: str = "Board QMS assurance template") -> bytes:
    """A minimal Word document (Office Open XML), built with zipfile."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        # A fixed timestamp, so the same text always makes the same bytes.
        at = (2026, 11, 24, 9, 0, 0)
        archive.writestr(
            zipfile.ZipInfo("[Content_Types].xml", at),
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>",
        )
        archive.writestr(
            zipfile.ZipInfo("_rels/.rels", at),
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        archive.writestr(
            zipfile.ZipInfo("word/document.xml", at),
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


def image_bytes(format: str = "PNG", size: tuple[int, int] = (8, 6), **save: Any) -> bytes:
    """A small real image in the given Pillow format."""
    out = io.BytesIO()
    Image.new("RGB", size, (0, 94, 184)).save(out, format=format, **save)
    return out.getvalue()


# Uploads through the real form -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _empty_upload_dir(app: Any) -> Any:
    """Every test starts and ends with empty storage (the folder is shared by the session)."""
    root = Path(app.config["UPLOAD_DIR"])
    shutil.rmtree(root, ignore_errors=True)
    yield
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def qms(make_space: Callable[..., Space]) -> Space:
    """A network-visible special interest group with a library."""
    return make_space("Quality Management Systems SIG")


@pytest.fixture
def uploader(qms: Space, make_user: Callable[..., User], add_member: Callable[..., Any]) -> User:
    """A member of the QMS SIG, signed in by tests that need it."""
    user = make_user("Amara Okafor")
    add_member(qms, user)
    return user


@pytest.fixture
def signed_in(client: Any, login: Callable[..., Any], uploader: User) -> Any:
    """The test client, signed in as the uploader."""
    login(client, uploader)
    return client


@pytest.fixture
def make_file_resource(app: Any) -> Callable[..., Resource]:
    """A file resource shared through the library's own service (no form): real storage, real
    checks, an audit entry."""
    from peerlearn.resources import services

    def make(
        space: Space,
        *,
        by: User | None = None,
        content: bytes | None = None,
        filename: str = "Board QMS assurance template.docx",
        title: str = "Board QMS assurance template",
        visibility: ResourceVisibility = ResourceVisibility.network,
        classification: Classification = Classification.official,
    ) -> Resource:
        draft = services.ResourceDraft(
            title=title,
            type=ResourceType.template,
            licence=Licence.ogl_3,
            visibility=visibility,
            classification=classification,
            pii_declared=True,
        )
        upload = services.Upload(io.BytesIO(docx_bytes() if content is None else content), filename)
        return services.create_resource(by or first_member(space), space, draft, upload)

    return make
