"""The storage layer: content-addressed files written safely; one unit of work with the rows, so
a failure at any point leaves neither an orphan file nor an orphan row; identical content kept
once; and ``storage-check`` finding (and removing) what a crash could leave behind."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from peerlearn.accounts.models import User
from peerlearn.extensions import db
from peerlearn.resources import services
from peerlearn.resources.models import (
    Classification,
    Licence,
    Resource,
    ResourceType,
    ResourceVersion,
    ResourceVisibility,
    StoredFile,
)
from peerlearn.resources.storage import FileTooLarge, LocalStorage, storage
from peerlearn.spaces.models import Space
from tests.concurrency import at_once, first_writes_meet
from tests.resources.conftest import docx_bytes, pdf_bytes
from tests.resources.upload_helpers import assert_no_trace, count, stored_files


class _Breaks(io.BytesIO):
    """A stream that fails part-way, like a dropped connection."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() > 1000:
            raise ConnectionResetError("connection reset by peer")
        return super().read(500)


def test_content_is_stored_once_at_its_address(app, tmp_path):
    store = LocalStorage(tmp_path)
    content = pdf_bytes()
    staged = store.receive(io.BytesIO(content))
    sha = hashlib.sha256(content).hexdigest()
    assert (staged.sha256, staged.size) == (sha, len(content))
    assert staged.path.parent == tmp_path / "incoming"
    assert store.place(staged) is True
    assert store.path(sha) == tmp_path / sha[:2] / sha[2:4] / sha
    with store.open(sha) as stored:
        assert stored.read() == content
    again = store.receive(io.BytesIO(content))
    assert store.place(again) is False  # already there
    store.discard(again)
    assert list(store.stored()) == [sha] and list(store.leftovers()) == []


def test_a_stream_that_fails_or_runs_over_leaves_nothing(app, tmp_path):
    store = LocalStorage(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.receive(_Breaks(bytes(5000)))
    with pytest.raises(FileTooLarge, match="must be 1 KB or smaller"):
        store.receive(io.BytesIO(bytes(5000)), limit=1024)
    assert list(store.leftovers()) == [] and list(store.stored()) == []


def test_names_people_typed_never_become_paths(app, tmp_path):
    store = LocalStorage(tmp_path)
    for address in ("../../etc/passwd", "ab/cd", "A" * 64, ""):
        with pytest.raises(ValueError):
            store.path(address)


def test_identical_content_is_stored_once(app, qms, make_file_resource):
    first = make_file_resource(qms, title="Board template")
    second = make_file_resource(qms, title="The same template, shared again")
    assert first.current_version.sha256 == second.current_version.sha256
    assert count(StoredFile) == 1 and count(ResourceVersion) == 2
    assert len(stored_files(app)) == 1


def test_identical_content_shared_at_once_is_stored_once_for_both(
    app, qms, uploader, make_user, add_member
):
    """Two members share the same file at the same moment (each found it not yet stored before
    either wrote its row): both are shared, and the content is kept once."""
    other = make_user("Another member")
    add_member(qms, other)
    space_id = qms.id

    def share(user_id: int, title: str) -> None:
        draft = services.ResourceDraft(
            title=title,
            type=ResourceType.template,
            licence=Licence.ogl_3,
            visibility=ResourceVisibility.network,
            classification=Classification.official,
            pii_declared=True,
        )
        upload = services.Upload(io.BytesIO(docx_bytes()), "Board QMS assurance template.docx")
        services.create_resource(
            db.session.get(User, user_id), db.session.get(Space, space_id), draft, upload
        )

    with first_writes_meet("INSERT INTO stored_files", before=True):
        at_once(app, [lambda: share(uploader.id, "Mine"), lambda: share(other.id, "Theirs")])
    db.session.expire_all()
    assert count(Resource) == 2 and count(ResourceVersion) == 2 and count(StoredFile) == 1
    [path] = stored_files(app)
    assert path.read_bytes() == docx_bytes()


def _fail_on(monkeypatch, target: str) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError(f"crash in {target}")

    monkeypatch.setattr(target, boom)


def test_a_crash_after_the_file_is_written_leaves_no_file_and_no_row(
    app, qms, make_file_resource, monkeypatch
):
    # The audit entry is written after the file is in place and the rows are flushed.
    _fail_on(monkeypatch, "peerlearn.resources.services.record")
    with pytest.raises(RuntimeError):
        make_file_resource(qms)
    assert_no_trace(app)


def test_a_failed_commit_after_the_rows_are_written_leaves_no_file_and_no_row(
    app, qms, make_file_resource
):
    """A real failure at the last moment: the rows are flushed, then the commit is refused."""

    def fail_commit(session):
        raise ConnectionError("the database went away at commit")

    event.listen(Session, "before_commit", fail_commit)
    try:
        with pytest.raises(ConnectionError):
            make_file_resource(qms)
    finally:
        event.remove(Session, "before_commit", fail_commit)
    assert_no_trace(app)


def test_a_constraint_violation_rolls_back_the_file_too(
    app, qms, uploader, make_file_resource, monkeypatch
):
    """Two versions may not share a number: the database refuses, and the new file goes."""
    resource = make_file_resource(qms, by=uploader)
    files_before = stored_files(app)
    monkeypatch.setattr(
        "peerlearn.resources.services._next_number", lambda resource: 1, raising=True
    )
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        services.add_version(
            uploader,
            resource,
            services.Upload(io.BytesIO(pdf_bytes()), "v2.pdf"),
            "Revised",
            pii_declared=True,
        )
    assert stored_files(app) == files_before
    assert count(ResourceVersion) == 1 and count(StoredFile) == 1


def test_a_failure_never_removes_content_another_resource_uses(
    app, qms, make_file_resource, monkeypatch
):
    make_file_resource(qms, title="The original")
    _fail_on(monkeypatch, "peerlearn.resources.services.record")
    with pytest.raises(RuntimeError):
        make_file_resource(qms, title="A copy that fails")
    [path] = stored_files(app)
    assert path.read_bytes() == docx_bytes()
    assert count(Resource) == 1 and count(StoredFile) == 1


def _check(app, *args):
    return app.test_cli_runner().invoke(args=["storage-check", *args])


def _age(path, seconds: float) -> None:
    """Make a file look as if it was last written ``seconds`` ago."""
    then = os.path.getmtime(path) - seconds
    os.utime(path, (then, then))


def test_storage_check_reports_and_removes_what_a_crash_left(app, qms, make_file_resource):
    kept = make_file_resource(qms, title="Kept")
    lost = make_file_resource(qms, title="Lost", content=pdf_bytes(), filename="lost.pdf")
    store = storage()
    # A file nobody refers to (a crash between placing it and committing)...
    orphan = store.receive(io.BytesIO(b"orphaned content"))
    store.place(orphan)
    # ...a temporary file from an interrupted upload, both from two hours ago...
    leftover = store.receive(io.BytesIO(b"half an upload"))
    _age(store.path(orphan.sha256), 7200)
    _age(leftover.path, 7200)
    # ...and a row whose file has gone (a disk restored from an old backup).
    store.delete(lost.current_version.sha256)

    result = _check(app)
    assert result.exit_code == 1
    assert f"unreferenced file: {orphan.sha256}" in result.output
    assert f"missing file (restore it from a backup): {lost.current_version.sha256}" in (
        result.output
    )
    assert f"leftover temporary file: {leftover.path}" in result.output
    assert store.exists(orphan.sha256)  # only reported

    removed = _check(app, "--remove")
    assert f"removed file {orphan.sha256}" in removed.output
    assert f"removed leftover {leftover.path.name}" in removed.output
    assert not store.exists(orphan.sha256) and not leftover.path.exists()
    assert store.exists(kept.current_version.sha256)
    assert removed.exit_code == 1  # the missing file still needs restoring

    store.place(store.receive(io.BytesIO(pdf_bytes())))  # restored
    assert _check(app).output.strip() == "Storage and database agree."
    assert db.session.scalar(select(StoredFile).where(StoredFile.sha256 == orphan.sha256)) is None


def test_storage_check_leaves_uploads_in_progress_alone(app, qms, make_file_resource):
    """An upload still arriving has a temporary file; one being committed has its content in
    place before its row. Neither is wrong until it is older than the grace period (an hour)."""
    make_file_resource(qms)
    store = storage()
    arriving = store.incoming(app.config["UPLOAD_MAX_BYTES"])  # what a request streams into
    arriving.write(b"half a file")
    committing = store.receive(io.BytesIO(b"placed, its row not yet committed"))
    store.place(committing)
    try:
        for args in ((), ("--remove",)):
            result = _check(app, *args)
            assert result.exit_code == 0, result.output
            assert result.output.splitlines() == [
                f"in progress (younger than 60 minutes), left alone: file {committing.sha256}",
                "in progress (younger than 60 minutes), left alone: "
                f"temporary file {arriving.path}",
                "Storage and database agree.",
            ]
        assert arriving.path.exists() and store.exists(committing.sha256)

        _age(arriving.path, 3601)
        stalled = _check(app)
        assert stalled.exit_code == 1
        assert f"leftover temporary file: {arriving.path}" in stalled.output
        assert _check(app, "--grace-minutes", "0").exit_code == 1
    finally:
        arriving.close()
