"""The component, organisation and region filters: what each kind is filed under, how they
combine with the others, and how they follow the writes that change them."""

from __future__ import annotations

from peerlearn.accounts import services as accounts
from peerlearn.discussions.models import ImpactComponent
from peerlearn.organisations.models import Region
from peerlearn.resources import services as resources
from peerlearn.resources.models import (
    Classification,
    Licence,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.search.indexing import reindex_all

SYSTEMS = ImpactComponent.management_systems
CULTURE = ImpactComponent.people_and_culture


def share_link(by, space, title, **fields):
    draft = resources.ResourceDraft(
        title=title,
        type=ResourceType.tool,
        licence=Licence.ogl_3,
        visibility=ResourceVisibility.network,
        classification=Classification.official,
        pii_declared=True,
        link_url="https://www.england.nhs.uk/nhsimpact/",
        **fields,
    )
    return resources.create_resource(by, space, draft)


def test_the_component_filter_keeps_what_is_tagged_with_it(
    sig, author, new_thread, new_reply, new_event, find
) -> None:
    tagged = new_thread("Kanban walls", "Kanban.", components=(SYSTEMS, CULTURE))
    reply = new_reply(tagged, "Our kanban wall.")
    other = new_thread("Kanban in theatres", "Kanban.", components=(CULTURE,))
    event = new_event("Kanban clinic", "Kanban.", components=(SYSTEMS,))
    resource = share_link(author, sig, "Kanban board tool", components=(SYSTEMS,))
    untagged = new_thread("Kanban", "Kanban.")

    everything = set(find(author, "kanban"))
    assert ("thread", untagged.id) in everything and ("person", author.id) not in everything
    assert set(find(author, "kanban", component=SYSTEMS)) == {
        ("thread", tagged.id), ("post", reply.id), ("event", event.id),
        ("resource", resource.id),
    }  # fmt: skip
    assert set(find(author, "kanban", component=CULTURE)) == {
        ("thread", tagged.id), ("post", reply.id), ("thread", other.id),
    }  # fmt: skip
    assert find(author, "kanban", component=SYSTEMS, kind="event") == [("event", event.id)]


def test_the_organisation_and_region_filters_follow_each_kind_s_origin(
    sig, member, make_organisation, new_thread, new_reply, new_event, find
) -> None:
    leeds = make_organisation("Leeds Teaching Hospitals", region=Region.north_east_and_yorkshire)
    bristol = make_organisation("North Bristol NHS Trust", region=Region.south_west)
    from_leeds = member("Leeds Person", organisation=leeds, job_title="Gemba coach")
    from_bristol = member("Bristol Person", organisation=bristol, job_title="Gemba lead")
    reindex_all()  # the factory adds people without registration's signal; content uses them
    thread = new_thread("Gemba walks", "Gemba.", by=from_leeds)
    reply = new_reply(thread, "Gemba from Bristol.", by=from_bristol)
    event = new_event("Gemba clinic", "Gemba.")  # made by the author, of another organisation
    # A resource is filed under its originating organisation, not its uploader's.
    resource = share_link(from_bristol, sig, "Gemba guide", organisation_id=leeds.id)

    assert set(find(from_leeds, "gemba", organisation_id=leeds.id)) == {
        ("thread", thread.id), ("person", from_leeds.id), ("resource", resource.id),
    }  # fmt: skip
    assert set(find(from_leeds, "gemba", organisation_id=bristol.id)) == {
        ("post", reply.id), ("person", from_bristol.id),
    }  # fmt: skip
    assert set(find(from_leeds, "gemba", region=Region.south_west)) == {
        ("post", reply.id), ("person", from_bristol.id),
    }  # fmt: skip
    assert find(from_leeds, "gemba", region=Region.london) == []
    assert ("event", event.id) in find(from_leeds, "gemba", region=Region.north_west)
    assert find(from_leeds, "gemba", region=Region.north_east_and_yorkshire, kind="person") == [
        ("person", from_leeds.id)
    ]


def test_a_member_who_moves_organisation_takes_what_they_wrote_along(
    member, make_organisation, new_thread, new_reply, find
) -> None:
    before = make_organisation("Before Trust", region=Region.london)
    after = make_organisation("After Trust", region=Region.midlands)
    writer = member("Mover", organisation=before)
    thread = new_thread("Andon cords", "Andon.", by=writer)
    reply = new_reply(thread, "Andon again.", by=writer)
    assert set(find(writer, "andon", organisation_id=before.id)) == {
        ("thread", thread.id), ("post", reply.id),
    }  # fmt: skip

    # Their new job title has the word too, so they are found themselves from now on.
    accounts.update_profile(
        writer, display_name="Mover", job_title="Andon lead", organisation_id=after.id, bio=""
    )
    written = {("thread", thread.id), ("post", reply.id), ("person", writer.id)}
    assert find(writer, "andon", organisation_id=before.id) == []
    assert set(find(writer, "andon", region=Region.midlands)) == written
    # A full rebuild files them the same way.
    reindex_all()
    assert set(find(writer, "andon", organisation_id=after.id)) == written


def test_filters_on_a_rebuilt_index_match_those_kept_by_signals(
    sig, author, new_thread, new_reply, find
) -> None:
    thread = new_thread("Poka-yoke", "Mistake proofing.", components=(SYSTEMS,))
    reply = new_reply(thread, "Mistake proofing the drug round.")
    kept = find(author, "mistake", component=SYSTEMS, organisation_id=author.organisation_id)
    assert set(kept) == {("thread", thread.id), ("post", reply.id)}
    reindex_all()
    rebuilt = find(author, "mistake", component=SYSTEMS, organisation_id=author.organisation_id)
    assert set(rebuilt) == set(kept)


def test_the_migration_files_existing_rows_as_the_app_does_and_keeps_search_working(
    sig, author, new_thread, new_reply, new_event, find
) -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from peerlearn.extensions import db
    from peerlearn.search.models import SearchDocument

    thread = new_thread("Spaghetti diagrams", "Walking.", components=(SYSTEMS, CULTURE))
    new_reply(thread, "Spaghetti in outpatients.")
    new_event("Spaghetti clinic", "Walking.", components=(CULTURE,))
    share_link(author, sig, "Spaghetti template", components=(SYSTEMS,))
    reindex_all()  # people too
    columns = select(
        SearchDocument.kind, SearchDocument.object_id, SearchDocument.organisation_id,
        SearchDocument.components,
    ).order_by(SearchDocument.id)  # fmt: skip
    filed = db.session.execute(columns).all()
    assert {row.components for row in filed} >= {0, 2, 16, 18}
    db.session.remove()

    downgrade(revision="b6e2d4f8a130")
    upgrade()

    assert db.session.execute(columns).all() == filed
    # The full-text structures survived the rebuild of the table: new writes are found.
    # A request after the upgrade loads the space and its author afresh, as this does.
    space, by = db.session.merge(sig), db.session.merge(author)
    later = new_thread("Spaghetti again", "Walking.", space=space, by=by, components=(SYSTEMS,))
    assert ("thread", later.id) in find(by, "spaghetti", component=SYSTEMS)
    assert len(find(by, "spaghetti")) == 5


def test_renaming_an_organisation_refiles_its_people_and_resources(
    sig, member, make_organisation, make_user, find
) -> None:
    from peerlearn.organisations.models import OrganisationKind
    from peerlearn.organisations.services import OrganisationData, save_organisation

    trust = make_organisation("Calderdale Hospitals", region=Region.north_east_and_yorkshire)
    person = member("Pat Calder", organisation=trust)
    reindex_all()  # the factory adds people without registration's signal
    resource = share_link(person, sig, "Flow guide", organisation_id=trust.id)
    assert set(find(person, "calderdale")) == {("person", person.id), ("resource", resource.id)}

    admin = make_user("Network admin", admin=True)
    renamed = OrganisationData("Huddersfield Royal Infirmary", OrganisationKind.trust,
                               Region.north_east_and_yorkshire, None, None)  # fmt: skip
    save_organisation(admin, renamed, trust)
    assert find(person, "calderdale") == []
    assert set(find(person, "huddersfield")) == {("person", person.id), ("resource", resource.id)}
