"""Helpers for upload tests: the form a member fills in, what storage holds, and the check that a
refused upload left no trace."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from peerlearn.extensions import db
from peerlearn.resources.models import Resource, ResourceVersion, StoredFile
from tests.resources.conftest import docx_bytes

#: The example from the issue: a board QMS assurance template for the QMS SIG.
TITLE = "Board QMS assurance template"


def form(content: bytes | None = None, filename: str = "Board QMS assurance template.docx",
         **fields: Any) -> dict[str, Any]:  # fmt: skip
    """The add-a-resource form filled in as in the issue, with ``fields`` changed."""
    data: dict[str, Any] = {
        "kind": "file",
        "title": TITLE,
        "summary": "A template for boards to **assure** their quality management system.",
        "type": "template",
        "components": ["management-systems"],
        "qms_elements": ["quality-assurance"],
        "tags": "board assurance, QMS",
        "licence": "ogl-3",
        "visibility": "network",
        "classification": "official",
        "pii_declaration": "y",
        "adapted_from": "",
        "review_by": "",
        "authors": "",
        "link_url": "",
    }
    if content is None and fields.get("kind", "file") == "file":
        content = docx_bytes()
    if content is not None:
        data["file"] = (io.BytesIO(content), filename)
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def stored_files(app: Flask) -> list[Path]:
    """Every file under the storage root, temporary ones included."""
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def assert_no_trace(app: Flask) -> None:
    """Nothing was kept: no file in storage (not even a temporary one) and no row."""
    assert stored_files(app) == []
    assert (count(Resource), count(ResourceVersion), count(StoredFile)) == (0, 0, 0)


def resource_id(response: Any) -> int:
    """The id of the resource a successful form redirected to."""
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    match = re.search(r"/resources/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def share(client: Any, space: Any, **kwargs: Any) -> Resource:
    """Add a resource through the real form as the signed-in client; returns it."""
    response = client.post(
        f"/spaces/{space.slug}/library/new", data=form(**kwargs), content_type="multipart/form-data"
    )
    return db.session.get(Resource, resource_id(response))


def field_error(page: str, field: str) -> str:
    """The error message shown beside a field."""
    match = re.search(
        rf'<span class="nhsuk-error-message" id="{re.escape(field)}-error"\s*>\s*'
        r'<span class="nhsuk-u-visually-hidden">Error: </span>([^<]+)</span>',
        page,
    )
    assert match, f"no error beside {field}"
    return " ".join(html.unescape(match.group(1)).split())


def selected(page: str, field: str) -> str:
    """The option a drop-down list shows selected."""
    select = re.search(rf'<select[^>]*name="{re.escape(field)}".*?</select>', page, re.S)
    assert select, f"no list named {field}"
    return re.search(r"<option[^>]*selected[^>]*>([^<]*)</option>", select.group(0)).group(1)
