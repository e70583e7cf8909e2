"""Two people editing one post: whoever saves second is told that the post changed while they
were editing, sees the version now saved beside their own text (kept in the box), and saves
again on purpose; nothing is overwritten unseen."""

import html
import re

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from peerlearn.discussions import reading, services
from peerlearn.discussions.models import PostRevision
from peerlearn.discussions.services import EDIT_CONFLICT
from peerlearn.extensions import db
from peerlearn.spaces.models import MemberRole
from tests.accounts.pages import Page


def _based_on(page: str) -> str:
    return html.unescape(re.search(r'name="based_on" type="hidden" value="([^"]*)"', page)[1])


def _open_editor(client, post) -> str:
    page = client.get(f"/posts/{post.id}/edit")
    assert page.status_code == 200
    return _based_on(page.get_data(as_text=True))


def test_an_edit_saved_meanwhile_is_shown_and_nothing_is_overwritten_unseen(
    client, new_client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="We review flow weekly.")
    moderator = new_client()
    login(moderator, member("Kwame Mensah", role=MemberRole.moderator))

    authors_start = _open_editor(client, post)
    moderators_start = _open_editor(moderator, post)
    saved = moderator.post(
        f"/posts/{post.id}/edit",
        data={"body": "We review flow weekly. [Link removed: not public]", "based_on": moderators_start},
    )  # fmt: skip
    assert saved.status_code == 302

    # The author, who opened the editor first, saves their own change.
    mine = "We review flow weekly, and monthly at board."
    response = client.post(f"/posts/{post.id}/edit", data={"body": mine, "based_on": authors_start})
    assert response.status_code == 200
    page = Page(response)
    assert page.summary_has(EDIT_CONFLICT, "body") and page.error_for("body") == EDIT_CONFLICT
    assert "The post as it is now" in page.main_text
    assert "[Link removed: not public]" in page.main_text
    assert mine in response.get_data(as_text=True)  # their text is kept in the box
    db.session.refresh(post)
    assert post.body_source.endswith("[Link removed: not public]")
    assert db.session.scalar(select(db.func.count()).select_from(PostRevision)) == 1

    # Saving again from that page is on purpose: it goes through, and both earlier texts are
    # in the history.
    again = client.post(
        f"/posts/{post.id}/edit",
        data={"body": mine, "based_on": _based_on(response.get_data(as_text=True))},
    )
    assert again.status_code == 302
    db.session.refresh(post)
    assert post.body_source == mine
    kept = db.session.scalars(select(PostRevision.body_source).order_by(PostRevision.id)).all()
    assert kept == ["We review flow weekly.", "We review flow weekly. [Link removed: not public]"]


def test_a_title_changed_meanwhile_is_shown_with_the_opening_post(
    client, new_client, sig, member, login, start_thread
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig, title="Board QMS reporting")
    opening = reading.opening_post(thread)
    moderator = new_client()
    login(moderator, member("Kwame Mensah", role=MemberRole.moderator))
    start = _open_editor(client, opening)
    moderator.post(
        f"/posts/{opening.id}/edit",
        data={"title": "Reporting QMS maturity to the board", "body": opening.body_source,
              "based_on": _open_editor(moderator, opening)},
    )  # fmt: skip
    response = client.post(
        f"/posts/{opening.id}/edit",
        data={"title": "Board QMS reporting: what works?", "body": "New body", "based_on": start},
    )
    page = Page(response)
    assert page.summary_has(EDIT_CONFLICT, "body")
    assert "Reporting QMS maturity to the board" in page.main_text
    assert 'value="Board QMS reporting: what works?"' in response.get_data(as_text=True)
    db.session.refresh(thread)
    assert thread.title == "Reporting QMS maturity to the board"


def test_the_same_person_saving_twice_from_one_page_is_not_a_conflict(
    client, sig, member, login, start_thread, post_reply
):
    """A second save from the same page (a double click, or the back button) still names the
    version before the first: the text it saves is the one already saved, so nothing changes."""
    login(client, member())
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="First wording")
    start = _open_editor(client, post)
    data = {"body": "Second wording", "based_on": start}
    assert client.post(f"/posts/{post.id}/edit", data=data).status_code == 302
    assert client.post(f"/posts/{post.id}/edit", data=data).status_code == 302
    db.session.refresh(post)
    assert post.body_source == "Second wording"


def test_a_double_click_whose_second_save_read_the_post_first_is_not_a_conflict(
    client, sig, member, login, start_thread, post_reply
):
    """The two requests of a double click can both read the post before the first saves: the
    second then finds, once it holds the thread, its own text already saved. That is not
    someone else's change, and saving it again changes nothing."""
    author = member()
    login(client, author)
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="First wording")
    start = _open_editor(client, post)
    stale = {"body_source": post.body_source, "edited_at": post.edited_at}
    data = {"body": "Second wording", "based_on": start}
    assert client.post(f"/posts/{post.id}/edit", data=data).status_code == 302
    for name, value in stale.items():  # the second request's read, from before the first saved
        set_committed_value(post, name, value)
    services.edit_post(author, post, "Second wording", based_on=start)
    assert post.body_source == "Second wording"
    assert (
        len(db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)).all())
        == 1
    )
