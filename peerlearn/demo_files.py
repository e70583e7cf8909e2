"""Small, believable demo documents built in memory: PDF (fpdf2), Word (python-docx) and Excel
(openpyxl).

The demo library stores these through the real storage layer, so downloading one gives a file
that opens in a PDF reader, Word or Excel. Each builder takes a title and plain text, and gives
the same bytes for the same input (the dates inside the files are fixed), so identical content is
stored once.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

#: The date written into every demo document's properties, so the bytes never change.
FIXED_DATE = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
AUTHOR = "peerlearn demo"

#: Characters the PDF core fonts (Latin-1) cannot draw, and what to draw instead.
_LATIN1 = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})


@dataclass(frozen=True)
class Section:
    """A heading and its paragraphs (a paragraph starting with "- " is a bullet)."""

    heading: str
    paragraphs: Sequence[str]


def pdf_document(title: str, sections: Sequence[Section], subtitle: str = "") -> bytes:
    """A short A4 PDF report: a title, an optional subtitle, then headed sections."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author(AUTHOR)
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 9, title.translate(_LATIN1), new_x="LMARGIN", new_y="NEXT")
    if subtitle:
        pdf.set_font("Helvetica", "", 11)
        pdf.set_text_color(66, 84, 98)
        pdf.multi_cell(0, 6, subtitle.translate(_LATIN1), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    for section in sections:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, section.heading.translate(_LATIN1), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        for paragraph in section.paragraphs:
            text = paragraph.translate(_LATIN1)
            if text.startswith("- "):
                text = "  - " + text[2:]
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    return bytes(pdf.output())


def word_document(title: str, sections: Sequence[Section], subtitle: str = "") -> bytes:
    """A Word (.docx) document: a title, an optional subtitle, then headed sections."""
    from docx import Document

    document = Document()
    properties = document.core_properties
    properties.title, properties.author, properties.last_modified_by = title, AUTHOR, AUTHOR
    properties.created = properties.modified = FIXED_DATE.replace(tzinfo=None)
    properties.revision = 1
    document.add_heading(title, level=0)
    if subtitle:
        document.add_paragraph().add_run(subtitle).italic = True
    for section in sections:
        document.add_heading(section.heading, level=1)
        for paragraph in section.paragraphs:
            if paragraph.startswith("- "):
                document.add_paragraph(paragraph[2:], style="List Bullet")
            else:
                document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def spreadsheet(title: str, sheets: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> bytes:
    """An Excel (.xlsx) workbook: each sheet a name and rows, the first row its bold header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.properties.title = title
    workbook.properties.creator = workbook.properties.lastModifiedBy = AUTHOR
    workbook.properties.created = workbook.properties.modified = FIXED_DATE.replace(tzinfo=None)
    workbook.remove(workbook.active)
    for name, rows in sheets:
        sheet = workbook.create_sheet(name[:31])
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            width = max(len(str(cell.value or "")) for cell in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
