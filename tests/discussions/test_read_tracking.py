"""Unread counts, jumping to the first unread post, and marking a space read."""

import re

from peerlearn.discussions import reading, services
from peerlearn.discussions.services import ThreadDraft
from peerlearn.spaces.models import MemberRole


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


def _two_pages_read(client, login, discussion):
    """The discussion with a second page of replies, both pages read by its reader; returns the
    first top-level reply (page 1)."""
    thread, writer = discussion.thread, discussion.replier
    for n in range(reading.ROOTS_PER_PAGE):
        services.reply(writer, thread, f"Top-level reply {n}")
    login(client, discussion.reader)
    client.get(f"/threads/{thread.id}")
    client.get(f"/threads/{thread.id}?page=2")
    return discussion.reply


def test_reading_one_page_leaves_newer_posts_on_another_page_unread(client, login, discussion):
    """A new reply deep in page 1's first tree has a higher id than a new top-level reply on
    page 2: reading page 1 must not count page 2's new reply as read."""
    thread, writer = discussion.thread, discussion.replier
    first = _two_pages_read(client, login, discussion)
    on_page_two, _ = services.reply(writer, thread, "A new top-level reply, on page 2")
    on_page_one, _ = services.reply(writer, thread, "A new answer on page 1", parent=first)
    assert (reading.page_of(on_page_one), reading.page_of(on_page_two)) == (1, 2)
    client.get(f"/threads/{thread.id}")  # page 1 only
    assert reading.unread_counts(discussion.reader, [thread.id]).get(thread.id, 0) >= 1
    # Following "unread" leads through what is left, and once it has all been shown, none is.
    for _ in range(3):
        location = client.get(f"/threads/{thread.id}/unread").headers["Location"]
        if "/posts/" not in location:
            break
        assert location.endswith((f"/posts/{on_page_two.id}", f"/posts/{on_page_one.id}"))
        client.get(client.get(location).headers["Location"])
    assert reading.unread_counts(discussion.reader, [thread.id]) == {}


def test_replying_does_not_mark_others_unseen_posts_read(client, login, discussion):
    """Posting a reply counts only the reply as read: a post written meanwhile on another page
    stays unread."""
    thread, writer = discussion.thread, discussion.replier
    first = _two_pages_read(client, login, discussion)
    on_page_two, _ = services.reply(writer, thread, "Written while the reader was typing")
    response = client.post(
        f"/threads/{thread.id}/reply",
        data={"body": "My answer to the first reply", "parent_id": str(first.id)},
    )
    assert response.status_code == 302
    assert reading.unread_counts(discussion.reader, [thread.id]) == {thread.id: 1}
    response = client.get(f"/threads/{thread.id}/unread")
    assert response.headers["Location"].endswith(f"/posts/{on_page_two.id}")


def test_own_replies_never_wait_as_unread(client, login, discussion):
    """A member's own reply is never news to them: once they have seen the post written on
    another page meanwhile, nothing in the thread is unread, on the home page either."""
    thread, writer = discussion.thread, discussion.replier
    first = _two_pages_read(client, login, discussion)
    services.reply(writer, thread, "Written while the reader was typing")
    services.reply(discussion.reader, thread, "My answer", parent=first)
    client.get(f"/threads/{thread.id}?page=2")
    assert reading.unread_counts(discussion.reader, [thread.id]) == {}
    assert reading.unread_threads_by_space(discussion.reader, [discussion.space.id]) == {}
    location = client.get(f"/threads/{thread.id}/unread").headers["Location"]
    assert "/posts/" not in location
    assert "Jump to the first unread post" not in client.get(location).get_data(as_text=True)


def test_jumping_to_the_first_unread_post_skips_my_own(client, login, discussion):
    """Once the post that held the read position back is hidden, the first unread post is the
    next one someone else wrote, not the member's own reply before it."""
    from peerlearn.moderation.services import set_post_hidden

    thread, writer = discussion.thread, discussion.replier
    first = _two_pages_read(client, login, discussion)
    elsewhere, _ = services.reply(writer, thread, "Written while the reader was typing")
    services.reply(discussion.reader, thread, "My answer", parent=first)
    news, _ = services.reply(writer, thread, "And another answer", parent=first)
    set_post_hidden(discussion.moderator, elsewhere, True, "Off topic")
    assert reading.unread_counts(discussion.reader, [thread.id]) == {thread.id: 1}
    location = client.get(f"/threads/{thread.id}/unread").headers["Location"]
    assert location.endswith(f"/posts/{news.id}")


# A thread moved to another space -----------------------------------------------------------------


def _moved(discussion, browser, make_space, add_member):
    """The discussion's thread moved by its moderator to a new group of which its reader is a
    member too; returns the group."""
    board = make_space("Board development")
    for person, role in ((discussion.moderator, MemberRole.moderator), (discussion.reader, None)):
        add_member(board, person, *([role] if role else []))
    return board


def _move(discussion, browser, to) -> None:
    moved = browser(discussion.moderator).post(
        f"/threads/{discussion.thread.id}/move", data={"space_id": str(to.id)}
    )
    assert moved.status_code == 302


def test_a_thread_read_in_the_space_it_left_stays_read_in_its_new_space(
    discussion, browser, make_space, add_member
):
    """The reader marked the first space read; the thread moves to a group whose threads they
    have never marked read: what they had read is still read there, and nothing is new."""
    reader, thread = browser(discussion.reader), discussion.thread
    board = _moved(discussion, browser, make_space, add_member)
    assert reader.post(f"/spaces/{discussion.space.slug}/read").status_code == 302
    _move(discussion, browser, board)
    listing = reader.get(f"/spaces/{board.slug}/threads").get_data(as_text=True)
    assert _unread_badge(listing, thread.title) is None
    assert reading.unread_threads_by_space(discussion.reader, [board.id]) == {}


def test_a_thread_moved_keeps_its_unread_posts_unread_until_its_new_space_is_marked_read(
    discussion, browser, make_space, add_member
):
    """The reader had read the thread but for its newest reply, and marked the new group read
    before the thread came into it: that marking was of the group's threads then, so the reply
    is still unread there (and counted in the new space, not the old); marking the group read
    now counts it read."""
    reader, thread = browser(discussion.reader), discussion.thread
    board = _moved(discussion, browser, make_space, add_member)
    reader.get(f"/threads/{thread.id}")
    services.reply(discussion.replier, thread, "One more thing about huddles.")
    services.start_thread(
        discussion.moderator, board, ThreadDraft("Board papers", "Who writes yours?")
    )
    assert reader.post(f"/spaces/{board.slug}/read").status_code == 302
    _move(discussion, browser, board)
    listing = reader.get(f"/spaces/{board.slug}/threads").get_data(as_text=True)
    assert _unread_badge(listing, thread.title) == 1
    assert reading.unread_threads_by_space(discussion.reader, [discussion.space.id, board.id]) == {
        board.id: 1
    }
    assert reader.post(f"/spaces/{board.slug}/read").status_code == 302
    listing = reader.get(f"/spaces/{board.slug}/threads").get_data(as_text=True)
    assert _unread_badge(listing, thread.title) is None
