"""Browsing the library: filters that combine and are kept, sorts, pagination, and lists that
only ever hold what the reader may see (totals included)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from peerlearn.core.db import utcnow
from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.organisations.models import Region
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    ResourceType,
    ResourceUse,
    ResourceVisibility,
)
from peerlearn.spaces.models import Visibility
from tests.resources.browse_helpers import selected, tag, titles, total

C, Q = ImpactComponent, QmsElement


@pytest.fixture
def library(make_space, make_user, make_organisation, add_member, make_resource):
    """Two spaces of tagged resources from organisations in different regions."""
    leeds = make_organisation(
        "Leeds Teaching Hospitals NHS Trust", region=Region.north_east_and_yorkshire
    )
    cornwall = make_organisation("Royal Cornwall Hospitals NHS Trust", region=Region.south_west)
    qms, flow = make_space("Quality Management Systems"), make_space("Flow Coaching")
    kwame = make_user("Kwame Mensah", organisation=cornwall)
    sanjay = make_user("Sanjay Patel", organisation=leeds)
    for space in (qms, flow):
        add_member(space, kwame)
        add_member(space, sanjay)
    now = utcnow()
    made = {}
    for days, title, space, author, kind, components, elements, licence, classification in [
        (9, "Board QMS assurance template", qms, kwame, ResourceType.template, (C.management_systems,), (Q.quality_assurance,), Licence.ogl_3, Classification.official),
        (8, "QMS maturity self-assessment", qms, sanjay, ResourceType.tool, (C.management_systems, C.shared_purpose), (Q.quality_planning,), Licence.cc_by_4, Classification.official),
        (7, "Divisional review template", qms, sanjay, ResourceType.template, (C.management_systems,), (Q.quality_control,), Licence.ogl_3, Classification.official),
        (6, "Flow huddle board template", flow, kwame, ResourceType.template, (C.leadership_behaviours,), (Q.quality_improvement,), Licence.ogl_3, Classification.official),
        (5, "Cost improvement plan 2027", qms, kwame, ResourceType.report, (C.management_systems,), (Q.quality_assurance,), Licence.members_only, Classification.official_sensitive),
    ]:  # fmt: skip
        resource = make_resource(
            space, by=author, title=title, type=kind, licence=licence,
            classification=classification,
            visibility=ResourceVisibility.space if classification.sensitive else ResourceVisibility.network,
        )  # fmt: skip
        made[title] = tag(resource, components, elements, created_at=now - timedelta(days=days))
    return {"qms": qms, "flow": flow, "kwame": kwame, "sanjay": sanjay, "leeds": leeds,
            "cornwall": cornwall, **made}  # fmt: skip


@pytest.fixture
def reader(client, login, make_user, library):
    """A signed-in member of the network from a third organisation, in neither space."""
    user = make_user("Aisha Khan")
    login(client, user)
    return user


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_the_network_library_lists_what_the_reader_may_see_newest_first(client, reader):
    page = _page(client, "/library")
    # The OFFICIAL-SENSITIVE report is for its space's members only.
    assert titles(page) == [
        "Flow huddle board template",
        "Divisional review template",
        "QMS maturity self-assessment",
        "Board QMS assurance template",
    ]
    assert total(page) == 4
    assert "Royal Cornwall Hospitals NHS Trust" in page  # provenance on every row
    assert "Open Government Licence v3.0" in page and "OFFICIAL" in page


def test_filters_combine_and_the_form_keeps_them(client, reader, library):
    page = _page(client, "/library?type=template&component=management-systems&licence=ogl-3")
    assert titles(page) == ["Divisional review template", "Board QMS assurance template"]
    assert selected(page, "type") == "template"
    assert selected(page, "component") == "management-systems"
    assert selected(page, "licence") == "ogl-3"
    assert selected(page, "region") is None

    page = _page(
        client, "/library?type=template&component=management-systems&qms=quality-assurance"
    )
    assert titles(page) == ["Board QMS assurance template"]
    page = _page(client, f"/library?type=template&organisation={library['leeds'].id}")
    assert titles(page) == ["Divisional review template"]
    assert selected(page, "organisation") == str(library["leeds"].id)
    page = _page(client, "/library?region=south-west&type=template")
    assert titles(page) == ["Flow huddle board template", "Board QMS assurance template"]
    page = _page(client, "/library?space=" + library["flow"].slug)
    assert titles(page) == ["Flow huddle board template"]
    page = _page(client, "/library?licence=cc-by-4&kind=link")
    assert titles(page) == ["QMS maturity self-assessment"]
    page = _page(client, "/library?classification=official-sensitive")
    assert titles(page) == [] and total(page) == 0
    assert "No resources match those filters" in page


def test_unknown_filter_values_are_ignored(client, reader):
    page = _page(
        client, "/library?type=macro&component=6&organisation=99999&region=mars&sort=x&space=nope"
    )
    assert total(page) == 4


def _notice(page: str) -> str | None:
    """The notice that a space asked for is not one the reader can see, as the page shows it."""
    match = re.search(r'<div class="nhsuk-inset-text" id="unseen-space">(.*?)</div>', page, re.S)
    return " ".join(match.group(1).split()) if match else None


@pytest.mark.parametrize("signed_in", [True, False], ids=["outsider", "signed-out"])
def test_a_space_the_reader_cannot_see_is_said_to_be_so_as_a_missing_one_is(
    signed_in, client, login, make_user, make_space, add_member, make_resource, library
):
    """Asked for a private space's resources, the list says the space is not one the reader can
    see and lists everything they can see, in the same words as for a space that does not
    exist, so the page tells nobody whether a private space exists."""
    secret = make_space("Board development", visibility=Visibility.private)
    secret.slug = "board-dev"
    add_member(secret, library["sanjay"])
    make_resource(secret, by=library["sanjay"], title="Board paper draft")
    if signed_in:
        login(client, make_user("Aisha Khan"))
    private = _page(client, "/library?space=board-dev")
    missing = _page(client, "/library?space=board-dvv")
    assert _notice(private).replace("board-dev", "…") == _notice(missing).replace("board-dvv", "…")
    assert "There is no community or group “board-dev” that you can see" in _notice(private)
    assert ("sign in" in _notice(private)) is not signed_in
    assert titles(private) == titles(missing) == titles(_page(client, "/library"))
    assert "Board paper draft" not in private
    assert _notice(_page(client, "/library")) is None


def test_a_space_the_reader_can_see_is_filtered_without_a_notice(client, login, library):
    login(client, library["sanjay"])
    page = _page(client, f"/library?space={library['flow'].slug}")
    assert titles(page) == ["Flow huddle board template"] and _notice(page) is None


def test_a_members_sees_their_spaces_members_only_resources(client, login, library):
    login(client, library["kwame"])
    page = _page(client, "/library?classification=official-sensitive")
    assert titles(page) == ["Cost improvement plan 2027"]
    assert "OFFICIAL-SENSITIVE" in page


def test_a_private_spaces_resources_are_never_listed_for_outsiders(
    client, new_client, login, reader, make_space, add_member, make_resource, library
):
    private = make_space("Measurement for Improvement", visibility=Visibility.private)
    add_member(private, library["sanjay"])
    make_resource(
        private, by=library["sanjay"], title="SPC chart pack", visibility=ResourceVisibility.public
    )
    assert "SPC chart pack" not in _page(client, "/library")
    assert total(_page(client, "/library")) == 4
    assert total(_page(client, f"/library?organisation={library['leeds'].id}")) == 2
    assert client.get(f"/spaces/{private.slug}/library").status_code == 403  # its name is listed

    member = new_client()
    login(member, library["sanjay"])
    assert "SPC chart pack" in titles(_page(member, "/library"))
    assert "SPC chart pack" in titles(_page(member, f"/spaces/{private.slug}/library"))


def test_anonymous_visitors_see_only_public_resources_in_public_spaces(
    client, make_space, make_resource, library
):
    commons = make_space("NHS IMPACT Learning Commons", visibility=Visibility.public)
    make_resource(commons, title="NHS IMPACT in one page", visibility=ResourceVisibility.public)
    make_resource(commons, title="Members' notes", visibility=ResourceVisibility.network)
    make_resource(library["qms"], title="Network only", visibility=ResourceVisibility.public)
    page = _page(client, "/library")
    assert titles(page) == ["NHS IMPACT in one page"]
    assert "Save" not in page  # nothing to save without an account


def test_hidden_resources_are_listed_only_for_moderators_and_their_uploader(
    client, new_client, login, reader, library, make_resource, make_user, add_member
):
    from peerlearn.spaces.models import MemberRole

    make_resource(library["qms"], by=library["kwame"], title="Hidden pending review", hidden=True)
    assert "Hidden pending review" not in _page(client, "/library")
    uploader = new_client()
    login(uploader, library["kwame"])
    assert "Hidden pending review" in _page(uploader, "/library")
    moderator = make_user("A moderator")
    add_member(library["qms"], moderator, MemberRole.moderator)
    moderating = new_client()
    login(moderating, moderator)
    page = _page(moderating, f"/spaces/{library['qms'].slug}/library")
    assert "Hidden pending review" in page and ">Hidden<" in page


def test_a_resource_whose_organisation_was_not_recorded_says_so_where_it_is_listed(
    client, login, make_space, make_user, add_member, make_resource
):
    """Shared by a member with no organisation on their profile: nothing is made up about
    where it came from (organisations are never deleted, so none was ever recorded)."""
    space = make_space("QMS")
    member = make_user("No organisation")
    member.organisation = None
    add_member(space, member)
    resource = make_resource(space, by=member, title="Huddle board")
    login(client, member)
    client.post(f"/resources/{resource.id}/save", data={"saved": "yes"})
    for path in ("/library", f"/spaces/{space.slug}/library", "/library/saved"):
        page = _page(client, path)
        assert "Organisation not recorded." in page and "no longer listed" not in page, path
    assert "Organisation not recorded" in _page(client, f"/resources/{resource.id}")


def test_sorts_by_downloads_and_by_organisations_using(client, reader, library, make_user):
    library["Divisional review template"].download_count = 40
    library["Flow huddle board template"].download_count = 7
    library["Board QMS assurance template"].download_count = 12
    db.session.commit()
    page = _page(client, "/library?sort=downloads")
    assert titles(page)[:3] == [
        "Divisional review template",
        "Board QMS assurance template",
        "Flow huddle board template",
    ]
    assert selected(page, "sort") == "downloads"

    # Three members of two organisations use the self-assessment; one uses the board template.
    users = [make_user(organisation=library["leeds"]) for _ in range(2)] + [
        make_user(organisation=library["cornwall"])
    ]
    assessment, board = (
        library["QMS maturity self-assessment"],
        library["Board QMS assurance template"],
    )
    for user in users:
        db.session.add(
            ResourceUse(
                resource_id=assessment.id, user_id=user.id, organisation_id=user.organisation_id
            )
        )
    db.session.add(
        ResourceUse(
            resource_id=board.id, user_id=users[0].id, organisation_id=users[0].organisation_id
        )
    )
    db.session.commit()
    page = _page(client, "/library?sort=used")
    assert titles(page)[:2] == ["QMS maturity self-assessment", "Board QMS assurance template"]
    assert "In use by 2 organisations." in page and "In use by 1 organisation." in page


def test_the_space_library_lists_its_own_resources_and_offers_to_add_one(
    client, new_client, login, reader, library
):
    qms = library["qms"]
    page = _page(client, f"/spaces/{qms.slug}/library")
    assert titles(page) == [
        "Divisional review template",
        "QMS maturity self-assessment",
        "Board QMS assurance template",
    ]
    assert "Add a resource" not in page  # the reader is not a member
    assert 'name="space"' not in page  # the space is fixed here
    page = _page(client, f"/spaces/{qms.slug}/library?type=tool")
    assert titles(page) == ["QMS maturity self-assessment"]

    member = new_client()
    login(member, library["kwame"])
    page = _page(member, f"/spaces/{qms.slug}/library")
    assert "Add a resource" in page and f"/spaces/{qms.slug}/library/new" in page
    assert "Cost improvement plan 2027" in titles(page)


def test_an_empty_space_library_invites_the_first_resource_and_a_filter_says_it_matched_nothing(
    client, login, make_space, make_user, add_member, library
):
    member = make_user("Lucy Chen")
    empty = make_space("Human Factors")
    add_member(empty, member)
    login(client, member)
    page = _page(client, f"/spaces/{empty.slug}/library")
    assert total(page) == 0
    assert "Nobody has shared a resource here yet" in page and "Add the first one" in page
    assert "No resources match those filters" not in page
    assert "data-in-use" not in page  # the filters' toggle says none is in use

    page = _page(client, f"/spaces/{library['qms'].slug}/library?type=case-study")
    assert total(page) == 0
    assert "No resources match those filters" in page
    assert "Nobody has shared a resource here yet" not in page
    assert "data-in-use" in page  # and here that one is


def test_long_lists_are_paged_keeping_the_filters(client, reader, library, make_resource):
    for n in range(22):
        make_resource(library["flow"], title=f"Huddle guide {n:02d}", type=ResourceType.guide)
    page = _page(client, "/library?type=guide")
    assert total(page) == 22 and len(titles(page)) == 20
    assert "page=2" in page and "type=guide" in page
    second = _page(client, "/library?type=guide&page=2")
    assert titles(second) == ["Huddle guide 01", "Huddle guide 00"]
    past = _page(client, "/library?type=guide&page=9")
    assert titles(past) == titles(second)  # the last page, for a page past it
