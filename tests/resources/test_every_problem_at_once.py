"""Every problem with a library form is told in one round, the NHS way: one submission shows each
field's problem beside it and in the error summary, which links to the field and lists them in the
order the page shows them; what was typed is kept and nothing is saved. The form's own checks, a
missing or wrong file, the patient-identifiable information declaration, who can see it, the
link's address, the authors, the tags and what it was adapted from all count, whether a file or a
link is shared, a new version uploaded, a resource changed or a case study written."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from peerlearn.extensions import db
from peerlearn.resources.models import Resource, ResourceVersion
from peerlearn.spaces.models import Visibility
from tests.accounts.pages import Page
from tests.documents import zip_bytes
from tests.resources.conftest import docx_bytes
from tests.resources.upload_helpers import TITLE, assert_no_trace, form, share, stored_files

NO_FILE = "Select a file to upload"
NO_TITLE = "Enter a title"
NO_DECLARATION = "Confirm that the resource contains no patient-identifiable information"
SENSITIVE = (
    "OFFICIAL-SENSITIVE material can only be shared with this space's members: choose "
    "“Members of this space”, or mark it OFFICIAL if it is not sensitive"
)
UNKNOWN_AUTHOR = "No member has the handle @nobody-by-this-name"
LONG_TAG = "Each tag must be 50 characters or fewer"
NOT_SEEN = "Choose a resource you can see in the library"
JAVASCRIPT = (
    "Enter a web address starting https:// or http:// (other kinds of link, such as "
    "javascript:, are not allowed)"
)


def told(page: Page) -> list[tuple[str | None, str]]:
    """The error summary's entries, each checked against the message beside its field."""
    for href, message in page.summary:
        assert href is not None, f"{message!r} does not link to its field"
        assert page.error_for(href.removeprefix("#")) == message, href
    assert len(page.field_errors) == len(page.summary), (page.field_errors, page.summary)
    return page.summary


def _share(client, space, **changes) -> Page:
    response = client.post(
        f"/spaces/{space.slug}/library/new",
        data=form(**changes),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return Page(response)


def test_sharing_a_file_tells_every_problem_at_once_and_keeps_what_was_typed(
    signed_in, app, qms, make_space, make_resource
):
    out_of_sight = make_resource(make_space(visibility=Visibility.private))
    page = _share(
        signed_in,
        qms,
        file=None,
        title="",
        tags=f"board assurance, {'t' * 51}",
        authors="@nobody-by-this-name",
        adapted_from=str(out_of_sight.id),
        classification="official-sensitive",
        visibility="network",
        pii_declaration=None,
    )
    assert told(page) == [
        ("#file", NO_FILE),
        ("#title", NO_TITLE),
        ("#tags", LONG_TAG),
        ("#authors", UNKNOWN_AUTHOR),
        ("#adapted_from", NOT_SEEN),
        ("#visibility", SENSITIVE),
        ("#pii_declaration", NO_DECLARATION),
    ]
    summary = "A template for boards to **assure** their quality management system."
    assert page.values["summary"] == summary
    assert page.values["tags"] == f"board assurance, {'t' * 51}"
    assert page.values["authors"] == "@nobody-by-this-name"
    assert page.values["adapted_from"] == str(out_of_sight.id)
    assert (page.values["type"], page.values["licence"]) == ("template", "ogl-3")
    assert (page.values["classification"], page.values["visibility"]) == (
        "official-sensitive",
        "network",
    )
    assert page.values["kind"] == "file"
    assert "Choose the file again" in page.main_text
    assert db.session.scalar(select(func.count()).select_from(Resource)) == 1  # the original
    assert stored_files(app) == []


@pytest.mark.parametrize(
    ("content", "filename", "problem"),
    [
        (zip_bytes(), "tools.zip", "a zip archive"),
        (b"", "Board QMS assurance template.docx", "The selected file is empty"),
        (docx_bytes(), "../template.docx", "folder names"),
    ],
)
def test_a_wrong_file_is_told_with_the_other_problems(
    signed_in, app, qms, content, filename, problem
):
    """Browsers do not keep a chosen file when the form comes back, so a file's own problem
    told only once the rest is right would mean choosing it, and sending the form, again."""
    page = _share(
        signed_in, qms, content=content, filename=filename, title=" ", pii_declaration=None
    )
    [(file, file_problem), *rest] = told(page)
    assert file == "#file" and problem in file_problem
    assert rest == [("#title", NO_TITLE), ("#pii_declaration", NO_DECLARATION)]
    assert_no_trace(app)  # the file was looked at, and not kept, not even for a moment


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("", "Enter the web address of the page you are sharing"),
        ("javascript:alert(1)", JAVASCRIPT),
    ],
)
def test_sharing_a_link_tells_every_problem_at_once(signed_in, app, qms, address, problem):
    page = _share(
        signed_in, qms, kind="link", link_url=address, title="", pii_declaration=None, file=None
    )
    assert told(page) == [
        ("#link_url", problem),
        ("#title", NO_TITLE),
        ("#pii_declaration", NO_DECLARATION),
    ]
    assert (page.values["kind"], page.values["link_url"]) == ("link", address)
    assert_no_trace(app)


def test_a_file_chosen_for_a_link_is_neither_needed_nor_checked(signed_in, qms):
    link = share(
        signed_in,
        qms,
        kind="link",
        link_url="https://www.england.nhs.uk/nhsimpact/",
        content=zip_bytes(),
        filename="tools.zip",
    )
    assert link.link_url == "https://www.england.nhs.uk/nhsimpact/"
    assert link.current_version is None


def test_changing_a_link_tells_every_problem_at_once(signed_in, qms):
    link = share(signed_in, qms, kind="link", link_url="https://www.england.nhs.uk/nhsimpact/")
    response = signed_in.post(
        f"/resources/{link.id}/edit",
        data=form(
            kind=None,
            link_url="javascript:alert(1)",
            title="A new title",
            authors="@nobody-by-this-name",
            pii_declaration=None,
            classification="official-sensitive",
        ),
    )
    page = Page(response)
    assert told(page) == [
        ("#link_url", JAVASCRIPT),
        ("#authors", UNKNOWN_AUTHOR),
        ("#visibility", SENSITIVE),
        ("#pii_declaration", NO_DECLARATION),
    ]
    assert (page.values["link_url"], page.values["title"]) == ("javascript:alert(1)", "A new title")
    db.session.refresh(link)
    assert (link.title, link.link_url) == (TITLE, "https://www.england.nhs.uk/nhsimpact/")


@pytest.mark.parametrize(
    ("file", "problem"),
    [(None, NO_FILE), ((zip_bytes(), "tools.zip"), "a zip archive")],
    ids=["no file", "a zip archive"],
)
def test_a_new_version_tells_every_problem_at_once(
    client, login, app, qms, uploader, make_file_resource, file, problem
):
    template = make_file_resource(qms, by=uploader)
    login(client, uploader)
    data = {"change_note": " "}
    if file is not None:
        data["file"] = (io.BytesIO(file[0]), file[1])
    response = client.post(
        f"/resources/{template.id}/versions/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    [(href, file_problem), change_note, declaration] = told(Page(response))
    assert href == "#file" and problem in file_problem
    assert change_note == ("#change_note", "Say what changed in this version")
    assert declaration == ("#pii_declaration", NO_DECLARATION)
    assert db.session.scalar(select(func.count()).select_from(ResourceVersion)) == 1
    assert len(stored_files(app)) == 1  # the first version's


def test_writing_a_case_study_tells_every_problem_at_once(client, login, qms, uploader):
    login(client, uploader)
    typed = {
        "title": "Halving waits for medicines to take home",
        "summary": "A five-day kaizen event on the discharge process.",
        "context": "",
        "aim": "Halve the wait by March.",
        "approach": "Value stream mapping, then weekly PDSA cycles.",
        "results": " ",
        "what_did_not_work": "We lost momentum in week two.",
        "authors": "@nobody-by-this-name",
        "licence": "cc-by-4",
        "classification": "official-sensitive",
        "visibility": "network",
    }
    response = client.post(f"/spaces/{qms.slug}/library/case-studies/new", data=typed)
    assert response.status_code == 200
    page = Page(response)
    assert told(page) == [
        ("#context", "Enter the context of the case study"),
        ("#results", "Enter the results of the case study"),
        ("#authors", UNKNOWN_AUTHOR),
        ("#visibility", SENSITIVE),
        ("#pii_declaration", NO_DECLARATION),
    ]
    for name in ("title", "summary", "aim", "approach", "what_did_not_work", "authors"):
        assert page.values[name] == typed[name], name
    assert db.session.scalar(select(func.count()).select_from(Resource)) == 0
