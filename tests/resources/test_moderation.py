"""Reports, hiding, restoring and removal: a report of patient-identifiable information hides a
resource at once when its reporter is answerable to the space's moderators, or once a second
person reports it (moderation's one rule, as for posts); reports are limited per person, posts'
and resources' together; moderators see the reports, hide, restore or dismiss; uploaders and
moderators remove; every step is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from peerlearn.audit.models import AuditEntry
from peerlearn.core.db import utcnow
from peerlearn.discussions import services as discussions
from peerlearn.extensions import db
from peerlearn.moderation.models import FlagOutcome
from peerlearn.resources.models import ResourceFlag
from peerlearn.spaces.models import MemberRole


@pytest.fixture
def moderator(qms, make_user, add_member):
    user = make_user("Kwame Mensah")
    add_member(qms, user, MemberRole.moderator)
    return user


@pytest.fixture
def reader(qms, make_user, add_member):
    user = make_user("Priya Shah")
    add_member(qms, user)
    return user


@pytest.fixture
def template(qms, uploader, make_file_resource):
    return make_file_resource(qms, by=uploader)


def actions() -> list[str]:
    """The library's audit entries, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith("resource."))
            .order_by(AuditEntry.id)
        )
    )


def test_a_patient_information_report_hides_it_until_reviewed(
    client, new_client, login, template, reader, moderator, uploader
):
    login(client, reader)
    form = client.get(f"/resources/{template.id}/flag").get_data(as_text=True)
    assert "Contains patient-identifiable information" in form
    response = client.post(
        f"/resources/{template.id}/flag",
        data={"reason": "patient-information", "note": "Page 3 has NHS numbers"},
    )
    assert response.status_code == 302
    db.session.refresh(template)
    assert template.hidden
    assert client.get(f"/resources/{template.id}").status_code == 404
    assert client.get(f"/resources/{template.id}/download").status_code == 404

    author = new_client()
    login(author, uploader)
    page = author.get(f"/resources/{template.id}").get_data(as_text=True)
    assert "This resource is hidden" in page
    assert "Upload a new version" not in page  # only moderators act on it now

    mod = new_client()
    login(mod, moderator)
    page = mod.get(f"/resources/{template.id}").get_data(as_text=True)
    assert "Contains patient-identifiable information" in page and "Page 3 has NHS numbers" in page
    audience = page.split('id="audience">', 1)[1].split("</dd>", 1)[0]
    assert audience.startswith("While it is hidden, only the moderators of")
    assert "once restored: all network members" in audience
    assert "This resource is hidden, so it is not discussed" in page
    assert "Only the space's members can see this resource" not in page
    assert mod.post(f"/resources/{template.id}/restore").status_code == 302
    db.session.refresh(template)
    assert not template.hidden
    flag = db.session.scalar(select(ResourceFlag))
    assert flag.outcome is FlagOutcome.dismissed and flag.resolved_by_id == moderator.id
    assert client.get(f"/resources/{template.id}").status_code == 200
    assert actions() == [
        "resource.uploaded",
        "resource.flagged",
        "resource.hidden",
        "resource.restored",
    ]


def test_a_non_members_patient_information_report_hides_it_only_once_seconded(
    client, new_client, login, qms, template, moderator, make_user
):
    """In a network space anyone signed in may see and report the library's resources; one such
    report cannot hide a resource by itself (or a whole library, in seconds): it waits in the
    moderators' queue, and a second person's report hides it, as for posts."""
    outsider, another = make_user("Ona Outsider"), make_user("Ade Another")
    first = _report_patient_information(client, login, outsider, template)
    assert first.request.path == f"/resources/{template.id}"
    assert "The space&#39;s moderators will review your report" in first.get_data(as_text=True)
    db.session.refresh(template)
    assert not template.hidden

    mod = new_client()
    login(mod, moderator)
    for queue in (f"/spaces/{qms.slug}/moderation", f"/spaces/{qms.slug}/library/reports"):
        page = mod.get(queue).get_data(as_text=True)
        assert "Board QMS assurance template" in page and "NHS numbers on page 3" in page

    second = _report_patient_information(new_client(), login, another, template)
    assert second.request.path == f"/spaces/{qms.slug}/library"
    assert "The resource is hidden until a moderator has reviewed it" in second.get_data(
        as_text=True
    )
    db.session.refresh(template)
    assert template.hidden and template.hidden_by_id == another.id
    assert actions() == ["resource.uploaded", "resource.flagged", "resource.flagged",
                         "resource.hidden"]  # fmt: skip
    page = mod.get(f"/spaces/{qms.slug}/moderation").get_data(as_text=True)
    assert page.count("NHS numbers on page 3") == 2  # both reports wait for the moderators


def test_two_outsiders_reporting_at_once_hide_it_once(app, template, make_user):
    """Each report is committed before its reporters are counted, so of two at the same moment
    the later counts the earlier: the resource is hidden, once, with one audit entry."""
    from peerlearn.accounts.models import User
    from peerlearn.resources import reports
    from peerlearn.resources.models import Resource, ResourceFlagReason
    from tests.concurrency import at_once, first_writes_meet

    resource_id = template.id
    ids = [make_user("Ona Outsider").id, make_user("Ade Another").id]

    def report(user_id: int) -> None:
        reports.flag_resource(db.session.get(User, user_id), db.session.get(Resource, resource_id),
                              ResourceFlagReason.patient_information)  # fmt: skip

    with first_writes_meet("INSERT INTO resource_flags"):
        at_once(app, [lambda: report(ids[0]), lambda: report(ids[1])])
    db.session.expire_all()
    assert template.hidden
    assert actions().count("resource.flagged") == 2 and actions().count("resource.hidden") == 1


def test_a_report_of_something_else_must_say_what(client, login, template, reader):
    login(client, reader)
    response = client.post(f"/resources/{template.id}/flag", data={"reason": "other"})
    assert response.status_code == 200
    assert "Say what is wrong, so that the moderators know what to look for" in response.get_data(
        as_text=True
    )
    assert db.session.scalars(select(ResourceFlag)).all() == []
    said = {"reason": "other", "note": "The licence is not the publisher's"}
    assert client.post(f"/resources/{template.id}/flag", data=said).status_code == 302
    flag = db.session.scalars(select(ResourceFlag)).one()
    assert (flag.reason.value, flag.note) == ("other", "The licence is not the publisher's")


def test_another_reason_from_a_second_person_does_not_hide_it(
    client, new_client, login, template, make_user
):
    _report_patient_information(client, login, make_user("Ona Outsider"), template)
    other = new_client()
    login(other, make_user("Ade Another"))
    other.post(f"/resources/{template.id}/flag", data={"reason": "copyright"})
    db.session.refresh(template)
    assert not template.hidden


def test_reports_are_limited_per_person_posts_and_resources_together(
    client, login, qms, template, reader, uploader, make_file_resource
):
    """20 reports an hour, of posts and resources together: the 21st gets the "Too many
    attempts" page, saying when they may report again, whatever it reports."""
    login(client, reader)
    others = [make_file_resource(qms, title=f"Template {n}") for n in range(10)]
    thread, _ = discussions.start_thread(uploader, qms, discussions.ThreadDraft("Hello", "Hi"))
    post_id = thread.last_post_id  # its opening post
    for resource in others:
        assert (
            client.post(f"/resources/{resource.id}/flag", data={"reason": "spam"}).status_code
            == 302
        )
    for _ in range(10):  # the first a report, the rest refused as already made: each counts
        assert client.post(f"/posts/{post_id}/report", data={"reason": "spam"}).status_code == 302
    refused = client.post(f"/resources/{template.id}/flag", data={"reason": "inaccurate"})
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Too many attempts" in text
    assert "You can make up to 20 reports an hour, and have made them all" in text
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert client.post(f"/posts/{post_id}/report", data={"reason": "spam"}).status_code == 429
    assert (
        db.session.scalar(select(ResourceFlag).where(ResourceFlag.resource_id == template.id))
        is None
    )
    assert client.get(f"/resources/{template.id}/flag").status_code == 200


def _report_patient_information(client, login, person, resource):
    login(client, person)
    return client.post(
        f"/resources/{resource.id}/flag",
        data={"reason": "patient-information", "note": "NHS numbers on page 3"},
        follow_redirects=True,
    )


def test_the_reporter_of_patient_information_lands_on_the_library_with_the_thanks(
    client, login, template, reader, qms
):
    response = _report_patient_information(client, login, reader, template)
    assert (response.status_code, response.request.path) == (200, f"/spaces/{qms.slug}/library")
    page = response.get_data(as_text=True)
    assert "The resource is hidden until a moderator has reviewed it" in page
    assert template.title not in page


def test_a_moderator_who_reports_patient_information_stays_on_the_hidden_resource(
    client, login, template, moderator
):
    response = _report_patient_information(client, login, moderator, template)
    assert (response.status_code, response.request.path) == (200, f"/resources/{template.id}")
    page = response.get_data(as_text=True)
    assert "The resource is hidden until a moderator has reviewed it" in page
    assert "NHS numbers on page 3" in page  # the moderator's view of the open reports


def test_a_member_who_reported_a_resource_may_still_report_patient_information_in_it(
    client, login, template, reader
):
    login(client, reader)
    client.post(f"/resources/{template.id}/flag", data={"reason": "inaccurate"})
    response = _report_patient_information(client, login, reader, template)
    assert response.status_code == 200
    db.session.refresh(template)
    assert template.hidden
    (flag,) = db.session.scalars(select(ResourceFlag)).all()
    assert flag.reason.value == "patient-information"
    assert flag.note.startswith("NHS numbers on page 3\n\nReported before as ")
    assert actions().count("resource.flagged") == 2


def test_other_reports_wait_for_a_moderator(client, new_client, login, template, reader, moderator):
    login(client, reader)
    client.post(f"/resources/{template.id}/flag", data={"reason": "inaccurate"})
    db.session.refresh(template)
    assert not template.hidden
    again = client.post(f"/resources/{template.id}/flag", data={"reason": "spam"})
    assert "already reported" in again.get_data(as_text=True)

    mod = new_client()
    login(mod, moderator)
    first = mod.post(f"/resources/{template.id}/dismiss-flags", follow_redirects=True)
    assert "The reports have been dismissed." in first.get_data(as_text=True)
    flag = db.session.scalar(select(ResourceFlag))
    assert flag.outcome is FlagOutcome.dismissed
    again = mod.post(f"/resources/{template.id}/dismiss-flags", follow_redirects=True)
    assert "already been dealt with" in again.get_data(as_text=True)
    assert actions().count("resource.flags_dismissed") == 1
    mod.post(f"/resources/{template.id}/hide")
    db.session.refresh(template)
    assert template.hidden and template.hidden_by_id == moderator.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resource.hidden"))
    assert entry.actor_id == moderator.id and entry.space_id == template.space_id


def test_only_moderators_hide_and_restore(client, login, template, reader):
    login(client, reader)
    assert client.post(f"/resources/{template.id}/hide").status_code == 403
    db.session.refresh(template)
    assert not template.hidden


def test_the_uploader_removes_a_resource(client, login, template, uploader, qms):
    login(client, uploader)
    page = client.get(f"/resources/{template.id}/delete").get_data(as_text=True)
    assert "Remove Board QMS assurance template from the library?" in page
    response = client.post(f"/resources/{template.id}/delete")
    assert response.headers["Location"].endswith(f"/spaces/{qms.slug}/library")
    assert client.get(f"/resources/{template.id}").status_code == 404
    assert client.get(f"/resources/{template.id}/download").status_code == 404
    assert "resource.deleted" in actions()


def test_removing_twice_says_it_is_already_removed(client, login, template, uploader, qms):
    """A double click on "Remove it": the second press changes nothing and records nothing,
    and goes where the first went, saying the resource has already gone."""
    login(client, uploader)
    client.post(f"/resources/{template.id}/delete")
    removed_at = template.deleted_at
    response = client.post(f"/resources/{template.id}/delete", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"/spaces/{qms.slug}/library"
    assert (
        "Board QMS assurance template has already been removed from the library"
        in response.get_data(as_text=True)
    )
    db.session.refresh(template)
    assert template.deleted_at == removed_at
    assert actions().count("resource.deleted") == 1


def test_only_those_who_could_remove_it_hear_it_is_removed(client, login, template, reader):
    """Anyone else is not told the removed resource ever existed."""
    template.deleted_at = utcnow()
    db.session.commit()
    login(client, reader)
    assert client.post(f"/resources/{template.id}/delete").status_code == 404


def test_two_removals_at_once_remove_it_once(app, template, uploader, moderator):
    """The uploader and a moderator press "Remove it" at the same moment (each found it there
    before either wrote): it is removed once, with one audit entry, and neither request fails."""
    from peerlearn.accounts.models import User
    from peerlearn.resources import services
    from peerlearn.resources.models import Resource
    from tests.concurrency import WRITES, at_once, first_writes_meet

    resource_id, removed = template.id, []

    def remove(user_id: int) -> None:
        resource = db.session.get(Resource, resource_id)
        removed.append(services.delete_resource(db.session.get(User, user_id), resource))

    with first_writes_meet(WRITES, before=True):
        at_once(app, [lambda: remove(uploader.id), lambda: remove(moderator.id)])
    db.session.expire_all()
    assert template.deleted_at is not None
    assert actions().count("resource.deleted") == 1
    assert sorted(removed) == [False, True]


def test_others_may_not_remove_it(client, login, template, reader):
    login(client, reader)
    assert client.post(f"/resources/{template.id}/delete").status_code == 403


def test_uploads_are_audited(template, uploader):
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resource.uploaded"))
    assert entry.actor_id == uploader.id
    assert entry.detail["classification"] == "official"
    assert entry.detail["visibility"] == "network"


def test_moderators_list_the_space_s_reported_resources(
    client, new_client, login, qms, template, reader, moderator, make_file_resource
):
    make_file_resource(qms, title="Nothing wrong with this one")
    login(client, reader)
    client.post(
        f"/resources/{template.id}/flag", data={"reason": "copyright", "note": "From a textbook"}
    )
    assert client.get(f"/spaces/{qms.slug}/library/reports").status_code == 403
    mod = new_client()
    login(mod, moderator)
    page = mod.get(f"/spaces/{qms.slug}/library/reports").get_data(as_text=True)
    assert "Board QMS assurance template" in page and "From a textbook" in page
    assert "Nothing wrong with this one" not in page
    mod.post(f"/resources/{template.id}/dismiss-flags")
    page = mod.get(f"/spaces/{qms.slug}/library/reports").get_data(as_text=True)
    assert "There are no open reports" in page


def test_reported_resources_reach_the_moderation_queues(
    client, new_client, login, qms, template, reader, moderator, make_space, make_user, add_member,
    make_file_resource,
):  # fmt: skip
    # A report in another space, seen by the administrators' queue and that space's moderators.
    flow = make_space("Flow coaches")
    flow_moderator, flow_reader = make_user("Fay Flow"), make_user("Fred Flow")
    add_member(flow, flow_moderator, MemberRole.moderator)
    add_member(flow, flow_reader)
    elsewhere = make_file_resource(flow, title="Flow coaching workbook", by=flow_moderator)
    for who, resource, note in ((reader, template, "From a textbook"),
                                (flow_reader, elsewhere, "Not ours to share")):  # fmt: skip
        browser = new_client()
        login(browser, who)
        browser.post(f"/resources/{resource.id}/flag", data={"reason": "copyright", "note": note})

    admin = new_client()
    login(admin, make_user("Network admin", admin=True))
    queue = admin.get("/moderation").get_data(as_text=True)
    assert "Reported library resources" in queue
    assert "Board QMS assurance template" in queue and "From a textbook" in queue
    assert "Flow coaching workbook" in queue and "in Flow coaches" in queue

    mod = new_client()
    login(mod, moderator)
    own = mod.get(f"/spaces/{qms.slug}/moderation").get_data(as_text=True)
    assert "Board QMS assurance template" in own and "Flow coaching workbook" not in own
    assert mod.get(f"/spaces/{flow.slug}/moderation").status_code == 403
    # Dealt with, it leaves the queue.
    mod.post(f"/resources/{template.id}/dismiss-flags")
    own = mod.get(f"/spaces/{qms.slug}/moderation").get_data(as_text=True)
    assert "Board QMS assurance template" not in own
    assert "There are no open reports about library resources in" in own
