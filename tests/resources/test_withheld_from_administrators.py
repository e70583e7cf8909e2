"""OFFICIAL-SENSITIVE material and network administrators: need to know. An administrator who is
not a member of the space never reads it (not in a list, a search, its page or a download), but
still deals with reports about it and may remove it, from a page that shows what a report shows.
As a member of the space, they read it like any member."""

from __future__ import annotations

import pytest

from peerlearn.extensions import db
from peerlearn.resources import engagement
from peerlearn.resources.models import Classification, ResourceVisibility
from peerlearn.spaces.models import MemberRole, Visibility
from tests.resources.upload_helpers import form

TITLE = "Kumquat never event review"


@pytest.fixture
def sensitive(qms, uploader, make_file_resource):
    return make_file_resource(
        qms,
        by=uploader,
        title=TITLE,
        visibility=ResourceVisibility.space,
        classification=Classification.official_sensitive,
    )


@pytest.fixture
def administrator(make_user):
    return make_user("Network Administrator", admin=True)


def test_an_administrator_outside_the_space_never_reads_it(
    client, login, qms, sensitive, administrator
):
    login(client, administrator)
    for listing in ("/library", f"/spaces/{qms.slug}/library", "/search?q=kumquat"):
        page = client.get(listing).get_data(as_text=True)
        assert f'href="/resources/{sensitive.id}"' not in page and "Kumquat" not in page, listing
    for url in (
        f"/resources/{sensitive.id}/download",
        f"/resources/{sensitive.id}/versions/1/download",
        f"/resources/{sensitive.id}/edit",
        f"/resources/{sensitive.id}/versions/new",
        f"/resources/{sensitive.id}/flag",
    ):
        assert client.get(url).status_code == 404, url

    # What a report would show, and what they may do about it; nothing of the material.
    page = client.get(f"/resources/{sensitive.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert TITLE in text and "OFFICIAL-SENSITIVE" in text
    assert f"only the members of {qms.name} can read it or download it" in text
    assert "/download" not in text and "Board QMS assurance template.docx" not in text
    assert "Hide it" in text and "Remove it from the library" in text
    db.session.refresh(sensitive)
    assert sensitive.download_count == 0


def test_an_administrator_who_is_a_member_reads_it(
    client, login, qms, sensitive, administrator, add_member
):
    add_member(qms, administrator)
    login(client, administrator)
    for listing in (f"/spaces/{qms.slug}/library", "/search?q=kumquat"):
        page = client.get(listing).get_data(as_text=True)
        assert f'href="/resources/{sensitive.id}"' in page, listing
    page = client.get(f"/resources/{sensitive.id}").get_data(as_text=True)
    assert 'id="download"' in page
    assert "so it is not discussed in a discussion thread" in page
    assert client.get(f"/resources/{sensitive.id}/download").status_code == 200


def test_an_administrator_deals_with_reports_on_it_unread_and_may_remove_it(
    client, new_client, login, qms, sensitive, administrator, make_user, add_member
):
    reporter = make_user("Reporting member")
    add_member(qms, reporter)
    member = new_client()
    login(member, reporter)
    member.post(f"/resources/{sensitive.id}/flag", data={"reason": "other",
                                                         "note": "Names a member of staff"})  # fmt: skip

    login(client, administrator)
    queue = client.get("/moderation").get_data(as_text=True)
    assert TITLE in queue and f'href="/resources/{sensitive.id}"' in queue
    page = client.get(f"/resources/{sensitive.id}").get_data(as_text=True)
    assert "Names a member of staff" in page and "Dismiss the reports" in page

    assert client.post(f"/resources/{sensitive.id}/hide").status_code == 302
    db.session.refresh(sensitive)
    assert sensitive.hidden
    assert "Restore it" in client.get(f"/resources/{sensitive.id}").get_data(as_text=True)
    assert client.post(f"/resources/{sensitive.id}/restore").status_code == 302
    db.session.refresh(sensitive)
    assert not sensitive.hidden

    assert "Remove" in client.get(f"/resources/{sensitive.id}/delete").get_data(as_text=True)
    assert client.post(f"/resources/{sensitive.id}/delete").status_code == 302
    db.session.refresh(sensitive)
    assert sensitive.deleted


def test_nobody_else_who_may_not_read_it_is_told_it_is_there(
    client, login, sensitive, make_space, make_user, add_member
):
    """Only an administrator moderates what they may not read: to a moderator of another space
    it is not there at all."""
    elsewhere = make_space("Another group")
    moderator = make_user("Moderator elsewhere")
    add_member(elsewhere, moderator, MemberRole.moderator)
    login(client, moderator)
    for url in (f"/resources/{sensitive.id}", f"/resources/{sensitive.id}/delete"):
        assert client.get(url).status_code == 404, url
    for url in ("hide", "restore", "dismiss-flags", "delete"):
        assert client.post(f"/resources/{sensitive.id}/{url}").status_code == 404, url


def test_it_is_not_discussed_in_a_thread_and_a_discussion_loses_its_name_once_it_is_marked(
    client, login, make_space, make_user, add_member, make_resource
):
    """Network administrators read every space's threads, hidden ones too: a thread named after
    OFFICIAL-SENSITIVE material would name it to them."""
    from peerlearn.discussions import reading
    from peerlearn.discussions.models import Thread
    from peerlearn.search.services import search

    space = make_space("Private QMS group", visibility=Visibility.private)
    member = make_user("Member")
    add_member(space, member)
    notes = make_resource(space, by=member, title=TITLE, visibility=ResourceVisibility.space)
    thread = engagement.discussion_for(member, notes)

    login(client, member)
    marking = form(content=None, kind=None, title=TITLE, visibility="space",
                   classification="official-sensitive", link_url=notes.link_url)  # fmt: skip
    assert client.post(f"/resources/{notes.id}/edit", data=marking).status_code == 302
    db.session.expire_all()
    assert not engagement.can_be_discussed(notes)
    thread = db.session.get(Thread, thread.id)
    assert thread.hidden and thread.title == engagement.SENSITIVE_RESOURCE_THREAD
    assert reading.opening_post(thread).deleted_at is not None
    assert not search(make_user("Administrator", admin=True), "kumquat").total
    page = client.get(f"/resources/{notes.id}").get_data(as_text=True)
    assert "Discuss this resource" not in page
    assert "so it is not discussed in a discussion thread" in page


def test_an_administrator_outside_the_space_may_not_share_it_there(
    client, login, qms, administrator
):
    """They could not read what they shared: they are told so beside the field, and nothing is
    kept but what they typed."""
    from sqlalchemy import select

    from peerlearn.resources.models import Resource

    login(client, administrator)
    sharing = form(title=TITLE, visibility="space", classification="official-sensitive")
    response = client.post(
        f"/spaces/{qms.slug}/library/new", data=sharing, content_type="multipart/form-data"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Only members of this space can share OFFICIAL-SENSITIVE material here" in page
    assert f'value="{TITLE}"' in page
    assert db.session.scalars(select(Resource)).all() == []
    # OFFICIAL material they may still share.
    shared = form(title=TITLE, visibility="network", classification="official")
    response = client.post(
        f"/spaces/{qms.slug}/library/new", data=shared, content_type="multipart/form-data"
    )
    assert response.status_code == 302


def test_the_audit_logs_name_its_file_only_to_those_who_may_read_it(
    client, new_client, login, qms, sensitive, uploader, administrator
):
    """The file's name is the material's, not a fact about it: an administrator outside the
    space reads that it was shared, and by whom, in both logs, but not the file's name."""
    filename = "Board QMS assurance template.docx"
    login(client, administrator)
    for log in ("/admin/audit", f"/spaces/{qms.slug}/audit"):
        page = client.get(log).get_data(as_text=True)
        assert "Shared a file" in page or "resource.uploaded" in page, log
        assert TITLE in page and filename not in page, log
    owner = new_client()
    login(owner, qms.memberships[0].user)
    assert filename in owner.get(f"/spaces/{qms.slug}/audit").get_data(as_text=True)
