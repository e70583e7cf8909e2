"""Upload forms stream their file straight into the storage root: a large file arrives whole, and
a form refused after its file arrived (a missing field, a bad token) leaves no temporary file."""

from __future__ import annotations

import hashlib
import io

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from peerlearn.extensions import db
from peerlearn.resources.models import Resource
from peerlearn.resources.storage import FileTooLarge, LocalStorage
from tests.resources.upload_helpers import (
    TITLE,
    assert_no_trace,
    field_error,
    form,
    resource_id,
    stored_files,
)


def _csv(size: int) -> bytes:
    rows = b"".join(
        b"2026-01-%02d,site %06d,%d\n" % (i % 28 + 1, i, i % 97) for i in range(size // 20)
    )
    return (b"date,site,minutes\n" + rows)[:size].rpartition(b"\n")[0] + b"\n"


def test_a_large_file_arrives_whole_and_leaves_no_temporary_file(signed_in, app, qms):
    content = _csv(3 * 1024 * 1024)  # several multipart chunks, more than libmagic reads
    # Encoded here: the test client would spool a body this size to a file it never closes.
    fields = {
        "csrf_token": signed_in.csrf_token(),
        **form(kind="file", type="dataset"),
        "file": FileStorage(io.BytesIO(content), filename="waits.csv"),
    }
    boundary, body = encode_multipart(fields)
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Content-Length": str(len(body))},
        csrf=False,
    )
    new_id = resource_id(response)
    download = signed_in.get(f"/resources/{new_id}/download", buffered=True)
    assert download.status_code == 200 and download.data == content
    sha = hashlib.sha256(content).hexdigest()
    assert db.session.get(Resource, new_id).current_version.sha256 == sha
    assert [p.name for p in stored_files(app)] == [sha]  # nothing left in incoming/


def test_a_form_refused_after_its_file_arrived_leaves_no_temporary_file(signed_in, app, qms):
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=_csv(200_000), filename="waits.csv", title=""),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert field_error(page, "title") == "Enter a title"
    assert_no_trace(app)


def test_a_form_with_a_bad_token_leaves_no_temporary_file(signed_in, app, qms):
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data={"csrf_token": "not-the-token", **form(content=_csv(200_000), filename="w.csv")},
        content_type="multipart/form-data",
        csrf=False,
    )
    assert response.status_code == 400
    assert "could not be accepted" in response.get_data(as_text=True)
    assert_no_trace(app)


def test_a_new_version_refused_after_its_file_arrived_leaves_only_the_first(signed_in, app, qms):
    first = _csv(50_000)
    new_id = resource_id(
        signed_in.post(
            f"/spaces/{qms.slug}/library/new",
            data=form(content=first, filename="waits.csv", type="dataset"),
            content_type="multipart/form-data",
        )
    )
    response = signed_in.post(
        f"/resources/{new_id}/versions/new",
        data={
            "file": (io.BytesIO(_csv(80_000)), "waits.csv"),
            "change_note": "",
            "pii_declaration": "y",
        },
        content_type="multipart/form-data",
    )
    assert field_error(response.get_data(as_text=True), "change_note")
    assert [p.name for p in stored_files(app)] == [hashlib.sha256(first).hexdigest()]


def test_streamed_content_is_taken_over_where_it_arrived(app, tmp_path):
    store = LocalStorage(tmp_path)
    content = _csv(300_000)
    incoming = store.incoming(limit=None)
    for start in range(0, len(content), 65536):
        incoming.write(content[start : start + 65536])
    staged = store.receive(incoming)  # type: ignore[arg-type]
    assert staged.path == incoming.path  # fsynced where it is, not copied
    assert (staged.sha256, staged.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert store.place(staged) and list(store.leftovers()) == []
    with store.open(staged.sha256) as stored:
        assert stored.read() == content


def test_streamed_content_over_the_limit_or_never_stored_leaves_nothing(app, tmp_path):
    store = LocalStorage(tmp_path)
    too_big = store.incoming(limit=1024)
    too_big.write(bytes(5000))
    with pytest.raises(FileTooLarge, match="must be 1 KB or smaller"):
        store.receive(too_big)  # type: ignore[arg-type]
    abandoned = store.incoming(limit=None)
    abandoned.write(b"half an upload")
    abandoned.close()  # the request ended without storing it
    assert list(store.leftovers()) == [] and list(store.stored()) == []


def test_the_title_is_kept_when_the_file_is_refused_after_streaming(signed_in, app, qms):
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(content=b"<html><script>alert(1)</script></html>" * 100, filename="x.csv"),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "web page (HTML)" in field_error(page, "file")
    assert f'value="{TITLE}"' in page
    assert_no_trace(app)


def test_an_upload_cut_off_inside_the_file_leaves_no_temporary_file(signed_in, app, qms):
    fields = {
        "csrf_token": signed_in.csrf_token(),
        **form(kind="file", type="dataset"),
        "file": FileStorage(io.BytesIO(_csv(400_000)), filename="waits.csv"),
    }
    boundary, body = encode_multipart(fields)
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        input_stream=io.BytesIO(body[: len(body) - 100_000]),  # three quarters of the file
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Content-Length": str(len(body))},
        csrf=False,
    )
    assert response.status_code == 400
    assert "upload was interrupted" in response.get_data(as_text=True)
    assert_no_trace(app)
