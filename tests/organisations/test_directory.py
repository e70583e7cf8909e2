"""The organisation directory and each organisation's page, as members see them."""

import itertools
from urllib.parse import urlencode

import pytest

from peerlearn.organisations.models import OrganisationKind, Region
from tests.accounts.pages import Page


@pytest.fixture
def directory(make_organisation):
    """A small slice of the NHS: a region, a system in it, two trusts in that, and a partner."""
    region = make_organisation(
        "NHS England – North West", kind=OrganisationKind.region, region=Region.north_west
    )
    system = make_organisation(
        "Lancashire and South Cumbria Integrated Care System",
        kind=OrganisationKind.ics,
        region=Region.north_west,
        parent=region,
    )
    return {
        "region": region,
        "system": system,
        "lancashire": make_organisation(
            "Lancashire Teaching Hospitals NHS Foundation Trust", parent=system, ods_code="RXN"
        ),
        "blackpool": make_organisation(
            "Blackpool Teaching Hospitals NHS Foundation Trust", parent=system, ods_code="RXL"
        ),
        "barts": make_organisation("Barts Health NHS Trust", region=Region.london),
        "aqua": make_organisation(
            "Advancing Quality Alliance (AQuA) 100%_partner",
            kind=OrganisationKind.partner,
            region=Region.north_west,
        ),
    }


@pytest.fixture
def reader(client, login, make_user, directory):
    login(client, make_user("Ann Reader", organisation=directory["barts"]))
    return client


def listed(reader, **query) -> list[str]:
    """The organisation names the directory lists for a filter, in order."""
    page = Page(reader.get("/organisations?" + urlencode(query)))
    assert page.status == 200
    return [text for href, text in page.links if href.startswith("/organisations/")]


def test_anonymous_visitors_are_sent_to_sign_in(client, directory):
    for path in ("/organisations", f"/organisations/{directory['system'].id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location == "/login?" + urlencode({"next": path})


def test_the_directory_lists_every_organisation_by_name_with_its_details(reader, directory):
    page = Page(reader.get("/organisations"))
    assert page.h1 == "Organisations"
    assert "6 organisations" in page.main_text
    assert listed(reader) == [
        "Advancing Quality Alliance (AQuA) 100%_partner",
        "Barts Health NHS Trust",
        "Blackpool Teaching Hospitals NHS Foundation Trust",
        "Lancashire and South Cumbria Integrated Care System",  # alphabetical, whatever the case
        "Lancashire Teaching Hospitals NHS Foundation Trust",
        "NHS England – North West",
    ]
    assert (
        "Lancashire Teaching Hospitals NHS Foundation Trust Trust North West "
        "Lancashire and South Cumbria Integrated Care System 0"
    ) in page.main_text
    assert "Barts Health NHS Trust Trust London 1" in page.main_text  # Ann Reader works there


def test_filtering_by_kind(reader, directory):
    assert listed(reader, kind="ics") == ["Lancashire and South Cumbria Integrated Care System"]
    page = Page(reader.get("/organisations?kind=partner"))
    assert page.values["kind"] == "partner"
    assert "1 organisation matches your filter." in page.main_text


def test_filtering_by_region(reader, directory):
    assert listed(reader, region="london") == ["Barts Health NHS Trust"]
    assert listed(reader, region="north-west", kind="trust") == [
        "Blackpool Teaching Hospitals NHS Foundation Trust",
        "Lancashire Teaching Hospitals NHS Foundation Trust",
    ]


def test_searching_by_name_ignores_case(reader, directory):
    assert listed(reader, q="teaching HOSPITALS") == [
        "Blackpool Teaching Hospitals NHS Foundation Trust",
        "Lancashire Teaching Hospitals NHS Foundation Trust",
    ]
    page = Page(reader.get("/organisations?q=teaching"))
    assert page.values["q"] == "teaching"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", ["Advancing Quality Alliance (AQuA) 100%_partner"]),
        ("_", ["Advancing Quality Alliance (AQuA) 100%_partner"]),
        ("0%_p", ["Advancing Quality Alliance (AQuA) 100%_partner"]),
        ("N_S", []),
        ("\\", []),
    ],
)
def test_percent_and_underscore_in_a_search_are_literal(reader, directory, q, expected):
    assert listed(reader, q=q) == expected


def test_unknown_filters_are_ignored_and_no_match_says_so(reader, directory):
    assert len(listed(reader, kind="hospital", region="mars")) == 6
    page = Page(reader.get("/organisations?q=Nowhere"))
    assert "No organisations match." in page.main_text


def test_an_organisations_page_lists_its_details_children_and_people(reader, make_user, directory):
    system = directory["system"]
    make_user("Zoe Improver", organisation=system, job_title="Head of QI")
    make_user("Adam Analyst", organisation=system)
    make_user("Una Unconfirmed", organisation=system, confirmed=False)
    make_user("Dee Activated", organisation=system, active=False)

    page = Page(reader.get(f"/organisations/{system.id}"))
    assert page.status == 200
    assert page.h1 == "Lancashire and South Cumbria Integrated Care System"
    assert "Kind Integrated care system (ICS)" in page.main_text
    assert "NHS England region North West" in page.main_text
    assert page.link("NHS England – North West") == f"/organisations/{directory['region'].id}"
    assert page.link("Lancashire Teaching Hospitals NHS Foundation Trust") == (
        f"/organisations/{directory['lancashire'].id}"
    )
    assert page.link("Blackpool Teaching Hospitals NHS Foundation Trust")
    assert "2 members of the network." in page.main_text
    people = [text for href, text in page.links if href.startswith("/people/")]
    assert people[1:] == ["Adam Analyst", "Zoe Improver"]  # after the reader's own, in the header
    assert "Head of QI" in page.main_text

    trust = Page(reader.get(f"/organisations/{directory['lancashire'].id}"))
    assert "ODS code RXN" in trust.main_text
    assert "Nobody from Lancashire Teaching Hospitals NHS Foundation Trust has joined" in (
        trust.main_text
    )


def test_the_directory_counts_the_people_an_organisations_page_lists(reader, make_user, directory):
    # An address never confirmed may not even be its registrant's: not counted, as not listed.
    system = directory["system"]
    make_user("Zoe Improver", organisation=system)
    make_user("Una Unconfirmed", organisation=system, confirmed=False)
    make_user("Dee Activated", organisation=system, active=False)
    assert "1 member of the network." in Page(reader.get(f"/organisations/{system.id}")).main_text
    row = (
        "Lancashire and South Cumbria Integrated Care System Integrated care system (ICS) "
        "North West NHS England – North West 1"
    )
    assert row in Page(reader.get("/organisations?kind=ics")).main_text


def test_an_organisations_people_are_paginated(reader, make_user, directory):
    trust = directory["blackpool"]
    for number in range(30):
        make_user(f"Member {number:02d}", organisation=trust)
    first = Page(reader.get(f"/organisations/{trust.id}"))
    assert "30 members of the network." in first.main_text
    assert "Member 24" in first.main_text and "Member 25" not in first.main_text
    second = Page(reader.get(f"/organisations/{trust.id}?page=2"))
    assert "Member 25" in second.main_text and "Member 29" in second.main_text


def test_an_unknown_organisation_is_not_found(reader):
    assert reader.get("/organisations/999999").status_code == 404


def test_headings_are_in_order(reader, directory):
    for path in ("/organisations", f"/organisations/{directory['system'].id}"):
        page = Page(reader.get(path))
        page.h1  # exactly one  # noqa: B018
        levels = [level for level, _text in page.headings]
        assert levels[0] == 1
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (path, page.headings)
