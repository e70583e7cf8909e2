"""The library lists send a fixed number of SQL statements, however many resources they show
(counts, organisations, spaces and components included). No timing: see ``bench/library.py``."""

from __future__ import annotations

import pytest

from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.resources import engagement
from peerlearn.resources.models import QmsElement
from tests.discussions import test_query_counts as counting
from tests.resources.browse_helpers import tag, titles

#: The discussion pages' statement counter: one GET after a warm-up one.
statements_for = counting.statements_for


@pytest.fixture
def shelves(make_space, make_user, make_organisation, add_member, make_resource):
    """Two spaces: one with 3 resources, one with 20, from many organisations, each resource
    tagged, used, saved and adapted, so every count on the page has something to count."""
    small, large = make_space("Small library"), make_space("Large library")
    reader = make_user("Reader")
    for space in (small, large):
        add_member(space, reader)
    for space, count in ((small, 3), (large, 20)):
        for n in range(count):
            author = make_user(organisation=make_organisation())
            add_member(space, author)
            resource = make_resource(space, by=author, title=f"{space.name} resource {n}")
            components = list(ImpactComponent)[: 1 + n % 5]
            tag(resource, tuple(components), (list(QmsElement)[n % 4],))
            engagement.set_using(author, resource, True)
            engagement.set_saved(reader, resource, True)
            adaptation = make_resource(space, by=reader, title=f"Adapted {space.name} {n}")
            adaptation.adapted_from_id = resource.id
    db.session.commit()
    return small, large, reader


@pytest.mark.parametrize("sort", ["newest", "downloads", "used"])
def test_a_library_page_sends_as_many_statements_for_20_resources_as_for_3(
    client, login, shelves, statements_for, sort
):
    small, large, reader = shelves
    login(client, reader)
    few, small_page = statements_for(client, f"/spaces/{small.slug}/library?sort={sort}&type=guide")
    many, large_page = statements_for(
        client, f"/spaces/{large.slug}/library?sort={sort}&type=guide"
    )
    assert len(titles(small_page)) == 6 and len(titles(large_page)) == 20
    assert "In use by 1 organisation." in large_page and "Adapted by 1 organisation." in large_page
    counting._assert_flat(few, many)


def test_the_network_library_and_saved_list_are_bounded_too(client, login, shelves, statements_for):
    reader = shelves[2]
    login(client, reader)
    statements, page = statements_for(
        client, "/library?component=shared-purpose&qms=quality-planning"
    )
    assert titles(page)
    assert len(statements) <= 25
    statements, page = statements_for(client, "/library/saved")
    assert len(titles(page)) == 20  # one full page
    assert len(statements) <= 25
