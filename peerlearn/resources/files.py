"""What files the library accepts and how it hands them out.

A file's type is decided by its content (libmagic, through python-magic), never by its name or
the browser's claim, and must be on the allow-list; the name's extension must agree with it.
Images are re-encoded with Pillow, in the library's bounded child process, which drops their
metadata (location, camera, comments) and anything hidden after the pixels. Names are only ever
shown and offered on download, never used as paths. Downloads carry an RFC 6266 ``Content-Disposition`` that survives any Unicode name.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import subprocess
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import magic

from peerlearn.core.errors import RuleError
from peerlearn.resources import extraction

logger = logging.getLogger(__name__)

#: How much of a file libmagic reads to decide its type: the start is what it looks at (its own
#: default would read up to 7 MB of a large file).
SNIFF_BYTES = 1024 * 1024
#: Longest file name kept (characters, before the classification prefix added on download).
MAX_FILENAME = 255


class UploadError(RuleError):
    """The file cannot be accepted; the message goes beside the file field."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class FileType:
    """A type the library accepts."""

    mime: str
    label: str
    extensions: tuple[str, ...]
    #: Shown in the browser (in a sandbox) rather than only downloaded.
    inline: bool = False
    #: Re-encoded with Pillow in this format.
    image_format: str | None = None


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

ALLOWED: dict[str, FileType] = {
    t.mime: t
    for t in (
        FileType("application/pdf", "PDF document", ("pdf",), inline=True),
        FileType(_OOXML + "wordprocessingml.document", "Word document", ("docx",)),
        FileType(_OOXML + "spreadsheetml.sheet", "Excel spreadsheet", ("xlsx",)),
        FileType(_OOXML + "presentationml.presentation", "PowerPoint presentation", ("pptx",)),
        FileType(_ODF + "text", "OpenDocument text", ("odt",)),
        FileType(_ODF + "spreadsheet", "OpenDocument spreadsheet", ("ods",)),
        FileType(_ODF + "presentation", "OpenDocument presentation", ("odp",)),
        FileType("text/csv", "CSV file", ("csv",)),
        FileType("text/plain", "plain text file", ("txt",)),
        FileType("image/png", "PNG image", ("png",), inline=True, image_format="PNG"),
        FileType("image/jpeg", "JPEG image", ("jpg", "jpeg"), inline=True, image_format="JPEG"),
        FileType("image/webp", "WebP image", ("webp",), inline=True, image_format="WEBP"),
    )
}

#: What to call content we refuse, in the error message.
_REFUSED_NAMES = {
    "text/html": "a web page (HTML)",
    "image/svg+xml": "an SVG image",
    "application/zip": "a zip archive",
    "application/x-empty": "empty",
    "application/javascript": "a script",
    "text/javascript": "a script",
    "text/xml": "an XML file",
    "application/xml": "an XML file",
    "application/x-dosexec": "a program",
    "application/x-executable": "a program",
    "application/x-sharedlib": "a program",
    "application/msword": "an old-style Word document (.doc)",
    "application/vnd.ms-excel": "an old-style Excel file (.xls)",
    "application/vnd.ms-powerpoint": "an old-style PowerPoint file (.ppt)",
    "image/gif": "a GIF image",
    "image/heic": "a HEIC image",
}

ACCEPTED_SUMMARY = (
    "a PDF, a Word, Excel or PowerPoint file, an OpenDocument file, a CSV or plain text file, "
    "or a PNG, JPEG or WebP image"
)
#: For the file input's ``accept`` attribute (a hint to the browser; the server decides).
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for t in ALLOWED.values() for ext in t.extensions)

#: Characters that could make a name lie about itself: text direction overrides and isolates.
_BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = {"\u200c", "\u200d"}  # used inside emoji and some scripts: harmless


def clean_filename(name: str | None) -> str:
    """The name to show and offer on download, or :class:`UploadError` saying what is wrong
    with it. Names with folders, ``..``, control characters or over 255 characters are refused
    rather than silently changed, so the person knows what they will see."""
    name = unicodedata.normalize("NFC", name or "")
    if not name.strip():
        raise UploadError("Select a file to upload")
    if "/" in name or "\\" in name:
        raise UploadError(
            "The file name must not contain folder names, slashes or “..”. "
            "Rename the file and choose it again"
        )
    if any(
        (unicodedata.category(c) in {"Cc", "Cf"} and c not in _JOINERS) or c in _BIDI_CONTROLS
        for c in name
    ):
        raise UploadError(
            "The file name contains control characters. Rename the file and choose it again"
        )
    name = " ".join(name.split())
    if len(name) > MAX_FILENAME:
        raise UploadError(
            f"The file name must be {MAX_FILENAME} characters or fewer "
            f"(this one has {len(name)}). Rename the file and choose it again"
        )
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem.strip(" .") or not extension:
        raise UploadError(
            "The file name must end with its type, like .pdf or .docx. "
            "Rename the file and choose it again"
        )
    return name


def extension_of(name: str) -> str:
    return name.rpartition(".")[2].lower()


#: The most entries a document's zip may list. Real Office and OpenDocument files have tens to a
#: few thousand (a 1,000-slide presentation with notes about 5,000); reading the directory of a
#: 25 MB zip of empty entries (some 300,000) would hold the request for seconds and 200 MB.
MAX_ZIP_ENTRIES = 10_000
#: The largest directory such a zip may have, in bytes: zipfile reads the whole directory by the
#: size its end record gives, whatever count of entries that record claims, so both are capped.
MAX_ZIP_DIRECTORY = 2 * 1024 * 1024
#: The most of an OpenDocument ``mimetype`` entry read: the longest type it names is 46 bytes.
_MIMETYPE_BYTES = 100
#: Compression methods whose reads zipfile bounds to what is asked for.
_BOUNDED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


def _zip_directory(path: Path) -> tuple[int, int] | None:
    """How many entries a zip's end record says it lists, and how many bytes its directory
    takes, read before the directory is (None: no end record, so not a zip). A zip64 file says
    65,535 entries and 4 GB."""
    with path.open("rb") as file:
        size = file.seek(0, io.SEEK_END)
        # The end record is 22 bytes, after which a comment of up to 65,535 bytes may follow.
        file.seek(max(0, size - 22 - 0xFFFF))
        tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    entries = int.from_bytes(tail[at + 10 : at + 12], "little")
    return entries, int.from_bytes(tail[at + 12 : at + 16], "little")


def _zip_within_limits(path: Path) -> bool:
    """Whether the file is a zip whose directory lists at most :data:`MAX_ZIP_ENTRIES` entries
    in at most :data:`MAX_ZIP_DIRECTORY` bytes: one that may be looked into."""
    directory = _zip_directory(path)
    return directory is not None and (
        directory[0] <= MAX_ZIP_ENTRIES and directory[1] <= MAX_ZIP_DIRECTORY
    )


def _zip_type(path: Path) -> str | None:
    """For a zip that libmagic did not recognise: the Office Open XML or OpenDocument type its
    own manifest declares, if any.

    A zip listing over :data:`MAX_ZIP_ENTRIES` entries, or with a directory over
    :data:`MAX_ZIP_DIRECTORY` bytes, is not one. Otherwise only the zip's directory (names,
    sizes, methods) and the first :data:`_MIMETYPE_BYTES` of an OpenDocument ``mimetype`` entry are read, so a small upload that would unzip to gigabytes (a
    zip bomb) costs no more than a real document. That entry is read only when it is stored or
    deflated: zipfile bounds what it inflates of a deflated entry to what is asked for, but not
    of a bzip2 or LZMA one (a 1 KB bzip2 entry can inflate to a gigabyte in one step), and the
    standard stores it uncompressed anyway."""
    if not _zip_within_limits(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                entry = archive.getinfo("mimetype")
                if entry.flag_bits & 0x1 or entry.compress_type not in _BOUNDED_METHODS:
                    return None  # encrypted, or a method zipfile inflates unbounded
                with archive.open(entry) as member:
                    declared = member.read(_MIMETYPE_BYTES).decode("ascii", "replace").strip()
                return declared if declared.startswith(_ODF) else None
            if "[Content_Types].xml" in names:
                for prefix, mime in (
                    ("word/", "wordprocessingml.document"),
                    ("xl/", "spreadsheetml.sheet"),
                    ("ppt/", "presentationml.presentation"),
                ):
                    if any(n.startswith(prefix) for n in names):
                        return _OOXML + mime
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):  # damaged: not a document
        return None
    return None


#: Parts of an Office Open XML or OpenDocument file that carry code run when it is opened, by
#: their usual names: VBA projects (Word, Excel and PowerPoint's macros), ActiveX controls, Excel
#: 4 macro sheets, and OpenDocument's Basic and script libraries.
_CODE_PARTS = re.compile(
    r"(^|/)(vbaproject\.bin|vbadata\.xml|activex/|macrosheets/|intlmacrosheets/)|^(basic|scripts)/",
    re.I,
)
#: The same parts by the content types an Office package declares for them, wherever they are.
_CODE_TYPES = re.compile(rb"vbaProject|macroEnabled|activeX|macrosheet", re.I)
#: How much of ``[Content_Types].xml`` is read (a real one is a few kilobytes).
_CONTENT_TYPES_BYTES = 256 * 1024
_UNCHECKED = (
    "The selected file could not be checked. It may be damaged: save it again and upload the copy"
)


def _code_in(path: Path) -> bool | None:
    """Whether a document carries macros or controls: a part with one of their names, or a
    content type for one in ``[Content_Types].xml`` (at most :data:`_CONTENT_TYPES_BYTES` of it,
    read as :func:`_zip_type` reads ``mimetype``). None when it cannot be checked within those
    limits (too many entries, an unbounded method, damage): such a file is refused, never let
    through unchecked."""
    if not _zip_within_limits(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if any(_CODE_PARTS.search(name) for name in names):
                return True
            if "[Content_Types].xml" not in names:
                return False  # OpenDocument: its code has the names above
            entry = archive.getinfo("[Content_Types].xml")
            if entry.flag_bits & 0x1 or entry.compress_type not in _BOUNDED_METHODS:
                return None
            with archive.open(entry) as member:
                return bool(_CODE_TYPES.search(member.read(_CONTENT_TYPES_BYTES)))
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return None


def identify(path: Path, filename: str) -> FileType:
    """The accepted type of the file's content, agreeing with its name's extension; otherwise
    :class:`UploadError` saying what the file is and what would be accepted."""
    with path.open("rb") as content:
        sniffed = magic.from_buffer(content.read(SNIFF_BYTES), mime=True)
    extension = extension_of(filename)
    if sniffed in {"application/zip", "application/octet-stream"}:
        sniffed = _zip_type(path) or sniffed
    if sniffed in {"text/plain", "text/csv"} and extension in {"csv", "txt"}:
        # libmagic tells a CSV file from other text only by guessing; the name settles it.
        sniffed = "text/csv" if extension == "csv" else "text/plain"
    if sniffed == "application/x-empty":
        raise UploadError("The selected file is empty")
    file_type = ALLOWED.get(sniffed)
    if file_type is None:
        what = _REFUSED_NAMES.get(sniffed, "a type of file the library does not accept")
        raise UploadError(f"The selected file is {what}. Upload {ACCEPTED_SUMMARY}")
    if sniffed.startswith((_OOXML, _ODF)):
        code = _code_in(path)
        if code is None:
            raise UploadError(_UNCHECKED)
        if code:
            raise UploadError(
                f"The selected file is a {file_type.label} with macros or controls, which the"
                " library does not accept. Save a copy without them and upload that"
            )
    if extension not in file_type.extensions:
        raise UploadError(
            f"The file's name ends .{extension} but it is a {file_type.label}. "
            f"Rename it to end .{file_type.extensions[0]}, or choose the right file"
        )
    return file_type


def format_pixels(count: int) -> str:
    """An image size in the units people read: 25 megapixels, 1,000 pixels."""
    return f"{count / 1_000_000:g} megapixels" if count >= 1_000_000 else f"{count:,} pixels"


_UNREADABLE = "The image could not be read. It may be damaged: save it again and upload the copy"


@contextlib.contextmanager
def reencoded_image(
    path: Path, file_type: FileType, *, max_pixels: int, timeout: float
) -> Iterator[BinaryIO]:
    """The image decoded and written again in its own format, without metadata, turned the way
    its camera meant, open for reading during the block; :class:`UploadError` when it is over
    ``max_pixels`` (refused before it is decoded), cannot be read, or takes over ``timeout``
    seconds. The work is done in the library's bounded child process
    (:func:`~peerlearn.resources.extraction.run_in_child`), so a large or hostile image costs
    the web process neither its memory nor its time; the new file is written to scratch space
    and removed after the block, once the storage layer has received it."""
    assert file_type.image_format is not None
    with tempfile.TemporaryDirectory(prefix="peerlearn-image-") as scratch:
        target = Path(scratch) / "image"
        try:
            done = extraction.run_in_child(
                "image",
                file_type.image_format,
                str(max_pixels),
                str(path),
                str(target),
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            logger.warning("re-encoding image %s took over %ss: stopped", path.name, timeout)
            raise UploadError(
                "The image took too long to process. Save it at a smaller size and upload the copy"
            ) from None
        except OSError:  # the child could not start (process or memory limits, say)
            logger.exception("re-encoding image %s could not start", path.name)
            raise UploadError(
                "The image could not be processed just now. Try again in a few minutes"
            ) from None
        if done.returncode != 0:
            error = done.stderr.decode("utf-8", "replace")[-2000:]
            logger.warning("re-encoding image %s failed: %s", path.name, error)
            raise UploadError(
                "The image could not be processed. Save it at a smaller size and upload the copy"
            )
        outcome = json.loads(done.stdout)
        if outcome.get("refused") == "too_large":
            size = (
                f" (this one is {outcome['width']:,} × {outcome['height']:,} pixels)"
                if "width" in outcome
                else ""
            )
            raise UploadError(f"The image must be {format_pixels(max_pixels)} or fewer{size}")
        if outcome.get("refused"):
            raise UploadError(_UNREADABLE)
        with target.open("rb") as clean:
            yield clean


def content_disposition(disposition: str, filename: str) -> str:
    """An RFC 6266 ``Content-Disposition`` header: an ASCII ``filename`` for old clients and the
    exact Unicode name as ``filename*`` (RFC 8187)."""
    # Accents come off (é → e); anything else outside a safe ASCII set becomes "_".
    ascii_name = "".join(
        c if re.fullmatch(r"[A-Za-z0-9 ._()+,\-\[\]]", c) else "_"
        for c in unicodedata.normalize("NFKD", filename)
        if not unicodedata.combining(c)
    )
    stem, dot, extension = ascii_name.rpartition(".")
    if not stem.strip("_ ."):
        ascii_name = f"download{dot}{extension}" if dot else "download"
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


#: Sandbox for files shown in the browser: no scripts, forms, plugins or outside requests.
INLINE_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
