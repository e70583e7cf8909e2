"""The demo library: files, links and case studies shared across the demo spaces, seeded once.

Files are generated in memory (:mod:`peerlearn.demo_files`) and shared through the library's own
services, so they are stored, typed and downloadable exactly as a member's upload would be.
Provenance comes from several systems; one template has an "adapted from" chain; some members say
"we're using this", save and download. A resource that already exists (by space and title) is
left alone, with everything that hangs off it: seeding twice adds nothing.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.demo_files import Section, pdf_document, spreadsheet, word_document
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation
from peerlearn.resources import case_studies, engagement, services
from peerlearn.resources.models import (
    CaseStudySectionName,
    Classification,
    Licence,
    QmsElement,
    Resource,
    ResourceType,
    ResourceVersion,
    ResourceVisibility,
)
from peerlearn.spaces.models import Space

C, Q, T, L = ImpactComponent, QmsElement, ResourceType, Licence
V, S = ResourceVisibility, CaseStudySectionName


@dataclass(frozen=True)
class DemoResource:
    """One resource in the demo library, and what members have done with it."""

    space: str
    author: str  #: handle
    days_ago: int
    title: str
    type: ResourceType
    summary: str
    components: tuple[ImpactComponent, ...] = ()
    elements: tuple[QmsElement, ...] = ()
    tags: tuple[str, ...] = ()
    licence: Licence = Licence.ogl_3
    visibility: ResourceVisibility = ResourceVisibility.network
    classification: Classification = Classification.official
    #: (file name, builder of its content) for a file; None for a link or case study.
    file: tuple[str, Callable[[], bytes]] | None = None
    link: str | None = None
    sections: dict[CaseStudySectionName, str] = field(default_factory=dict)
    #: Provenance when it is not the author's own organisation.
    organisation: str | None = None
    adapted_from: str | None = None  #: title of the original
    review_by_days: int | None = None  #: days from today (negative: already due)
    using: tuple[str, ...] = ()  #: handles of members who say "we're using this"
    saved_by: tuple[str, ...] = ()
    downloaded_by: tuple[str, ...] = ()


def _board_template() -> bytes:
    return word_document(
        "Board QMS assurance template",
        [
            Section(
                "How to use this template",
                [
                    "One report a quarter to the board's quality committee, nine pages at most.",
                    "Every chart uses SPC with the Making Data Count icons; every special cause has a sentence on why.",
                ],
            ),
            Section(
                "1. Our quality management system",
                [
                    "Where we are against our QMS maturity self-assessment, and what we are working on next.",
                ],
            ),
            Section(
                "2. Quality control",
                [
                    "- Breakthrough and strategic measures, one SPC chart each",
                    "- Two lines of narrative per chart: what it shows, what we are doing",
                ],
            ),
            Section(
                "3. Quality assurance",
                [
                    "What the committee can rely on and why: audits, learning responses, external reviews.",
                ],
            ),
            Section(
                "4. Quality improvement",
                [
                    "The three or four improvement programmes in flight, with their measures.",
                ],
            ),
        ],
        subtitle="Royal Cornwall Hospitals NHS Trust · version for quality committees",
    )


def _lancashire_template() -> bytes:
    return word_document(
        "Board QMS assurance template (Lancashire version)",
        [
            Section(
                "What we changed",
                [
                    "Added a system page so the ICB sees the same charts the trust board sees.",
                    "Dropped RAG ratings entirely; assurance icons only.",
                ],
            ),
            Section(
                "1. The QMS on a page", ["Maturity, priorities and the next self-assessment date."]
            ),
            Section(
                "2. Control, assurance and improvement",
                [
                    "- SPC for the agreed measures",
                    "- Learning from PSIRF responses",
                    "- Improvement programmes and their measures",
                ],
            ),
        ],
        subtitle="Adapted from Royal Cornwall Hospitals NHS Trust's template",
    )


def _worked_example() -> bytes:
    return pdf_document(
        "Board QMS assurance report: a worked example",
        [
            Section(
                "Summary for the committee",
                [
                    "Two measures show special cause improvement; one shows concerning variation and has an improvement plan.",
                ],
            ),
            Section(
                "Quality control",
                [
                    "Falls with harm per 1,000 bed days: common cause variation, not meeting the target reliably.",
                    "Discharges before noon: special cause improvement for six weeks after the kaizen event.",
                ],
            ),
            Section(
                "Quality assurance",
                ["Two learning responses completed; one external review received."],
            ),
        ],
        subtitle="Illustrative figures only: no patient-identifiable information",
    )


def _maturity_workbook() -> bytes:
    levels = ("Pre-foundation", "Foundation", "Developing", "Embedding", "Leading")
    rows = [("Element", "Statement", "Executive score", "Divisional score", "Evidence")]
    for element, statement in [
        ("Quality planning", "Services are designed with patients from the start"),
        ("Quality control", "Agreed measures are shown as SPC charts at every level"),
        ("Quality assurance", "The board can say what it relies on and why"),
        ("Quality improvement", "Teams have time and support to test changes"),
    ]:
        rows.append((element, statement, levels[2], levels[1], ""))
    return spreadsheet(
        "QMS maturity self-assessment workbook",
        [
            ("Self-assessment", rows),
            ("Levels", [("Level", "Meaning"), *((lv, "") for lv in levels)]),
        ],
    )


def _huddle_guide() -> bytes:
    return pdf_document(
        "Daily flow huddles: a coach's guide",
        [
            Section(
                "A good fifteen minutes",
                [
                    "- Yesterday: what got in the way of flow",
                    "- Today: expected discharges and the one blocker to clear",
                    "- Improvement: one test of change in progress",
                ],
            ),
            Section(
                "Coaching the huddle lead",
                ["Observe three huddles before giving feedback; ask, do not tell."],
            ),
        ],
        subtitle="University Hospitals Birmingham flow coaching team",
    )


def _kaizen_measures() -> bytes:
    weeks = [("Week", "Median wait for TTOs (minutes)", "Discharges before noon (%)")]
    weeks += [(n, 240 - n * 9, 14 + n) for n in range(1, 15)]
    return spreadsheet("Discharge kaizen measurement plan", [("Weekly measures", weeks)])


def _spc_builder() -> bytes:
    rows = [("Week", "Waiting list size", "Mean", "Upper process limit", "Lower process limit")]
    rows += [(n, 1200 + (n * 37) % 90, 1245, 1330, 1160) for n in range(1, 27)]
    return spreadsheet("SPC chart builder: community waiting lists", [("Data", rows)])


def _review_agenda() -> bytes:
    return word_document(
        "Divisional quality and performance review agenda",
        [
            Section(
                "Improvement first",
                ["Start with the division's improvement priorities, not the exceptions."],
            ),
            Section(
                "Agenda",
                [
                    "- Our improvement priorities and their SPC charts (30 minutes)",
                    "- What we need from the executive team (15 minutes)",
                    "- Performance and finance, by exception (15 minutes)",
                ],
            ),
        ],
    )


def _board_introduction() -> bytes:
    return pdf_document(
        "NHS IMPACT: an introduction for boards",
        [
            Section("The five components", [f"{c.number}. {c.label}" for c in ImpactComponent]),
            Section(
                "Questions for your board",
                [
                    "- Do we have a shared purpose that staff recognise?",
                    "- How do we know improvement is part of how we run the organisation?",
                ],
            ),
        ],
        subtitle="Advancing Quality Alliance (AQuA)",
    )


LIBRARY = [
    DemoResource("qms", "kwame-mensah", 38, "Board QMS assurance template", T.template,
        "The quarterly QMS report our quality committee asked for: nine pages, SPC throughout, "
        "control, assurance and improvement in their own sections.",
        (C.management_systems,), (Q.quality_assurance, Q.quality_control), ("board assurance", "reporting"),
        file=("Board QMS assurance template.docx", _board_template),
        review_by_days=300,
        using=("aisha-khan", "fiona-mcleod", "lucy-chen", "rachel-moss"),
        saved_by=("aisha-khan", "lucy-chen", "eleanor-hughes"),
        downloaded_by=("aisha-khan", "fiona-mcleod", "lucy-chen", "rachel-moss", "eleanor-hughes")),
    DemoResource("qms", "kwame-mensah", 36, "Board QMS assurance report: a worked example", T.report,
        "The template filled in with illustrative figures, so you can see what good narrative "
        "beside an SPC chart looks like.",
        (C.management_systems,), (Q.quality_assurance,), ("board assurance", "spc"),
        file=("QMS assurance report - worked example.pdf", _worked_example),
        using=("aisha-khan",), downloaded_by=("aisha-khan", "lucy-chen")),
    DemoResource("qms", "aisha-khan", 20, "Board QMS assurance template (Lancashire version)", T.template,
        "Our adaptation of Royal Cornwall's template: a system page for the ICB and no RAG ratings.",
        (C.management_systems,), (Q.quality_assurance,), ("board assurance", "icb"),
        licence=L.cc_by_4, file=("Board QMS assurance template - Lancashire.docx", _lancashire_template),
        adapted_from="Board QMS assurance template",
        using=("rachel-moss",), downloaded_by=("rachel-moss", "fiona-mcleod")),
    DemoResource("qms", "fiona-mcleod", 30, "QMS maturity self-assessment workbook", T.tool,
        "Score each QMS element twice, by the executive team and by divisional teams, and talk "
        "about the gap.",
        (C.management_systems, C.people_and_culture), (Q.quality_planning, Q.quality_assurance),
        ("maturity", "self-assessment"), licence=L.cc_by_nc_4,
        file=("QMS maturity self-assessment.xlsx", _maturity_workbook),
        using=("kwame-mensah", "lucy-chen"), saved_by=("kwame-mensah",),
        downloaded_by=("kwame-mensah", "lucy-chen", "aisha-khan")),
    DemoResource("qms", "lucy-chen", 400, "Divisional quality and performance review agenda", T.template,
        "An agenda that puts improvement at the start of divisional reviews rather than the end.",
        (C.management_systems, C.leadership_behaviours), (Q.quality_control, Q.quality_improvement),
        ("performance review",), file=("Divisional review agenda.docx", _review_agenda),
        review_by_days=-30, downloaded_by=("aisha-khan",)),
    DemoResource("flow-coaching", "hannah-price", 33, "Daily flow huddles: a coach's guide", T.guide,
        "What a good fifteen-minute huddle covers, and how to coach the person leading it.",
        (C.management_systems, C.leadership_behaviours), (Q.quality_control,), ("huddles",),
        file=("Flow huddle coaching guide.pdf", _huddle_guide),
        using=("tom-whitfield", "grace-okafor", "sanjay-patel"),
        downloaded_by=("tom-whitfield", "grace-okafor", "sanjay-patel")),
    DemoResource("flow-coaching", "tom-whitfield", 25, "Discharge kaizen measurement plan", T.dataset,
        "The weekly measures from our discharge kaizen event, before publication: for this group only.",
        (C.capability_and_capacity,), (Q.quality_improvement,), ("kaizen", "discharge"),
        licence=L.members_only, visibility=V.space, classification=Classification.official_sensitive,
        file=("Discharge kaizen measures.xlsx", _kaizen_measures), downloaded_by=("hannah-price",)),
    DemoResource("measurement-for-improvement", "owen-davies", 15, "SPC chart builder: community waiting lists", T.tool,
        "A spreadsheet that draws the mean and process limits for a weekly waiting list.",
        (C.management_systems,), (Q.quality_control,), ("spc", "community services"),
        licence=L.members_only, visibility=V.space,
        file=("SPC chart builder.xlsx", _spc_builder),
        using=("ben-carter", "sanjay-patel"), downloaded_by=("ben-carter", "sanjay-patel")),
    DemoResource("impact-commons", "eleanor-hughes", 28, "NHS IMPACT: an introduction for boards", T.presentation,
        "A short briefing on the five components and the questions a board should ask itself.",
        (C.shared_purpose, C.leadership_behaviours), (), ("boards",), visibility=V.public,
        file=("NHS IMPACT for boards.pdf", _board_introduction),
        using=("aisha-khan", "rachel-moss"), downloaded_by=("aisha-khan", "rachel-moss")),
    # Links
    DemoResource("impact-commons", "priya-raman", 41, "NHS IMPACT: the approach and the self-assessment", T.guide,
        "NHS England's pages on the single improvement approach, with the self-assessment.",
        tuple(ImpactComponent), (), ("nhs impact",), visibility=V.public,
        link="https://www.england.nhs.uk/nhsimpact/",
        using=("aisha-khan", "kwame-mensah", "hannah-price", "fiona-mcleod")),
    DemoResource("improvement-directors", "owen-davies", 34, "Making data count", T.guide,
        "NHS England's guide to SPC for boards, with the variation and assurance icons.",
        (C.management_systems,), (Q.quality_control,), ("spc",),
        link="https://www.england.nhs.uk/publication/making-data-count/",
        using=("kwame-mensah", "sanjay-patel", "ben-carter")),
    DemoResource("improvement-directors", "fiona-mcleod", 22, "Patient Safety Incident Response Framework", T.policy,
        "The framework our learning responses follow, and how it links to improvement.",
        (C.management_systems, C.people_and_culture), (Q.quality_assurance,), ("psirf",),
        link="https://www.england.nhs.uk/patient-safety/patient-safety-insight/incident-response-framework/"),
    DemoResource("flow-coaching", "grace-okafor", 12, "Model for Improvement and PDSA cycles", T.guide,
        "The Institute for Healthcare Improvement's introduction to the Model for Improvement.",
        (C.capability_and_capacity,), (Q.quality_improvement,), ("pdsa",),
        link="https://www.ihi.org/how-improve-model-improvement", licence=L.members_only),
    # Case studies
    DemoResource("flow-coaching", "tom-whitfield", 18, "Halving waits for medicines to take home", T.case_study,
        "A five-day kaizen event on discharge medicines at Blackpool, and what happened after.",
        (C.capability_and_capacity, C.people_and_culture), (Q.quality_improvement,), ("kaizen", "discharge"),
        licence=L.cc_by_4, using=("hannah-price", "grace-okafor"),
        sections={
            S.context: "Patients ready to go home waited a median of **four hours** for their medicines to take home (TTOs), and most discharges happened after 4pm.",
            S.aim: "Halve the median wait for TTOs on the medical wards by the end of March.",
            S.measures: "- Outcome: median wait for TTOs, weekly, on an SPC chart\n- Process: TTOs written the day before discharge\n- Balancing: pharmacy overtime hours",
            S.approach: "A five-day kaizen event with ward, pharmacy and porter staff. We mapped the process, found eleven hand-offs, and tested writing TTOs the afternoon before, with weekly PDSA cycles afterwards.",
            S.results: "The median wait fell from 4 hours to 1 hour 50 minutes within six weeks, a special cause change that has held for three months. Discharges before noon rose from 14% to 27%.",
            S.what_did_not_work: "We lost momentum in week two: the team went back to the day job with no protected time. Book the follow-up huddles before the event starts.",
            S.contact: "Head of Quality Improvement, Blackpool Teaching Hospitals: ask in the Flow Coaching group.",
        }),
    DemoResource("qms", "aisha-khan", 10, "Rebuilding board quality reporting around SPC", T.case_study,
        "How our quality committee report went from 38 pages of RAG ratings to 9 pages it trusts.",
        (C.management_systems, C.leadership_behaviours), (Q.quality_assurance, Q.quality_control),
        ("board assurance", "spc"), adapted_from="Board QMS assurance template",
        using=("kwame-mensah", "lucy-chen"),
        sections={
            S.context: "Our quality committee received a 38-page report of RAG-rated tables. Members told us it gave them information but not assurance.",
            S.aim: "A report of ten pages or fewer that the committee rates as giving assurance, within two quarters.",
            S.measures: "- Committee members' rating of assurance after each meeting\n- Report length\n- Questions asked about special cause variation",
            S.approach: "We started from Royal Cornwall's template in this library, agreed the breakthrough and strategic measures with the executive team, and trained committee members to read SPC charts in a one-hour session.",
            S.results: "The report is now nine pages. Committee members' assurance rating rose from 2 to 4 out of 5, and discussion moved from explaining red ratings to asking what we know about special causes.",
            S.what_did_not_work: "Our first version kept the RAG ratings beside the SPC charts: people read the colours and ignored the charts. We dropped them.",
            S.contact: "Director of Improvement, Lancashire Teaching Hospitals.",
        }),
]  # fmt: skip


def seed_library() -> int:
    """Share whatever demo resources are missing; returns how many were added."""
    users = {u.handle: u for u in db.session.scalars(select(User))}
    spaces = {s.slug: s for s in db.session.scalars(select(Space))}
    organisations = {o.name: o for o in db.session.scalars(select(Organisation))}
    existing = {(r.space_id, r.title): r for r in db.session.scalars(select(Resource))}
    now, added = utcnow(), 0
    for demo in sorted(LIBRARY, key=lambda d: -d.days_ago):
        space, author = spaces.get(demo.space), users.get(demo.author)
        if space is None or author is None or (space.id, demo.title) in existing:
            continue
        original = next(
            (r for (_, title), r in existing.items() if title == demo.adapted_from), None
        )
        resource = _share(demo, space, author, organisations, original)
        when = now - timedelta(days=demo.days_ago)
        _backdate(resource, when, demo.review_by_days)
        _engage(demo, resource, users)
        existing[(space.id, demo.title)] = resource
        added += 1
    return added


def _share(
    demo: DemoResource,
    space: Space,
    author: User,
    organisations: dict[str, Organisation],
    original: Resource | None,
) -> Resource:
    organisation = organisations.get(demo.organisation or "")
    review_by = (
        utcnow().date() + timedelta(days=demo.review_by_days)
        if demo.review_by_days is not None
        else None
    )
    if review_by is not None and review_by <= utcnow().date():
        # Shared long ago, and come due since: nobody may share one already due (_backdate).
        review_by = None
    draft = services.ResourceDraft(
        title=demo.title,
        type=demo.type,
        licence=demo.licence,
        visibility=demo.visibility,
        classification=demo.classification,
        pii_declared=True,
        summary=demo.summary,
        components=demo.components,
        qms_elements=demo.elements,
        tags=demo.tags,
        organisation_id=organisation.id if organisation else None,
        adapted_from_id=original.id if original is not None else None,
        review_by=review_by,
        link_url=demo.link,
    )
    if demo.sections:
        return case_studies.create_case_study(author, space, draft, demo.sections)
    if demo.file is not None:
        name, build = demo.file
        upload = services.Upload(stream=io.BytesIO(build()), filename=name)
        return services.create_resource(author, space, draft, upload)
    return services.create_resource(author, space, draft)


def _backdate(resource: Resource, when: datetime, review_by_days: int | None) -> None:
    """Date the resource as shared ``when``; a review date already passed is set here."""
    values: dict[str, object] = {"created_at": when, "updated_at": when}
    if review_by_days is not None and review_by_days <= 0:
        values["review_by"] = utcnow().date() + timedelta(days=review_by_days)
    db.session.execute(update(Resource).where(Resource.id == resource.id).values(**values))
    db.session.execute(
        update(ResourceVersion)
        .where(ResourceVersion.resource_id == resource.id)
        .values(created_at=when)
    )
    db.session.commit()


def _engage(demo: DemoResource, resource: Resource, users: dict[str, User]) -> None:
    """What members did with the resource once it was shared (only ever for a new one)."""
    db.session.refresh(resource)
    for handle in demo.using:
        engagement.set_using(users[handle], resource, True)
    for handle in demo.saved_by:
        engagement.set_saved(users[handle], resource, True)
    version = resource.current_version
    if version is not None:
        for handle in demo.downloaded_by:
            services.record_download(users[handle], version)
