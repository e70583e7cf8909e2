"""Saving resources, "we're using this" counted by organisation, "adapted by" counts that respect
privacy, and the linked discussion thread created once."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from peerlearn.audit.models import AuditEntry
from peerlearn.discussions import reading
from peerlearn.discussions.models import Thread
from peerlearn.extensions import db
from peerlearn.resources.models import Resource, ResourceUse, ResourceVisibility, SavedResource
from peerlearn.spaces.models import Visibility
from tests.resources.browse_helpers import titles


@pytest.fixture
def sig(make_space):
    return make_space("Quality Management Systems")


@pytest.fixture
def template(sig, make_user, add_member, make_resource) -> Resource:
    author = make_user("Kwame Mensah")
    add_member(sig, author)
    return make_resource(sig, by=author, title="Board QMS assurance template")


@pytest.fixture
def signed_in(client, login, make_user):
    """Sign the client in as a new member of the network (optionally of an organisation)."""

    def sign_in(**kwargs):
        user = make_user(**kwargs)
        login(client, user)
        return user

    return sign_in


def _impact(client, resource: Resource) -> str:
    response = client.get(f"/resources/{resource.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _count(text: str, label: str) -> int:
    match = re.search(label + r" <strong>(\d+) organisations?</strong>", text)
    assert match, f"no “{label}” on the page"
    return int(match.group(1))


def test_members_save_resources_and_find_them_in_their_saved_list(
    client, signed_in, template, make_resource, sig
):
    reader = signed_in()
    other = make_resource(sig, title="Divisional review template")
    assert "You have not saved any resources yet" in client.get("/library/saved").get_data(
        as_text=True
    )
    response = client.post(
        f"/resources/{template.id}/save", data={"saved": "yes", "next": "/library"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/library"
    client.post(f"/resources/{other.id}/save", data={"saved": "yes"})
    client.post(f"/resources/{template.id}/save", data={"saved": "yes"})  # twice is once
    assert titles(client.get("/library/saved").get_data(as_text=True)) == [
        "Divisional review template",
        "Board QMS assurance template",
    ]
    count = select(func.count()).where(SavedResource.user_id == reader.id)
    assert db.session.scalar(count) == 2
    assert "Remove from saved" in client.get("/library").get_data(as_text=True)

    client.post(f"/resources/{other.id}/save", data={"saved": "no"})
    assert titles(client.get("/library/saved").get_data(as_text=True)) == [
        "Board QMS assurance template"
    ]
    # A saved resource that is hidden later drops out of the list.
    template.hidden_at = template.created_at
    db.session.commit()
    assert titles(client.get("/library/saved").get_data(as_text=True)) == []


def test_saving_needs_an_account_and_a_resource_the_reader_may_see(
    client, signed_in, make_space, make_resource
):
    private = make_space("Measurement for Improvement", visibility=Visibility.private)
    secret = make_resource(private, title="SPC chart pack")
    assert client.post(f"/resources/{secret.id}/save").status_code == 302  # to sign in
    signed_in()
    assert client.post(f"/resources/{secret.id}/save").status_code == 404
    assert client.post(f"/resources/{secret.id}/using").status_code == 404
    assert client.post(f"/resources/{secret.id}/discuss").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(SavedResource)) == 0
    assert client.post("/resources/999999/save").status_code == 404


def test_were_using_this_counts_organisations_not_people(
    client, new_client, login, make_user, make_organisation, template
):
    leeds, cornwall = make_organisation("Leeds"), make_organisation("Cornwall")
    people = [make_user(organisation=leeds), make_user(organisation=leeds),
              make_user(organisation=cornwall)]  # fmt: skip
    for person in people:
        browser = new_client()
        login(browser, person)
        assert (
            browser.post(f"/resources/{template.id}/using", data={"using": "yes"}).status_code
            == 302
        )
    browser.post(f"/resources/{template.id}/using", data={"using": "yes"})  # a second click
    assert db.session.scalar(select(func.count()).select_from(ResourceUse)) == 3
    page = _impact(browser, template)
    assert _count(page, "In use by") == 2
    assert "no longer using this" in page

    browser.post(f"/resources/{template.id}/using", data={"using": "no"})
    assert _count(_impact(browser, template), "In use by") == 1
    listed = browser.get("/library").get_data(as_text=True)
    assert "In use by 1 organisation." in listed


def test_a_use_counts_while_its_member_is_active_and_still_in_that_organisation(
    client, new_client, login, make_user, make_organisation, template
):
    leeds, barts, cornwall = (make_organisation(n) for n in ("Leeds", "Barts", "Cornwall"))
    leaver, mover = make_user(organisation=leeds), make_user(organisation=barts)
    stayer = make_user(organisation=cornwall)
    for person in (leaver, mover, stayer):
        browser = new_client()
        login(browser, person)
        browser.post(f"/resources/{template.id}/using", data={"using": "yes"})
    assert _count(_impact(browser, template), "In use by") == 3

    leaver.active = False  # the account was closed: nobody at Leeds vouches for it any more
    mover.organisation = cornwall  # moved on: Barts' use was theirs, Cornwall already counts
    db.session.commit()
    assert _count(_impact(browser, template), "In use by") == 1
    assert "In use by 1 organisation." in browser.get("/library").get_data(as_text=True)

    # The member who moved has not said their new organisation uses it: they may say so.
    login(client, mover)
    page = html.unescape(_impact(client, template))
    assert "We're using this" in page and "no longer using this" not in page
    client.post(f"/resources/{template.id}/using", data={"using": "yes"})
    assert "no longer using this" in _impact(client, template)
    mover.organisation = barts
    db.session.commit()
    client.post(f"/resources/{template.id}/using", data={"using": "yes"})
    assert _count(_impact(client, template), "In use by") == 2


def test_a_member_with_no_organisation_is_told_they_cannot_count_one(
    client, login, make_user, template
):
    member = make_user()
    member.organisation = None
    db.session.commit()
    login(client, member)
    page = html.unescape(_impact(client, template))
    assert "We're using this" not in page
    assert "Add your organisation to your profile" in page
    response = client.post(
        f"/resources/{template.id}/using", data={"using": "yes"}, follow_redirects=True
    )
    text = response.get_data(as_text=True)
    assert "Add your organisation to your profile" in text
    assert "your organisation is counted" not in text
    assert db.session.scalar(select(func.count()).select_from(ResourceUse)) == 0


def test_adapted_by_counts_organisations_whose_adaptations_the_reader_may_see(
    client, signed_in, make_user, make_organisation, make_space, add_member, make_resource,
    template, sig,
):  # fmt: skip
    leeds, barts = make_organisation("Leeds"), make_organisation("Barts")
    private = make_space("Measurement for Improvement", visibility=Visibility.private)
    adapters = [make_user(organisation=leeds), make_user(organisation=leeds),
                make_user(organisation=barts)]  # fmt: skip
    for adapter in adapters:
        add_member(sig, adapter)
    add_member(private, adapters[2])
    for n, (adapter, space) in enumerate(zip(adapters, [sig, sig, private], strict=True)):
        adaptation = make_resource(space, by=adapter, title=f"Our version {n}")
        adaptation.adapted_from_id = template.id
    db.session.commit()

    signed_in()  # not in the private group: Barts' adaptation is not theirs to see
    page = _impact(client, template)
    assert _adapted(page) == "Adapted 2 times, by 1 organisation"
    assert "Our version 0" in page and "Our version 2" not in page
    assert "Adapted 2 times, by 1 organisation." in client.get("/library").get_data(as_text=True)


def _adapted(page: str) -> str:
    """What the resource page says about its adaptations, as read (tags dropped)."""
    match = re.search(r'<li id="adapted-by">(.*?)</li>', page)
    assert match, "no adaptations line on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


@pytest.mark.parametrize(
    ("organisations", "said"),
    [
        ([None], "Adapted once"),
        (["Leeds", None], "Adapted 2 times, by 1 organisation"),
        (["Leeds", "Barts", None, None], "Adapted 4 times, by 2 organisations"),
        (["Leeds", "Barts"], "Adapted by 2 organisations"),
    ],
)
def test_adaptations_shared_by_members_with_no_organisation_are_counted_too(
    organisations, said, client, signed_in, make_user, make_organisation, add_member,
    make_resource, template, sig,
):  # fmt: skip
    """A member with no organisation on their profile may share an adaptation: it counts as a
    time the resource was adapted, though it adds no organisation."""
    by_name = {name: make_organisation(name) for name in {"Leeds", "Barts"}}
    for n, name in enumerate(organisations):
        adapter = make_user()
        adapter.organisation = by_name.get(name)
        add_member(sig, adapter)
        adaptation = make_resource(sig, by=adapter, title=f"Our version {n}")
        adaptation.adapted_from_id = template.id
    db.session.commit()

    signed_in()
    page = _impact(client, template)
    assert _adapted(page) == said
    assert all(f"Our version {n}" in page for n in range(len(organisations)))
    assert f"{said}." in client.get("/library").get_data(as_text=True)


def test_discuss_this_resource_starts_one_linked_thread_in_its_space(
    client, new_client, login, make_user, add_member, template, sig
):
    member = make_user("Aisha Khan")
    add_member(sig, member)
    login(client, member)
    assert "Discuss this resource" in _impact(client, template)
    response = client.post(f"/resources/{template.id}/discuss")
    assert response.status_code == 302
    thread_id = int(re.search(r"/threads/(\d+)", response.headers["Location"]).group(1))
    thread = db.session.get(Thread, thread_id)
    assert thread.space_id == sig.id and "Board QMS assurance template" in thread.title
    assert db.session.get(Resource, template.id).discussion_thread_id == thread_id
    assert f"/resources/{template.id}" in client.get(f"/threads/{thread_id}").get_data(as_text=True)

    again = client.post(f"/resources/{template.id}/discuss")
    assert again.headers["Location"].endswith(f"/threads/{thread_id}")
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 1
    assert "Read the discussion about this resource" in _impact(client, template)

    # A reader outside the space follows the existing thread, and may not start one elsewhere.
    outsider = new_client()
    login(outsider, make_user("Not a member"))
    assert (
        outsider.post(f"/resources/{template.id}/discuss")
        .headers["Location"]
        .endswith(f"/threads/{thread_id}")
    )


def test_only_members_start_a_discussion_and_never_for_a_members_only_resource(
    client, new_client, login, make_user, add_member, sig, make_resource, template
):
    outsider = make_user("Not a member")
    login(client, outsider)
    assert "Discuss this resource" not in _impact(client, template)
    assert client.post(f"/resources/{template.id}/discuss").status_code == 403

    member = make_user("A member")
    add_member(sig, member)
    client = new_client()
    login(client, member)
    members_only = make_resource(
        sig, title="Members-only notes", visibility=ResourceVisibility.space
    )
    page = _impact(client, members_only)
    assert "Discuss this resource" not in page
    assert client.post(f"/resources/{members_only.id}/discuss").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


@pytest.mark.parametrize("change", ["space opens up", "reported", "removed"])
def test_a_discussion_is_hidden_once_it_would_name_the_resource_to_those_kept_from_it(
    make_space, make_user, add_member, make_resource, change
):
    from peerlearn.permissions import Action, can
    from peerlearn.resources import engagement, reports
    from peerlearn.resources import services as library
    from peerlearn.resources.models import ResourceFlagReason
    from peerlearn.search.services import search
    from peerlearn.spaces import services as spaces
    from peerlearn.spaces.models import JoinPolicy, MemberRole

    space = make_space("Private QMS group", visibility=Visibility.private)
    owner, member, outsider = make_user("Owner"), make_user("Member"), make_user("Outsider")
    add_member(space, owner, MemberRole.owner)
    add_member(space, member)
    notes = make_resource(space, by=member, visibility=ResourceVisibility.space)
    thread = engagement.discussion_for(member, notes)
    assert can(member, Action.view, thread) and not thread.hidden

    if change == "space opens up":
        data = spaces.SpaceData(space.name, space.summary, space.description_source,
                                Visibility.public, JoinPolicy.open)  # fmt: skip
        spaces.update_space(owner, space, data)
        assert not can(outsider, Action.view, db.session.get(Thread, thread.id))
    elif change == "reported":
        reports.flag_resource(member, notes, ResourceFlagReason.patient_information)
    else:
        library.delete_resource(member, notes)
    db.session.expire_all()
    thread = db.session.get(Thread, thread.id)
    assert thread.hidden  # its title names the resource: only the space's moderators see it
    assert not can(member, Action.view, thread) and can(owner, Action.view, thread)
    opening = reading.opening_post(thread)
    if change == "removed":
        # Nobody may open a removed resource, moderators included: its name leaves the thread.
        assert notes.title not in thread.title and opening.deleted_at is not None
        assert not search(owner, notes.title).total
        # The space's audit log says what became of the thread, as it says the thread was hidden.
        renamed = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "thread.renamed")
        ).one()
        assert (renamed.actor_id, renamed.space_id) == (None, space.id)
        assert renamed.detail == {"thread_id": thread.id, "old": f"Discussing: {notes.title}",
                                  "new": "Discussion of a removed resource"}  # fmt: skip
    else:
        assert notes.title in thread.title and opening.deleted_at is None


def test_a_network_resource_in_a_public_space_is_not_discussed_in_the_open(
    make_space, make_user, add_member, make_resource
):
    from peerlearn.resources import engagement

    space = make_space("Open QMS group", visibility=Visibility.public)
    member = make_user("Member")
    add_member(space, member)
    # Its readers are signed-in members; a thread in a public space is read by visitors too.
    assert not engagement.can_be_discussed(make_resource(space, by=member))
    public = make_resource(space, by=member, visibility=ResourceVisibility.public)
    assert engagement.can_be_discussed(public)
