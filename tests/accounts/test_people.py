"""Profiles, account settings and the people directory."""

import pytest

from peerlearn.accounts.models import User
from peerlearn.extensions import db
from peerlearn.organisations.models import Region
from peerlearn.spaces.models import MemberState, Visibility
from tests.accounts.pages import Page


def test_settings_show_the_profile_as_it_is(client, make_user, login, organisation):
    user = make_user("Sam Patel", email="sam@trust.nhs.uk", organisation=organisation,
                     job_title="Flow Coach")  # fmt: skip
    login(client, user)
    page = Page(client.get("/account"))
    assert page.h1 == "Account settings"
    assert "sam@trust.nhs.uk" in page.main_text
    assert page.values["display_name"] == "Sam Patel"
    assert page.values["job_title"] == "Flow Coach"
    assert page.values["organisation_id"] == str(organisation.id)
    assert page.link("Change e-mail address") == "/account/email"
    assert page.link("Change password") == "/account/password"


def test_settings_save_name_job_title_organisation_and_bio(
    client, make_user, make_organisation, login
):
    user = make_user("Sam Patel")
    moved_to = make_organisation("NHS Cheshire and Merseyside ICB")
    login(client, user)
    response = client.post("/account", data={
        "display_name": "  Samira Patel ", "job_title": "Associate Director of QI",
        "organisation_id": str(moved_to.id),
        "bio": "I lead **flow coaching**.\n\n<script>alert('x')</script>",
    })  # fmt: skip
    assert response.status_code == 302
    assert response.location == "/account"
    page = Page(client.get("/account"))
    assert "Your profile has been saved" in page.main_text
    assert page.values["bio"].startswith("I lead **flow coaching**.")  # the source, to edit

    saved = db.session.get(User, user.id)
    assert (saved.display_name, saved.job_title, saved.organisation_id) == (
        "Samira Patel", "Associate Director of QI", moved_to.id,
    )  # fmt: skip

    profile = client.get(f"/people/{user.handle}")
    html = profile.get_data(as_text=True)
    assert "<strong>flow coaching</strong>" in html
    assert "<script>alert" not in html
    page = Page(profile)
    assert page.h1.startswith("Samira Patel")
    assert "<script>alert('x')</script>" in page.main_text  # shown as text, harmlessly
    assert not [tag for tag, _attrs in page.main_tags if tag == "script"]
    assert page.link("NHS Cheshire and Merseyside ICB") == f"/organisations/{moved_to.id}"


def test_a_profile_shows_who_someone_is_and_links_only_to_spaces_the_reader_may_see(
    client, make_user, make_organisation, make_space, add_member, login
):
    org = make_organisation(
        "Leeds Teaching Hospitals NHS Trust", region=Region.north_east_and_yorkshire
    )
    person = make_user("Priya Shah", organisation=org, job_title="Director of Improvement")
    reader = make_user("Reader")
    network = make_space("QMS special interest group", visibility=Visibility.network)
    public = make_space("Flow coaching academy", visibility=Visibility.public)
    secret = make_space("Directors' private circle", visibility=Visibility.private)
    shared_private = make_space("Shared private group", visibility=Visibility.private)
    requested = make_space("Requested group")
    for space in (network, public, secret, shared_private):
        add_member(space, person)
    add_member(shared_private, reader)
    add_member(requested, person, state=MemberState.requested)

    login(client, reader)
    page = Page(client.get(f"/people/{person.handle}"))
    assert page.status == 200
    assert page.h1 == "Priya Shah Director of Improvement"
    assert "North East and Yorkshire" in page.main_text
    assert page.link("Leeds Teaching Hospitals NHS Trust") == f"/organisations/{org.id}"
    assert page.link("QMS special interest group") == f"/spaces/{network.slug}"
    assert page.link("Flow coaching academy") == f"/spaces/{public.slug}"
    assert page.link("Shared private group") == f"/spaces/{shared_private.slug}"
    assert "Directors' private circle" not in page.html
    assert "Requested group" not in page.html
    assert "Edit your profile" not in [text for _href, text in page.main_links]  # only your own


def test_your_own_profile_has_an_edit_link(client, make_user, login):
    me = make_user()
    login(client, me)
    page = Page(client.get(f"/people/{me.handle}"))
    assert page.link("Edit your profile") == "/account"


@pytest.mark.parametrize("active", [False])
def test_deactivated_and_unknown_people_have_no_profile(client, make_user, login, active):
    gone = make_user(active=active)
    login(client, make_user())
    assert client.get(f"/people/{gone.handle}").status_code == 404
    assert client.get("/people/nobody-at-all").status_code == 404


@pytest.mark.parametrize("path", ["/people", "/people/person-1", "/people?q=a"])
def test_anonymous_visitors_are_asked_to_sign_in_for_people_pages(client, make_user, path):
    make_user()
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert "Sign in to see that page" in Page(client.get(response.location)).main_text


@pytest.fixture
def people(make_user, make_organisation):
    leeds = make_organisation("Leeds Teaching Hospitals NHS Trust",
                              region=Region.north_east_and_yorkshire)  # fmt: skip
    barts = make_organisation("Barts Health NHS Trust", region=Region.london)
    guys = make_organisation("Guy's and St Thomas' NHS Foundation Trust", region=Region.london)
    return {
        "orgs": {"leeds": leeds, "barts": barts, "guys": guys},
        "amara": make_user("Amara Okafor", organisation=leeds, job_title="QI Lead"),
        "ben": make_user("Ben O'Neill", organisation=barts, job_title="Flow Coach"),
        "cora": make_user("Cora Amara-Jones", organisation=guys),
        "unconfirmed": make_user("Amara Unconfirmed", organisation=leeds, confirmed=False),
        "inactive": make_user("Amara Inactive", organisation=leeds, active=False),
    }


def names(page: Page) -> list[str]:
    return [text for href, text in page.main_links if href.startswith("/people/")]


def test_the_directory_lists_active_confirmed_members_with_their_details(client, login, people):
    login(client, people["ben"])
    page = Page(client.get("/people"))
    assert page.h1 == "People"
    assert names(page) == ["Amara Okafor", "Ben O'Neill", "Cora Amara-Jones"]
    assert page.link("Amara Okafor") == f"/people/{people['amara'].handle}"
    for text in ("QI Lead", "Leeds Teaching Hospitals NHS Trust", "North East and Yorkshire",
                 "Flow Coach", "London", "3 people"):  # fmt: skip
        assert text in page.main_text
    assert [attrs.get("scope") for tag, attrs in page.main_tags if tag == "th"] == ["col"] * 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "amara"}, ["Amara Okafor", "Cora Amara-Jones"]),
        ({"q": "O'Neill"}, ["Ben O'Neill"]),
        ({"q": "%"}, []),
        ({"organisation": "leeds"}, ["Amara Okafor"]),
        ({"region": "london"}, ["Ben O'Neill", "Cora Amara-Jones"]),
        ({"q": "amara", "region": "london"}, ["Cora Amara-Jones"]),
        ({"region": "atlantis", "organisation": "not-a-number"}, ["Amara Okafor", "Ben O'Neill",
                                                                  "Cora Amara-Jones"]),
    ],
)  # fmt: skip
def test_the_directory_filters_by_name_organisation_and_region(
    client, login, people, query, expected
):
    if query.get("organisation") in people["orgs"]:
        query = {**query, "organisation": str(people["orgs"][query["organisation"]].id)}
    login(client, people["ben"])
    page = Page(client.get("/people", query_string=query))
    assert page.status == 200
    assert names(page) == expected
    for name, value in query.items():  # the filter form shows what was asked
        if name != "organisation" or value.isdigit():
            assert page.values[name] == (value if value != "atlantis" else ""), name
    if not expected:
        assert "Nobody matches those filters" in page.main_text


def test_the_directory_is_paginated(client, login, make_user, make_organisation):
    org = make_organisation()
    for number in range(30):
        make_user(f"Member {number:02d}", organisation=org)
    login(client, make_user("Zed Reader", organisation=org))
    first = Page(client.get("/people"))
    assert len(names(first)) == 25
    assert "31 people" in first.main_text
    second = Page(client.get("/people" + first.link("Next : Page 2 of 2")))
    assert names(second) == ["Member 25", "Member 26", "Member 27", "Member 28", "Member 29",
                             "Zed Reader"]  # fmt: skip
    assert second.link("Previous : Page 1 of 2") == "?page=1"
    beyond = Page(client.get("/people?page=9"))  # the last page, for a page past it
    assert beyond.status == 200 and names(beyond) == names(second)
