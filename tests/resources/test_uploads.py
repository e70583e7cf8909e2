"""Sharing a file or a link through the real form: everything the issue's member enters is kept
and shown, every kind of bad input (zip archives posing as documents among them) gets a clear
message beside its field, keeps what else was typed, and leaves no trace in storage or the
database; a private space's resources are for its members only, and only those who may post in
a space share in it; and the allowed types are accepted. Images are in test_upload_images.py;
files and requests over the limits, and uploads cut off, in test_upload_limits.py; zip archives
built to be costly to look into, in test_upload_archives.py."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    Resource,
    ResourceKind,
    ResourceType,
    ResourceVersion,
    ResourceVisibility,
)
from peerlearn.spaces.models import Space, Visibility
from tests.documents import ODF, OOXML, odf_bytes, office_package, zip_bytes
from tests.resources.conftest import docx_bytes, image_bytes, pdf_bytes
from tests.resources.upload_helpers import (
    TITLE,
    assert_no_trace,
    count,
    field_error,
    form,
    share,
    stored_files,
)


def test_a_member_shares_a_template_with_everything_the_issue_names(
    signed_in, app, qms, uploader, make_user
):
    colleague = make_user("Tomasz Nowak")
    content = docx_bytes()
    review_by = utcnow().date() + timedelta(days=120)  # in the future, as a review date must be
    resource = share(
        signed_in,
        qms,
        content=content,
        authors=f"@{colleague.handle}",
        review_by=f"{review_by:%d/%m/%Y}",
    )
    assert resource.kind is ResourceKind.file
    assert resource.title == TITLE
    assert resource.type is ResourceType.template
    assert resource.components == [ImpactComponent.management_systems]
    assert resource.qms_elements == [QmsElement.quality_assurance]
    assert resource.tags == ["board assurance", "qms"]
    assert resource.licence is Licence.ogl_3
    assert resource.visibility is ResourceVisibility.network
    assert resource.classification is Classification.official
    assert resource.pii_declared_at is not None
    assert resource.organisation_id == uploader.organisation_id  # provenance defaults to theirs
    assert {a.id for a in resource.authors} == {uploader.id, colleague.id}
    assert "<strong>assure</strong>" in resource.summary_html
    version = resource.current_version
    assert (version.number, version.filename, version.size) == (
        1,
        "Board QMS assurance template.docx",
        len(content),
    )
    assert version.mime.endswith("wordprocessingml.document")
    sha = hashlib.sha256(content).hexdigest()
    # Content-addressed, outside static/, under the storage root.
    [path] = stored_files(app)
    assert path.name == sha and path.parent.name == sha[2:4] and path.read_bytes() == content
    assert "static" not in path.parts
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resource.uploaded"))
    assert entry.actor_id == uploader.id and entry.detail["sha256"] == sha

    page = signed_in.get(f"/resources/{resource.id}").get_data(as_text=True)
    for shown in (
        TITLE,
        uploader.organisation.name,
        "Open Government Licence v3.0",
        "OFFICIAL",
        "All network members",
        "Quality assurance",
        "5. Embedding improvement",
        "Board QMS assurance template.docx",
        "Tomasz Nowak",
        f"{review_by:%-d %B %Y}",
    ):
        assert shown in page


def test_a_link_is_shown_with_its_domain(signed_in, qms):
    resource = share(
        signed_in, qms, kind="link", link_url="https://www.england.nhs.uk/nhsimpact/", type="guide"
    )
    assert resource.kind is ResourceKind.link and resource.current_version is None
    page = signed_in.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert 'href="https://www.england.nhs.uk/nhsimpact/"' in page
    assert "goes to england.nhs.uk" in page


def test_the_originating_organisation_can_be_another(signed_in, qms, make_organisation):
    icb = make_organisation("NHS Lancashire and South Cumbria ICB")
    resource = share(signed_in, qms, organisation_id=str(icb.id))
    assert resource.organisation_id == icb.id


def test_adapting_prefills_and_links_the_original(signed_in, qms, make_resource):
    original = make_resource(qms, title="Flow coaching guide", type=ResourceType.guide)
    page = signed_in.get(f"/spaces/{qms.slug}/library/new?adapted_from={original.id}")
    assert f'value="{original.id}"' in page.get_data(as_text=True)
    adaptation = share(signed_in, qms, adapted_from=f"http://localhost/resources/{original.id}")
    assert adaptation.adapted_from_id == original.id
    shown = signed_in.get(f"/resources/{adaptation.id}").get_data(as_text=True)
    assert "Flow coaching guide" in shown


@pytest.mark.parametrize("typed", ["0", "2147483648", "999999999999", "/resources/999999999999"])
def test_an_adapted_from_number_no_resource_can_have_is_refused_beside_the_field(
    signed_in, qms, app, typed
):
    """A number past the largest id (or 0) names no resource: the form says so beside the
    field, as for any other wrong address, and keeps what was typed."""
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(adapted_from=typed),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_error(page, "adapted_from") == (
        "Enter the address of a resource, like /resources/12"
    )
    assert f'value="{typed}"' in page
    assert_no_trace(app)


def _damaged_opendocument() -> bytes:
    """An OpenDocument text whose ``mimetype`` entry is deflated (so libmagic says only "zip")
    and whose compressed bytes are garbage."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("content.xml", "<x/>")
        archive.writestr("mimetype", ODF + "text")
        entry = archive.getinfo("mimetype")
    content = bytearray(out.getvalue())
    start = entry.header_offset + 30 + len("mimetype")
    content[start : start + 4] = b"\xff" * 4
    return bytes(content)


#: Bad input: (form changes, field the message is beside, words in the message).
REFUSED = {
    "empty file": ({"content": b""}, "file", "is empty"),
    "no file chosen": ({"file": None}, "file", "Select a file"),
    "wrong type": (
        {"content": b"MZ\x90\x00" + bytes(200), "filename": "tool.exe"},
        "file",
        "Upload a PDF",
    ),
    "zip archive": ({"content": zip_bytes(), "filename": "tools.zip"}, "file", "a zip archive"),
    "damaged zip": (
        {"content": _damaged_opendocument(), "filename": "plan.odt"},
        "file",
        "a zip archive",
    ),
    "spoofed extension": (
        {"content": pdf_bytes(), "filename": "Board QMS assurance template.docx"},
        "file",
        "ends .docx but it is a PDF document",
    ),
    "HTML named .png": (
        {"content": b"<!DOCTYPE html><html><script>alert(1)</script></html>", "filename": "a.png"},
        "file",
        "a web page (HTML)",
    ),
    "SVG named .png": (
        {
            "content": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "filename": "chart.png",
        },
        "file",
        "an SVG image",
    ),
    "path in the name": ({"filename": "../../etc/template.docx"}, "file", "folder names"),
    "control character": ({"filename": "template\x1b[2J.docx"}, "file", "control characters"),
    "direction override": ({"filename": "template\u202excod.pdf"}, "file", "control characters"),
    "300-character name": ({"filename": "t" * 295 + ".docx"}, "file", "255 characters or fewer"),
    "javascript: link": (
        {"kind": "link", "link_url": "javascript:alert(document.cookie)"},
        "link_url",
        "https://",
    ),
    "link with a name and @ before its host": (
        {"kind": "link", "link_url": "https://www.england.nhs.uk@evil.example/qms"},
        "link_url",
        "without a name and @ before the website",
    ),
    "link with a space": (
        {"kind": "link", "link_url": "https://www.england.nhs.uk/qms toolkit"},
        "link_url",
        "without spaces",
    ),
    "missing declaration": ({"pii_declaration": None}, "pii_declaration", "patient-identifiable"),
    "sensitive marked for the network": (
        {"classification": "official-sensitive", "visibility": "network"},
        "visibility",
        "OFFICIAL-SENSITIVE material can only be shared with this space's members",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_input_is_refused_beside_its_field_keeping_the_rest(case, signed_in, app, qms):
    changes, field, message = REFUSED[case]
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(**changes),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in field_error(page, field)
    assert "There is a problem" in page
    # What else was typed is kept.
    assert f'value="{TITLE}"' in page
    assert "board assurance, QMS" in page
    assert "A template for boards to **assure**" in page
    assert_no_trace(app)


@pytest.mark.parametrize(
    "address", ["https://[nhs.uk/qms-toolkit", "http://[::1", "https://[qms]/"]
)
def test_a_link_python_cannot_take_apart_is_refused_keeping_what_was_typed(
    signed_in, app, qms, address
):
    response = signed_in.post(
        f"/spaces/{qms.slug}/library/new",
        data=form(kind="link", link_url=address),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_error(page, "link_url") == (
        "Enter the web address in the correct format, like https://www.england.nhs.uk/"
    )
    assert f'value="{address}"' in page and f'value="{TITLE}"' in page
    assert_no_trace(app)

    link = share(signed_in, qms, kind="link", link_url="https://www.england.nhs.uk/nhsimpact/")
    response = signed_in.post(
        f"/resources/{link.id}/edit", data=form(kind=None, link_url=address, title="Changed")
    )
    page = response.get_data(as_text=True)
    assert "in the correct format" in field_error(page, "link_url")
    assert f'value="{address}"' in page
    db.session.refresh(link)
    assert (link.title, link.link_url) == (TITLE, "https://www.england.nhs.uk/nhsimpact/")


def test_a_private_space_s_resources_are_for_its_members_only(
    client, login, app, make_space, make_user, add_member
):
    private = make_space(visibility=Visibility.private)
    member = make_user()
    add_member(private, member)
    login(client, member)
    page = client.get(f"/spaces/{private.slug}/library/new").get_data(as_text=True)
    assert 'value="network"' not in page and 'value="public"' not in page
    response = client.post(
        f"/spaces/{private.slug}/library/new",
        data=form(visibility="public"),
        content_type="multipart/form-data",
    )
    assert "only be shared as widely as the space itself" in field_error(
        response.get_data(as_text=True), "visibility"
    )
    assert_no_trace(app)


def test_only_those_who_may_post_in_the_space_may_share(client, login, app, qms, make_user):
    assert client.get(f"/spaces/{qms.slug}/library/new").status_code == 302  # sign in first
    login(client, make_user("Not a member"))
    response = client.post(
        f"/spaces/{qms.slug}/library/new", data=form(), content_type="multipart/form-data"
    )
    assert response.status_code == 403
    assert_no_trace(app)


@pytest.mark.parametrize(
    ("content", "filename", "mime"),
    [
        (pdf_bytes(), "report.pdf", "application/pdf"),
        (b"measure,baseline,target\nLOS,6.2,5.5\n", "measures.csv", "text/csv"),
        (b"Notes from the QMS SIG.\n", "notes.txt", "text/plain"),
        (image_bytes("PNG"), "chart.png", "image/png"),
        (image_bytes("WEBP"), "chart.webp", "image/webp"),
        (office_package("xl/workbook.xml"), "measures.xlsx", OOXML + "spreadsheetml.sheet"),
        (
            office_package("ppt/presentation.xml"),
            "board.pptx",
            OOXML + "presentationml.presentation",
        ),
        # Parts in an unusual order: libmagic says "zip"; the package's own manifest decides.
        (
            office_package("word/document.xml", first="_rels/.rels"),
            "guide.docx",
            OOXML + "wordprocessingml.document",
        ),
        (odf_bytes("text", ""), "guide.odt", ODF + "text"),
        (odf_bytes("spreadsheet", ""), "measures.ods", ODF + "spreadsheet"),
        (odf_bytes("presentation", ""), "board.odp", ODF + "presentation"),
    ],
)
def test_allowed_types_are_accepted(signed_in, qms, content, filename, mime):
    resource = share(signed_in, qms, content=content, filename=filename, type="other")
    assert resource.current_version.mime == mime
    assert db.session.scalar(select(Resource.id)) == resource.id


def test_only_people_the_network_lists_can_be_named_authors(signed_in, app, qms, make_user):
    # As for mentions: an address never confirmed may not be its registrant's, and a deactivated
    # account has no profile to credit.
    for person in (make_user("Never Confirmed", confirmed=False), make_user("Gone", active=False)):
        response = signed_in.post(
            f"/spaces/{qms.slug}/library/new",
            data=form(authors=f"@{person.handle}"),
            content_type="multipart/form-data",
        )
        page = response.get_data(as_text=True)
        assert field_error(page, "authors") == f"No member has the handle @{person.handle}"
        assert f"@{person.handle}" in page  # what was typed is kept
        assert_no_trace(app)


# The same form sent twice -----------------------------------------------------------------------

KEY = "k" * 32


def _sent_twice(client, path: str, data: Callable[[], dict], **post) -> tuple[str, str]:
    """The same form (its one-time key included) sent twice, as a double click sends it: where
    each sending was sent on to. ``data`` makes the form's fields (a file is read once)."""
    return tuple(  # type: ignore[return-value]
        client.post(path, data={**data(), "submission_key": KEY}, **post).headers["Location"]
        for _ in range(2)
    )


@pytest.mark.parametrize("kind", ["file", "link"])
def test_sharing_the_same_form_twice_shares_one_resource(signed_in, app, qms, kind):
    page = signed_in.get(f"/spaces/{qms.slug}/library/new").get_data(as_text=True)
    assert 'name="submission_key" type="hidden"' in page and "data-prevent-double-click" in page
    fields = {"kind": "link", "link_url": "https://www.england.nhs.uk/"} if kind == "link" else {}
    first, second = _sent_twice(signed_in, f"/spaces/{qms.slug}/library/new",
                                lambda: form(**fields), content_type="multipart/form-data")  # fmt: skip
    assert first == second
    [resource] = db.session.scalars(select(Resource)).all()
    assert first.endswith(f"/resources/{resource.id}")
    added = "resource.uploaded" if kind == "file" else "resource.link_added"
    assert db.session.scalars(select(AuditEntry.action)).all().count(added) == 1
    assert len(stored_files(app)) == (1 if kind == "file" else 0)


def test_a_new_form_shares_again(signed_in, qms):
    """Each form shown carries a key of its own: sharing the same file again from a new form is
    a new resource, as the sharer asked."""
    keys = set()
    for _ in range(2):
        page = signed_in.get(f"/spaces/{qms.slug}/library/new").get_data(as_text=True)
        key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
        keys.add(key)
        share(signed_in, qms, submission_key=key)
    assert len(keys) == 2 and count(Resource) == 2


@pytest.mark.parametrize("kind", ["file", "link"])
def test_the_same_form_arriving_twice_at_once_shares_one_resource(app, qms, uploader, kind):
    """Both sendings found nothing shared with their key before either wrote: the second's
    INSERT fails on the key, its work (its file included) is undone, and it returns the first's
    resource, so neither request fails."""
    from peerlearn.resources import services
    from tests.concurrency import WRITES, at_once, first_writes_meet

    shared, uploader_id, space_id = [], uploader.id, qms.id

    def send() -> None:
        draft = services.ResourceDraft(
            title="Flow toolkit", type=ResourceType.tool, licence=Licence.ogl_3,
            visibility=ResourceVisibility.network, classification=Classification.official,
            pii_declared=True, submission_key=KEY,
            link_url="https://www.england.nhs.uk/" if kind == "link" else None,
        )  # fmt: skip
        upload = services.Upload(io.BytesIO(docx_bytes()), "flow.docx") if kind == "file" else None
        actor, space = db.session.get(User, uploader_id), db.session.get(Space, space_id)
        shared.append(services.create_resource(actor, space, draft, upload).id)

    with first_writes_meet(WRITES, before=True):
        at_once(app, [send, send])
    [resource] = db.session.scalars(select(Resource)).all()
    assert shared == [resource.id, resource.id]
    assert count(ResourceVersion) == (1 if kind == "file" else 0)
    assert len(stored_files(app)) == (1 if kind == "file" else 0)  # and no temporary file left
