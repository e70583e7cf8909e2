"""Ids and page numbers typed into URLs, query strings and forms by hand: a number too large for
the database, another script's digits or junk is a "not found" or a plain refusal, never a
server error (before, ``/threads/99999999999999999999`` failed the statement on both databases)."""

import pytest
from werkzeug.exceptions import NotFound

from peerlearn.core.ids import MAX_ID, to_id

HUGE = "99999999999999999999999"


def test_to_id_takes_only_ascii_digits_within_the_columns_range():
    assert to_id("42") == 42 and to_id(str(MAX_ID)) == MAX_ID and to_id(7) == 7
    for bad in ("", "0", "-1", " 1", "1_000", "²", "١٢", "1x", str(MAX_ID + 1), HUGE, True, None):
        with pytest.raises(ValueError):
            to_id(bad)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/threads/{big}"),
        ("get", "/threads/{big}/move"),
        ("get", "/posts/{big}/report"),
        ("get", "/events/{big}"),
        ("get", "/resources/{big}"),
        ("get", "/notifications/{big}"),
        ("get", "/admin/organisations/{big}/edit"),
        ("post", "/admin/users/{big}/deactivate"),
        ("post", "/spaces/{slug}/members/{big}/ban"),
    ],
)
@pytest.mark.parametrize("big", [str(MAX_ID + 1), HUGE])
def test_an_id_no_row_can_have_is_not_found(
    client, make_user, make_space, login, method, path, big
):
    admin = make_user("Ada Admin", admin=True)
    space = make_space("Quality SIG", owner=admin)
    login(client, admin)
    url = path.format(big=big, slug=space.slug)
    response = client.get(url) if method == "get" else client.post(url)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/threads/١٢", "/threads/0", "/threads/-3", "/threads/+12"])
def test_a_route_takes_only_an_id_a_row_can_have(app, path):
    with pytest.raises(NotFound):
        app.url_map.bind("peerlearn.test").match(path)
    assert app.url_map.bind("peerlearn.test").match("/threads/12")[1] == {"thread_id": 12}


@pytest.mark.parametrize("page", ["²", "١", "9" * 40, "-3", "two"])
def test_a_nonsense_page_number_shows_the_first_page(client, make_user, login, page):
    login(client, make_user("Pat Person"))
    response = client.get(f"/people?page={page}")
    assert response.status_code == 200
    assert "Pat Person" in response.get_data(as_text=True)
