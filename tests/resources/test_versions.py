"""Versions and edits: a new version with a change note becomes the default download, earlier
ones stay downloadable, the history says who, when and how large; editing the details, with
changes of who can see it audited and the IG rules enforced again."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.resources.models import ResourceVersion, ResourceVisibility
from tests.resources.conftest import docx_bytes, first_member, image_bytes
from tests.resources.upload_helpers import (
    count,
    field_error,
    form,
    selected,
    share,
    stored_files,
)


@pytest.fixture
def template(qms, uploader, make_file_resource):
    return make_file_resource(qms, by=uploader)


def _new_version(client, resource, content, filename, note="Updated for the 2027 framework"):
    return client.post(
        f"/resources/{resource.id}/versions/new",
        data={"file": (io.BytesIO(content), filename), "change_note": note, "pii_declaration": "y"},
        content_type="multipart/form-data",
    )


def test_a_new_version_becomes_the_default_and_the_old_one_stays(
    client, login, app, template, uploader
):
    login(client, uploader)
    assert "Upload a new version" in client.get(f"/resources/{template.id}/versions/new").get_data(
        as_text=True
    )
    revised = docx_bytes("Board QMS assurance template, revised")
    response = _new_version(client, template, revised, "Board QMS assurance template v2.docx")
    assert response.status_code == 302
    db.session.refresh(template)
    assert [v.number for v in template.versions] == [2, 1]
    assert template.current_version.number == 2
    assert template.current_version.change_note == "Updated for the 2027 framework"
    assert client.get(f"/resources/{template.id}/download", buffered=True).data == revised
    first = client.get(f"/resources/{template.id}/versions/1/download", buffered=True)
    assert first.data == docx_bytes()
    assert client.get(f"/resources/{template.id}/versions/3/download").status_code == 404
    assert len(stored_files(app)) == 2

    page = client.get(f"/resources/{template.id}").get_data(as_text=True)
    assert "Version 2" in page and "Version 1" in page and "(latest)" in page
    assert "Updated for the 2027 framework" in page and "First version" in page
    assert page.count("by Amara Okafor") >= 2
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "resource.version_added")
    )
    assert entry.detail["version"] == 2 and entry.actor_id == uploader.id


def test_older_versions_download_under_names_of_their_own(client, login, template, uploader):
    """Two versions of one file saved in one folder: the current one keeps its name, an older
    one says which version it is, so neither overwrites the other or passes for it."""
    login(client, uploader)
    _new_version(client, template, docx_bytes("revised"), "Board QMS assurance template.docx")

    def offered(path: str) -> str:
        response = client.get(path, buffered=True)
        return parse_options_header(response.headers["Content-Disposition"])[1]["filename"]

    current = "OFFICIAL_Board QMS assurance template.docx"
    assert offered(f"/resources/{template.id}/download") == current
    assert offered(f"/resources/{template.id}/versions/2/download") == current
    assert offered(f"/resources/{template.id}/versions/1/download") == (
        "OFFICIAL_Board QMS assurance template (version 1).docx"
    )


def test_a_version_needs_a_change_note_and_an_acceptable_file(
    client, login, app, template, uploader
):
    login(client, uploader)
    files_before = stored_files(app)
    page = _new_version(client, template, docx_bytes("v2"), "v2.docx", note="").get_data(
        as_text=True
    )
    assert field_error(page, "change_note") == "Say what changed in this version"
    page = _new_version(
        client, template, b"<html><script>alert(1)</script></html>", "v2.png"
    ).get_data(as_text=True)
    assert "a web page (HTML)" in field_error(page, "file")
    assert "Updated for the 2027 framework" in page  # the note is kept
    assert stored_files(app) == files_before and count(ResourceVersion) == 1


def test_the_same_version_form_sent_twice_uploads_one_version(
    client, login, app, template, uploader
):
    """A double click on "Upload version": the form's one-time key makes the second sending
    return the version the first uploaded, and keeps no second file (nor a temporary one)."""
    login(client, uploader)
    page = client.get(f"/resources/{template.id}/versions/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    assert "data-prevent-double-click" in page
    revised = docx_bytes("Board QMS assurance template, revised")
    sent = [
        client.post(
            f"/resources/{template.id}/versions/new",
            data={"file": (io.BytesIO(revised), "board v2.docx"), "submission_key": key,
                  "change_note": "Updated for the 2027 framework", "pii_declaration": "y"},
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)
        for _ in range(2)
    ]  # fmt: skip
    assert all("Version 2 has been uploaded." in page for page in sent)
    db.session.refresh(template)
    assert [v.number for v in template.versions] == [2, 1]
    assert template.current_version.submission_key == key
    added = select(AuditEntry).where(AuditEntry.action == "resource.version_added")
    assert len(db.session.scalars(added).all()) == 1
    assert len(stored_files(app)) == 2  # version 1's file and this one's, nothing else

    # A form shown afresh has a key of its own: the same file uploaded again is version 3.
    _new_version(client, template, revised, "board v2.docx")
    assert count(ResourceVersion) == 3 and len(stored_files(app)) == 2


def test_the_same_version_form_arriving_twice_at_once_uploads_one_version(app, template, uploader):
    """Both sendings found no version with their key before either wrote: the second's INSERT
    fails on the key, its work is undone (its file too), and it returns the first's version."""
    from peerlearn.accounts.models import User
    from peerlearn.resources import services
    from peerlearn.resources.models import Resource
    from tests.concurrency import at_once, first_writes_meet

    uploaded, resource_id, uploader_id = [], template.id, uploader.id

    def send() -> None:
        version = services.add_version(
            db.session.get(User, uploader_id),
            db.session.get(Resource, resource_id),
            services.Upload(io.BytesIO(docx_bytes("revised")), "board v2.docx"),
            "Updated for the 2027 framework",
            pii_declared=True,
            submission_key="k" * 32,
        )
        uploaded.append(version.id)

    with first_writes_meet("INSERT INTO stored_files", before=True):
        at_once(app, [send, send])
    db.session.expire_all()
    assert [v.number for v in template.versions] == [2, 1]
    assert uploaded == [template.current_version_id] * 2
    assert len(stored_files(app)) == 2  # and no temporary file left


def test_only_the_uploader_and_moderators_add_versions(
    client, login, template, make_user, add_member, qms
):
    other = make_user("Another member")
    add_member(qms, other)
    login(client, other)
    assert client.get(f"/resources/{template.id}/versions/new").status_code == 403
    response = _new_version(client, template, image_bytes(), "chart.png")
    assert response.status_code == 403 and count(ResourceVersion) == 1


def test_editing_keeps_a_record_of_who_can_see_it(client, login, template, uploader):
    login(client, uploader)
    page = client.get(f"/resources/{template.id}/edit").get_data(as_text=True)
    assert 'value="Board QMS assurance template"' in page
    data = form(
        content=None,
        kind=None,
        title="Board QMS assurance template (2027)",
        visibility="space",
        classification="official-sensitive",
    )
    response = client.post(f"/resources/{template.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(template)
    assert template.title == "Board QMS assurance template (2027)"
    assert template.visibility is ResourceVisibility.space
    change = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "resource.visibility_changed")
    )
    assert change.detail == {
        "resource_id": template.id,
        "old": "network/official",
        "new": "space/official-sensitive",
    }


def test_pointing_a_link_elsewhere_is_audited_with_both_addresses(
    client, new_client, login, qms, uploader
):
    """A link's address changed with nothing else: the audit entry says which field changed and
    keeps the old address beside the new one, on the space's audit log too."""
    login(client, uploader)
    link = share(client, qms, kind="link", link_url="https://www.england.nhs.uk/nhsimpact/")
    same = form(kind=None, link_url="https://example.org/elsewhere",
                organisation_id=str(uploader.organisation_id))  # fmt: skip
    assert client.post(f"/resources/{link.id}/edit", data=same).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resource.updated"))
    assert entry.actor_id == uploader.id
    assert entry.detail == {
        "resource_id": link.id,
        "title": "Board QMS assurance template",
        "changed": ["link_url"],
        "old_url": "https://www.england.nhs.uk/nhsimpact/",
        "url": "https://example.org/elsewhere",
    }

    owner = new_client()
    login(owner, first_member(qms))
    log = owner.get(f"/spaces/{qms.slug}/audit").get_data(as_text=True)
    assert "changed: link_url" in log
    assert "old url: https://www.england.nhs.uk/nhsimpact/" in log
    assert "url: https://example.org/elsewhere" in log


def test_the_audit_names_every_field_an_edit_changed_and_the_old_title(
    client, login, template, uploader
):
    login(client, uploader)
    data = form(content=None, kind=None, title="Board QMS assurance template (2027)",
                organisation_id=str(uploader.organisation_id), licence="cc-by-4", tags="")  # fmt: skip
    client.post(f"/resources/{template.id}/edit", data=data)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resource.updated"))
    assert entry.detail["changed"] == [
        "title", "summary", "components", "qms_elements", "licence"
    ]  # fmt: skip
    assert entry.detail["old_title"] == "Board QMS assurance template"
    assert entry.detail["title"] == "Board QMS assurance template (2027)"
    assert "old_url" not in entry.detail and "url" not in entry.detail


def test_editing_cannot_make_sensitive_material_wider(client, login, template, uploader):
    login(client, uploader)
    data = form(content=None, kind=None, classification="official-sensitive")
    page = client.post(f"/resources/{template.id}/edit", data=data).get_data(as_text=True)
    assert "OFFICIAL-SENSITIVE" in field_error(page, "visibility")
    db.session.refresh(template)
    assert template.classification.value == "official"


def test_a_resource_is_never_adapted_from_itself_or_its_own_adaptations(
    client, login, template, uploader, qms, make_resource
):
    login(client, uploader)

    def edit(adapted_from: str) -> str:
        data = form(content=None, kind=None, adapted_from=adapted_from, title="Changed")
        response = client.post(f"/resources/{template.id}/edit", data=data)
        return response.get_data(as_text=True)

    page = edit(f"/resources/{template.id}")
    assert field_error(page, "adapted_from") == (
        "A resource cannot be adapted from itself. Enter the resource you adapted, or leave this "
        "empty"
    )
    assert f'value="/resources/{template.id}"' in page  # what was typed is kept
    adaptation = share(client, qms, title="Lancashire's adaptation", adapted_from=str(template.id))
    grandchild = share(client, qms, title="Cumbria's version", adapted_from=str(adaptation.id))
    for descendant in (adaptation, grandchild):
        assert field_error(edit(str(descendant.id)), "adapted_from") == (
            f"“{descendant.title}” was adapted from this resource, directly or through others, "
            "so this resource cannot be adapted from it"
        )
    db.session.refresh(template)
    assert (template.title, template.adapted_from_id) == ("Board QMS assurance template", None)

    unrelated = make_resource(qms, title="Flow coaching guide")
    assert (
        client.post(
            f"/resources/{template.id}/edit",
            data=form(content=None, kind=None, adapted_from=str(unrelated.id)),
        ).status_code
        == 302
    )
    db.session.refresh(template)
    assert template.adapted_from_id == unrelated.id


def test_two_versions_uploaded_at_once_are_both_kept(
    app, template, uploader, qms, make_user, add_member
):
    """The uploader and a moderator each upload a new version at the same moment (both numbered
    theirs before either wrote): both are kept, as versions 2 and 3, and the later is current."""
    from peerlearn.accounts.models import User
    from peerlearn.resources import services
    from peerlearn.resources.models import Resource
    from peerlearn.spaces.models import MemberRole
    from tests.concurrency import at_once, first_writes_meet

    moderator = add_member(qms, make_user("Moderator"), role=MemberRole.moderator).user
    resource_id = template.id

    def upload(user_id: int, text: str) -> None:
        services.add_version(
            db.session.get(User, user_id),
            db.session.get(Resource, resource_id),
            services.Upload(io.BytesIO(docx_bytes(text)), f"{text}.docx"),
            f"Revised by {text}",
            pii_declared=True,
        )

    with first_writes_meet("INSERT INTO resource_versions", before=True):
        at_once(app, [lambda: upload(uploader.id, "uploader"), lambda: upload(moderator.id, "mod")])
    db.session.expire_all()
    assert sorted(v.number for v in template.versions) == [1, 2, 3]
    assert template.current_version.number == 3
    assert len(stored_files(app)) == 3


@pytest.mark.parametrize("change", ["removed", "narrowed"])
def test_an_adaptation_can_still_be_edited_once_its_original_is_out_of_sight(
    client, login, qms, uploader, make_space, make_resource, change
):
    """The original was removed, or narrowed to a space the editor is not in, after the
    adaptation was shared: the adaptation's details can still be changed with its provenance
    left as it was (the resource page keeps the original out of sight)."""
    from peerlearn.core.db import utcnow

    flow = make_space("Flow Coaching SIG")
    original = make_resource(flow, title="Flow coaching guide")
    login(client, uploader)
    adaptation = share(client, qms, title="Lancashire's adaptation", adapted_from=str(original.id))
    if change == "removed":
        original.deleted_at = utcnow()
    else:
        original.visibility = ResourceVisibility.space
    db.session.commit()

    page = client.get(f"/resources/{adaptation.id}/edit").get_data(as_text=True)
    data = form(content=None, kind=None, title="Lancashire's adaptation (2027)", adapted_from="")
    data["adapted_from"] = re.search(r'name="adapted_from"[^>]*value="([^"]*)"', page).group(1)
    response = client.post(f"/resources/{adaptation.id}/edit", data=data)
    assert response.status_code == 302, field_error(response.get_data(as_text=True), "adapted_from")
    db.session.refresh(adaptation)
    assert adaptation.title == "Lancashire's adaptation (2027)"
    assert adaptation.adapted_from_id == original.id
    assert "Flow coaching guide" not in client.get(f"/resources/{adaptation.id}").get_data(
        as_text=True
    )


def test_editing_a_resource_with_no_organisation_keeps_it_unrecorded(
    client, login, template, uploader, make_organisation
):
    """Provenance is never made up: correcting the title of a resource whose organisation was
    not recorded leaves it not recorded, unless the editor chooses one."""
    template.organisation_id = None
    db.session.commit()
    login(client, uploader)
    page = client.get(f"/resources/{template.id}/edit").get_data(as_text=True)
    assert selected(page, "organisation_id") == "Not recorded"
    data = form(content=None, kind=None, title="Board QMS assurance template (2027)")
    data["organisation_id"] = ""
    assert client.post(f"/resources/{template.id}/edit", data=data).status_code == 302
    db.session.refresh(template)
    assert template.title == "Board QMS assurance template (2027)"
    assert template.organisation_id is None
    page = client.get(f"/resources/{template.id}").get_data(as_text=True)
    assert "Organisation not recorded" in page

    chosen = make_organisation()
    data["organisation_id"] = str(chosen.id)
    assert client.post(f"/resources/{template.id}/edit", data=data).status_code == 302
    db.session.refresh(template)
    assert template.organisation_id == chosen.id


def test_a_new_resource_still_comes_from_the_sharer_s_organisation(client, login, qms, uploader):
    login(client, uploader)
    page = client.get(f"/spaces/{qms.slug}/library/new").get_data(as_text=True)
    assert selected(page, "organisation_id") == uploader.organisation.name
    assert "Your own organisation" in page
    assert share(client, qms, organisation_id="").organisation_id == uploader.organisation_id


def test_a_co_author_whose_account_was_closed_keeps_their_credit_through_an_edit(
    client, login, template, uploader, make_user
):
    colleague = make_user("Grace Okafor")
    login(client, uploader)
    edit = form(content=None, kind=None, authors=f"@{colleague.handle}")
    assert client.post(f"/resources/{template.id}/edit", data=edit).status_code == 302
    colleague.active = False  # they left the NHS
    db.session.commit()

    page = client.get(f"/resources/{template.id}/edit").get_data(as_text=True)
    assert f'value="@{colleague.handle}"' in page  # the form offers their credit as it stands
    edit["title"] = "Board QMS assurance template (2027)"
    assert client.post(f"/resources/{template.id}/edit", data=edit).status_code == 302
    db.session.refresh(template)
    assert template.title == "Board QMS assurance template (2027)"
    assert {a.id for a in template.authors} == {uploader.id, colleague.id}
    # Their name stays on the page, without a link to a profile that is no longer there.
    page = client.get(f"/resources/{template.id}").get_data(as_text=True)
    assert "Grace Okafor" in page
    assert f"/people/{colleague.handle}" not in page

    # A closed account is still not one to credit afresh.
    other = make_user("Tom Whitfield", active=False)
    edit["authors"] = f"@{colleague.handle}, @{other.handle}"
    page = client.post(f"/resources/{template.id}/edit", data=edit).get_data(as_text=True)
    assert field_error(page, "authors") == f"No member has the handle @{other.handle}"
