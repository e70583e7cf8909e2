"""The results page: works without JavaScript, escapes snippets (only ``<mark>`` added), filters,
pagination, counts, friendly empty states, the header's search box and the help page."""

from __future__ import annotations

import re
from urllib.parse import quote_plus

import pytest

from peerlearn.discussions.models import ImpactComponent
from peerlearn.search import services
from peerlearn.search.query import MAX_LENGTH
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import JoinPolicy, SpaceKind, Visibility


def text_of(response) -> str:
    page = response.get_data(as_text=True)
    main = page.split('id="maincontent"', 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.fixture
def reader(author, client, login):
    login(client, author)
    return client


def test_every_page_has_a_search_box_in_the_header(client) -> None:
    for path in ["/", "/about", "/spaces", "/help/search"]:
        page = client.get(path).get_data(as_text=True)
        header = page.split('class="nhsuk-header__search', 1)[1].split("</search>", 1)[0]
        assert 'action="/search"' in header
        assert 'name="q"' in header and 'type="search"' in header
        assert "Search peerlearn" in header  # the label
        assert f'maxlength="{MAX_LENGTH}"' in header


def test_the_longest_search_the_boxes_take_makes_an_address_servers_accept(reader) -> None:
    # Browsers stop typing and pasting at maxlength; longer, the address (each character up to
    # 9 bytes, percent-encoded) passed gunicorn's 4,094-byte request line, which answers with a
    # bare error page before peerlearn sees the request.
    page = reader.get("/search?q=flow").get_data(as_text=True)
    assert re.search(rf'<input[^>]*id="q"[^>]*maxlength="{MAX_LENGTH}"', page)
    longest = "€" * MAX_LENGTH  # 3 bytes in UTF-8; an emoji is 4, but 2 of maxlength's units
    filters = "&kind=post&space=1234&component=embedding&organisation=1234&region=north-east"
    target = f"/search?q={quote_plus(longest)}{filters}&since=2026-01-01&until=2026-12-31&page=50"
    assert len(f"GET {target} HTTP/1.1") < 4094
    assert reader.get(target).status_code == 200


def test_the_space_filter_offers_the_spaces_the_reader_may_read(
    reader, new_client, login, member, make_space, sig
) -> None:
    board = make_space("Board development", visibility=Visibility.private)
    archived = make_space("Winter 2024", archived=True)

    def offered(client):
        page = client.get("/search?q=flow").get_data(as_text=True)
        select = page.split('name="space"', 1)[1].split("</select>", 1)[0]
        return set(re.findall(r"<option[^>]*>([^<]+)</option>", select))

    assert offered(reader) == {"Any community or group", sig.name, archived.name}
    insider = new_client()
    login(insider, member("Bea Board", space=board))
    assert board.name in offered(insider)


def test_results_show_kind_title_link_space_date_and_a_highlighted_snippet(
    reader, new_thread, new_reply, sig
) -> None:
    thread = new_thread("Huddle boards", "A good huddle board shows flow.")
    post = new_reply(thread, "Our huddle is at nine.")
    response = reader.get("/search?q=huddle")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(response)
    assert "2 results for ‘huddle’" in text
    assert f'href="/threads/{thread.id}"' in page
    assert f'href="/threads/{thread.id}/posts/{post.id}"' in page
    assert "Discussion" in text and "Reply in Huddle boards" in text
    assert sig.name in text
    assert "<mark>huddle</mark>" in page.lower()


def test_a_public_groups_result_names_its_community_only_to_those_who_may_see_it_listed(
    client, login, make_user
) -> None:
    admin = make_user("Ada Admin", admin=True)

    def create(name: str, slug: str, visibility: Visibility, parent=None):
        data = spaces.SpaceData(name, "", "", visibility, JoinPolicy.open)
        kind = SpaceKind.sig if parent else SpaceKind.community
        return spaces.create_space(admin, data, slug=slug, kind=kind, parent=parent)

    community = create("Improvement Directors Network", "directors", Visibility.network)
    create("Flow Coaching Academy", "flow", Visibility.public, parent=community)
    text = text_of(client.get("/search?q=academy"))
    assert "Flow Coaching Academy" in text
    assert "Improvement Directors Network" not in text  # anonymous visitors list public spaces
    login(client, make_user("Sam Signed-in"))
    text = text_of(client.get("/search?q=academy"))
    assert "Special interest group in Improvement Directors Network" in text


def test_a_post_containing_a_script_shows_as_text(reader, new_thread, new_reply) -> None:
    thread = new_thread("Safety", "Nothing to see.")
    new_reply(thread, 'Beware <script>alert("x")</script> of <b>bold</b> claims & "quotes"')
    page = reader.get("/search?q=beware").get_data(as_text=True)
    results = page.split('class="nhsuk-list nhsuk-list--border pl-results"', 1)[1]
    results = results.split("</ol>", 1)[0]
    assert "<script>" not in results and "<b>" not in results
    assert "&lt;script&gt;alert(" in results
    assert "&amp;" in results
    assert set(re.findall(r"</?([a-z][a-z0-9]*)", results)) <= {
        "li",
        "p",
        "strong",
        "h3",
        "a",
        "time",
        "mark",
    }


def test_highlight_markers_typed_by_someone_are_not_trusted(reader, new_thread) -> None:
    new_thread("Markers", "fake \ue000mark\ue001 and <mark>real</mark> text")
    page = reader.get("/search?q=markers").get_data(as_text=True)
    snippet = page.split('class="pl-snippet', 1)[1].split("</p>", 1)[0]
    assert "<mark>real</mark>" not in snippet
    assert "&lt;mark&gt;real&lt;/mark&gt;" in snippet


def test_filters_combine_in_a_shareable_address(reader, new_thread, new_event, make_space) -> None:
    new_thread("Kaizen events", "Kaizen.")
    new_event("Kaizen live")
    response = reader.get("/search?q=kaizen&kind=event")
    text = text_of(response)
    assert "1 result for ‘kaizen’" in text and "Kaizen live" in text
    everything = text_of(reader.get("/search?q=kaizen"))
    assert "Discussions (1)" in everything and "Events (1)" in everything
    since = reader.get("/search?q=kaizen&since=2001-01-01&until=2001-12-31")
    assert "0 results" in text_of(since)
    bad = reader.get("/search?q=kaizen&since=2001-02-01&until=2001-01-01")
    assert "must be the same as or after" in text_of(bad)
    nonsense = reader.get("/search?q=kaizen&since=31-02-2026")
    assert "Enter a real date" in text_of(nonsense)
    assert "2 results" in text_of(nonsense)  # the bad filter is ignored, the search still runs
    # The calendar's last and first days are dates too: the range still ends and starts.
    edges = reader.get("/search?q=kaizen&since=0001-01-01&until=9999-12-31")
    assert edges.status_code == 200 and "2 results" in text_of(edges)


def test_results_are_paged(reader, new_thread) -> None:
    for number in range(23):
        new_thread(f"Pareto analysis {number}", "Pareto.")
    first = reader.get("/search?q=pareto")
    assert "23 results" in text_of(first)
    assert "Page 2 of 2" in text_of(first)
    second = text_of(reader.get("/search?q=pareto&page=2"))
    assert second.count("Pareto analysis") == 3
    past = text_of(reader.get("/search?q=pareto&page=9"))
    assert "There are no more results to show" in past and "23 results" in past


def test_a_search_matching_more_than_it_ranks_shows_the_best_of_the_newest_and_says_so(
    reader, new_thread, monkeypatch
) -> None:
    monkeypatch.setattr(services, "CANDIDATES", 3)  # as if 4 matches were over 1,000
    monkeypatch.setattr(services, "ROUND", 2)
    for number in range(6):
        new_thread(f"Kanban board {number}", "Kanban.")
    page = text_of(reader.get("/search?q=kanban"))
    assert "More than 3 results for ‘kanban’" in page
    assert "the best matches among the 3 most recent" in page
    assert [n for n in range(6) if f"Kanban board {n}" in page] == [3, 4, 5]
    # The kinds found are offered, without counts that would only be of the newest.
    assert "Discussions" in page and "Discussions (" not in page
    # No more than that: the exact number, and no such note.
    monkeypatch.setattr(services, "CANDIDATES", 6)
    page = text_of(reader.get("/search?q=kanban"))
    assert "6 results for ‘kanban’" in page and "Discussions (6)" in page
    assert "More than" not in page and "most recent" not in page


@pytest.fixture
def secret_threads(new_thread, make_space, make_user):
    """Threads about ``word`` in a private group the reader is not in."""

    def start(word: str, count: int) -> None:
        owner = make_user("Group Owner")
        group = make_space(f"Private {word} group", visibility=Visibility.private, owner=owner)
        for number in range(count):
            new_thread(f"Secret {word} {number}", f"{word.title()}.", space=group, by=owner)

    return start


def test_matches_the_reader_may_not_see_never_make_a_search_say_more(
    reader, new_thread, secret_threads, monkeypatch
) -> None:
    monkeypatch.setattr(services, "CANDIDATES", 2)
    monkeypatch.setattr(services, "ROUND", 2)
    new_thread("Heijunka levelling", "Heijunka.")
    secret_threads("heijunka", 5)  # newer, and in a group the reader is not in
    page = text_of(reader.get("/search?q=heijunka"))
    assert "1 result for ‘heijunka’" in page and "More than" not in page
    assert "Heijunka levelling" in page and "Secret" not in page
    # Two more the reader may see, older than the secrets: the newest two of those three.
    new_thread("Heijunka board", "Heijunka.")
    new_thread("Heijunka box", "Heijunka.")
    page = text_of(reader.get("/search?q=heijunka"))
    assert "More than 2 results" in page and "Secret" not in page
    assert "Heijunka board" in page and "Heijunka box" in page
    assert "Heijunka levelling" not in page


# The round reads three secrets, then the rest; or the six and, as its last row, one the
# reader may see, which the rest (from that row on) must not leave out.
@pytest.mark.parametrize("round_size", [3, 7])
def test_a_reader_who_may_see_few_of_the_newest_matches_still_gets_the_newest_they_may_see(
    reader, new_thread, secret_threads, monkeypatch, round_size
) -> None:
    monkeypatch.setattr(services, "CANDIDATES", 2)
    monkeypatch.setattr(services, "ROUND", round_size)
    for title in ["Jidoka one", "Jidoka two", "Jidoka three"]:
        new_thread(title, "Jidoka.")
    secret_threads("jidoka", 6)  # newer, and in a group the reader is not in
    page = text_of(reader.get("/search?q=jidoka"))
    assert "More than 2 results for ‘jidoka’" in page and "Secret" not in page
    assert "Jidoka three" in page and "Jidoka two" in page and "Jidoka one" not in page
    monkeypatch.setattr(services, "CANDIDATES", 3)
    page = text_of(reader.get("/search?q=jidoka"))
    assert "3 results for ‘jidoka’" in page and "More than" not in page and "Secret" not in page


def test_a_kind_filter_pages_that_kind_and_the_unfiltered_page_counts_every_kind(
    reader, new_thread, new_event
) -> None:
    for number in range(23):
        new_thread(f"Muda walk {number}", "Muda.")
    for number in range(3):
        new_event(f"Muda clinic {number}")
    second = text_of(reader.get("/search?q=muda&kind=thread&page=2"))
    assert second.count("Muda walk") == 3 and "Muda clinic" not in second
    assert "23 results" in second
    events = text_of(reader.get("/search?q=muda&kind=event"))
    assert events.count("Muda clinic") == 3 and "Muda walk" not in events
    assert "3 results" in events
    everything = text_of(reader.get("/search?q=muda"))
    assert "Discussions (23)" in everything and "Events (3)" in everything


def test_empty_search_no_results_and_hostile_input_are_friendly(client, reader) -> None:
    empty = reader.get("/search")
    assert empty.status_code == 200 and "How to search" in text_of(empty)
    for query in [
        "nothing-matches-this",
        '"unbalanced',
        "NEAR(a AND b)*",
        "x" * 10_000,
        "🚑",
        "-alone",
        "the",
    ]:
        response = reader.get("/search", query_string={"q": query})
        assert response.status_code == 200, query
        assert "No results found" in text_of(response), query
    assert "at least one word" in text_of(reader.get("/search?q=the"))


def test_anonymous_readers_find_only_public_content(
    new_thread, make_space, add_member, author, new_client
) -> None:
    public = make_space("Open group", visibility=Visibility.public)
    add_member(public, author)
    new_thread("Public huddles", "Huddles.", space=public)
    new_thread("Network huddles", "Huddles.")
    text = text_of(new_client().get("/search?q=huddles"))
    assert "1 result" in text and "Public huddles" in text and "Network huddles" not in text
    assert "Sign in" in text_of(new_client().get("/search?q=nothing"))


def test_the_help_page_explains_the_syntax(client) -> None:
    text = text_of(client.get("/help/search"))
    assert "exact phrase" in text and "-covid" in text


@pytest.mark.usefixtures("header_count_every_time")
def test_a_full_page_of_results_costs_no_more_queries_than_a_short_one(
    app, reader, new_thread, new_reply, new_event
) -> None:
    from tests.discussions.test_query_counts import counting_statements

    thread = new_thread("Gemba walk", "Gemba.")
    new_reply(thread, "Gemba reply.")
    new_event("Gemba event")

    def count() -> int:
        with counting_statements(app) as statements:
            assert reader.get("/search?q=gemba").status_code == 200
        return len(statements)

    short = count()
    for number in range(8):
        new_reply(thread, f"Gemba reply {number}.")
        new_event(f"Gemba event {number}")
        new_thread(f"Gemba thread {number}", "Gemba.")
    assert count() == short  # nothing is loaded result by result


@pytest.mark.usefixtures("header_count_every_time")
def test_results_from_many_spaces_cost_no_more_queries_than_from_one(
    app, reader, author, new_thread, make_space, add_member
) -> None:
    """Each result shown is checked again with the policy, which reads the reader's membership
    of its space: one statement for the whole page, however many spaces it spans."""
    from tests.discussions.test_query_counts import counting_statements

    new_thread("Kaizen one", "Small steps.")

    def count() -> int:
        with counting_statements(app) as statements:
            page = reader.get("/search?q=kaizen")
        assert page.status_code == 200
        return len(statements), text_of(page)

    one, _ = count()
    for number in range(6):
        group = make_space(f"Kaizen group {number}", visibility=Visibility.private)
        add_member(group, author)
        new_thread(f"Kaizen {number}", "Small steps.", space=group)
    many, text = count()
    assert "Kaizen 5" in text and "Kaizen group 5" in text
    assert many == one


def test_component_organisation_and_region_filters_on_the_page(
    reader, author, new_thread, make_organisation
) -> None:
    new_thread("Value streams", "Mapping.", components=(ImpactComponent.management_systems,))
    new_thread("Value streams again", "Mapping.")
    page = reader.get("/search?q=value+streams").get_data(as_text=True)
    for name in ("component", "organisation", "region"):
        assert f'name="{name}"' in page
    assert author.organisation.name in page  # offered as a choice

    systems = reader.get("/search?q=value+streams&component=management-systems")
    assert "1 result for" in text_of(systems) and "Clear filters" in text_of(systems)
    assert 'value="management-systems" selected' in systems.get_data(as_text=True)
    mine = reader.get(f"/search?q=value+streams&organisation={author.organisation_id}")
    assert "2 results for" in text_of(mine)
    elsewhere = make_organisation("Elsewhere Trust")
    assert "0 results" in text_of(
        reader.get(f"/search?q=value+streams&organisation={elsewhere.id}")
    )
    region = author.organisation.region.value
    assert "2 results for" in text_of(reader.get(f"/search?q=value+streams&region={region}"))
    # Values that are not offered are ignored: the search still runs, unfiltered.
    stale = reader.get("/search?q=value+streams&component=nonsense&organisation=x&region=mars")
    assert stale.status_code == 200 and "2 results for" in text_of(stale)
