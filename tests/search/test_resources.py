"""Finding the resource library: a resource by its description, tags and the words inside its
uploaded document, and never a resource the reader may not open."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from peerlearn.permissions import Action, can
from peerlearn.resources import drafts, reports, services
from peerlearn.resources.models import (
    Classification,
    Licence,
    ResourceFlagReason,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.search.indexing import reindex_all
from peerlearn.spaces.models import MemberRole, Visibility
from tests.documents import odf_paragraphs, pptx_bytes, xlsx_bytes
from tests.resources.conftest import pdf_bytes
from tests.roles import ROLES


@pytest.fixture(autouse=True)
def _empty_upload_dir(app):
    root = Path(app.config["UPLOAD_DIR"])
    shutil.rmtree(root, ignore_errors=True)
    yield
    shutil.rmtree(root, ignore_errors=True)


def pdf_file(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def docx_file(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def draft(title: str, **fields) -> services.ResourceDraft:
    values = {
        "type": ResourceType.template,
        "licence": Licence.ogl_3,
        "visibility": ResourceVisibility.network,
        "classification": Classification.official,
        "pii_declared": True,
        **fields,
    }
    return services.ResourceDraft(title=title, **values)


@pytest.fixture
def share(sig, author):
    """Share a resource through the library's service: a file when ``content`` is given, else
    a link."""

    def make(title="Board assurance template", content=None, filename="template.docx", **fields):
        by = fields.pop("by", author)
        space = fields.pop("space", sig)
        if content is None:
            fields.setdefault("link_url", "https://www.england.nhs.uk/nhsimpact/")
            return services.create_resource(by, space, draft(title, **fields))
        upload = services.Upload(io.BytesIO(content), filename)
        return services.create_resource(by, space, draft(title, **fields), upload)

    return make


def test_found_by_title_summary_tag_and_link_domain(share, member, find):
    resource = share(
        "Huddle board template", summary="Run a **daily** standup", tags=("flowcharts",)
    )
    reader = member("Reader")
    for words in ("huddle board", "daily standup", "flowcharts", "england.nhs.uk"):
        assert ("resource", resource.id) in find(reader, words), words


def test_found_by_a_word_only_inside_its_pdf_or_docx(share, member, find):
    pdf = share("Audit pack", pdf_file("Zanzibarite audit cycle"), "audit.pdf")
    word = share("Review pack", docx_file("Quillwort review meeting"), "review.docx")
    reader = member("Reader")
    assert find(reader, "zanzibarite") == [("resource", pdf.id)]
    assert find(reader, "quillwort") == [("resource", word.id)]


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (pptx_bytes("Board huddle", notes="Quillwort speaker notes"), "huddle.pptx"),
        (xlsx_bytes("Measures", "Quillwort measure"), "measures.xlsx"),
        (odf_paragraphs("text", "Quillwort review meeting"), "review.odt"),
        (odf_paragraphs("spreadsheet", "Quillwort measure"), "measures.ods"),
        (odf_paragraphs("presentation", "Quillwort slide"), "huddle.odp"),
    ],
    ids=["pptx", "xlsx", "odt", "ods", "odp"],
)
def test_found_by_a_word_only_inside_its_powerpoint_excel_or_opendocument_file(
    share, member, find, content, filename
):
    resource = share("Review pack", content, filename)
    assert find(member("Reader"), "quillwort") == [("resource", resource.id)]


def test_a_new_version_replaces_the_old_text(share, author, member, find):
    resource = share("Review pack", docx_file("Quillwort review meeting"), "review.docx")
    upload = services.Upload(io.BytesIO(docx_file("Marigold huddle")), "review.docx")
    services.add_version(author, resource, upload, "Rewritten", pii_declared=True)
    reader = member("Reader")
    assert find(reader, "quillwort") == []
    assert find(reader, "marigold") == [("resource", resource.id)]


def test_a_withdrawn_version_s_text_leaves_the_index_for_the_version_left(
    share, author, member, find, sig
):
    """A moderator withdraws the current version: search reads the version now current."""
    resource = share("Review pack", docx_file("Quillwort review meeting"), "review.docx")
    upload = services.Upload(io.BytesIO(docx_file("Marigold huddle")), "review.docx")
    services.add_version(author, resource, upload, "Rewritten", pii_declared=True)
    moderator = member("Moderator", role=MemberRole.moderator)
    reports.withdraw_version(moderator, resource, resource.current_version, "Patient names")
    reader = member("Reader")
    assert find(reader, "marigold") == []
    assert find(reader, "quillwort") == [("resource", resource.id)]


def test_search_reads_the_newest_version_not_withdrawn_as_versions_are_withdrawn_and_restored(
    share, author, member, find, sig
):
    """Search reads what "latest" means everywhere: the newest version not withdrawn. Withdrawn,
    the newest version's words leave the index; restored, they come back."""
    resource = share("Review pack", docx_file("Quillwort review meeting"), "review.docx")
    upload = services.Upload(io.BytesIO(docx_file("Marigold huddle")), "review.docx")
    newest = services.add_version(author, resource, upload, "Rewritten", pii_declared=True)
    moderator = member("Moderator", role=MemberRole.moderator)
    reader = member("Reader")
    reports.withdraw_version(moderator, resource, newest, "Patient names")
    assert (find(reader, "marigold"), find(reader, "quillwort")) == (
        [],
        [("resource", resource.id)],
    )
    reports.restore_version(moderator, resource, newest, "Staff names, not patients")
    assert (find(reader, "marigold"), find(reader, "quillwort")) == (
        [("resource", resource.id)],
        [],
    )


def test_a_document_that_fails_to_parse_is_still_found_by_title(share, member, find):
    broken = b"%PDF-1.4\n" + b"Quillwort not really a PDF\n" * 20
    resource = share("Tangerine checklist", broken, "checklist.pdf")
    assert resource.current_version.extracted_text is None
    assert find(member("Reader"), "tangerine") == [("resource", resource.id)]


def test_a_document_whose_text_holds_nul_characters_is_stored_and_found(share, member, find):
    # PDFs with odd font encodings give NUL characters, which PostgreSQL cannot store.
    resource = share("Review pack", pdf_bytes(r"Quillwort\000review"), "review.pdf")
    assert resource.current_version.extracted_text == "Quillwort review"
    assert find(member("Reader"), "quillwort") == [("resource", resource.id)]


def test_a_document_over_the_size_limit_is_not_extracted(app, share, member, find):
    limit = app.config["EXTRACTION_MAX_BYTES"]
    app.config["EXTRACTION_MAX_BYTES"] = 1000  # the document is larger than this
    try:
        resource = share("Long report", docx_file("Quillwort " * 50), "long.docx")
    finally:
        app.config["EXTRACTION_MAX_BYTES"] = limit
    assert resource.current_version.extracted_text is None
    reader = member("Reader")
    assert find(reader, "quillwort") == []
    assert find(reader, "long report") == [("resource", resource.id)]


def test_a_hidden_resource_disappears_for_members_and_returns(share, sig, member, find):
    resource = share("Huddle board template")
    reader = member("Reader")
    moderator = member("Mod", role=MemberRole.moderator)
    reports.flag_resource(reader, resource, ResourceFlagReason.patient_information)
    assert find(member("Other reader"), "huddle") == []
    assert find(moderator, "huddle") == [("resource", resource.id)]
    reports.set_resource_hidden(moderator, resource, False)
    assert find(reader, "huddle") == [("resource", resource.id)]


def test_a_removed_resource_leaves_the_index(share, author, member, find):
    resource = share("Huddle board template")
    services.delete_resource(author, resource)
    assert find(author, "huddle") == []
    reindex_all()
    assert find(author, "huddle") == []


def test_sensitive_and_space_only_resources_stay_in_the_space(share, member, make_user, find):
    sensitive = share(
        "Kumquat incident review",
        classification=Classification.official_sensitive,
        visibility=ResourceVisibility.space,
    )
    space_only = share("Kumquat rota", visibility=ResourceVisibility.space)
    outsider = make_user("Outsider")
    assert find(outsider, "kumquat") == []
    assert find(None, "kumquat") == []
    assert {hit for hit in find(member("Reader"), "kumquat")} == {
        ("resource", sensitive.id),
        ("resource", space_only.id),
    }
    # A network administrator finds the members-only resource, but OFFICIAL-SENSITIVE material
    # only as a member of its space.
    assert find(make_user("Administrator", admin=True), "kumquat") == [("resource", space_only.id)]
    assert {hit for hit in find(member("Administrator member", admin=True), "kumquat")} == {
        ("resource", sensitive.id),
        ("resource", space_only.id),
    }


def test_an_edit_is_found_at_once(share, author, member, find):
    resource = share("Huddle board template")
    services.update_resource(author, resource, draft("Pineapple board template",
                             link_url="https://www.england.nhs.uk/nhsimpact/"))  # fmt: skip
    assert find(member("Reader"), "pineapple") == [("resource", resource.id)]


@pytest.mark.parametrize("visibility", list(Visibility))
def test_every_result_is_one_the_reader_may_open(
    visibility, make_space, make_user, add_member, person_in, share, find
):
    space = make_space("Library space", visibility=visibility)
    owner = make_user("Owner")
    add_member(space, owner, MemberRole.owner)
    widest = drafts.widest_visibility(space)
    kinds = [{"visibility": choice} for choice in drafts.visibility_choices(space)]
    kinds.append(
        {
            "visibility": ResourceVisibility.space,
            "classification": Classification.official_sensitive,
        }
    )
    made = [share("Persimmon guide", space=space, by=owner, **fields) for fields in kinds]
    hidden = share("Persimmon guide", space=space, by=owner, visibility=widest)
    reports.set_resource_hidden(owner, hidden, True)
    made.append(hidden)
    for role in ROLES:
        reader = person_in(role, space)
        found = {object_id for kind, object_id in find(reader, "persimmon")}
        assert found == {r.id for r in made if can(reader, Action.view, r)}, role


def test_the_help_page_says_resources_and_their_documents_are_searched(client):
    page = client.get("/help/search").get_data(as_text=True)
    assert "resources in the libraries" in page
    assert "the words inside it" in page
    for words in ("PowerPoint (.pptx)", "OpenDocument (.odt, .ods, .odp)"):
        assert words in page, words


def test_a_result_carries_its_classification_marking_and_hidden_tag(share, member, client, login):
    # As in the library's lists: OFFICIAL-SENSITIVE material is marked wherever it is shown,
    # and those who still see a hidden resource are told it is hidden.
    share(
        "Kumquat incident review",
        classification=Classification.official_sensitive,
        visibility=ResourceVisibility.space,
    )
    hidden = share("Kumquat rota")
    moderator = member("Mod", role=MemberRole.moderator)
    reports.set_resource_hidden(moderator, hidden, True)
    login(client, moderator)
    page = client.get("/search?q=kumquat").get_data(as_text=True)
    items = [item.split("</li>")[0] for item in page.split('<li class="pl-result">')[1:]]
    sensitive_item = next(item for item in items if "incident review" in item)
    hidden_item = next(item for item in items if "rota" in item)
    assert "OFFICIAL-SENSITIVE" in sensitive_item and "Hidden" not in sensitive_item
    assert "Hidden" in hidden_item and "OFFICIAL-SENSITIVE" not in hidden_item
