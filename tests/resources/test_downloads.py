"""Downloads: only through the permission policy, role by role; the headers for each type
(attachment, or inline in a sandbox for images and PDFs; nosniff); RFC 6266 names for any
Unicode name with the classification first; counting once per member, version and day."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from werkzeug.http import parse_options_header

from peerlearn.extensions import db
from peerlearn.resources.models import Classification, ResourceVisibility
from peerlearn.resources.storage import storage
from peerlearn.spaces.models import MemberRole, Visibility
from tests.resources.conftest import docx_bytes, image_bytes, pdf_bytes
from tests.resources.test_permissions import expected_readers
from tests.roles import ROLES, STATES

# Downloads are fetched with ``buffered=True``: the test client then closes the streamed file, as
# a real server does once the response is sent.


def disposition(response) -> tuple[str, dict[str, str]]:
    return parse_options_header(response.headers["Content-Disposition"])


@pytest.mark.parametrize("role", ROLES)
def test_who_may_download_for_every_visibility_and_classification(
    role, client, login, make_space, make_user, add_member, make_file_resource
):
    """One actor against a file in every combination of space visibility, resource visibility
    and classification: it downloads exactly what the policy lets them see."""
    actor = None if role == "anonymous" else make_user(f"A {role}", admin=role == "admin")
    cases = []
    for space_visibility, resource_visibility, classification in itertools.product(
        Visibility, ResourceVisibility, Classification
    ):
        if (
            classification is Classification.official_sensitive
            and resource_visibility is not ResourceVisibility.space
        ):
            continue  # refused when shared (see test_uploads); the policy table covers it
        space = make_space(visibility=space_visibility)
        if role in STATES:
            add_member(space, actor, *STATES[role])
        allowed_visibility = min(
            [resource_visibility, _widest(space_visibility)], key=list(ResourceVisibility).index
        )
        resource = make_file_resource(
            space, visibility=allowed_visibility, classification=classification
        )
        allowed = role in expected_readers(space_visibility, resource_visibility, classification)
        cases.append(
            (resource.id, allowed, (space_visibility, resource_visibility, classification))
        )
    if actor is not None:
        login(client, actor)
    wrong = []
    for resource_id, allowed, case in cases:
        response = client.get(f"/resources/{resource_id}/download", buffered=True)
        expected = 200 if allowed else (302 if actor is None else 404)
        if response.status_code != expected:
            wrong.append(f"{case}: {response.status_code}, expected {expected}")
        elif allowed:
            assert response.data == docx_bytes()
    assert not wrong, "\n".join(wrong)


def _widest(space_visibility: Visibility) -> ResourceVisibility:
    return {
        Visibility.public: ResourceVisibility.public,
        Visibility.network: ResourceVisibility.network,
        Visibility.private: ResourceVisibility.space,
    }[space_visibility]


TYPES = [
    (pdf_bytes(), "report.pdf", "application/pdf", True),
    (docx_bytes(), "template.docx", None, False),
    (b"measure,value\nLOS,6.2\n", "measures.csv", "text/csv", False),
    (b"Notes\n", "notes.txt", "text/plain", False),
    (image_bytes("PNG"), "chart.png", "image/png", True),
    (image_bytes("JPEG"), "photo.jpg", "image/jpeg", True),
    (image_bytes("WEBP"), "chart.webp", "image/webp", True),
]


@pytest.mark.parametrize(("content", "filename", "mime", "viewable"), TYPES)
def test_download_headers_for_each_type(
    content, filename, mime, viewable, client, qms, make_file_resource
):
    qms.visibility = Visibility.public
    db.session.commit()
    resource = make_file_resource(
        qms, content=content, filename=filename, visibility=ResourceVisibility.public
    )
    version = resource.current_version
    response = client.get(f"/resources/{resource.id}/download", buffered=True)
    assert response.status_code == 200
    assert response.mimetype == (mime or version.mime)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(version.size)
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script-src" not in csp
    kind, params = disposition(response)
    assert kind == "attachment"
    assert params["filename"] == f"OFFICIAL_{filename}"
    assert f'filename="OFFICIAL_{filename}"' in response.headers["Content-Disposition"]

    viewed = client.get(f"/resources/{resource.id}/download?view=1", buffered=True)
    assert disposition(viewed)[0] == ("inline" if viewable else "attachment")
    assert viewed.headers["Content-Security-Policy"] == csp


@pytest.mark.parametrize(
    ("query", "shown"),
    [("view=1", "inline"), ("view=0", "attachment"), ("view=false", "attachment"),
     ("view=", "attachment"), ("view=yes", "attachment"), ("view=1&view=0", "inline")],
)  # fmt: skip
def test_only_view_1_opens_a_file_in_the_browser(query, shown, client, qms, make_file_resource):
    """``?view=1`` is the one documented value; any other is ignored (the file is an
    attachment), as the library's filters ignore values they do not offer."""
    qms.visibility = Visibility.public
    db.session.commit()
    resource = make_file_resource(
        qms, content=pdf_bytes(), filename="board.pdf", visibility=ResourceVisibility.public
    )
    response = client.get(f"/resources/{resource.id}/download?{query}", buffered=True)
    assert response.status_code == 200
    assert disposition(response)[0] == shown


@pytest.mark.parametrize(
    ("name", "ascii_fallback"),
    [
        ("Évaluation qualité – 质量.docx", "OFFICIAL-SENSITIVE_Evaluation qualite _ __.docx"),
        ("質量管理.docx", "OFFICIAL-SENSITIVE_____.docx"),
        ('Board "QMS"; template.docx', "OFFICIAL-SENSITIVE_Board _QMS__ template.docx"),
    ],
)
def test_any_unicode_name_survives_with_the_classification_first(
    name, ascii_fallback, client, login, qms, uploader, make_file_resource
):
    resource = make_file_resource(
        qms,
        filename=name,
        visibility=ResourceVisibility.space,
        classification=Classification.official_sensitive,
    )
    login(client, uploader)
    response = client.get(f"/resources/{resource.id}/download", buffered=True)
    header = response.headers["Content-Disposition"]
    assert header.isascii()
    assert header.startswith(f'attachment; filename="{ascii_fallback}"; ')
    # The exact name, RFC 8187 encoded.
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"OFFICIAL-SENSITIVE_{name}"
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert "OFFICIAL-SENSITIVE" in page


def test_downloads_count_once_per_member_version_and_day(
    client, new_client, login, qms, uploader, make_user, add_member, make_file_resource
):
    resource = make_file_resource(qms)
    login(client, uploader)
    for _ in range(3):
        assert client.get(f"/resources/{resource.id}/download", buffered=True).status_code == 200
    db.session.refresh(resource)
    assert resource.download_count == 1
    other = new_client()
    login(other, make_user("Second reader"))
    other.get(f"/resources/{resource.id}/download", buffered=True)
    db.session.refresh(resource)
    assert resource.download_count == 2


def test_a_download_is_not_an_update_of_the_resource(
    client, login, qms, uploader, make_file_resource
):
    # Search dates a resource by its last update: downloads must not make old ones look new.
    resource = make_file_resource(qms)
    shared = resource.updated_at
    login(client, uploader)
    assert client.get(f"/resources/{resource.id}/download", buffered=True).status_code == 200
    db.session.refresh(resource)
    assert resource.download_count == 1 and resource.updated_at == shared


def test_the_day_a_download_counts_on_is_the_day_in_england(
    client, login, qms, uploader, make_file_resource, monkeypatch
):
    """23:30 and 00:30 British Summer Time are two days in England, though one in UTC."""
    import peerlearn.core.db
    import peerlearn.resources.services

    resource = make_file_resource(qms)
    login(client, uploader)
    for utc in (
        datetime(2026, 6, 30, 22, 30, tzinfo=UTC),
        datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
    ):
        for module in (peerlearn.core.db, peerlearn.resources.services):
            monkeypatch.setattr(module, "utcnow", lambda utc=utc: utc)
        assert client.get(f"/resources/{resource.id}/download", buffered=True).status_code == 200
    db.session.refresh(resource)
    assert resource.download_count == 2


def test_only_a_request_that_sends_the_file_counts_as_a_download(
    client, login, qms, uploader, make_file_resource
):
    """A HEAD request (a link checker, a download manager asking the size), a conditional GET
    answered "not modified" and a range that cannot be served send no file: none is a download.
    The GET that sends it is."""
    resource = make_file_resource(qms)
    version = resource.current_version
    login(client, uploader)
    url = f"/resources/{resource.id}/download"
    head = client.head(url)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(version.size)
    assert client.get(url, headers={"If-None-Match": f'"{version.sha256}"'}).status_code == 304
    assert client.get(url, headers={"Range": f"bytes={version.size}-"}).status_code == 416
    db.session.refresh(resource)
    assert resource.download_count == 0
    assert _downloads_shown(client, resource) == "0"

    assert client.get(url).data == docx_bytes()
    db.session.refresh(resource)
    assert resource.download_count == 1
    assert _downloads_shown(client, resource) == "1"


def _downloads_shown(client, resource) -> str | None:
    """The download count on the resource page (None: it shows none)."""
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    match = re.search(r'<dd class="nhsuk-summary-list__value" id="downloads">([\d,]+)</dd>', page)
    return match.group(1) if match else None


def test_a_file_s_page_counts_its_downloads_and_a_link_s_has_none_to_count(
    client, login, qms, uploader, make_file_resource, make_resource
):
    file = make_file_resource(qms)
    file.download_count = 1234
    link = make_resource(qms)
    db.session.commit()
    login(client, uploader)
    assert _downloads_shown(client, file) == "1,234"  # as the lists write it
    assert _downloads_shown(client, link) is None
    assert "Downloads" not in client.get(f"/resources/{link.id}").get_data(as_text=True)


def test_the_public_may_download_public_files_uncounted(client, qms, make_file_resource):
    qms.visibility = Visibility.public
    db.session.commit()
    resource = make_file_resource(qms, visibility=ResourceVisibility.public)
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert "Anyone, including people not signed in" in page and 'id="download"' in page
    assert client.get(f"/resources/{resource.id}/download", buffered=True).status_code == 200
    db.session.refresh(resource)
    assert resource.download_count == 0


def test_a_range_request_resumes_a_download(client, login, qms, uploader, make_file_resource):
    content = pdf_bytes()
    resource = make_file_resource(qms, content=content, filename="report.pdf")
    login(client, uploader)
    response = client.get(
        f"/resources/{resource.id}/download", buffered=True, headers={"Range": "bytes=10-19"}
    )
    assert response.status_code == 206 and response.data == content[10:20]
    again = client.get(
        f"/resources/{resource.id}/download",
        buffered=True,
        headers={"If-None-Match": f'"{resource.current_version.sha256}"'},
    )
    assert again.status_code == 304


def test_hidden_files_only_reach_moderators_and_their_uploader(
    client, new_client, login, qms, uploader, make_user, add_member, make_file_resource
):
    from peerlearn.resources import reports

    moderator = make_user("Moderator")
    add_member(qms, moderator, MemberRole.moderator)
    resource = make_file_resource(qms, by=uploader)
    reports.set_resource_hidden(moderator, resource, True)
    reader = make_user("Reader")
    login(client, reader)
    assert client.get(f"/resources/{resource.id}/download", buffered=True).status_code == 404
    assert client.get(f"/resources/{resource.id}").status_code == 404
    for person in (moderator, uploader):
        browser = new_client()
        login(browser, person)
        assert browser.get(f"/resources/{resource.id}/download", buffered=True).status_code == 200


def test_a_missing_file_is_not_found_rather_than_an_error(
    client, login, qms, uploader, make_file_resource
):
    resource = make_file_resource(qms)
    storage().delete(resource.current_version.sha256)
    login(client, uploader)
    assert client.get(f"/resources/{resource.id}/download", buffered=True).status_code == 404


def test_links_have_nothing_to_download(client, login, qms, uploader, make_resource):
    resource = make_resource(qms)
    login(client, uploader)
    assert client.get(f"/resources/{resource.id}/download", buffered=True).status_code == 404
