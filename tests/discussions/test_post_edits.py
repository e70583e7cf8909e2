"""Editing a post: the kept history (and who may read what a moderator replaced), previews
without JavaScript, changing an opening post's title, and who may edit."""

import re

from sqlalchemy import select

from peerlearn.discussions import reading
from peerlearn.discussions.models import PostRevision
from peerlearn.extensions import db
from peerlearn.spaces.models import MemberRole


def _text(page):
    """A page's words, tags gone."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_editing_keeps_a_history_every_reader_can_see(
    client, new_client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="Original wording")
    response = client.post(f"/posts/{post.id}/edit", data={"body": "Better wording"})
    assert response.status_code == 302
    db.session.refresh(post)
    assert post.body_source == "Better wording" and post.edited_at is not None
    reader = new_client()
    login(reader, member("Tom Whitfield"))
    history = reader.get(f"/posts/{post.id}/history").get_data(as_text=True)
    assert "Better wording" in history and "Original wording" in history
    assert "edited" in reader.get(f"/threads/{thread.id}").get_data(as_text=True)


def test_an_edit_can_be_previewed_without_javascript_and_nothing_is_saved(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="Original wording")
    page = client.get(f"/posts/{post.id}/edit").get_data(as_text=True)
    assert 'name="action" value="preview"' in page
    response = client.post(
        f"/posts/{post.id}/edit", data={"body": "Some **better** wording", "action": "preview"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>better</strong>" in page and "Some **better** wording" in page  # kept
    db.session.refresh(post)
    assert post.body_source == "Original wording" and post.edited_at is None


def test_the_history_names_who_wrote_each_version_and_keeps_what_a_moderator_took_out(
    client, new_client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="Call me on 07700 900123")
    untouched = _text(client.get(f"/posts/{post.id}/history").get_data(as_text=True))
    assert "This post has not been edited" in untouched and "Edited" not in untouched
    moderator = new_client()
    login(moderator, member("Kwame Mensah", role=MemberRole.moderator))
    moderator.post(f"/posts/{post.id}/edit", data={"body": "Call me (number removed)"})
    client.post(f"/posts/{post.id}/edit", data={"body": "Message me instead"})
    reader = new_client()
    login(reader, member("Tom Whitfield"))

    def versions(who):
        page = _text(who.get(f"/posts/{post.id}/history").get_data(as_text=True))
        headings = ("Current version", "Earlier version 2", "Earlier version 1")
        return [page.split(heading, 1)[1][:200].strip() for heading in headings]

    current, second, first = versions(reader)
    assert current.startswith("Edited by Aisha Khan") and "Message me instead" in current
    assert second.startswith("Written by a moderator") and "number removed" in second
    assert first.startswith("A moderator replaced this version") and "07700" not in first
    assert "Kwame Mensah" not in " ".join((current, second, first))
    for insider in (moderator, client):  # the space's moderators, and the post's author
        current, second, first = versions(insider)
        assert first.startswith("Written by Aisha Khan") and "07700 900123" in first
    assert versions(moderator)[1].startswith("Written by Kwame Mensah")


def test_editing_the_opening_post_can_change_the_title(client, sig, member, login, start_thread):
    login(client, member())
    thread = start_thread(client, sig, title="Old title")
    opening = reading.opening_post(thread)
    client.post(f"/posts/{opening.id}/edit", data={"title": "New title", "body": "New body"})
    db.session.refresh(thread)
    assert thread.title == "New title"
    revision = db.session.scalar(select(PostRevision))
    assert revision.title == "Old title"


def test_nobody_edits_someone_elses_post_but_moderators_can(
    client, new_client, sig, member, login, start_thread, post_reply
):
    login(client, member("Author"))
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="Mine")
    other = new_client()
    login(other, member("Someone Else"))
    assert other.get(f"/posts/{post.id}/edit").status_code == 403
    assert other.post(f"/posts/{post.id}/edit", data={"body": "Hijacked"}).status_code == 403
    moderator = new_client()
    login(moderator, member("Moderator", role=MemberRole.moderator))
    assert moderator.post(f"/posts/{post.id}/edit", data={"body": "Tidied"}).status_code == 302
    db.session.refresh(post)
    assert post.body_source == "Tidied"


def test_bad_edits_are_explained_and_change_nothing(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member())
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="Keep me")
    page = client.post(f"/posts/{post.id}/edit", data={"body": ""}).get_data(as_text=True)
    assert "Enter your message" in page
    db.session.refresh(post)
    assert post.body_source == "Keep me" and post.edited_at is None
