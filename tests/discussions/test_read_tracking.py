"""Unread counts, jumping to the first unread post, and marking a space read."""

import re

from peerlearn.discussions import reading


def _unread_badge(page: str, thread_title: str) -> int | None:
    row = page[page.index(thread_title) :][:600]
    match = re.search(r"(\d+) unread", row)
    return int(match.group(1)) if match else None


def test_unread_counts_follow_what_a_member_has_read(
    client, new_client, sig, member, login, start_thread, post_reply
):
    reader = member("Reader")
    login(client, reader)
    writer = new_client()
    login(writer, member("Writer"))
    thread = start_thread(writer, sig, title="Flow huddles")
    listing = client.get(f"/spaces/{sig.slug}/threads").get_data(as_text=True)
    assert _unread_badge(listing, "Flow huddles") == 1  # the opening post
    client.get(f"/threads/{thread.id}")
    listing = client.get(f"/spaces/{sig.slug}/threads").get_data(as_text=True)
    assert _unread_badge(listing, "Flow huddles") is None
    post_reply(client, thread, body="My own reply does not count")
    post_reply(writer, thread, body="One")
    post_reply(writer, thread, body="Two")
    listing = client.get(f"/spaces/{sig.slug}/threads").get_data(as_text=True)
    assert _unread_badge(listing, "Flow huddles") == 2


def test_jump_to_the_first_unread_post(
    client, new_client, sig, member, login, start_thread, post_reply
):
    reader = member("Reader")
    login(client, reader)
    writer = new_client()
    login(writer, member("Writer"))
    thread = start_thread(writer, sig)
    client.get(f"/threads/{thread.id}")
    first_new = post_reply(writer, thread, body="New one")
    post_reply(writer, thread, body="Newer one")
    response = client.get(f"/threads/{thread.id}/unread")
    assert response.headers["Location"].endswith(f"/threads/{thread.id}/posts/{first_new.id}")
    landing = client.get(response.headers["Location"])
    assert landing.headers["Location"].endswith(f"#post-{first_new.id}")


def test_mark_space_read_clears_every_count(client, new_client, sig, member, login, start_thread):
    login(client, member("Reader"))
    writer = new_client()
    login(writer, member("Writer"))
    for title in ("Alpha thread", "Beta thread"):
        start_thread(writer, sig, title=title)
    assert client.post(f"/spaces/{sig.slug}/read").status_code == 302
    listing = client.get(f"/spaces/{sig.slug}/threads").get_data(as_text=True)
    assert "unread" not in listing.split('<h2 class="nhsuk-u-visually-hidden">Threads</h2>')[1]


def test_joining_a_space_starts_with_its_history_read(
    client, new_client, sig, member, make_user, login, start_thread
):
    writer = new_client()
    login(writer, member("Writer"))
    start_thread(writer, sig, title="Old news")
    newcomer = make_user("Newcomer")
    login(client, newcomer)
    client.post(f"/spaces/{sig.slug}/join")
    assert reading.unread_threads_by_space(newcomer, [sig.id]) == {}
    start_thread(writer, sig, title="Fresh news")
    assert reading.unread_threads_by_space(newcomer, [sig.id]) == {sig.id: 1}


def test_the_home_page_shows_unread_threads_in_my_groups(
    client, new_client, sig, member, login, start_thread
):
    login(client, member("Reader"))
    writer = new_client()
    login(writer, member("Writer"))
    start_thread(writer, sig, title="Measurement plans that worked")
    home = client.get("/").get_data(as_text=True)
    assert "Latest in your groups" in home
    assert "Measurement plans that worked" in home
    assert "1 thread with new posts" in home
