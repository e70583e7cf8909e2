"""Writes to a discussion arriving as its space is archived: an edit, a removal, a helpful mark
or an answer checked by the page before the archive, and written after it is committed, is
refused as the space now stands, and nothing changes. Holding the space for that never makes
two writes wait for each other."""

from collections.abc import Callable

import pytest
from sqlalchemy import select

from peerlearn.accounts.models import User
from peerlearn.discussions import marks, services
from peerlearn.discussions.models import HelpfulMark, Post, PostRevision, Thread, ThreadKind
from peerlearn.extensions import db
from peerlearn.spaces.models import Space
from peerlearn.spaces.services import set_archived
from tests.accounts.pages import Page
from tests.concurrency import WRITES, at_once, first_writes_meet, one_inside_another
from tests.discussions.moderation_helpers import Discussion, count

REFUSAL = "This space is archived and read-only: nobody can post in it"


def _as_it_was(discussion: Discussion) -> tuple[object, ...]:
    """What the writes below would change: the reply's text, removal and marks, its revisions,
    and the question's answer."""
    db.session.expire_all()
    reply = db.session.get(Post, discussion.reply.id)
    thread = db.session.get(Thread, discussion.thread.id)
    return (
        reply.body_source,
        reply.deleted_at,
        reply.helpful_count,
        count(HelpfulMark),
        count(PostRevision),
        thread.solved_post_id,
    )


#: Each write: who makes it (of the discussion's people), the form it sends, and how the page
#: after it shows a refusal (the form again, or a message on the post's page).
WRITES_TO_REFUSE: dict[str, tuple[str, Callable[[int], str], dict[str, str]]] = {
    "edit": ("replier", lambda post_id: f"/posts/{post_id}/edit", {"body": "Twenty minutes."}),
    "delete": ("replier", lambda post_id: f"/posts/{post_id}/delete", {}),
    "helpful": ("reader", lambda post_id: f"/posts/{post_id}/helpful", {}),
    "answer": ("author", lambda post_id: f"/posts/{post_id}/solution", {}),
}


@pytest.mark.parametrize("write", list(WRITES_TO_REFUSE))
def test_a_write_made_as_its_space_is_archived_is_refused(
    app, discussion, browser, make_user, write
):
    """The request found the space open (the page's check of who may write); an
    administrator's archiving it is committed just before the write's first statement: refused,
    as posting is, and nothing is changed."""
    discussion.thread.kind = ThreadKind.question
    db.session.commit()
    who, path, data = WRITES_TO_REFUSE[write]
    client = browser(getattr(discussion, who))
    admin_id, space_id = make_user("Ada Admin", admin=True).id, discussion.space.id
    post_id = discussion.reply.id
    before = _as_it_was(discussion)
    responses = []

    def archive() -> None:
        set_archived(db.session.get(User, admin_id), db.session.get(Space, space_id), True)

    def send() -> None:
        responses.append(client.post(path(post_id), data=data))

    one_inside_another(app, send, archive, WRITES)
    (response,) = responses
    if write == "edit":
        assert Page(response).summary_has(REFUSAL)
        assert Page(response).values["body"] == "Twenty minutes."  # kept, to copy elsewhere
    else:
        assert response.status_code == 302
        shown = Page(client.get(response.location, follow_redirects=True))
        assert f"Important: {REFUSAL}" in shown.main_text
    assert db.session.scalar(select(Space.archived_at).where(Space.id == space_id)) is not None
    assert _as_it_was(discussion) == before


def test_an_edit_and_a_helpful_mark_of_one_post_at_the_same_moment_both_land(app, discussion):
    """Each has made its first write (its first hold) before either goes on: the edit holds the
    thread, then the space, then writes the post; the mark holds the space, then the post. In
    that one order neither waits for what the other holds while holding what it needs (on
    PostgreSQL, a deadlock refused one of them)."""
    post_id = discussion.reply.id
    replier_id, reader_id = discussion.replier.id, discussion.reader.id

    def edit() -> None:
        post = db.session.get(Post, post_id)
        services.edit_post(db.session.get(User, replier_id), post, "Twenty minutes.")

    def mark() -> None:
        marks.set_helpful(db.session.get(User, reader_id), db.session.get(Post, post_id), True)

    with first_writes_meet(WRITES):
        at_once(app, [edit, mark])
    db.session.expire_all()
    reply = db.session.get(Post, post_id)
    assert (reply.body_source, reply.helpful_count) == ("Twenty minutes.", 1)
