"""Demo data: a small, believable network. Seeding twice changes nothing.

Organisations and their ODS codes are real NHS bodies; every person is fictional, and every demo
account's address is at the reserved domain ``peerlearn.example``.
"""

from dataclasses import dataclass

from sqlalchemy import select

from peerlearn.accounts.models import SiteRole, User
from peerlearn.accounts.passwords import hash_password
from peerlearn.accounts.services import make_handle
from peerlearn.core.db import utcnow
from peerlearn.core.text import render_markdown
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, OrganisationKind, Region
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    SpaceKind,
    Visibility,
)

K, R = OrganisationKind, Region

#: (name, kind, region, parent name, ODS code)
ORGANISATIONS: list[tuple[str, OrganisationKind, Region | None, str | None, str | None]] = [
    ("NHS England", K.national, None, None, None),
    *((f"NHS England – {r.label}", K.region, r, None, None) for r in Region),
    (
        "Lancashire and South Cumbria Integrated Care System",
        K.ics,
        R.north_west,
        "NHS England – North West",
        None,
    ),
    (
        "NHS Lancashire and South Cumbria Integrated Care Board",
        K.icb,
        R.north_west,
        "Lancashire and South Cumbria Integrated Care System",
        "QE1",
    ),
    (
        "Lancashire Teaching Hospitals NHS Foundation Trust",
        K.trust,
        R.north_west,
        "Lancashire and South Cumbria Integrated Care System",
        "RXN",
    ),
    (
        "Blackpool Teaching Hospitals NHS Foundation Trust",
        K.trust,
        R.north_west,
        "Lancashire and South Cumbria Integrated Care System",
        "RXL",
    ),
    (
        "University Hospitals of Morecambe Bay NHS Foundation Trust",
        K.trust,
        R.north_west,
        "Lancashire and South Cumbria Integrated Care System",
        "RTX",
    ),
    (
        "Greater Manchester Integrated Care Partnership",
        K.ics,
        R.north_west,
        "NHS England – North West",
        None,
    ),
    (
        "Northern Care Alliance NHS Foundation Trust",
        K.trust,
        R.north_west,
        "Greater Manchester Integrated Care Partnership",
        "RM3",
    ),
    (
        "West Yorkshire Health and Care Partnership",
        K.ics,
        R.north_east_and_yorkshire,
        "NHS England – North East and Yorkshire",
        None,
    ),
    (
        "Leeds Teaching Hospitals NHS Trust",
        K.trust,
        R.north_east_and_yorkshire,
        "West Yorkshire Health and Care Partnership",
        "RR8",
    ),
    (
        "Birmingham and Solihull Integrated Care System",
        K.ics,
        R.midlands,
        "NHS England – Midlands",
        None,
    ),
    (
        "University Hospitals Birmingham NHS Foundation Trust",
        K.trust,
        R.midlands,
        "Birmingham and Solihull Integrated Care System",
        "RRK",
    ),
    ("North East London Integrated Care System", K.ics, R.london, "NHS England – London", None),
    (
        "Barts Health NHS Trust",
        K.trust,
        R.london,
        "North East London Integrated Care System",
        "R1H",
    ),
    (
        "Kent and Medway Integrated Care System",
        K.ics,
        R.south_east,
        "NHS England – South East",
        None,
    ),
    (
        "East Kent Hospitals University NHS Foundation Trust",
        K.trust,
        R.south_east,
        "Kent and Medway Integrated Care System",
        "RVV",
    ),
    (
        "Cornwall and the Isles of Scilly Integrated Care System",
        K.ics,
        R.south_west,
        "NHS England – South West",
        None,
    ),
    (
        "Royal Cornwall Hospitals NHS Trust",
        K.trust,
        R.south_west,
        "Cornwall and the Isles of Scilly Integrated Care System",
        "REF",
    ),
    (
        "Cambridge University Hospitals NHS Foundation Trust",
        K.trust,
        R.east_of_england,
        "NHS England – East of England",
        "RGT",
    ),
    ("Advancing Quality Alliance (AQuA)", K.partner, R.north_west, None, None),
    ("Lancaster University Health Innovation Campus", K.partner, R.north_west, None, None),
]


@dataclass(frozen=True)
class DemoPerson:
    """One fictional member of the demo network."""

    handle: str
    name: str
    job_title: str
    organisation: str
    admin: bool = False

    @property
    def email(self) -> str:
        return f"{'admin' if self.admin else self.handle}@peerlearn.example"


PEOPLE = [
    DemoPerson(
        "priya-raman", "Priya Raman", "Network Manager, NHS IMPACT", "NHS England", admin=True
    ),
    DemoPerson(
        "aisha-khan",
        "Aisha Khan",
        "Director of Improvement",
        "Lancashire Teaching Hospitals NHS Foundation Trust",
    ),
    DemoPerson(
        "rachel-moss",
        "Rachel Moss",
        "Improvement Director",
        "NHS Lancashire and South Cumbria Integrated Care Board",
    ),
    DemoPerson(
        "tom-whitfield",
        "Tom Whitfield",
        "Head of Quality Improvement",
        "Blackpool Teaching Hospitals NHS Foundation Trust",
    ),
    DemoPerson(
        "grace-okafor",
        "Grace Okafor",
        "Quality Improvement Lead",
        "University Hospitals of Morecambe Bay NHS Foundation Trust",
    ),
    DemoPerson(
        "sanjay-patel",
        "Sanjay Patel",
        "Head of Continuous Improvement",
        "Leeds Teaching Hospitals NHS Trust",
    ),
    DemoPerson(
        "hannah-price",
        "Hannah Price",
        "Lead Flow Coach",
        "University Hospitals Birmingham NHS Foundation Trust",
    ),
    DemoPerson(
        "owen-davies", "Owen Davies", "Measurement for Improvement Lead", "Barts Health NHS Trust"
    ),
    DemoPerson(
        "fiona-mcleod",
        "Fiona McLeod",
        "Associate Director of Quality",
        "East Kent Hospitals University NHS Foundation Trust",
    ),
    DemoPerson(
        "kwame-mensah", "Kwame Mensah", "QMS Programme Lead", "Royal Cornwall Hospitals NHS Trust"
    ),
    DemoPerson(
        "eleanor-hughes",
        "Eleanor Hughes",
        "Improvement Advisor",
        "Advancing Quality Alliance (AQuA)",
    ),
    DemoPerson(
        "ben-carter",
        "Ben Carter",
        "Senior Improvement Analyst",
        "Cambridge University Hospitals NHS Foundation Trust",
    ),
    DemoPerson(
        "lucy-chen",
        "Lucy Chen",
        "Deputy Director of Nursing and Quality",
        "Northern Care Alliance NHS Foundation Trust",
    ),
]


@dataclass(frozen=True)
class DemoSpace:
    """One demo community or special interest group and who is in it."""

    slug: str
    name: str
    kind: SpaceKind
    visibility: Visibility
    join_policy: JoinPolicy
    summary: str
    description: str
    owner: str
    moderators: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    parent: str | None = None


SPACES = [
    DemoSpace(
        "improvement-directors", "Improvement Directors Network", SpaceKind.community,
        Visibility.network, JoinPolicy.open,
        "Peer learning for the people leading improvement in NHS organisations and systems.",
        "A community for improvement directors and their teams to share what is working as they "
        "put **NHS IMPACT** into practice: building a shared purpose, investing in people and "
        "culture, developing leadership behaviours, building capability and embedding improvement "
        "into management systems.\n\nIntroduce yourself, ask how other systems did something, and "
        "join the special interest groups below.",
        "priya-raman",
        members=("aisha-khan", "rachel-moss", "tom-whitfield", "grace-okafor", "sanjay-patel",
                 "hannah-price", "owen-davies", "fiona-mcleod", "kwame-mensah", "eleanor-hughes",
                 "ben-carter", "lucy-chen"),
    ),
    DemoSpace(
        "qms", "Quality Management Systems", SpaceKind.sig, Visibility.network, JoinPolicy.open,
        "Designing and running a QMS: quality planning, control, assurance and improvement.",
        "For everyone building a quality management system in a trust, ICB or system. We share "
        "board assurance frameworks, QMS maturity self-assessments and what we learned when we "
        "got it wrong.\n\nThis group meets online on the second Thursday of each month.",
        "priya-raman", moderators=("kwame-mensah",),
        members=("aisha-khan", "rachel-moss", "fiona-mcleod", "lucy-chen", "eleanor-hughes"),
        parent="improvement-directors",
    ),
    DemoSpace(
        "flow-coaching", "Flow Coaching", SpaceKind.sig, Visibility.network, JoinPolicy.request,
        "Coaching teams to improve flow through their services.",
        "A group for flow coaches and the improvement leads who support them. Ask to join and "
        "tell us a little about the flow work in your organisation.",
        "priya-raman", moderators=("hannah-price",),
        members=("tom-whitfield", "grace-okafor", "sanjay-patel"),
        parent="improvement-directors",
    ),
    DemoSpace(
        "measurement-for-improvement", "Measurement for Improvement", SpaceKind.sig,
        Visibility.private, JoinPolicy.request,
        "Statistical process control, measurement plans and making data count.",
        "A private group where analysts and improvement leads share measurement plans and SPC "
        "charts that are not ready for a wider audience. Members only: ask to join.",
        "priya-raman", moderators=("owen-davies",),
        members=("ben-carter", "sanjay-patel"),
        parent="improvement-directors",
    ),
    DemoSpace(
        "impact-commons", "NHS IMPACT Learning Commons", SpaceKind.community, Visibility.public,
        JoinPolicy.open,
        "Open to everyone: what NHS IMPACT is and how organisations are adopting it.",
        "A public community for anyone interested in NHS IMPACT, the NHS's single improvement "
        "approach. Visitors can read everything here; sign in to take part.",
        "priya-raman", moderators=("eleanor-hughes",), members=("aisha-khan", "rachel-moss"),
    ),
]  # fmt: skip


def seed(password: str) -> list[DemoPerson]:
    """Create whatever part of the demo network is missing; change nothing that exists."""
    organisations = _seed_organisations()
    people = _seed_people(password, organisations)
    _seed_spaces(people)
    # These build on this module's data, so they import it (hence imported here, not at the top).
    from peerlearn.demo_discussions import seed_discussions
    from peerlearn.demo_events import seed_events  # events, their chats and records
    from peerlearn.demo_library import seed_library

    seed_discussions()
    seed_events()
    seed_library()
    db.session.commit()
    return PEOPLE


def _seed_organisations() -> dict[str, Organisation]:
    existing = {org.name: org for org in db.session.scalars(select(Organisation))}
    for name, kind, region, parent, code in ORGANISATIONS:
        if name not in existing:
            org = Organisation(
                name=name,
                kind=kind,
                region=region,
                ods_code=code,
                parent=existing.get(parent or ""),
            )
            db.session.add(org)
            existing[name] = org
    db.session.flush()
    return existing


def _seed_people(password: str, organisations: dict[str, Organisation]) -> dict[str, User]:
    existing = {user.email: user for user in db.session.scalars(select(User))}
    password_hash = hash_password(password)
    people: dict[str, User] = {}
    for person in PEOPLE:
        user = existing.get(person.email)
        if user is None:
            user = User(
                email=person.email,
                handle=person.handle if person.handle else make_handle(person.name),
                display_name=person.name,
                job_title=person.job_title,
                organisation=organisations[person.organisation],
                password_hash=password_hash,
                site_role=SiteRole.admin if person.admin else SiteRole.member,
                email_confirmed_at=utcnow(),
                bio_source=f"{person.job_title} at {person.organisation}.",
                bio_html=render_markdown(f"{person.job_title} at {person.organisation}."),
            )
            db.session.add(user)
        people[person.handle] = user
    db.session.flush()
    return people


def _seed_spaces(people: dict[str, User]) -> None:
    existing = {space.slug: space for space in db.session.scalars(select(Space))}
    for demo in SPACES:
        space = existing.get(demo.slug)
        if space is not None:
            continue
        space = Space(
            slug=demo.slug,
            name=demo.name,
            kind=demo.kind,
            visibility=demo.visibility,
            join_policy=demo.join_policy,
            summary=demo.summary,
            description_source=demo.description,
            description_html=render_markdown(demo.description),
            parent=existing.get(demo.parent or ""),
            created_by_id=people[demo.owner].id,
        )
        db.session.add(space)
        existing[demo.slug] = space
        roles = [(demo.owner, MemberRole.owner)]
        roles += [(handle, MemberRole.moderator) for handle in demo.moderators]
        roles += [(handle, MemberRole.member) for handle in demo.members]
        for handle, role in roles:
            space.memberships.append(
                Membership(user=people[handle], role=role, state=MemberState.active)
            )
    db.session.flush()
