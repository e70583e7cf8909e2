"""Structured case studies: written through a form, read as a page, printable, editable by their
author; bad input is explained beside the field and keeps what was typed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from peerlearn.accounts.models import User
from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from peerlearn.resources import case_studies, services
from peerlearn.resources.models import (
    CaseStudySection,
    CaseStudySectionName,
    Classification,
    Licence,
    Resource,
    ResourceKind,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.spaces.models import MemberRole, Visibility
from tests.concurrency import at_once, first_writes_meet
from tests.resources.browse_helpers import titles
from tests.resources.upload_helpers import selected


@pytest.fixture
def sig(make_space):
    return make_space("Flow Coaching")


@pytest.fixture
def author(client, login, make_user, add_member, sig):
    user = make_user("Tom Whitfield")
    add_member(sig, user)
    login(client, user)
    return user


def _form(author, **changes) -> dict:
    data = {
        "title": "Halving waits for medicines to take home",
        "summary": "A five-day kaizen event on the discharge process.",
        "context": "Patients waited **four hours** for medicines to take home.",
        "aim": "Halve the wait by March.",
        "measures": "- Median wait\n- Discharges before noon",
        "approach": "Value stream mapping, then weekly PDSA cycles.",
        "results": "The median wait fell from 4 hours to 1 hour 50 minutes.",
        "what_did_not_work": "We lost momentum in week two.",
        "contact": "Head of Quality Improvement, Blackpool.",
        "components": ["capability-and-capacity"],
        "qms_elements": ["quality-improvement"],
        "tags": "kaizen, discharge",
        "organisation_id": str(author.organisation_id),
        "licence": "cc-by-4",
        "classification": "official",
        "visibility": "network",
        "pii_declaration": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_a_member_writes_a_case_study_that_reads_as_a_page(client, author, sig):
    response = client.post(f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author))
    assert response.status_code == 302, _text(response.get_data(as_text=True))[-1500:]
    resource = db.session.scalars(select(Resource)).one()
    assert response.headers["Location"] == f"/resources/{resource.id}/case-study"
    assert resource.kind is ResourceKind.case_study and resource.type is ResourceType.case_study
    assert (
        resource.pii_declared_at is not None and resource.organisation_id == author.organisation_id
    )

    page = client.get(f"/resources/{resource.id}/case-study").get_data(as_text=True)
    headings = re.findall(r'<h2 id="section-[^"]+">([^<]+)</h2>', page)
    assert headings == [name.label for name in CaseStudySectionName]
    assert "<strong>four hours</strong>" in page  # through the text pipeline
    assert "Creative Commons Attribution 4.0" in page and "OFFICIAL" in page
    assert "Print or save as PDF" in page and "Edit this case study" in page
    assert ", updated" not in _text(page)  # just published
    db.session.execute(update(Resource).values(updated_at=resource.created_at + timedelta(days=2)))
    db.session.commit()
    page = client.get(f"/resources/{resource.id}/case-study").get_data(as_text=True)
    assert ", updated " in _text(page)
    # The resource's own address leads to its page.
    assert (
        client.get(f"/resources/{resource.id}")
        .headers["Location"]
        .endswith(f"/resources/{resource.id}/case-study")
    )
    listed = client.get("/library?type=case-study&kind=case-study").get_data(as_text=True)
    assert titles(listed) == ["Halving waits for medicines to take home"]


def test_sections_are_sanitised_and_optional_ones_may_be_left_out(client, author, sig):
    form = _form(author, measures="", what_did_not_work=None,
                 approach='<script>alert(1)</script> [a link](javascript:alert(1))')  # fmt: skip
    client.post(f"/spaces/{sig.slug}/library/case-studies/new", data=form)
    resource = db.session.scalars(select(Resource)).one()
    stored = {row.name: row.html for row in db.session.scalars(select(CaseStudySection))}
    assert set(stored) == {
        CaseStudySectionName.context, CaseStudySectionName.aim, CaseStudySectionName.approach,
        CaseStudySectionName.results, CaseStudySectionName.contact,
    }  # fmt: skip
    assert "<script" not in stored[CaseStudySectionName.approach]
    assert 'href="javascript' not in stored[CaseStudySectionName.approach]
    page = client.get(f"/resources/{resource.id}/case-study").get_data(as_text=True)
    assert "What did not work" not in re.findall(r'<h2 id="section-[^"]+">([^<]+)</h2>', page)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"aim": ""}, "aim", "Enter the aim of the case study"),
        ({"results": "   "}, "results", "Enter the results of the case study"),
        ({"pii_declaration": None}, "pii_declaration", "no patient-identifiable information"),
        ({"classification": "official-sensitive"}, "visibility", "OFFICIAL-SENSITIVE"),
        ({"title": ""}, "title", "Enter a title"),
        ({"title": "  "}, "title", "Enter a title"),
        ({"context": "x" * 10_001}, "context", "10,000 characters or fewer"),
    ],
)
def test_bad_input_is_explained_beside_the_field_and_what_was_typed_is_kept(
    client, author, sig, changes, field, message
):
    response = client.post(
        f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author, **changes)
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and message in page
    assert f'href="#{field}' in page  # the error summary points at the field
    assert "We lost momentum in week two." in page  # the other fields are kept
    if field != "title":
        assert 'value="Halving waits for medicines to take home"' in page
    assert db.session.scalar(select(func.count()).select_from(Resource)) == 0


def test_the_author_edits_the_case_study_and_others_may_not(
    client, new_client, login, author, sig, make_user, add_member
):
    client.post(f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author))
    resource = db.session.scalars(select(Resource)).one()
    form_page = client.get(f"/resources/{resource.id}/case-study/edit").get_data(as_text=True)
    assert "We lost momentum in week two." in form_page  # the sections are filled in

    bad = client.post(f"/resources/{resource.id}/case-study/edit",
                      data=_form(author, results="", contact="Ask for Tom."))  # fmt: skip
    assert "Enter the results of the case study" in bad.get_data(as_text=True)
    assert "Ask for Tom." in bad.get_data(as_text=True)

    response = client.post(
        f"/resources/{resource.id}/case-study/edit",
        data=_form(author, results="Now 1 hour 20 minutes.", what_did_not_work=""),
    )
    assert response.status_code == 302
    page = client.get(f"/resources/{resource.id}/case-study").get_data(as_text=True)
    assert "Now 1 hour 20 minutes." in page and "We lost momentum" not in page

    other = make_user("Another member")
    add_member(sig, other)
    browser = new_client()
    login(browser, other)
    assert browser.get(f"/resources/{resource.id}/case-study").status_code == 200
    assert browser.get(f"/resources/{resource.id}/case-study/edit").status_code == 403
    assert (
        browser.post(f"/resources/{resource.id}/case-study/edit", data=_form(other)).status_code
        == 403
    )


def test_editing_a_case_study_with_no_organisation_keeps_it_unrecorded(client, author, sig):
    client.post(f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author))
    resource = db.session.scalars(select(Resource)).one()
    resource.organisation_id = None
    db.session.commit()
    page = client.get(f"/resources/{resource.id}/case-study/edit").get_data(as_text=True)
    assert selected(page, "organisation_id") == "Not recorded"
    edit = client.post(
        f"/resources/{resource.id}/case-study/edit",
        data=_form(author, title="Halving waits for TTOs", organisation_id=""),
    )
    assert edit.status_code == 302
    db.session.refresh(resource)
    assert (resource.title, resource.organisation_id) == ("Halving waits for TTOs", None)
    for shown in (f"/resources/{resource.id}/case-study", f"/resources/{resource.id}/print"):
        page = client.get(shown).get_data(as_text=True)
        assert "Organisation not recorded" in page and "no longer listed" not in page, shown


def test_a_case_study_is_changed_only_on_its_own_page(
    client, new_client, login, author, sig, make_user, add_member
):
    """The general "change the details" form would let a case study's type be changed away
    from "case study": it sends the author to the case study's own form. Posted from a page left
    open, it saves nothing, and shows the case study's form with what was typed, to save there."""
    client.post(f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author))
    resource = db.session.scalars(select(Resource)).one()
    own_page = f"/resources/{resource.id}/case-study/edit"
    assert client.get(f"/resources/{resource.id}/edit").headers["Location"] == own_page

    # The general form sends all but the sections.
    sections = {case_studies.field_name(name): None for name in CaseStudySectionName}
    typed = _form(
        author,
        title="Renamed",
        summary="Now with a <b>fortnight</b> of follow-up.",
        type="template",
        tags="kaizen, follow-up",
        **sections,
    )
    response = client.post(f"/resources/{resource.id}/edit", data=typed)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This resource is now a case study" in page and "Nothing has been saved yet" in page
    assert f'action="{own_page}"' in page
    assert 'value="Renamed"' in page and 'value="kaizen, follow-up"' in page
    assert "Now with a &lt;b&gt;fortnight&lt;/b&gt; of follow-up." in page
    assert "Halve the wait by March." in page  # its sections, as they are
    db.session.refresh(resource)
    assert (resource.title, resource.type) == (
        "Halving waits for medicines to take home",
        ResourceType.case_study,
    )
    updates = select(AuditEntry).where(AuditEntry.action == "resource.updated")
    assert db.session.scalars(updates).all() == []

    saved = client.post(own_page, data=_form(author, title="Renamed"))
    assert saved.headers["Location"] == f"/resources/{resource.id}/case-study"
    db.session.refresh(resource)
    assert (resource.title, resource.type) == ("Renamed", ResourceType.case_study)

    other = make_user("Another member")
    add_member(sig, other)
    browser = new_client()
    login(browser, other)
    assert browser.get(f"/resources/{resource.id}/edit").status_code == 403


def test_publishing_the_same_case_study_form_twice_publishes_one(client, author, sig):
    path = f"/spaces/{sig.slug}/library/case-studies/new"
    page = client.get(path).get_data(as_text=True)
    assert 'name="submission_key" type="hidden"' in page and "data-prevent-double-click" in page
    data = _form(author, submission_key="c" * 32)
    first, second = (client.post(path, data=data) for _ in range(2))
    assert first.headers["Location"] == second.headers["Location"]
    [resource] = db.session.scalars(select(Resource)).all()
    assert first.headers["Location"] == f"/resources/{resource.id}/case-study"
    added = select(func.count()).where(AuditEntry.action == "resource.case_study_added")
    assert db.session.scalar(added) == 1
    edit = client.get(f"/resources/{resource.id}/case-study/edit").get_data(as_text=True)
    assert 'name="submission_key"' not in edit  # a change is not a new case study


def test_changing_only_a_section_is_audited_as_a_change_of_sections(client, author, sig):
    client.post(f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author))
    resource = db.session.scalars(select(Resource)).one()
    client.post(
        f"/resources/{resource.id}/case-study/edit",
        data=_form(author, results="The median wait fell to 1 hour 40 minutes."),
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resource.updated"))
    assert entry.detail["changed"] == ["sections"]


def test_the_printable_page_is_the_case_study_alone(client, author, sig, make_resource):
    client.post(f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author))
    resource = db.session.scalars(select(Resource)).one()
    response = client.get(f"/resources/{resource.id}/print")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/static/css/print.css" in page and "Print or save as PDF" in page
    assert page.count("<strong>OFFICIAL</strong>") == 2  # the marking, top and bottom
    assert "Halve the wait by March." in page and "Blackpool" in page
    assert f"http://peerlearn.test/resources/{resource.id}/case-study" in page

    link = make_resource(sig, title="Not a case study")
    assert client.get(f"/resources/{link.id}/print").status_code == 404
    assert client.get(f"/resources/{link.id}/case-study").status_code == 404


def test_a_private_groups_case_study_is_only_for_its_members(
    client, new_client, login, make_space, make_user, add_member, author
):
    private = make_space("Measurement for Improvement", visibility=Visibility.private)
    add_member(private, author)
    form = _form(author, visibility="space")
    assert (
        client.post(f"/spaces/{private.slug}/library/case-studies/new", data=form).status_code
        == 302
    )
    resource = db.session.scalars(select(Resource)).one()
    outsider = new_client()
    login(outsider, make_user("Outsider"))
    for path in ("/case-study", "/print", "/case-study/edit"):
        assert outsider.get(f"/resources/{resource.id}{path}").status_code == 404
    assert outsider.get(f"/spaces/{private.slug}/library/case-studies/new").status_code == 403


def test_two_edits_filling_the_same_section_at_once_are_both_saved(
    app, client, author, sig, make_user, add_member
):
    """The author and a moderator each add the empty "what did not work" section at the same
    moment (each found it empty before either wrote): neither meets an error, and the section is
    kept once, as the edit saved last wrote it."""
    response = client.post(
        f"/spaces/{sig.slug}/library/case-studies/new", data=_form(author, what_did_not_work="")
    )
    resource_id = int(response.headers["Location"].split("/")[2])
    moderator = add_member(sig, make_user("Moderator"), role=MemberRole.moderator).user
    sections = {
        name: text
        for name in CaseStudySectionName
        if (text := _form(author).get(case_studies.field_name(name)))
    }

    def edit(user_id: int, lesson: str) -> None:
        case_studies.update_case_study(
            db.session.get(User, user_id),
            db.session.get(Resource, resource_id),
            services.ResourceDraft(
                title="Halving waits for medicines to take home",
                type=ResourceType.case_study,
                licence=Licence.cc_by_4,
                visibility=ResourceVisibility.network,
                classification=Classification.official,
                pii_declared=True,
            ),
            {**sections, CaseStudySectionName.what_did_not_work: lesson},
        )

    with first_writes_meet("INSERT INTO case_study_sections", before=True):
        at_once(app, [lambda: edit(author.id, "Momentum"), lambda: edit(moderator.id, "Staffing")])
    db.session.expire_all()
    [lesson] = db.session.scalars(
        select(CaseStudySection.source).where(
            CaseStudySection.resource_id == resource_id,
            CaseStudySection.name == CaseStudySectionName.what_did_not_work,
        )
    )
    assert lesson in {"Momentum", "Staffing"}
