"""The library's one bounded child process, for the work on files someone else made: reading
the words inside an uploaded document, for search, and re-encoding an uploaded image
(:func:`peerlearn.resources.files.reencoded_image`).

Words are read from PDF (pypdf), Word (python-docx), Excel (openpyxl, read-only), PowerPoint
(python-pptx: every shape's text, in groups and tables too, and the speaker notes), OpenDocument
text, spreadsheets and presentations (odfdo) and plain text or CSV. Images are not read for words.

OpenDocument is read with odfdo, the OpenDocument library that is kept up (many releases a year,
and its own zip bomb checks); odfpy, the older one, was last released in 2020. odfdo parses with
lxml, as python-docx and python-pptx do: libxml2 refuses runaway entity expansion (the "billion
laughs") and fetches no external entity.

Working on a file someone else made is risky (a hostile file can take a parser a very long time,
or a great deal of memory), so it is bounded on every side:

- only files up to ``EXTRACTION_MAX_BYTES`` (10 MB by default) are read for words;
- Word, PowerPoint and OpenDocument files, which their libraries unzip whole, are not read when
  they would unzip to more than :data:`MAX_UNZIPPED` bytes (a zip bomb): the zip's own record
  of each part's size is checked first, and Python's zipfile never gives more than that record;
- at most :data:`MAX_PAGES` PDF pages, :data:`MAX_SLIDES` slides, :data:`MAX_PARAGRAPHS`
  paragraphs and table cells of a Word, PowerPoint or OpenDocument file, :data:`MAX_CELLS`
  Excel cells, and :data:`MAX_CHARACTERS` characters of output;
- images over ``UPLOAD_MAX_PIXELS`` are refused from their header, before they are decoded;
- the work runs in a separate Python process (:func:`run_in_child`: ``python -I`` on this file,
  importing none of the app) with a memory limit, killed after a timeout
  (``EXTRACTION_TIMEOUT``, 10 s by default, for words; ``UPLOAD_IMAGE_TIMEOUT``, 30 s, for an
  image). :func:`subprocess.run` kills the child on timeout; under gevent's monkey-patching it
  waits cooperatively, and under threads it blocks only the request's own thread, so one stalled
  file never stalls the server.

A failure of any kind to read words is logged and gives None: the resource stays searchable by
its metadata. An image that cannot be re-encoded is refused.
"""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAX_PAGES = 200
MAX_SLIDES = 1_000
MAX_PARAGRAPHS = 20_000
MAX_CELLS = 50_000
MAX_CHARACTERS = 500_000
#: The most a Word, PowerPoint or OpenDocument file may unzip to (all its parts together).
MAX_UNZIPPED = 100 * 1024 * 1024
#: The child process's address-space limit.
MAX_MEMORY = 1024 * 1024 * 1024

_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
#: The types stored for uploads (``files.ALLOWED``) whose words are read, and their readers.
READABLE = {
    "application/pdf": "pdf",
    _OOXML + "wordprocessingml.document": "docx",
    _OOXML + "spreadsheetml.sheet": "xlsx",
    _OOXML + "presentationml.presentation": "pptx",
    _ODF + "text": "odf",
    _ODF + "spreadsheet": "odf",
    _ODF + "presentation": "odf",
    "text/plain": "text",
    "text/csv": "text",
}


def extract_text(path: Path, mime: str, *, max_bytes: int, timeout: float) -> str | None:
    """The document's text (at most :data:`MAX_CHARACTERS`), or None when its type is not read,
    it is too large, or reading it failed or took too long."""
    reader = READABLE.get(mime)
    if reader is None:
        return None
    size = path.stat().st_size
    if size > max_bytes:
        logger.info("not extracting text from %s: %d bytes is over the limit", path.name, size)
        return None
    try:
        done = run_in_child(reader, str(path), timeout=timeout)
    except subprocess.TimeoutExpired:
        logger.warning("text extraction from %s took over %ss: stopped", path.name, timeout)
        return None
    except OSError:
        logger.exception("text extraction from %s could not start", path.name)
        return None
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace")[-2000:]
        logger.warning("text extraction from %s failed: %s", path.name, error)
        return None
    # A NUL (which PDFs with odd font encodings give) separates words: PostgreSQL cannot store it.
    words = done.stdout.decode("utf-8", "replace").replace("\x00", " ").split()
    text = " ".join(words)[:MAX_CHARACTERS]
    return text or None


def run_in_child(job: str, *args: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run one of this file's jobs (a reader's name, or ``image``) in the bounded child process,
    its output captured. Raises :class:`subprocess.TimeoutExpired` once the child has been
    killed after ``timeout`` seconds, and :class:`OSError` if it cannot start."""
    command = [sys.executable, "-I", str(Path(__file__).resolve()), job, *args]
    # No shell; the arguments are this interpreter, this file, a fixed job name and values the
    # app chose (paths in its own storage and scratch space, a format, a number).
    return subprocess.run(command, capture_output=True, timeout=timeout, check=False)  # noqa: S603


# In the child process --------------------------------------------------------------------------


def _pdf(path: str) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]


def _check_unzipped(path: str) -> None:
    """Stop before a library unzips the file whole if it would come to over
    :data:`MAX_UNZIPPED` bytes."""
    with zipfile.ZipFile(path) as archive:
        size = sum(info.file_size for info in archive.infolist())
    if size > MAX_UNZIPPED:
        raise ValueError(f"it would unzip to {size} bytes, over {MAX_UNZIPPED}")


def _docx(path: str) -> list[str]:
    import docx

    _check_unzipped(path)
    document = docx.Document(path)
    words = [p.text for p in document.paragraphs[:MAX_PARAGRAPHS]]
    cells = 0
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                words.append(cell.text)
                cells += 1
                if cells >= MAX_PARAGRAPHS:
                    return words
    return words


def _xlsx(path: str) -> list[str]:
    from openpyxl import load_workbook

    words: list[str] = []
    # An open file, not the path: openpyxl refuses a path without an Excel extension, and
    # uploads are stored under names of the storage's own.
    with open(path, "rb") as file:
        workbook = load_workbook(file, read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                words.append(sheet.title)
                for row in sheet.iter_rows(values_only=True):
                    words.extend(str(value) for value in row if value is not None)
                    if len(words) >= MAX_CELLS:
                        return words
        finally:
            workbook.close()
    return words


def _pptx(path: str) -> list[str]:
    from pptx import Presentation

    _check_unzipped(path)
    words: list[str] = []
    for slide in itertools.islice(Presentation(path).slides, MAX_SLIDES):
        frames = _pptx_frames(slide.shapes)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            frames = itertools.chain(frames, [slide.notes_slide.notes_text_frame])
        for frame in frames:
            for paragraph in frame.paragraphs:
                words.append(paragraph.text)
                if len(words) >= MAX_PARAGRAPHS:
                    return words
    return words


def _pptx_frames(shapes: Iterable[Any]) -> Iterator[Any]:
    """The text frames of a slide's shapes, inside groups and table cells too."""
    from pptx.shapes.group import GroupShape

    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _pptx_frames(shape.shapes)
        elif shape.has_text_frame:
            yield shape.text_frame
        elif shape.has_table:
            for row in shape.table.rows:
                for cell in row.cells:
                    yield cell.text_frame


def _odf(path: str) -> list[str]:
    from odfdo import Document

    _check_unzipped(path)
    document = Document(path)
    body = document.body
    words = []
    if document.get_type() == "spreadsheet":
        words.extend(sheet.name or "" for sheet in body.get_tables())
    # Paragraphs and headings not inside another (whose words hold theirs): the document's text,
    # its table cells, the text boxes on its slides and their notes.
    outermost = "[not(ancestor::text:p or ancestor::text:h)]"
    found = body.xpath(f"descendant::text:p{outermost} | descendant::text:h{outermost}")
    words.extend(_odf_words(paragraph) for paragraph in found[:MAX_PARAGRAPHS])
    return words


#: Inside a paragraph, what stands apart from the words around it: spaces, tabs and line breaks,
#: and the paragraphs of a footnote, comment or text box.
_ODF_APART = {"text:s", "text:tab", "text:line-break", "text:p", "text:h"}
#: Not the document's words: a footnote's number, a comment's author and date.
_ODF_UNREAD = {"text:note-citation", "dc:creator", "dc:date"}


def _odf_words(element: Any) -> str:
    """An OpenDocument element's words, run together where the document runs them together
    (across a change of style or a link) and apart where it shows them apart. odfdo's own
    ``str()`` is a formatted rendering: it adds link addresses and comments' authors and dates,
    and runs a footnote's number and a comment into the word before them."""
    parts = [element.text]
    for child in element.children:
        try:
            tag = child.tag
        except ValueError:  # a namespace odfdo does not know (an extension): words run on
            tag = ""
        if tag in _ODF_APART:
            parts.append(f" {_odf_words(child)} ")
        elif tag not in _ODF_UNREAD:
            parts.append(_odf_words(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _text(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as file:
        return [file.read(MAX_CHARACTERS)]


#: How each image format is written again. PNG at zlib level 3 rather than Pillow's
#: ``optimize`` (level 9 and a search for the best filter), which took 146 s and 850 MB for a
#: noisy 40-megapixel PNG; level 3 is within a few seconds at the 25-megapixel cap, 15–25%
#: larger than the default level 6 and over twice as fast. WebP at method 2, not the default 4:
#: no larger where we measured, in under half the time and two thirds of the memory (a noisy
#: 25-megapixel WebP needs about 650 MB of the child's :data:`MAX_MEMORY`). JPEG and WebP at
#: quality 90.
IMAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "PNG": {"compress_level": 3},
    "JPEG": {"quality": 90},
    "WEBP": {"quality": 90, "method": 2},
}


def _image(image_format: str, max_pixels: str, source: str, target: str) -> dict[str, Any]:
    """Write the image at ``source`` again to ``target`` in its own format, from its pixels
    alone: no EXIF, XMP, ICC, text chunks or trailing data, turned the way its camera meant.
    Returns what the parent is told: ``{}`` when written, otherwise why not (``too_large``, with
    the size when the header gave it, or ``unreadable``). An image over ``max_pixels`` is
    refused from its header, before it is decoded."""
    import warnings

    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            # Pillow warns before refusing a decompression bomb: refuse it at the warning.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=[image_format])
        with image:
            width, height = image.size
            if width * height > int(max_pixels):
                return {"refused": "too_large", "width": width, "height": height}
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return {"refused": "too_large"}
    except (OSError, SyntaxError, ValueError):
        return {"refused": "unreadable"}
    keep_alpha = "A" in upright.getbands() or "transparency" in upright.info
    if image_format == "JPEG" or not keep_alpha:
        mode = "L" if upright.mode in {"1", "L"} else "RGB"
    else:
        mode = "RGBA"
    size = upright.size
    pixels = (upright if upright.mode == mode else upright.convert(mode)).tobytes()
    del upright  # at most two copies of the pixels in memory at once, within MAX_MEMORY
    clean = Image.frombytes(mode, size, pixels)
    del pixels
    clean.save(target, format=image_format, **IMAGE_OPTIONS[image_format])
    return {}


def _main(job: str, *args: str) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY, MAX_MEMORY))
    except (ImportError, ValueError, OSError):  # not on this platform
        pass
    if job == "image":
        sys.stdout.write(json.dumps(_image(*args)))
        return
    readers = {
        "pdf": _pdf,
        "docx": _docx,
        "xlsx": _xlsx,
        "pptx": _pptx,
        "odf": _odf,
        "text": _text,
    }
    total, out = 0, []
    for words in readers[job](*args):
        out.append(words)
        total += len(words) + 1
        if total >= MAX_CHARACTERS:
            break
    sys.stdout.buffer.write(" ".join(out)[:MAX_CHARACTERS].encode("utf-8"))


if __name__ == "__main__":
    _main(*sys.argv[1:])
