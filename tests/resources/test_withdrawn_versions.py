"""Withdrawing one version: a moderator withdraws a single version of a file (a reported version 2
with patient data, say) after a confirmation page that needs no JavaScript. From then on only
moderators download it; the resource's current version falls back to the newest one left; the
withdrawal is audited; the rest of the resource is untouched (restoring a hidden resource does not
bring the version back). The last version left is never withdrawn. Whoever may withdraw a version
may restore it, the same way: it downloads again, and is current again if it is the newest."""

from __future__ import annotations

import io
import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select
from werkzeug.http import parse_options_header

from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.resources.models import ResourceVersion
from peerlearn.spaces.models import MemberRole
from tests.resources.conftest import docx_bytes, first_member
from tests.roles import ROLES

FIRST, SECOND = docx_bytes("Board template"), docx_bytes("Board template with patient names")


@pytest.fixture
def moderator(qms, make_user, add_member):
    return add_member(qms, make_user("Kwame Mensah"), role=MemberRole.moderator).user


@pytest.fixture
def reader(qms, make_user, add_member):
    return add_member(qms, make_user("Priya Shah")).user


@pytest.fixture
def as_(new_client, login):
    def browser(user):
        client = new_client()
        login(client, user)
        return client

    return browser


@pytest.fixture
def template(qms, uploader, make_file_resource, as_):
    """A file with two versions, both uploaded by its sharer, the second current."""
    resource = make_file_resource(qms, by=uploader, content=FIRST, filename="board.docx")
    as_(uploader).post(
        f"/resources/{resource.id}/versions/new",
        data={
            "file": (io.BytesIO(SECOND), "board.docx"),
            "change_note": "Added the ward list",
            "pii_declaration": "y",
        },
        content_type="multipart/form-data",
    )
    db.session.refresh(resource)
    assert resource.current_version.number == 2
    return resource


def _withdraw(client, resource, number, reason="Page 3 lists patients on the ward"):
    return client.post(
        f"/resources/{resource.id}/versions/{number}/withdraw", data={"reason": reason}
    )


def _download(client, path):
    response = client.get(path, buffered=True)
    return response.status_code, response.data if response.status_code == 200 else None


def test_a_moderator_withdraws_the_reported_version_and_the_one_before_is_current(
    template, moderator, reader, uploader, as_
):
    mod = as_(moderator)
    page = mod.get(f"/resources/{template.id}").get_data(as_text=True)
    withdraw = f"/resources/{template.id}/versions/2/withdraw"
    assert f'href="{withdraw}"' in page
    confirm = mod.get(withdraw).get_data(as_text=True)
    assert "Withdraw version 2?" in confirm
    assert re.search(r'<form method="post"[^>]*>', confirm) and 'name="csrf_token"' in confirm
    assert "only the moderators of Quality Management Systems SIG can download it" in confirm

    response = _withdraw(mod, template, 2)
    assert response.status_code == 302 and response.headers["Location"].endswith("#versions")
    db.session.refresh(template)
    second = db.session.scalar(select(ResourceVersion).where(ResourceVersion.number == 2))
    assert second.withdrawn_at is not None and second.withdrawn_by_id == moderator.id
    assert template.current_version.number == 1

    for person in (reader, uploader):  # its uploader too
        browser = as_(person)
        assert _download(browser, f"/resources/{template.id}/versions/2/download") == (404, None)
        assert _download(browser, f"/resources/{template.id}/download") == (200, FIRST)
        history = browser.get(f"/resources/{template.id}").get_data(as_text=True)
        assert "versions/2/download" not in history and "Withdrawn by a moderator on" in history
        assert "Added the ward list" not in history and "withdraw" not in history
    assert _download(mod, f"/resources/{template.id}/versions/2/download") == (200, SECOND)
    # The version now current downloads under its own name again.
    named = mod.get(f"/resources/{template.id}/download", buffered=True)
    assert parse_options_header(named.headers["Content-Disposition"])[1]["filename"] == (
        "OFFICIAL_board.docx"
    )
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "resource.version_withdrawn")
    )
    assert entry.actor_id == moderator.id and entry.space_id == template.space_id
    assert entry.detail == {
        "resource_id": template.id, "version": 2, "filename": "board.docx",
        "sha256": second.sha256, "current": 1, "reason": "Page 3 lists patients on the ward",
    }  # fmt: skip


def test_a_resource_hidden_by_a_report_of_version_2_is_restored_with_version_1_only(
    template, moderator, reader, as_
):
    """The case from the review: a member reports version 2 as holding patient data, which hides
    the whole resource. The moderator withdraws version 2 and restores the resource: version 1
    is back for everyone, version 2 is not."""
    member = as_(reader)
    member.post(f"/resources/{template.id}/flag",
                data={"reason": "patient-information", "note": "Version 2 names patients"})  # fmt: skip
    db.session.refresh(template)
    assert template.hidden
    mod = as_(moderator)
    _withdraw(mod, template, 2)
    mod.post(f"/resources/{template.id}/restore")
    db.session.refresh(template)
    assert not template.hidden and template.current_version.number == 1
    assert _download(member, f"/resources/{template.id}/download") == (200, FIRST)
    assert _download(member, f"/resources/{template.id}/versions/2/download") == (404, None)


def test_withdrawing_an_earlier_version_leaves_the_current_one(template, moderator, reader, as_):
    _withdraw(as_(moderator), template, 1)
    db.session.refresh(template)
    assert template.current_version.number == 2
    member = as_(reader)
    assert _download(member, f"/resources/{template.id}/download") == (200, SECOND)
    assert _download(member, f"/resources/{template.id}/versions/1/download") == (404, None)


def test_withdrawing_twice_withdraws_and_audits_once(template, moderator, as_):
    mod = as_(moderator)
    _withdraw(mod, template, 2)
    again = mod.post(f"/resources/{template.id}/versions/2/withdraw", follow_redirects=True)
    assert "Version 2 has already been withdrawn" in again.get_data(as_text=True)
    withdrawals = select(AuditEntry).where(AuditEntry.action == "resource.version_withdrawn")
    assert len(db.session.scalars(withdrawals).all()) == 1


def test_the_last_version_left_is_not_withdrawn(template, moderator, as_):
    mod = as_(moderator)
    _withdraw(mod, template, 2)
    page = mod.get(f"/resources/{template.id}").get_data(as_text=True)
    assert "/versions/1/withdraw" not in page  # not offered
    explained = mod.get(f"/resources/{template.id}/versions/1/withdraw").get_data(as_text=True)
    assert "the resource would have nothing to download" in explained
    assert 'name="reason"' not in explained
    refused = _withdraw(mod, template, 1)
    assert refused.status_code == 200
    assert (
        "Version 1 is the only version left to download, so it cannot be withdrawn"
        in refused.get_data(as_text=True)
    )
    db.session.refresh(template)
    assert template.current_version.number == 1 and template.current_version.withdrawn_at is None


@pytest.mark.parametrize("who", ["uploader", "reader"])
def test_only_moderators_withdraw_a_version(who, template, uploader, reader, as_):
    browser = as_({"uploader": uploader, "reader": reader}[who])
    assert browser.get(f"/resources/{template.id}/versions/2/withdraw").status_code == 403
    assert _withdraw(browser, template, 2).status_code == 403
    db.session.refresh(template)
    assert template.current_version.number == 2


def test_a_withdrawal_and_a_new_version_at_once_leave_the_new_one_current(
    app, template, moderator, uploader
):
    """The moderator withdraws version 2 as its uploader sends version 3: whichever holds the
    resource first, version 3 is current and version 2 withdrawn."""
    from peerlearn.accounts.models import User
    from peerlearn.resources import reports, services
    from peerlearn.resources.models import Resource
    from tests.concurrency import WRITES, at_once, first_writes_meet

    resource_id, uploader_id, moderator_id = template.id, uploader.id, moderator.id

    def withdraw() -> None:
        resource = db.session.get(Resource, resource_id)
        version = db.session.scalar(select(ResourceVersion).where(ResourceVersion.number == 2))
        reports.withdraw_version(db.session.get(User, moderator_id), resource, version)

    def upload() -> None:
        services.add_version(
            db.session.get(User, uploader_id),
            db.session.get(Resource, resource_id),
            services.Upload(io.BytesIO(docx_bytes("Version 3")), "board.docx"),
            "Without the ward list",
            pii_declared=True,
        )

    with first_writes_meet(WRITES, before=True):
        at_once(app, [withdraw, upload])
    db.session.expire_all()
    assert template.current_version.number == 3
    assert [(v.number, v.withdrawn_at is not None) for v in template.versions] == [
        (3, False), (2, True), (1, False)
    ]  # fmt: skip


# Restoring a withdrawn version -----------------------------------------------------------------


def _restore(client, resource, number, reason="The names on page 3 are of staff"):
    return client.post(
        f"/resources/{resource.id}/versions/{number}/restore", data={"reason": reason}
    )


def test_a_moderator_restores_a_withdrawn_version_after_confirming(
    template, moderator, reader, as_
):
    """Version 2 was withdrawn by mistake: the moderator restores it from the version history,
    after a page that asks them to confirm. Everyone downloads it again, and, as the newest
    version, it is the one downloaded by default again."""
    mod = as_(moderator)
    _withdraw(mod, template, 2)
    page = mod.get(f"/resources/{template.id}").get_data(as_text=True)
    restore = f"/resources/{template.id}/versions/2/restore"
    assert f'href="{restore}"' in page
    confirm = mod.get(restore).get_data(as_text=True)
    assert "Restore version 2?" in confirm and 'name="csrf_token"' in confirm
    assert "It is newer than version 1, the version people download now" in confirm
    db.session.refresh(template)
    assert template.current_version.number == 1  # showing the page changed nothing

    response = _restore(mod, template, 2)
    assert response.status_code == 302 and response.headers["Location"].endswith("#versions")
    db.session.refresh(template)
    second = db.session.scalar(select(ResourceVersion).where(ResourceVersion.number == 2))
    assert second.withdrawn_at is None and second.withdrawn_by_id is None
    assert template.current_version.number == 2

    member = as_(reader)
    assert _download(member, f"/resources/{template.id}/versions/2/download") == (200, SECOND)
    assert _download(member, f"/resources/{template.id}/download") == (200, SECOND)
    history = member.get(f"/resources/{template.id}").get_data(as_text=True)
    assert "versions/2/download" in history and "Withdrawn" not in history
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "resource.version_restored")
    )
    assert entry.actor_id == moderator.id and entry.space_id == template.space_id
    assert entry.detail == {
        "resource_id": template.id, "version": 2, "filename": "board.docx",
        "sha256": second.sha256, "current": 2, "reason": "The names on page 3 are of staff",
    }  # fmt: skip
    owner = as_(first_member(template.space))
    log = owner.get(f"/spaces/{template.space.slug}/audit").get_data(as_text=True)
    assert "Restored a withdrawn version of a resource" in log


def test_restoring_an_earlier_version_leaves_the_newer_one_current(
    template, moderator, reader, as_
):
    mod = as_(moderator)
    _withdraw(mod, template, 1)
    confirm = mod.get(f"/resources/{template.id}/versions/1/restore").get_data(as_text=True)
    assert "It is newer than" not in confirm
    _restore(mod, template, 1)
    db.session.refresh(template)
    assert template.current_version.number == 2
    member = as_(reader)
    assert _download(member, f"/resources/{template.id}/versions/1/download") == (200, FIRST)
    assert _download(member, f"/resources/{template.id}/download") == (200, SECOND)


def test_restoring_twice_restores_and_audits_once(template, moderator, as_):
    mod = as_(moderator)
    _withdraw(mod, template, 2)
    _restore(mod, template, 2)
    again = _restore(mod, template, 2).headers["Location"]
    assert "Version 2 is not withdrawn" in mod.get(again).get_data(as_text=True)
    restorations = select(AuditEntry).where(AuditEntry.action == "resource.version_restored")
    assert len(db.session.scalars(restorations).all()) == 1


#: Who may restore a withdrawn version: whoever may withdraw it (the policy's ``moderate``).
RESTORERS = {"moderator", "owner", "admin"}


@pytest.mark.parametrize("role", [*ROLES, "uploader"])
def test_only_those_who_may_withdraw_a_version_restore_it(
    role, template, moderator, uploader, person_in, new_client, login, as_
):
    _withdraw(as_(moderator), template, 2)
    actor = uploader if role == "uploader" else person_in(role, template.space)
    browser = new_client()
    if role != "anonymous":
        login(browser, actor)
    page = browser.get(f"/resources/{template.id}").get_data(as_text=True)
    assert ("/versions/2/restore" in page) is (role in RESTORERS)
    confirm = browser.get(f"/resources/{template.id}/versions/2/restore")
    restored = _restore(browser, template, 2)
    db.session.refresh(template)
    second = db.session.scalar(select(ResourceVersion).where(ResourceVersion.number == 2))
    if role in RESTORERS:
        assert confirm.status_code == 200 and restored.status_code == 302
        assert second.withdrawn_at is None and template.current_version.number == 2
    else:
        # Signed out: to the sign-in page; unable to see the resource: not there; else refused.
        expected = 302 if role == "anonymous" else 404 if role == "banned" else 403
        assert (confirm.status_code, restored.status_code) == (expected, expected)
        assert second.withdrawn_at is not None and template.current_version.number == 1
        withdrawn_for_them = _download(browser, f"/resources/{template.id}/versions/2/download")
        assert withdrawn_for_them[0] != 200


# "Latest" is the newest version not withdrawn ---------------------------------------------------


def _labelled_latest(page: str) -> list[int]:
    """The versions the history labels "(latest)"."""
    rows = re.findall(r'<tr class="nhsuk-table__row">(.*?)</tr>', page, re.S)
    return [int(re.search(r"Version (\d+)", row).group(1)) for row in rows if "(latest)" in row]


def test_latest_is_the_newest_version_not_withdrawn_wherever_it_is_shown(
    template, moderator, reader, uploader, as_
):
    """With versions 1 to 3, a moderator withdraws 3 (and then 2): the history labels the newest
    one left as the latest, it is the default download, under the file's own name, and the page
    says what was declared of it. Restoring 3 makes it the latest again."""
    third = docx_bytes("Board template, 2027 framework")
    as_(uploader).post(
        f"/resources/{template.id}/versions/new",
        data={"file": (io.BytesIO(third), "board.docx"), "change_note": "2027 framework",
              "pii_declaration": "y"},
        content_type="multipart/form-data",
    )  # fmt: skip
    mod, member = as_(moderator), as_(reader)
    contents = {1: FIRST, 2: SECOND, 3: third}

    def assert_latest(number: int) -> None:
        for browser in (member, mod):
            page = browser.get(f"/resources/{template.id}").get_data(as_text=True)
            assert _labelled_latest(page) == [number]
            assert f"version {number}</p>" in page  # the line under the download button
            assert f"that version {number} contains no patient-identifiable" in page
            default = browser.get(f"/resources/{template.id}/download", buffered=True)
            assert default.data == contents[number]
            name = parse_options_header(default.headers["Content-Disposition"])[1]["filename"]
            assert name == "OFFICIAL_board.docx"

    assert_latest(3)
    _withdraw(mod, template, 3)
    assert_latest(2)
    _withdraw(mod, template, 2)
    assert_latest(1)
    _restore(mod, template, 3)
    assert_latest(3)
    _restore(mod, template, 2)
    assert_latest(3)


def test_a_schema_downgrade_refuses_to_make_a_withdrawn_version_downloadable(
    template, moderator, as_, caplog
):
    """Below the withdrawal's migration nothing would keep the version from downloads: the
    downgrade stops, says why, and leaves the schema as it was."""
    _withdraw(as_(moderator), template, 2)
    db.session.remove()
    try:
        with pytest.raises(SystemExit):  # how Flask-Migrate ends a failed command
            downgrade(revision="d6a3c9e1f524")
        assert "1 withdrawn resource version(s) would become downloadable again" in caplog.text
        columns = inspect(db.engine).get_columns("resource_versions")
        assert "withdrawn_at" in {column["name"] for column in columns}
    finally:
        upgrade()  # the later migrations' downgrades did run where DDL is not transactional
