"""Starting threads and listing them: what a member sees, and what bad input does."""

import re

import pytest
from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.discussions import services
from peerlearn.discussions.models import ImpactComponent, Post, Tag, Thread
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.spaces.models import MemberRole, Space, Visibility
from peerlearn.spaces.services import set_archived
from tests.accounts.pages import Page
from tests.concurrency import at_once, first_writes_meet, one_inside_another


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_member_starts_a_tagged_thread_and_it_leads_the_list(
    client, sig, member, login, start_thread
):
    login(client, member("Aisha Khan"))
    thread = start_thread(
        client,
        sig,
        title="Board QMS assurance: what goes in the quarterly report?",
        body="We report **SPC charts** for our top ten measures.",
        components=["management-systems", "leadership-behaviours"],
        tags="board assurance, SPC",
    )
    assert thread.components == [
        ImpactComponent.leadership_behaviours,
        ImpactComponent.management_systems,
    ]
    assert sorted(tag.name for tag in thread.tags) == ["SPC", "board assurance"]
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Board QMS assurance: what goes in the quarterly report?" in page
    assert "<strong>SPC charts</strong>" in page
    listing = client.get(f"/spaces/{sig.slug}/threads").get_data(as_text=True)
    assert "Board QMS assurance" in listing
    assert "IMPACT 5" in listing


def test_pinned_threads_come_first_then_latest_activity(
    client, sig, member, login, start_thread, post_reply
):
    moderator = member("Kwame Mensah", role=MemberRole.moderator)
    login(client, moderator)
    first = start_thread(client, sig, title="First thread")
    second = start_thread(client, sig, title="Second thread")
    third = start_thread(client, sig, title="Third thread")
    post_reply(client, first, body="Bumping the first thread")
    client.post(f"/threads/{third.id}/moderate", data={"action": "pin"})
    listing = client.get(f"/spaces/{sig.slug}/threads").get_data(as_text=True)
    order = [listing.index(t) for t in ("Third thread", "First thread", "Second thread")]
    assert order == sorted(order)
    assert second.id  # listed last: least recent activity and not pinned


def test_members_tagging_new_threads_with_the_same_new_tag_at_once_all_post(app, sig, member):
    space_id = sig.id
    people = [member(f"Member {n}") for n in range(4)]
    at_once(
        app,
        [
            lambda u=person.id: services.start_thread(
                db.session.get(User, u),
                db.session.get(Space, space_id),
                services.ThreadDraft(f"Huddles {u}", "Ours are daily.", tags=("Daily huddles",)),
            )
            for person in people
        ],
    )
    db.session.rollback()  # see what they committed, as the next request would
    (tag,) = db.session.scalars(select(Tag)).all()
    assert tag.name == "Daily huddles"
    threads = db.session.scalars(select(Thread)).all()
    assert len(threads) == 4 and all(thread.tags == [tag] for thread in threads)


def test_a_list_page_past_the_end_shows_the_last(client, sig, member, login, start_thread):
    login(client, member())
    start_thread(client, sig, title="Huddle boards")
    for path in (f"/spaces/{sig.slug}/threads?page=99999", "/threads?page=9999"):
        page = client.get(path).get_data(as_text=True)
        assert "Huddle boards" in page, path
        assert "Start the first one" not in page and "no discussions" not in page, path


def test_the_same_form_sent_three_times_at_once_stores_one_thread_and_lands_each_on_it(
    app, sig, member
):
    # A double click on a slow connection: every copy checks for an earlier one before any
    # is stored, then each waits its turn to write.
    author_id, space_id = member("Dee Doubleclick").id, sig.id
    landed = []

    def submit():
        thread, _ = services.start_thread(
            db.session.get(User, author_id),
            db.session.get(Space, space_id),
            services.ThreadDraft("Only once", "Hello", submission_key="k" * 32),
        )
        landed.append(thread.id)

    with first_writes_meet("UPDATE", parties=3, before=True):
        at_once(app, [submit, submit, submit])
    db.session.rollback()  # see what they committed, as the next request would
    assert _count(Thread) == 1 and _count(Post) == 1
    assert landed == [db.session.scalar(select(Thread.id))] * 3


def test_the_tag_filter_offers_only_tags_of_threads_the_reader_sees(
    client, new_client, sig, member, make_space, add_member, login, start_thread
):
    moderator = member("Mo Moderator", role=MemberRole.moderator)
    private = make_space("Board only", visibility=Visibility.private)
    add_member(private, moderator, MemberRole.moderator)  # a move needs both spaces' moderator
    login(client, moderator)
    start_thread(client, sig, title="Flow", tags="flow")
    hidden = start_thread(client, sig, title="Rumours", tags="restructure at trust x")
    moved = start_thread(client, sig, title="Merger", tags="merger talks")
    client.post(f"/threads/{hidden.id}/moderate", data={"action": "hide"})
    moderation.move_thread(moderator, moved, private)
    reader = new_client()
    login(reader, member("Rita Reader"))
    listing = reader.get(f"/spaces/{sig.slug}/threads").get_data(as_text=True)
    assert ">flow</option>" in listing
    assert "restructure at trust x" not in listing and "merger talks" not in listing
    assert "restructure at trust x" in client.get(f"/spaces/{sig.slug}/threads").get_data(
        as_text=True
    )  # the space's moderators still see what they hid, and filter by it


def test_members_tagging_new_threads_with_the_same_new_tags_in_either_order_at_once_all_post(
    app, sig, member
):
    # Each member's first new tag is written before either writes a second: typed in opposite
    # orders, each would then wait for the tag the other made (a deadlock on PostgreSQL).
    space_id = sig.id
    first, second = (member(f"Member {n}").id for n in range(2))

    def start(user_id: int, tags: tuple[str, ...]) -> None:
        services.start_thread(
            db.session.get(User, user_id),
            db.session.get(Space, space_id),
            services.ThreadDraft(f"Rotas {user_id}", "Ours are weekly.", tags=tags),
        )

    with first_writes_meet("INSERT INTO tags"):
        at_once(
            app,
            [
                lambda: start(first, ("Rotas", "Handover")),
                lambda: start(second, ("Handover", "Rotas")),
            ],
        )
    db.session.rollback()  # see what they committed, as the next request would
    assert sorted(tag.name for tag in db.session.scalars(select(Tag))) == ["Handover", "Rotas"]
    assert len(db.session.scalars(select(Thread)).all()) == 2


def test_list_filters_by_tag_component_and_unanswered(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member())
    start_thread(client, sig, title="About flow", tags="flow", components=["shared-purpose"])
    answered = start_thread(client, sig, title="About SPC", tags="SPC")
    post_reply(client, answered, body="Here is how we do it")

    def titles(query):
        page = client.get(f"/spaces/{sig.slug}/threads?{query}").get_data(as_text=True)
        return {t for t in ("About flow", "About SPC") if t in page}

    assert titles("tag=flow") == {"About flow"}
    assert titles("component=shared-purpose") == {"About flow"}
    assert titles("show=unanswered") == {"About flow"}
    assert titles("show=mine") == {"About flow", "About SPC"}
    assert titles("tag=%3Cscript%3E&component=nonsense&show=bogus") == set()  # unknown tag


def test_the_latest_list_shows_only_what_the_reader_may_see(
    client, new_client, make_space, make_user, add_member, login, start_thread
):
    open_sig = make_space("Open group")
    private = make_space("Private group", visibility=Visibility.private)
    author = make_user()
    add_member(open_sig, author)
    add_member(private, author)
    login(client, author)
    start_thread(client, open_sig, title="Open thread title")
    start_thread(client, private, title="Secret thread title")
    outsider = new_client()
    login(outsider, make_user())
    page = outsider.get("/threads").get_data(as_text=True)
    assert "Open thread title" in page
    assert "Secret thread title" not in page
    assert "Secret thread title" in client.get("/threads").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "", "body": "text"}, "title", "Enter a title"),
        ({"title": "x" * 201, "body": "text"}, "title", "Title must be 200 characters or fewer"),
        ({"title": "A title", "body": ""}, "body", "Enter your message"),
        ({"title": "A title", "body": "y" * 20_001}, "body", "20,000 characters or fewer"),
        ({"title": "A title", "body": "ok", "tags": "a,b,c,d,e,f"}, "tags", "5 tags or fewer"),
    ],
)
def test_bad_input_is_explained_and_kept_and_nothing_is_stored(
    client, sig, member, login, data, field, message
):
    login(client, member())
    form = {"kind": "discussion", **data}
    response = client.post(f"/spaces/{sig.slug}/threads/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "There is a problem" in page
    assert f'href="#{field}"' in page
    if data["body"] and len(data["body"]) < 1000:
        assert data["body"] in page  # what they typed is still there
    assert _count(Thread) == 0 and _count(Post) == 0


def test_a_message_at_the_limit_with_line_breaks_as_browsers_send_them_is_posted(
    client, sig, member, login
):
    # 200 lines of 100 characters, each line break one of them: 20,000, as the browser counts.
    # Browsers send each line break as two (CRLF); the limit counts it once, as it is stored.
    body = ("x" * 99 + "\r\n") * 200
    login(client, member())
    response = client.post(
        f"/spaces/{sig.slug}/threads/new",
        data={"title": "Long read", "body": body, "kind": "discussion"},
    )
    assert response.status_code == 302
    stored = db.session.scalar(select(Post.body_source))
    assert stored == body.replace("\r\n", "\n") and len(stored) == 20_000


def test_the_live_preview_of_a_message_at_the_limit_shows_all_of_it(client, sig, member, login):
    login(client, member())
    body = ("x" * 99 + "\r\n") * 198 + "y" * 99 + "THE END"  # 20,104 as sent, 19,906 typed
    html = client.post(f"/preview?space={sig.slug}", data={"body": body}).json["html"]
    assert "THE END" in html


def test_every_problem_with_a_new_thread_is_named_at_once(client, sig, member, login):
    login(client, member())
    form = {"kind": "discussion", "title": "", "body": "ok", "tags": "a,b,c,d,e,f"}
    page = client.post(f"/spaces/{sig.slug}/threads/new", data=form).get_data(as_text=True)
    assert "Enter a title" in page and "5 tags or fewer" in page
    assert _count(Thread) == 0


def test_submitting_the_same_form_twice_stores_one_thread(client, sig, member, login):
    login(client, member())
    data = {"title": "Only once", "body": "Hello", "kind": "discussion", "submission_key": "k" * 32}
    first = client.post(f"/spaces/{sig.slug}/threads/new", data=data)
    second = client.post(f"/spaces/{sig.slug}/threads/new", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(Thread) == 1 and _count(Post) == 1


def test_preview_without_javascript_stores_nothing_and_keeps_the_text(client, sig, member, login):
    login(client, member())
    response = client.post(
        f"/spaces/{sig.slug}/threads/new",
        data={
            "title": "Draft",
            "body": "Some **bold** idea",
            "kind": "discussion",
            "action": "preview",
        },
    )
    page = response.get_data(as_text=True)
    assert "Preview" in page and "<strong>bold</strong>" in page
    assert "Some **bold** idea" in page
    assert _count(Thread) == 0


def test_posting_is_the_one_primary_button_and_preview_is_secondary(client, sig, member, login):
    login(client, member())
    page = client.get(f"/spaces/{sig.slug}/threads/new").get_data(as_text=True)
    buttons = {
        re.sub(r"\s+", " ", text).strip(): re.search(r'class="([^"]*)"', attrs).group(1).split()
        for attrs, text in re.findall(r"<button\b([^>]*)>(.*?)</button>", page, re.DOTALL)
    }
    assert "nhsuk-button--secondary" in buttons["Preview"]
    assert "nhsuk-button--secondary" not in buttons["Post thread"]


def test_live_preview_renders_through_the_pipeline(client, member, login):
    login(client, member())
    response = client.post("/preview", data={"body": "**hi** <script>alert(1)</script>"})
    assert response.json["html"].startswith("<p><strong>hi</strong> &lt;script&gt;")


def test_live_preview_shows_mentions_as_they_will_be_posted(client, sig, member, login):
    """The live preview links a mention as the posted text will ("@Full Name"), not as typed."""
    author, colleague = member(), member("Grace Hopper")
    login(client, author)
    body = {"body": f"Thanks @{colleague.handle}"}
    thread, _ = services.start_thread(author, sig, services.ThreadDraft("Huddles", "How long?"))
    for query in (f"?thread={thread.id}", f"?space={sig.slug}"):
        html = client.post("/preview" + query, data=body).json["html"]
        assert f'href="/people/{colleague.handle}"' in html
        assert "@Grace Hopper" in html
    # Only for a thread or space the writer may see.
    assert client.post("/preview?thread=999999", data=body).status_code == 404
    # Each editor asks for its own thread's or space's preview.
    for path, query in (
        (f"/threads/{thread.id}", f"?thread={thread.id}"),
        (f"/threads/{thread.id}/reply", f"?thread={thread.id}"),
        (f"/posts/{thread.last_post_id}/edit", f"?thread={thread.id}"),
        (f"/spaces/{sig.slug}/threads/new", f"?space={sig.slug}"),
    ):
        assert f'data-preview-url="/preview{query}"' in client.get(path).get_data(as_text=True)


def test_only_members_may_start_threads(client, new_client, sig, make_user, login):
    login(client, make_user())
    assert client.get(f"/spaces/{sig.slug}/threads/new").status_code == 403
    response = client.post(
        f"/spaces/{sig.slug}/threads/new", data={"title": "x", "body": "y", "kind": "discussion"}
    )
    assert response.status_code == 403
    anonymous = new_client().get(f"/spaces/{sig.slug}/threads/new")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert _count(Thread) == 0


def test_archived_spaces_take_no_new_threads(client, make_space, make_user, add_member, login):
    space = make_space(archived=True)
    user = make_user()
    add_member(space, user)
    login(client, user)
    assert client.get(f"/spaces/{space.slug}/threads/new").status_code == 403


@pytest.mark.parametrize("kind", ["thread", "reply"])
def test_a_post_written_as_its_space_is_archived_is_refused_with_the_text_kept(
    app, client, sig, member, make_user, login, kind
):
    """The member's request found the space open (the page's check of who may post); an
    administrator's archiving it is committed before the post holds the space: refused, as the
    space now stands, with the text kept to copy elsewhere; nothing is stored."""
    author = member("Aisha Khan")
    thread, _ = services.start_thread(author, sig, services.ThreadDraft("Huddles", "How long?"))
    login(client, author)
    body = "Ours are **weekly**, at the board."
    # Each paused at its first hold, once the view has checked: the space's, or the thread's.
    if kind == "thread":
        path, data = f"/spaces/{sig.slug}/threads/new", {"title": "Board rounds", "body": body,
                                                         "kind": "discussion"}  # fmt: skip
        first_hold = "UPDATE spaces"
    else:
        path, data, first_hold = f"/threads/{thread.id}/reply", {"body": body}, "UPDATE threads"
    admin_id, space_id, before = make_user("Ada Admin", admin=True).id, sig.id, _count(Post)
    responses = []

    def archive() -> None:
        set_archived(db.session.get(User, admin_id), db.session.get(Space, space_id), True)

    one_inside_another(app, lambda: responses.append(client.post(path, data=data)), archive,
                       first_hold)  # fmt: skip
    (page,) = map(Page, responses)
    assert page.status == 200
    assert page.summary_has("This space is archived and read-only: nobody can post in it")
    assert page.values["body"] == body  # what they typed is still there
    db.session.rollback()
    assert _count(Post) == before


def test_new_accounts_are_rate_limited_more_strictly(client, sig, make_user, add_member, login):
    newcomer = make_user()  # created moments ago: the stricter limit applies
    add_member(sig, newcomer)
    login(client, newcomer)
    statuses = [
        client.post(
            f"/spaces/{sig.slug}/threads/new",
            data={"title": f"Thread {n}", "body": "text", "kind": "discussion"},
        ).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert _count(Thread) == 3


def test_a_post_refused_by_the_rate_limit_keeps_what_was_typed(
    client, sig, make_user, add_member, login
):
    """Refused for posting too fast, the member still has their words, to copy: the form's
    draft was let go when it was sent."""
    newcomer = make_user()
    add_member(sig, newcomer)
    login(client, newcomer)
    for n in range(3):
        data = {"title": f"Thread {n}", "body": "text", "kind": "discussion"}
        assert client.post(f"/spaces/{sig.slug}/threads/new", data=data).status_code == 302
    body = "Our flow coaches meet <weekly> & share notes"
    response = client.post(
        f"/spaces/{sig.slug}/threads/new",
        data={"title": "Flow coaching, a year on", "body": body, "kind": "discussion"},
    )
    assert response.status_code == 429
    page = Page(response)
    assert page.values["body"] == body
    assert page.values["title"] == "Flow coaching, a year on"


def test_posts_refused_with_an_error_do_not_count_against_the_rate_limit(
    client, sig, make_user, add_member, login, start_thread
):
    """A newcomer told to fix their reply (an empty box, slow mode) has not posted: only what
    is posted counts towards the posting limit."""
    newcomer = make_user()
    add_member(sig, newcomer)
    login(client, newcomer)
    thread = start_thread(client, sig)
    for _ in range(3):
        assert client.post(f"/threads/{thread.id}/reply", data={"body": " "}).status_code == 200
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Fixed it"})
    assert response.status_code == 302


def test_profiles_show_recent_posts_only_from_spaces_the_viewer_can_read(
    client, new_client, make_space, make_user, add_member, login, start_thread
):
    open_sig = make_space("Open group")
    private = make_space("Private group", visibility=Visibility.private)
    author = make_user("Prolific Poster")
    add_member(open_sig, author)
    add_member(private, author)
    login(client, author)
    start_thread(client, open_sig, title="A public thought")
    start_thread(client, private, title="A private thought")
    viewer = new_client()
    login(viewer, make_user())
    profile = viewer.get(f"/people/{author.handle}").get_data(as_text=True)
    assert "A public thought" in profile
    assert "A private thought" not in profile
    assert "Private group" not in profile
