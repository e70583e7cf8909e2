"""Zip archives that pose as documents: one that would unzip to far more than it weighs is refused
without being unzipped, and one whose directory lists more entries than a document has, or is
larger than it says, is refused without being read through. (The rest of the upload tests are in
test_uploads.py.)"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from peerlearn.resources import files
from tests.documents import ODF, OOXML, odf_bytes, office_package, xlsx_bytes
from tests.resources.conftest import docx_bytes
from tests.resources.upload_helpers import assert_no_trace, field_error, form, share


def _zip_bomb(method: int) -> bytes:
    """A zip that looks like an OpenDocument text but whose ``mimetype`` entry, not first (so
    libmagic says only "zip"), unzips to 128 MB of zeros: about 130 KB deflated, 300 bytes with
    bzip2."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        archive.writestr("content.xml", "<x/>")
        with archive.open("mimetype", "w", force_zip64=True) as entry:
            for _ in range(128):
                entry.write(bytes(1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2], ids=["deflated", "bzip2"]
)
def test_a_zip_bomb_is_refused_without_being_unzipped(signed_in, app, qms, method):
    content = _zip_bomb(method)
    tracemalloc.start()
    try:
        response = signed_in.post(
            f"/spaces/{qms.slug}/library/new",
            data=form(content=content, filename="plan.odt"),
            content_type="multipart/form-data",
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "a zip archive" in field_error(response.get_data(as_text=True), "file")
    # Unzipped whole, its entry alone would take 128 MB.
    assert peak < 32 * 1024 * 1024, f"{peak / 2**20:.0f} MB held for a {len(content):,}-byte upload"
    assert_no_trace(app)


def test_a_zip_listing_more_entries_than_a_document_has_is_not_looked_into(
    signed_in, app, qms, monkeypatch
):
    """Its directory is not read (300,000 entries fit in 25 MB), so it is not taken for the
    document its names suggest."""
    guide = office_package(
        "word/document.xml", first="_rels/.rels"
    )  # libmagic says "zip": 3 entries
    monkeypatch.setattr(files, "MAX_ZIP_ENTRIES", 2)
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=guide, filename="guide.docx"),
        content_type="multipart/form-data",
    )
    assert "a zip archive" in field_error(response.get_data(as_text=True), "file")
    assert_no_trace(app)
    monkeypatch.setattr(files, "MAX_ZIP_ENTRIES", 3)
    resource = share(signed_in, qms, content=guide, filename="guide.docx")
    assert resource.current_version.mime == OOXML + "wordprocessingml.document"


def test_a_zip_whose_end_record_understates_its_entries_is_not_looked_into(
    signed_in, app, qms, monkeypatch
):
    """zipfile reads the whole directory by its size in bytes, whatever count of entries the end
    record claims: an OpenDocument text (its mimetype deflated, so libmagic says only "zip")
    padded to 1,500 entries said to be 1 (its directory over a cap lowered to 64 KB for the test)
    is refused unread, not read through and accepted."""
    monkeypatch.setattr(files, "MAX_ZIP_DIRECTORY", 64 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", ODF + "text")
        for n in range(1_500):
            archive.writestr(f"Pictures/image{n:05}-with-a-longish-name.xml", "")
    content = bytearray(buffer.getvalue())
    end = content.rfind(b"PK\x05\x06")
    content[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2  # entries here, and in all
    assert int.from_bytes(content[end + 12 : end + 16], "little") > files.MAX_ZIP_DIRECTORY
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=bytes(content), filename="guide.odt"),
        content_type="multipart/form-data",
    )
    assert "a zip archive" in field_error(response.get_data(as_text=True), "file")
    assert_no_trace(app)


def _declaring(document: bytes, name: str, content_type: str) -> bytes:
    """The document with a part of that content type under a name of no particular kind, as
    its ``[Content_Types].xml`` declares it (how Office finds a part, whatever its name)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(document)) as source, zipfile.ZipFile(out, "w") as archive:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "[Content_Types].xml":
                override = f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>'
                data = data.replace(b"</Types>", override.encode())
            archive.writestr(entry, data)
        archive.writestr(name, b"\x00code")
    return out.getvalue()


def _with_part(document: bytes, name: str) -> bytes:
    """The document with one more part, as an Office program saving macros or controls adds."""
    out = io.BytesIO(document)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(name, b"\x00code")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "label"),
    [
        (_with_part(docx_bytes(), "word/vbaProject.bin"), "plan.docx", "Word document"),
        (_with_part(docx_bytes(), "word/vbaProject.bin"), "plan.docm", "Word document"),
        (_with_part(xlsx_bytes("Sheet", "1"), "xl/vbaProject.bin"), "plan.xlsx", "Excel"),
        (_with_part(docx_bytes(), "word/activeX/activeX1.xml"), "form.docx", "Word document"),
        (_with_part(xlsx_bytes("Sheet", "1"), "xl/macrosheets/sheet2.xml"), "old.xlsx", "Excel"),
        (
            _declaring(docx_bytes(), "word/x.bin", "application/vnd.ms-office.vbaProject"),
            "renamed.docx",
            "Word document",
        ),
        (
            _with_part(odf_bytes("text", "<office:text/>"), "Basic/Standard/Module1.xml"),
            "plan.odt",
            "OpenDocument",
        ),
    ],
    ids=["docx", "docm", "xlsx", "activex", "macro-sheet", "by-content-type", "odt"],
)
def test_a_document_carrying_macros_or_controls_is_refused(
    signed_in, app, qms, content, filename, label
):
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=content, filename=filename),
        content_type="multipart/form-data",
    )
    error = field_error(response.get_data(as_text=True), "file")
    assert "with macros or controls" in error and label in error, error
    assert_no_trace(app)


def test_a_document_without_macros_is_accepted(signed_in, qms):
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=docx_bytes(), filename="plan.docx"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def test_a_document_too_large_a_package_to_check_is_refused_not_let_through(
    signed_in, app, qms, monkeypatch
):
    # libmagic knows it from its first entries; its directory is over what is read for macros.
    monkeypatch.setattr(files, "MAX_ZIP_ENTRIES", 2)
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=docx_bytes(), filename="plan.docx"),
        content_type="multipart/form-data",
    )
    assert "could not be checked" in field_error(response.get_data(as_text=True), "file")
    assert_no_trace(app)
