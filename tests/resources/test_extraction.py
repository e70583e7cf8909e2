"""Reading the words inside PowerPoint and OpenDocument files for search: every place a document
keeps its words, nothing that is not its words, and the bounds that hold against a hostile file."""

from __future__ import annotations

import io
import logging
import time
import zipfile
from pathlib import Path

import pytest

from peerlearn.resources import extraction
from tests.documents import ODF, PPTX, odf_bytes, odf_paragraphs, pptx_bytes

LIMITS = {"max_bytes": 10 * 1024 * 1024, "timeout": 20.0}


def read(tmp_path: Path, content: bytes, mime: str) -> str | None:
    """The text search keeps for a file with this content and type."""
    path = tmp_path / "upload"
    path.write_bytes(content)
    return extraction.extract_text(path, mime, **LIMITS)


def test_a_presentation_gives_its_titles_text_tables_groups_and_notes(tmp_path):
    content = pptx_bytes(
        "Quillwort huddle",
        "Zanzibarite audit cycle",
        cell="Kumquat measure",
        grouped="Marigold callout",
        notes="Persimmon speaker notes",
    )
    text = read(tmp_path, content, PPTX)
    assert text is not None
    for words in (
        "Quillwort huddle",
        "Zanzibarite audit cycle",
        "Kumquat measure",
        "Marigold callout",
        "Persimmon speaker notes",
    ):
        assert words in text, words


#: An OpenDocument text with words in every place it keeps them, and in ways a reader must not
#: run together or split.
ODT_BODY = (
    '<text:h text:outline-level="1">Quillwort heading</text:h>'
    # A word across a change of style; a space, a tab and a line break between words.
    "<text:p>Zanzi<text:span>barite</text:span> audit<text:s/>cycle<text:tab/>review"
    "<text:line-break/>meeting"
    '<text:note text:note-class="footnote"><text:note-citation>7</text:note-citation>'
    "<text:note-body><text:p>Kumquat footnote</text:p></text:note-body></text:note>"
    ' see <text:a xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="https://example.org/">'
    "the guide</text:a>"
    '<office:annotation xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:creator>Tobias Wren</dc:creator><dc:date>2026-01-01T09:00:00</dc:date>"
    "<text:p>Tamarind comment</text:p></office:annotation></text:p>"
    "<text:list><text:list-item><text:p>Marigold item</text:p></text:list-item></text:list>"
    '<table:table table:name="Table1"><table:table-row><table:table-cell>'
    "<text:p>Persimmon cell</text:p></table:table-cell></table:table-row></table:table>"
)


def test_an_opendocument_text_gives_its_words_as_the_reader_sees_them(tmp_path):
    text = read(tmp_path, odf_bytes("text", ODT_BODY), ODF + "text")
    assert text is not None
    for words in (
        "Quillwort heading",
        "Zanzibarite audit cycle review meeting",
        "Kumquat footnote",
        "see the guide",
        "Tamarind comment",
        "Marigold item",
        "Persimmon cell",
    ):
        assert words in text, words
    assert text.count("Kumquat") == 1  # a footnote is read once, not again with its paragraph
    for not_words in ("meeting7", "example.org", "Tobias", "2026"):
        assert not_words not in text, not_words


def test_an_opendocument_spreadsheet_gives_its_sheet_names_and_cells(tmp_path):
    body = (
        '<table:table table:name="Quillwort measures">'
        '<table:table-column table:number-columns-repeated="16384"/>'
        '<table:table-row><table:table-cell office:value-type="string">'
        "<text:p>Length of stay</text:p></table:table-cell>"
        '<table:table-cell office:value-type="float" office:value="6.2"><text:p>6.2</text:p>'
        '</table:table-cell><table:table-cell table:number-columns-repeated="16382"/>'
        "</table:table-row>"
        # A spreadsheet program's usual million empty rows: not expanded, not slow.
        '<table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
        "</table:table>"
    )
    text = read(tmp_path, odf_bytes("spreadsheet", body), ODF + "spreadsheet")
    assert text == "Quillwort measures Length of stay 6.2"


def test_an_opendocument_presentation_gives_its_slides_and_notes(tmp_path):
    body = (
        '<draw:page draw:name="Slide 1">'
        '<draw:frame presentation:class="title"><draw:text-box>'
        "<text:p>Quillwort huddle</text:p></draw:text-box></draw:frame>"
        "<draw:frame><draw:text-box><text:list><text:list-item><text:p>Zanzibarite audit</text:p>"
        "</text:list-item></text:list></draw:text-box></draw:frame>"
        "<presentation:notes><draw:frame><draw:text-box><text:p>Persimmon speaker notes</text:p>"
        "</draw:text-box></draw:frame></presentation:notes>"
        "</draw:page>"
    )
    text = read(tmp_path, odf_bytes("presentation", body), ODF + "presentation")
    assert text == "Quillwort huddle Zanzibarite audit Persimmon speaker notes"


def _truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]


#: Damaged files of each type: (type, content).
CORRUPT = {
    "pptx cut short": (PPTX, _truncated(pptx_bytes("Quillwort huddle", "Zanzibarite"))),
    "pptx without its slides": (PPTX, odf_bytes("text", "<text:p>Quillwort</text:p>")),
    "odt cut short": (ODF + "text", _truncated(odf_paragraphs("text", "Quillwort " * 200))),
    "odt with broken XML": (
        ODF + "text",
        odf_bytes("text", "", content="<office:document-content><text:p>Quillwort"),
    ),
    "ods with broken XML": (
        ODF + "spreadsheet",
        odf_bytes("spreadsheet", "", content="<?xml version='1.0'?><table:table>Quillwort"),
    ),
    "odp that is not a zip": (ODF + "presentation", b"PK\x03\x04 Quillwort " * 50),
}


@pytest.mark.parametrize(("mime", "content"), CORRUPT.values(), ids=CORRUPT.keys())
def test_a_damaged_file_gives_nothing_and_is_logged(tmp_path, caplog, mime, content):
    caplog.set_level(logging.WARNING, logger=extraction.__name__)
    assert read(tmp_path, content, mime) is None
    assert "text extraction from upload failed" in caplog.text


@pytest.mark.parametrize(
    ("mime", "make"),
    [
        (PPTX, lambda *lines: pptx_bytes("Title", "\n".join(lines))),
        (ODF + "text", lambda *lines: odf_paragraphs("text", *lines)),
        (ODF + "spreadsheet", lambda *lines: odf_paragraphs("spreadsheet", *lines)),
        (ODF + "presentation", lambda *lines: odf_paragraphs("presentation", *lines)),
    ],
    ids=["pptx", "odt", "ods", "odp"],
)
def test_paragraphs_past_the_limit_are_not_read(tmp_path, mime, make):
    # Lines that differ, as real ones do: odfdo refuses a file that compresses over 200 to 1.
    lines = ["Marigold", *(f"line {n}" for n in range(extraction.MAX_PARAGRAPHS - 1)), "Quillwort"]
    text = read(tmp_path, make(*lines), mime)
    assert text is not None
    assert "Marigold" in text
    assert "Quillwort" not in text


@pytest.mark.parametrize(
    ("mime", "make"),
    [
        (PPTX, lambda words: pptx_bytes("Title", words)),
        (ODF + "text", lambda words: odf_paragraphs("text", words)),
    ],
    ids=["pptx", "odt"],
)
def test_a_document_over_the_character_limit_is_cut(tmp_path, mime, make):
    words = " ".join(f"Marigold{n}" for n in range(extraction.MAX_CHARACTERS // 10)) + " Quillwort"
    text = read(tmp_path, make(words), mime)
    assert text is not None
    assert len(text) <= extraction.MAX_CHARACTERS
    assert text.startswith("Title Marigold" if mime == PPTX else "Marigold")
    assert "Quillwort" not in text


def _with_a_huge_part(content: bytes, name: str) -> bytes:
    """The package with one more part that unzips to just over the limit (a zip bomb: it
    compresses to about 100 KB)."""
    out = io.BytesIO(content)
    chunk = b" " * (1024 * 1024)
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w") as part,
    ):
        for _ in range(extraction.MAX_UNZIPPED // len(chunk) + 1):
            part.write(chunk)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mime", "content", "part"),
    [
        (PPTX, pptx_bytes("Quillwort huddle"), "ppt/media/padding.bin"),
        (ODF + "text", odf_paragraphs("text", "Quillwort"), "styles.xml"),
    ],
    ids=["pptx", "odt"],
)
def test_a_file_that_would_unzip_too_large_is_not_read(tmp_path, caplog, mime, content, part):
    caplog.set_level(logging.WARNING, logger=extraction.__name__)
    bomb = _with_a_huge_part(content, part)
    assert len(bomb) < 1024 * 1024
    assert read(tmp_path, bomb, mime) is None
    assert "unzip" in caplog.text


def test_an_xml_entity_bomb_is_refused_at_once(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger=extraction.__name__)
    entities = '<!ENTITY a0 "Quillwort">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    content = odf_bytes(
        "text",
        "",
        content=(
            f'<?xml version="1.0"?><!DOCTYPE office:document-content [{entities}]>'
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
            ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            "<office:body><office:text><text:p>&a9;</text:p></office:text></office:body>"
            "</office:document-content>"
        ),
    )
    started = time.monotonic()
    assert read(tmp_path, content, ODF + "text") is None
    assert time.monotonic() - started < LIMITS["timeout"] / 2  # refused, not timed out
    assert "text extraction from upload failed" in caplog.text
