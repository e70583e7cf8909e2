"""The home page: a landing page for visitors, a starting point for members."""

from peerlearn.spaces.models import JoinPolicy, MemberState, Visibility
from tests.accounts.pages import Page


def test_visitors_see_what_peerlearn_is_and_only_the_public_spaces(client, make_space):
    public = make_space("Flow coaching academy", visibility=Visibility.public)
    make_space("QMS special interest group", visibility=Visibility.network)
    make_space("Directors' private circle", visibility=Visibility.private)
    make_space("Old public group", visibility=Visibility.public, archived=True)

    page = Page(client.get("/"))
    assert page.status == 200
    assert page.h1 == "Peer learning for NHS improvement leaders"
    assert "NHS IMPACT" in page.main_text
    assert page.main_link("Create an account") == "/register"
    assert page.main_link("Sign in") == "/login"
    assert page.link("Flow coaching academy") == f"/spaces/{public.slug}"
    assert "A group for testing." in page.main_text  # its summary
    for hidden in ("QMS special interest group", "Directors' private circle", "Old public group"):
        assert hidden not in page.html


def test_visitors_are_told_when_there_is_nothing_public_yet(client, make_space):
    make_space("QMS special interest group", visibility=Visibility.network)
    page = Page(client.get("/"))
    assert "There are no public communities or groups yet" in page.main_text


def test_members_see_their_spaces_invitations_requests_and_more_to_discover(
    client, make_user, make_space, add_member, login
):
    me = make_user("Sam Patel")
    mine = make_space("QMS special interest group")
    add_member(mine, make_user())
    invited = make_space("Directors' private circle", visibility=Visibility.private,
                         join_policy=JoinPolicy.invite)  # fmt: skip
    asked = make_space("Measurement for improvement", join_policy=JoinPolicy.request)
    other = make_space("Flow coaching academy", visibility=Visibility.public)
    secret = make_space("Someone else's private group", visibility=Visibility.private)
    add_member(mine, me)
    add_member(invited, me, state=MemberState.invited)
    add_member(asked, me, state=MemberState.requested)
    login(client, me)

    page = Page(client.get("/"))
    assert page.status == 200
    assert page.h1 == "Welcome, Sam Patel"
    assert "<title>Welcome, Sam Patel – peerlearn</title>" in page.html
    headings = [text for level, text in page.headings if level == 2]
    for heading in ("Invitations", "Your communities and groups", "Waiting for approval",
                    "Discover more"):  # fmt: skip
        assert heading in headings
    assert page.link("QMS special interest group") == f"/spaces/{mine.slug}"
    assert "3 members" in page.main_text  # the owner, another member and me
    assert page.link("Directors' private circle") == f"/spaces/{invited.slug}"
    assert "accept or decline" in page.main_text
    assert page.link("Measurement for improvement") == f"/spaces/{asked.slug}"
    assert page.link("Flow coaching academy") == f"/spaces/{other.slug}"
    assert page.link("See all communities and groups") == "/spaces"
    # Private spaces may be listed by name to members of the network, never their content.
    assert secret.description_source not in page.html


def test_a_new_member_is_pointed_to_spaces_to_join(client, make_user, login):
    login(client, make_user())
    page = Page(client.get("/"))
    assert "You have not joined any communities or groups yet" in page.main_text
    assert page.link("Find communities and groups to join") == "/spaces"
    assert "Invitations" not in [text for _level, text in page.headings]


def test_about_lists_the_five_nhs_impact_components(client):
    page = Page(client.get("/about"))
    assert page.h1 == "About peerlearn"
    for component in (
        "Building a shared purpose and vision",
        "Investing in people and culture",
        "Developing leadership behaviours",
        "Building improvement capability and capacity",
        "Embedding improvement into management systems and processes",
    ):
        assert component in page.main_text


def test_the_accessibility_statement_says_what_we_aim_for_and_how_to_report_a_problem(client):
    page = Page(client.get("/accessibility"))
    assert page.h1 == "Accessibility statement"
    assert "WCAG" in page.main_text and "2.2" in page.main_text and "AA" in page.main_text
    assert "without JavaScript" in page.main_text
    assert "Reporting a problem" in [text for _level, text in page.headings]


def test_every_page_footer_links_to_about_and_the_accessibility_statement(client):
    page = Page(client.get("/"))
    assert page.link("About peerlearn") == "/about"
    assert page.link("Accessibility statement") == "/accessibility"
