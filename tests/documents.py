"""Small real PowerPoint, Excel and OpenDocument files, made in the test, for the tests of what search
reads inside uploads and of which uploads are accepted; and zip archives that only look like them."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches

OOXML = "application/vnd.openxmlformats-officedocument."
PPTX = OOXML + "presentationml.presentation"
ODF = "application/vnd.oasis.opendocument."

#: The namespaces an OpenDocument body uses, declared on its root.
ODF_NAMESPACES = " ".join(
    f'xmlns:{prefix}="urn:oasis:names:tc:opendocument:xmlns:{name}"'
    for prefix, name in (
        ("office", "office:1.0"),
        ("text", "text:1.0"),
        ("table", "table:1.0"),
        ("draw", "drawing:1.0"),
        ("presentation", "presentation:1.0"),
        ("svg", "svg-compatible:1.0"),
    )
)


def pptx_bytes(
    title: str, body: str = "", *, cell: str = "", grouped: str = "", notes: str = ""
) -> bytes:
    """A one-slide presentation made with python-pptx: a title and body and, when given, a table
    cell, a text box inside a group of shapes, and speaker notes."""
    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])  # title and content
    slide.shapes.title.text = title
    slide.placeholders[1].text_frame.text = body
    if cell:
        table = slide.shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table
        table.cell(1, 1).text = cell
    if grouped:
        group = slide.shapes.add_group_shape()
        box = group.shapes.add_textbox(Inches(6), Inches(4), Inches(3), Inches(1))
        box.text_frame.text = grouped
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def xlsx_bytes(sheet: str, *cells: str) -> bytes:
    """A workbook made with openpyxl: one sheet of this name, the cells down its first column."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for cell in cells:
        worksheet.append([cell])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def odf_bytes(kind: str, body: str, content: str | None = None) -> bytes:
    """A minimal valid OpenDocument file (``kind`` is text, spreadsheet or presentation) whose
    body is the XML ``body``: its ``mimetype`` first and uncompressed, a manifest, and
    ``content.xml`` (or ``content`` instead, as it is)."""
    mime = ODF + kind
    if content is None:
        content = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<office:document-content {ODF_NAMESPACES} office:version="1.3">'
            f"<office:body><office:{kind}>{body}</office:{kind}></office:body>"
            "</office:document-content>"
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", mime, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
            ' manifest:version="1.3">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
        archive.writestr("content.xml", content)
    return out.getvalue()


def odf_paragraphs(kind: str, *paragraphs: str) -> bytes:
    """An OpenDocument file whose text is these paragraphs: in a text document as they are, in
    a spreadsheet one a cell down the first sheet, in a presentation in a text box on one slide."""
    xml = "".join(f"<text:p>{paragraph}</text:p>" for paragraph in paragraphs)
    if kind == "spreadsheet":
        rows = "".join(
            '<table:table-row><table:table-cell office:value-type="string">'
            f"<text:p>{paragraph}</text:p></table:table-cell></table:table-row>"
            for paragraph in paragraphs
        )
        xml = f'<table:table table:name="Sheet1">{rows}</table:table>'
    elif kind == "presentation":
        xml = (
            '<draw:page draw:name="Slide 1"><draw:frame svg:width="20cm" svg:height="10cm">'
            f"<draw:text-box>{xml}</draw:text-box></draw:frame></draw:page>"
        )
    return odf_bytes(kind, xml)


def zip_bytes() -> bytes:
    """A plain zip archive: no document format's parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "Tools")
    return out.getvalue()


def office_package(main_part: str, first: str = "[Content_Types].xml") -> bytes:
    """A minimal Office Open XML package whose main part says what it is, with ``first`` as its
    first entry (libmagic knows the package only when that is ``[Content_Types].xml``)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in dict.fromkeys([first, "[Content_Types].xml", "_rels/.rels", main_part]):
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?><x/>')
    return out.getvalue()
