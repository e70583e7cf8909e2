"""The words inside an uploaded document, for search: PDF (pypdf), Word (python-docx), Excel
(openpyxl, read-only) and plain text or CSV. OpenDocument and PowerPoint files are not read
yet: they stay findable by everything else said about them.

Reading a document someone else made is risky (a hostile file can take a parser a very long
time, or a great deal of memory), so it is bounded on every side:

- only files up to ``EXTRACTION_MAX_BYTES`` (10 MB by default) are read;
- at most :data:`MAX_PAGES` PDF pages, :data:`MAX_PARAGRAPHS` Word paragraphs and table cells,
  :data:`MAX_CELLS` spreadsheet cells, and :data:`MAX_CHARACTERS` characters of output;
- the parsing runs in a separate Python process (``python -I`` on this file, importing none of
  the app) with a memory limit, killed after ``EXTRACTION_TIMEOUT`` seconds (10 by default).
  :func:`subprocess.run` kills the child on timeout; under gevent's monkey-patching it waits
  cooperatively, and under threads it blocks only the request's own thread, so one stalled
  document never stalls the server.

A failure of any kind is logged and gives None: the resource stays searchable by its metadata.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_PAGES = 200
MAX_PARAGRAPHS = 20_000
MAX_CELLS = 50_000
MAX_CHARACTERS = 500_000
#: The child process's address-space limit.
MAX_MEMORY = 1024 * 1024 * 1024

_OOXML = "application/vnd.openxmlformats-officedocument."
READABLE = {
    "application/pdf": "pdf",
    _OOXML + "wordprocessingml.document": "docx",
    _OOXML + "spreadsheetml.sheet": "xlsx",
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
    command = [sys.executable, "-I", str(Path(__file__).resolve()), reader, str(path)]
    try:
        # No shell; the arguments are this interpreter, this file, a fixed reader name and a
        # path in the app's own storage.
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, timeout=timeout, check=False
        )
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
    text = " ".join(done.stdout.decode("utf-8", "replace").split())[:MAX_CHARACTERS]
    return text or None


# In the child process --------------------------------------------------------------------------


def _pdf(path: str) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]


def _docx(path: str) -> list[str]:
    import docx

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

    workbook = load_workbook(path, read_only=True, data_only=True)
    words: list[str] = []
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


def _text(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as file:
        return [file.read(MAX_CHARACTERS)]


def _main(reader: str, path: str) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY, MAX_MEMORY))
    except (ImportError, ValueError, OSError):  # not on this platform
        pass
    readers = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "text": _text}
    total, out = 0, []
    for words in readers[reader](path):
        out.append(words)
        total += len(words) + 1
        if total >= MAX_CHARACTERS:
            break
    sys.stdout.buffer.write(" ".join(out)[:MAX_CHARACTERS].encode("utf-8"))


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
