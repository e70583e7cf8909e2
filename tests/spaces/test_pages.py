"""Space pages as readers see them: the list, a space's home page, its settings and what each
kind of reader may (and may not) see."""

import itertools
from urllib.parse import urlencode

import pytest

from peerlearn.extensions import db
from peerlearn.spaces.models import JoinPolicy, MemberRole, MemberState, SpaceKind, Visibility
from tests.accounts.pages import Page

SECRET = "The private roadmap for our QMS pilots"


@pytest.fixture
def network(make_space, make_user):
    """A community with a network group, a private group and a public group inside it."""
    community = make_space("Improvement Directors Network", kind=SpaceKind.community)
    groups = {
        "network": make_space("Flow Coaching SIG", parent=community),
        "private": make_space(
            "QMS Pilots SIG",
            parent=community,
            visibility=Visibility.private,
            join_policy=JoinPolicy.request,
        ),
        "public": make_space(
            "Open Improvement SIG", parent=community, visibility=Visibility.public
        ),
    }
    groups["private"].description_html = f"<p>{SECRET}</p>"
    groups["private"].summary = "Sharing quality management system pilots."
    db.session.commit()
    return community, groups


# The list of spaces ------------------------------------------------------------------------------


def test_signed_in_members_see_every_space_nested_under_its_community(
    client, login, make_user, network
):
    _community, groups = network
    login(client, make_user("Ann Reader"))
    page = Page(client.get("/spaces"))
    assert page.status == 200
    assert page.h1 == "Communities and groups"
    assert (2, "Improvement Directors Network") in page.headings
    assert (3, "Special interest groups in Improvement Directors Network") in page.headings
    for group in groups.values():
        assert (4, group.name) in page.headings
        assert page.link(group.name) == f"/spaces/{group.slug}"
    # A private space's name and summary are listed, marked private, but not its size.
    assert "QMS Pilots SIG Private Sharing quality management system pilots. Join by request" in (
        page.main_text
    )
    assert SECRET not in page.html


def test_anonymous_visitors_see_only_public_spaces(client, network):
    page = Page(client.get("/spaces"))
    assert page.status == 200
    assert "Open Improvement SIG" in page.main_text
    assert "QMS Pilots SIG" not in page.html
    assert "Flow Coaching SIG" not in page.html
    assert "/login?next=/spaces" in [href for href, text in page.links if text == "Sign in"]


def test_the_list_shows_member_counts_and_the_readers_own_standing(
    client, login, make_user, add_member, network
):
    _community, groups = network
    reader = make_user("Ann Reader")
    add_member(groups["network"], reader)
    add_member(groups["private"], reader, state=MemberState.requested)
    login(client, reader)
    text = Page(client.get("/spaces")).main_text
    assert "Flow Coaching SIG Member A group for testing. 2 members · Anyone can join" in text
    assert "QMS Pilots SIG Private Requested" in text


def test_member_counts_are_of_the_people_the_members_page_lists(
    client, login, make_user, add_member, network
):
    """Deactivated accounts and addresses never confirmed are not listed on the members page, so
    the list of spaces and the space's home page do not count them either."""
    _community, groups = network
    space = groups["network"]
    reader = make_user("Ann Reader")
    add_member(space, reader)
    add_member(space, make_user("Gus Gone", active=False))
    add_member(space, make_user("Una Unconfirmed", confirmed=False))
    login(client, reader)
    assert "2 members" in Page(client.get(f"/spaces/{space.slug}/members")).main_text
    assert "At a glance 2 members" in Page(client.get(f"/spaces/{space.slug}")).main_text
    assert "A group for testing. 2 members" in Page(client.get("/spaces")).main_text


def test_archived_spaces_are_not_listed(client, login, make_user, make_space):
    make_space("Old Pilots SIG", archived=True)
    login(client, make_user())
    assert "Old Pilots SIG" not in client.get("/spaces").get_data(as_text=True)


# A space's home page ----------------------------------------------------------------------------


def test_a_private_spaces_description_is_never_shown_to_non_members(
    client, login, make_user, network
):
    _community, groups = network
    login(client, make_user("Nosy Parker"))
    page = Page(client.get(f"/spaces/{groups['private'].slug}"))
    assert page.status == 200
    assert page.h1 == "QMS Pilots SIG"
    assert "Sharing quality management system pilots." in page.main_text
    assert "This is a private space. Only its members can read what is in it." in page.main_text
    assert SECRET not in page.html
    assert "Ask to join" in page.main_text
    # Nor its members, or who runs it, nor a way into its sections.
    assert "Run by" not in page.main_text
    assert f'aria-label="In {page.h1}"' not in page.html
    assert client.get(f"/spaces/{groups['private'].slug}/members").status_code == 403


def test_a_spaces_sections_come_first_on_its_page(client, login, make_user, network):
    """Discussions, events, library and members are linked at the top of the page, before
    joining or leaving (on a phone the side card comes after everything)."""
    _community, groups = network
    space = groups["network"]
    login(client, make_user("Ann Reader"))
    page = Page(client.get(f"/spaces/{space.slug}"))
    sections = [f"Discussions in {space.name}", f"Events in {space.name}",
                f"Library of {space.name}", f"Members of {space.name}"]  # fmt: skip
    assert [text for _href, text in page.main_links][: len(sections)] == sections
    assert page.main_text.index(sections[-1]) < page.main_text.index("Joining")


def test_run_by_names_only_people_the_network_lists(
    client, login, make_user, make_space, add_member
):
    # Their profiles answer "not found", as the directory does not list them.
    space = make_space("Flow Coaches SIG")
    add_member(space, make_user("Una Confirmed", confirmed=False), MemberRole.moderator)
    add_member(space, make_user("Dee Activated", active=False), MemberRole.moderator)
    add_member(space, make_user("Mo Derator"), MemberRole.moderator)
    login(client, make_user())
    page = Page(client.get(f"/spaces/{space.slug}"))
    assert "Mo Derator" in page.main_text
    assert "Una Confirmed" not in page.main_text
    assert "Dee Activated" not in page.main_text


def test_members_read_a_private_spaces_description(client, login, make_user, add_member, network):
    _community, groups = network
    member = make_user("Ann Member")
    add_member(groups["private"], member)
    login(client, member)
    page = Page(client.get(f"/spaces/{groups['private'].slug}"))
    assert SECRET in page.main_text
    assert "You are a member of this space." in page.main_text


def test_anonymous_visitors_opening_a_network_space_are_sent_to_sign_in(client, network):
    _community, groups = network
    response = client.get(f"/spaces/{groups['network'].slug}")
    assert response.status_code == 302
    assert response.location == "/login?" + urlencode({"next": f"/spaces/{groups['network'].slug}"})


def test_anonymous_visitors_can_read_a_public_space_and_are_asked_to_sign_in_to_join(
    client, network
):
    _community, groups = network
    page = Page(client.get(f"/spaces/{groups['public'].slug}"))
    assert page.status == 200
    assert "About this group." in page.main_text
    assert f"Sign in to join {groups['public'].name}." in page.main_text
    assert 'action="/spaces/' not in page.html  # no join button to press


def test_a_public_groups_page_does_not_name_a_community_anonymous_visitors_may_not_see(
    client, network
):
    """Anonymous visitors are listed public spaces only: a public group's page must not name the
    network-only community it belongs to, in its caption or its breadcrumbs."""
    community, groups = network
    page = Page(client.get(f"/spaces/{groups['public'].slug}"))
    assert page.status == 200
    assert community.name not in page.html
    assert "Special interest group" in page.main_text


def test_an_unknown_space_is_not_found(client, login, make_user):
    login(client, make_user())
    assert client.get("/spaces/no-such-space").status_code == 404


def test_a_space_page_shows_its_community_groups_and_who_runs_it(client, login, make_user, network):
    community, groups = network
    login(client, make_user())
    page = Page(client.get(f"/spaces/{community.slug}"))
    assert page.h1 == "Improvement Directors Network"
    for group in groups.values():
        assert page.link(group.name) == f"/spaces/{group.slug}"
    owner = community.memberships[0].user
    assert page.link(owner.display_name) == f"/people/{owner.handle}"
    assert page.link(f"Discussions in {community.name}") == f"/spaces/{community.slug}/threads"
    assert page.link(f"Members of {community.name}") == f"/spaces/{community.slug}/members"

    page = Page(client.get(f"/spaces/{groups['network'].slug}"))
    assert "Special interest group in Improvement Directors Network" in page.main_text
    assert page.link("Improvement Directors Network") == f"/spaces/{community.slug}"


def test_moderators_find_the_spaces_reports_from_its_page_and_members_do_not(
    app, client, login, make_user, add_member, network
):
    _community, groups = network
    space = groups["network"]
    moderator, member = make_user(), make_user()
    add_member(space, moderator, MemberRole.moderator)
    add_member(space, member)
    login(client, moderator)
    page = Page(client.get(f"/spaces/{space.slug}"))
    assert page.link(f"Reports in {space.name}") == f"/spaces/{space.slug}/moderation"
    assert client.get(page.link(f"Reports in {space.name}")).status_code == 200
    reader = app.test_client()
    login(reader, member)
    page = Page(reader.get(f"/spaces/{space.slug}"))
    assert f"/spaces/{space.slug}/moderation" not in [href for href, _text in page.links]


def test_headings_are_in_order_on_every_space_page(client, login, make_user, network):
    _community, groups = network
    owner = groups["network"].memberships[0].user
    login(client, owner)
    slug = groups["network"].slug
    for path in ["/spaces", f"/spaces/{slug}", f"/spaces/{slug}/members",
                 f"/spaces/{slug}/settings", f"/spaces/{slug}/audit"]:  # fmt: skip
        page = Page(client.get(path))
        assert page.status == 200, path
        levels = [level for level, _text in page.headings if level > 0]
        page.h1  # exactly one  # noqa: B018
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (path, page.headings)


# Settings --------------------------------------------------------------------------------------


def test_the_settings_form_shows_the_current_settings(client, login, network):
    _community, groups = network
    space = groups["private"]
    login(client, space.memberships[0].user)
    page = Page(client.get(f"/spaces/{space.slug}/settings"))
    assert page.h1 == "Settings"
    assert page.values["name"] == "QMS Pilots SIG"
    assert page.values["summary"] == "Sharing quality management system pilots."
    assert page.values["description"] == "About **this** group."
    assert page.values["visibility"] == "private"
    assert page.values["join_policy"] == "request"


def test_bad_settings_show_errors_beside_the_fields_keep_what_was_typed_and_change_nothing(
    client, login, network
):
    _community, groups = network
    space = groups["network"]
    login(client, space.memberships[0].user)
    long_summary = "S" * 300
    page = Page(
        client.post(
            f"/spaces/{space.slug}/settings",
            data={
                "name": "",
                "summary": long_summary,
                "description": "New words",
                "visibility": "private",
                "join_policy": "invite",
            },
        )
    )
    assert page.status == 200
    assert page.error_for("name") == "Enter a name"
    assert page.error_for("summary") == "Summary must be 280 characters or fewer"
    assert page.summary_has("Enter a name", "name")
    assert page.values["summary"] == long_summary
    assert page.values["description"] == "New words"
    assert page.values["visibility"] == "private"
    assert page.values["join_policy"] == "invite"
    db.session.expire_all()
    assert space.name == "Flow Coaching SIG"
    assert space.visibility is Visibility.network
    assert space.join_policy is JoinPolicy.open
    assert space.description_source == "About **this** group."


def test_settings_sent_from_a_page_left_open_too_long_give_back_the_description_to_copy(
    client, login, network
):
    """The form had expired (or its session ended) by the time the owner saved it: nothing is
    saved, and the description they wrote is on the error page, ready to copy."""
    _community, groups = network
    space = groups["network"]
    login(client, space.memberships[0].user)
    written = "We meet monthly.\n\nBring a run chart & a question."
    data = {"name": space.name, "summary": "", "description": written, "visibility": "network",
            "join_policy": "open", "csrf_token": "expired"}  # fmt: skip
    page = Page(client.post(f"/spaces/{space.slug}/settings", data=data, csrf=False))
    assert page.status == 400
    assert page.values["description"] == written
    db.session.expire_all()
    assert space.description_source == "About **this** group."


def test_saved_settings_render_markdown_safely(client, login, network):
    _community, groups = network
    space = groups["network"]
    login(client, space.memberships[0].user)
    response = client.post(
        f"/spaces/{space.slug}/settings",
        data={
            "name": "Flow Coaching Special Interest Group",
            "summary": "Coaching flow <b>together</b>",
            "description": "We **coach** flow.\n\n<script>alert('x')</script>\n\n"
            "[a link](javascript:alert(1))",
            "visibility": "network",
            "join_policy": "request",
        },
    )
    assert response.status_code == 302
    assert response.location == f"/spaces/{space.slug}"
    page = Page(client.get(response.location))
    assert "The space's settings have been saved." in page.main_text
    assert page.h1 == "Flow Coaching Special Interest Group"
    assert "<strong>coach</strong>" in page.html
    assert "<script>alert" not in page.html
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in page.html  # shown as text, never run
    assert 'href="javascript:' not in page.html
    assert "Coaching flow &lt;b&gt;together&lt;/b&gt;" in page.html
    assert "Join by request" in page.main_text
    db.session.expire_all()
    assert space.join_policy is JoinPolicy.request


def test_a_name_and_summary_are_kept_on_one_line(client, login, network):
    """A line break sent in a name (a crafted request: the field is one line) is a space, so
    e-mail subjects that name the space can still be written."""
    _community, groups = network
    space = groups["network"]
    login(client, space.memberships[0].user)
    response = client.post(
        f"/spaces/{space.slug}/settings",
        data={"name": "Flow\r\nBcc: everyone@example.org", "summary": " Coaching \n flow ",
              "description": "", "visibility": "network", "join_policy": "open"},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert space.name == "Flow Bcc: everyone@example.org"
    assert space.summary == "Coaching flow"


def test_members_and_moderators_cannot_open_the_settings(
    client, login, make_user, add_member, network
):
    from peerlearn.spaces.models import MemberRole

    _community, groups = network
    space = groups["network"]
    moderator = make_user()
    add_member(space, moderator, MemberRole.moderator)
    login(client, moderator)
    assert client.get(f"/spaces/{space.slug}/settings").status_code == 403
    page = Page(client.get(f"/spaces/{space.slug}"))
    assert "Settings" not in [text for _href, text in page.links]


def test_space_owners_see_their_audit_log_without_anyones_address_to_its_end(
    client, make_space, make_user, login
):
    owner = make_user("Owner Person")
    space = make_space(owner=owner)
    login(client, owner)
    client.post(f"/spaces/{space.slug}/settings", data={
        "name": "Renamed", "summary": "", "description": "", "visibility": "network",
        "join_policy": "open",
    })  # fmt: skip
    page = client.get(f"/spaces/{space.slug}/audit").get_data(as_text=True)
    assert "Changed the settings" in page
    assert "IP address" not in page and "127.0.0.1" not in page
    # A page past the end shows the last, rather than saying nothing was recorded.
    past = Page(client.get(f"/spaces/{space.slug}/audit?page=9"))
    assert "Changed the settings" in past.main_text
    assert "Nothing has been recorded yet." not in past.main_text


def test_saving_unchanged_settings_says_nothing_changed_and_audits_nothing(client, login, network):
    _community, groups = network
    space = groups["private"]
    login(client, space.memberships[0].user)
    settings = {
        "name": "QMS Pilots SIG",
        "summary": "Sharing quality management system pilots.",
        "description": "About **this** group.",
        "visibility": "private",
        "join_policy": "request",
    }
    response = client.post(f"/spaces/{space.slug}/settings", data=settings)
    assert response.status_code == 302
    page = Page(client.get(response.location))
    assert "Nothing changed: the space's settings were already as you saved them." in (
        page.main_text
    )
    assert "The space's settings have been saved." not in page.main_text
    assert "Changed the settings" not in client.get(f"/spaces/{space.slug}/audit").get_data(
        as_text=True
    )

    # A change to the words alone is a change: saved and audited.
    response = client.post(
        f"/spaces/{space.slug}/settings", data={**settings, "description": "New words"}
    )
    assert "The space's settings have been saved." in Page(client.get(response.location)).main_text
    assert "Changed the settings" in client.get(f"/spaces/{space.slug}/audit").get_data(
        as_text=True
    )
    db.session.expire_all()
    assert space.description_source == "New words"
