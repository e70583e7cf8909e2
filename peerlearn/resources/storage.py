"""The one storage layer for uploaded files: content-addressed, written safely, never half-kept.

Content arrives as a stream and is written to a temporary file inside the storage root while it
is hashed. An upload form's file goes there straight from the request body: views marked with
:func:`streams_into_storage` have their multipart file parts written by :class:`UploadRequest`
into an :class:`Incoming` file, so the content is written once. The file is fsynced, then
renamed into ``ab/cd/<sha256>`` (a rename within one file system is atomic, and the directory
is fsynced after it). Identical content is stored once. Names people gave their files are never
used as paths.

:func:`storage_transaction` ties files to database rows: the rows are committed in the same unit
of work, and a failure at any point — while receiving, while checking, before or at the commit —
removes the files that unit placed (unless a committed row already refers to them) and rolls the
rows back, so neither an orphan file nor an orphan row is left. ``storage-check`` finds anything a
crash of the whole process could still leave behind, once it is older than an upload in progress
could be (:data:`GRACE_SECONDS`).

:class:`Storage` is the interface; :class:`LocalStorage` keeps files on local disk. A cloud
object store can implement the same methods later.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from flask import Request, current_app
from sqlalchemy import select

from peerlearn.core.db import insert_into
from peerlearn.core.errors import RuleError
from peerlearn.extensions import db
from peerlearn.resources.models import ResourceVersion, StoredFile

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class FileTooLarge(RuleError):
    """The content went past the size limit while it was being received."""


@dataclass
class Staged:
    """Content received into a temporary file in the storage root, hashed and fsynced."""

    path: Path
    sha256: str
    size: int


class Incoming:
    """A temporary file in the storage root that content is written into as it arrives (by the
    multipart parser), hashed on the way. Past ``limit`` bytes it stops keeping the content and
    only counts, so the storage layer can refuse it with :class:`FileTooLarge`. Closing it
    removes the file unless the storage layer has taken it over with :meth:`staged`."""

    def __init__(self, directory: Path, limit: int | None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=directory, prefix="upload-")
        self.path = Path(name)
        self.limit = limit
        self.size = 0
        self._file = os.fdopen(handle, "w+b")
        self._digest = hashlib.sha256()
        self._taken = False

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.limit is None or self.size <= self.limit:
            self._digest.update(data)
            self._file.write(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def staged(self, limit: int | None) -> Staged:
        """Hand the content to the storage layer: fsynced, hashed, refused past ``limit``."""
        for most in (self.limit, limit):
            if most is not None and self.size > most:
                self.close()
                raise FileTooLarge(too_large_message(most), field="file")
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        except BaseException:
            self.close()
            raise
        self._taken = True
        return Staged(path=self.path, sha256=self._digest.hexdigest(), size=self.size)

    def close(self) -> None:
        self._file.close()
        if not self._taken:
            self.path.unlink(missing_ok=True)

    @property
    def closed(self) -> bool:
        return self._file.closed


class Storage(abc.ABC):
    """Where file content lives, addressed by its SHA-256."""

    @abc.abstractmethod
    def receive(self, stream: BinaryIO | Incoming, limit: int | None = None) -> Staged:
        """Write the stream to a temporary file, hashing it; raise :class:`FileTooLarge` past
        ``limit`` bytes. On any failure nothing is left behind. An :class:`Incoming` file from
        :meth:`incoming` is taken over where it is (fsynced, not copied)."""

    @abc.abstractmethod
    def incoming(self, limit: int | None) -> Incoming:
        """A temporary file for content that arrives piece by piece (see :class:`Incoming`)."""

    @abc.abstractmethod
    def place(self, staged: Staged) -> bool:
        """Move staged content to its address; False if that content was already stored (the
        staged copy is then kept until :meth:`discard`)."""

    @abc.abstractmethod
    def discard(self, staged: Staged) -> None:
        """Remove a staged temporary file, if it is still there."""

    @abc.abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abc.abstractmethod
    def size(self, sha256: str) -> int: ...

    @abc.abstractmethod
    def open(self, sha256: str) -> BinaryIO: ...

    @abc.abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove stored content (no error if it is already gone)."""

    @abc.abstractmethod
    def modified_at(self, sha256: str) -> float:
        """When the content was written (POSIX time); :class:`FileNotFoundError` if it is not
        stored."""

    @abc.abstractmethod
    def stored(self) -> Iterator[str]:
        """The address of every piece of stored content."""

    @abc.abstractmethod
    def leftovers(self) -> Iterator[Path]:
        """Temporary files left by a process that died while receiving."""


class LocalStorage(Storage):
    """Files on local disk under ``root`` (``UPLOAD_DIR``), outside ``static/``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.incoming_dir = self.root / "incoming"

    def path(self, sha256: str) -> Path:
        """The file holding this content. Only hex digests are addresses: nothing a person typed
        can reach the file system."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def incoming(self, limit: int | None) -> Incoming:
        return Incoming(self.incoming_dir, limit)

    def receive(self, stream: BinaryIO | Incoming, limit: int | None = None) -> Staged:
        if isinstance(stream, Incoming) and stream.path.parent == self.incoming_dir:
            return stream.staged(limit)
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.incoming_dir, prefix="upload-")
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise FileTooLarge(too_large_message(limit), field="file")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Staged(path=path, sha256=digest.hexdigest(), size=size)

    def place(self, staged: Staged) -> bool:
        target = self.path(staged.sha256)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.path.chmod(0o640)
        os.replace(staged.path, target)
        _fsync_directory(target.parent)
        return True

    def discard(self, staged: Staged) -> None:
        staged.path.unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self.path(sha256).stat().st_size

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def modified_at(self, sha256: str) -> float:
        return self.path(sha256).stat().st_mtime

    def stored(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")):
            if _SHA256.fullmatch(path.name) and path.name.startswith(
                path.parent.parent.name + path.parent.name
            ):
                yield path.name

    def leftovers(self) -> Iterator[Path]:
        if self.incoming_dir.is_dir():
            yield from sorted(self.incoming_dir.iterdir())


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def too_large_message(limit: int) -> str:
    """What a member is told of a file over ``limit`` bytes (by the file field's script too)."""
    return f"The file must be {format_size(limit)} or smaller"


def format_size(size: int) -> str:
    """A size in the units people read: 812 bytes, 14 KB, 2.4 MB."""
    if size < 1024:
        return f"{size} bytes" if size != 1 else "1 byte"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    megabytes = size / (1024 * 1024)
    return (
        f"{megabytes:.0f} MB"
        if megabytes >= 10 or megabytes.is_integer()
        else f"{megabytes:.1f} MB"
    )


def storage() -> Storage:
    """The app's storage (``UPLOAD_DIR``)."""
    return LocalStorage(current_app.config["UPLOAD_DIR"])


def streams_into_storage(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an upload view: its request's file parts are written straight into the storage root
    (see :class:`UploadRequest`)."""
    view.streams_into_storage = True  # type: ignore[attr-defined]
    return view


class UploadRequest(Request):
    """The app's request class. For views marked with :func:`streams_into_storage`, each file
    part of a multipart body is written by the parser into an :class:`Incoming` file in the
    storage root, which :meth:`Storage.receive` then takes over without copying. Any incoming
    file not taken over — the form was refused, the body stopped short, the view never stored
    it — is removed when the request closes."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        view = current_app.view_functions.get(self.endpoint or "")
        if not getattr(view, "streams_into_storage", False):
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        incoming = storage().incoming(current_app.config["UPLOAD_MAX_BYTES"])
        self.__dict__.setdefault("_incoming", []).append(incoming)
        return incoming  # type: ignore[return-value]

    def close(self) -> None:
        try:
            super().close()
        finally:
            for incoming in self.__dict__.get("_incoming", ()):
                incoming.close()


@dataclass
class StorageTransaction:
    """Files received in one unit of work with the database rows that refer to them."""

    storage: Storage
    staged: list[Staged] = field(default_factory=list)
    placed: list[str] = field(default_factory=list)
    #: Content that was already stored when this unit of work stored it.
    found: list[Staged] = field(default_factory=list)

    def receive(self, stream: BinaryIO | Incoming, limit: int | None = None) -> Staged:
        staged = self.storage.receive(stream, limit)
        self.staged.append(staged)
        return staged

    def store(self, staged: Staged) -> StoredFile:
        """Place the content and return its row (new, or the existing one for known content),
        written in the unit of work that ends with its commit. The row is inserted unless it
        exists, in one statement: the same content shared twice at the same moment is one row,
        not a clash between the two uploads."""
        if self.storage.place(staged):
            self.placed.append(staged.sha256)
        else:
            self.found.append(staged)
        db.session.execute(
            insert_into(db.session, StoredFile.__table__)
            .values(sha256=staged.sha256, size=staged.size)
            .on_conflict_do_nothing()
        )
        return db.session.get_one(StoredFile, staged.sha256)

    def discard_staged(self) -> None:
        """Remove every temporary file received (content placed has moved away from it)."""
        for staged in self.staged:
            self.storage.discard(staged)

    def _undo(self) -> None:
        # Another upload of the same content may have committed meanwhile: keep what a
        # committed row refers to.
        for sha256 in self.placed:
            try:
                kept = db.session.scalar(
                    select(StoredFile.sha256).where(StoredFile.sha256 == sha256)
                )
            except Exception:  # the database is unreachable: the file is certainly unreferenced
                db.session.rollback()
                kept = None
            if kept is None:
                self.storage.delete(sha256)

    def _finish(self) -> None:
        # Content found already stored was not placed by us; if an upload that placed it failed
        # and removed it before our commit, put our copy there now.
        for staged in self.found:
            if staged.path.exists() and not self.storage.exists(staged.sha256):
                self.storage.place(staged)


@contextlib.contextmanager
def storage_transaction(store: Storage | None = None) -> Iterator[StorageTransaction]:
    """One unit of work over files and rows: commits the session at the end of the block; on any
    failure rolls it back and removes the files it placed. Temporary files never outlive it."""
    transaction = StorageTransaction(store or storage())
    try:
        try:
            yield transaction
            db.session.commit()
        except BaseException:
            db.session.rollback()
            transaction._undo()
            raise
        transaction._finish()
    finally:
        transaction.discard_staged()


# Checking storage against the database ---------------------------------------------------------


#: How old a temporary or unreferenced file must be before ``storage-check`` calls it left
#: behind: a younger one may belong to an upload still being received or committed (25 MB over a
#: slow connection takes minutes, so an hour is generous).
GRACE_SECONDS = 3600


@dataclass
class StorageReport:
    """What ``storage-check`` found (and, when asked, removed)."""

    #: Stored content no row describes, older than the grace period.
    unreferenced_files: list[str] = field(default_factory=list)
    #: Rows for content no version uses any more.
    unused_rows: list[str] = field(default_factory=list)
    #: Rows whose content is missing from storage: restore these from a backup.
    missing_files: list[str] = field(default_factory=list)
    #: Temporary files left by uploads a crash interrupted, older than the grace period.
    leftovers: list[Path] = field(default_factory=list)
    #: Temporary and unreferenced files younger than the grace period: uploads that may still be
    #: in progress, neither counted as wrong nor removed.
    in_progress: list[str] = field(default_factory=list)
    #: What was removed.
    removed: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.unreferenced_files or self.unused_rows or self.missing_files or self.leftovers
        )


def _written_before(cutoff: float, modified_at: Callable[[Any], float], item: Any) -> bool | None:
    """Whether a file was last written before ``cutoff``; None if it has gone meanwhile (an
    upload finished or gave up while we looked)."""
    try:
        return modified_at(item) <= cutoff
    except FileNotFoundError:
        return None


def check_storage(
    store: Storage, *, remove: bool = False, grace_seconds: float = GRACE_SECONDS
) -> StorageReport:
    """Compare storage with the database. Temporary and unreferenced files younger than
    ``grace_seconds`` may belong to an upload in progress (received but not yet committed):
    they are listed as such, never reported as wrong or removed. With ``remove``, delete the
    older ones and unused rows (with their files). Rows whose files are missing are only
    reported."""
    report = StorageReport()
    cutoff = time.time() - grace_seconds
    rows = set(db.session.scalars(select(StoredFile.sha256)))
    used = set(db.session.scalars(select(ResourceVersion.sha256).distinct()))
    stored = set(store.stored())
    for sha256 in sorted(stored - rows):
        old = _written_before(cutoff, store.modified_at, sha256)
        if old:
            report.unreferenced_files.append(sha256)
        elif old is not None:
            report.in_progress.append(f"file {sha256}")
    report.unused_rows = sorted(rows - used)
    report.missing_files = sorted(sha for sha in rows & used if sha not in stored)
    for path in store.leftovers():
        old = _written_before(cutoff, os.path.getmtime, path)
        if old:
            report.leftovers.append(path)
        elif old is not None:
            report.in_progress.append(f"temporary file {path}")
    if not remove:
        return report
    for sha256 in report.unreferenced_files:
        store.delete(sha256)
        report.removed.append(f"file {sha256}")
    for sha256 in report.unused_rows:
        db.session.execute(StoredFile.__table__.delete().where(StoredFile.sha256 == sha256))
        db.session.commit()
        store.delete(sha256)
        report.removed.append(f"row and file {sha256}")
    for path in report.leftovers:
        path.unlink(missing_ok=True)
        report.removed.append(f"leftover {path.name}")
    return report
