"""A question's answer hidden by a moderator: the question shows unsolved while it is hidden,
and is solved by it again once it is restored, unless another answer was chosen meanwhile or the
post was removed."""

from __future__ import annotations

import pytest

from peerlearn.accounts.models import User
from peerlearn.discussions import marks, removal, services
from peerlearn.discussions.models import Post, Thread, ThreadKind
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.notifications.models import Notification, NotificationKind
from tests.concurrency import one_inside_another
from tests.discussions.moderation_helpers import count, page, report


@pytest.fixture
def answered(discussion, browser):
    """The thread as a question its asker has marked answered by the reply."""
    discussion.thread.kind = ThreadKind.question
    db.session.commit()
    browser(discussion.author).post(f"/posts/{discussion.reply.id}/solution")
    assert discussion.thread.solved_post_id == discussion.reply.id
    return discussion


def _solved_titles(client, discussion) -> list[str]:
    """The space's questions a member sees marked solved: under the filter, and tagged."""
    listing = page(client.get(f"/spaces/{discussion.space.slug}/threads?show=solved"))
    tagged = page(client.get(f"/spaces/{discussion.space.slug}/threads"))
    return [title for title in ("Weekly huddles that work",) if title in listing] + (
        ["(tagged)"] if ">Solved<" in tagged else []
    )


def _answers_shown(client, thread: Thread) -> int:
    """How many posts the thread's page shows as its answer."""
    return page(client.get(f"/threads/{thread.id}")).count(">Answer</strong>")


def _hide_as_moderator(discussion, browser) -> None:
    browser(discussion.moderator).post(
        f"/posts/{discussion.reply.id}/moderate", data={"action": "hide"}
    )


def _hide_by_report(discussion, browser) -> None:
    report(browser(discussion.reader), discussion.reply, "patient-information")


def _restore(discussion, browser, post: Post | None = None) -> None:
    browser(discussion.moderator).post(
        f"/posts/{(post or discussion.reply).id}/moderate", data={"action": "restore"}
    )


def _solved_notifications(user: User) -> int:
    return count(
        Notification,
        Notification.user_id == user.id,
        Notification.kind == NotificationKind.post_solved,
    )


@pytest.mark.parametrize("hide", [_hide_as_moderator, _hide_by_report])
def test_a_hidden_answer_is_the_answer_again_once_restored(answered, browser, hide):
    asker = browser(answered.author)
    assert _solved_titles(asker, answered) == ["Weekly huddles that work", "(tagged)"]
    assert _solved_notifications(answered.replier) == 1
    hide(answered, browser)
    assert answered.reply.hidden_at is not None
    assert answered.thread.solved_post_id is None
    assert _solved_titles(asker, answered) == []
    assert "Solved" not in page(asker.get(f"/threads/{answered.thread.id}"))

    # Restored, the reply is the answer again, without the asker marking it, and its author is
    # not told a second time.
    _restore(answered, browser)
    assert answered.reply.hidden_at is None
    assert answered.thread.solved_post_id == answered.reply.id
    assert _solved_titles(asker, answered) == ["Weekly huddles that work", "(tagged)"]
    assert "Solved" in page(asker.get(f"/threads/{answered.thread.id}"))
    assert _answers_shown(asker, answered.thread) == 1
    assert _solved_notifications(answered.replier) == 1


def test_an_answer_marked_while_the_first_was_hidden_stands(answered, browser):
    asker = browser(answered.author)
    _hide_as_moderator(answered, browser)
    other, _ = services.reply(answered.reader, answered.thread, "Fifteen, standing up.")
    asker.post(f"/posts/{other.id}/solution")
    assert answered.thread.solved_post_id == other.id

    _restore(answered, browser)
    assert answered.reply.hidden_at is None
    assert answered.thread.solved_post_id == other.id
    assert _answers_shown(asker, answered.thread) == 1
    assert _solved_titles(asker, answered) == ["Weekly huddles that work", "(tagged)"]


def test_an_answer_marked_and_cleared_while_the_first_was_hidden_leaves_it_unmarked(
    answered, browser
):
    """The asker's latest choice stands: having marked another reply and then cleared it, they
    chose no answer, and the restored reply does not overrule that."""
    asker = browser(answered.author)
    _hide_as_moderator(answered, browser)
    other, _ = services.reply(answered.reader, answered.thread, "Fifteen, standing up.")
    asker.post(f"/posts/{other.id}/solution")
    asker.post(f"/posts/{other.id}/solution", data={"clear": "yes"})
    assert answered.thread.solved_post_id is None

    _restore(answered, browser)
    assert answered.thread.solved_post_id is None
    assert _solved_titles(asker, answered) == []


def test_the_asker_cannot_unmark_a_hidden_answer_but_can_once_it_is_restored(answered, browser):
    """While hidden, the answer is out of the asker's sight: their "Not the answer" from a page
    loaded before the hiding finds nothing, and changes nothing. Restored, it is the answer
    again, and they can clear it as any answer."""
    asker = browser(answered.author)
    _hide_as_moderator(answered, browser)
    stale = asker.post(f"/posts/{answered.reply.id}/solution", data={"clear": "yes"})
    assert stale.status_code == 404

    _restore(answered, browser)
    assert answered.thread.solved_post_id == answered.reply.id
    asker.post(f"/posts/{answered.reply.id}/solution", data={"clear": "yes"})
    assert answered.thread.solved_post_id is None
    assert _solved_titles(asker, answered) == []


def test_clearing_the_answer_while_one_is_hidden_forgets_it(answered, browser):
    """Any change of the answer while one is hidden (here cleared by a service, as no page
    offers it) stands over the hidden one."""
    _hide_as_moderator(answered, browser)
    marks.set_solution(answered.author, answered.thread, None)
    _restore(answered, browser)
    assert answered.thread.solved_post_id is None


def test_a_hidden_answer_removed_is_not_the_answer_again(answered, browser):
    """Its author removed it as the moderator hid it: removal is for good, so the moderator's
    restoring shows a placeholder, and the question stays unsolved."""
    _hide_as_moderator(answered, browser)
    removal.delete_post(answered.replier, answered.reply)
    assert answered.reply.deleted_at is not None
    _restore(answered, browser)
    assert answered.reply.hidden_at is None
    assert answered.thread.solved_post_id is None
    assert answered.thread.hidden_answer_post_id is None
    assert _solved_titles(browser(answered.author), answered) == []


def test_a_removed_answer_is_not_remembered(answered, browser):
    removal.delete_post(answered.replier, answered.reply)
    assert answered.thread.solved_post_id is None
    assert answered.thread.hidden_answer_post_id is None


def test_restoring_another_post_leaves_a_hidden_answer_hidden_and_unmarked(answered, browser):
    other, _ = services.reply(answered.reader, answered.thread, "Fifteen, standing up.")
    moderation.set_post_hidden(answered.moderator, other, True)
    _hide_as_moderator(answered, browser)
    _restore(answered, browser, other)
    assert answered.reply.hidden_at is not None
    assert answered.thread.solved_post_id is None
    _restore(answered, browser)
    assert answered.thread.solved_post_id == answered.reply.id


# Marking and hiding at once ---------------------------------------------------------------------


def _marking_and_hiding(answered):
    """The asker's marking of the reply as the answer (again, having cleared it) and a
    moderator's hiding of it, each in a request of its own; and the refusals of the marking."""
    marks.set_solution(answered.author, answered.thread, None)
    thread_id, post_id = answered.thread.id, answered.reply.id
    asker_id, moderator_id = answered.author.id, answered.moderator.id
    refusals: list[str] = []

    def mark() -> None:
        thread, post = db.session.get(Thread, thread_id), db.session.get(Post, post_id)
        try:
            marks.set_solution(db.session.get(User, asker_id), thread, post)
        except services.DiscussionError as refusal:
            refusals.append(str(refusal))

    def hide() -> None:
        post = db.session.get(Post, post_id)
        moderation.set_post_hidden(db.session.get(User, moderator_id), post, True)

    return mark, hide, refusals


def test_a_reply_hidden_as_the_asker_marks_it_is_not_marked(app, answered):
    """The asker chose the reply before the moderator hid it, and writes after: refused."""
    mark, hide, refusals = _marking_and_hiding(answered)
    one_inside_another(app, mark, hide, "UPDATE threads")
    db.session.expire_all()
    assert answered.reply.hidden_at is not None
    assert answered.thread.solved_post_id is None
    assert refusals == ["Choose a reply in this thread as the answer"]


def test_an_answer_marked_as_a_moderator_hides_it_is_cleared(app, answered):
    """The moderator's request read the question unsolved before the asker marked the reply,
    and hides it after: the mark is cleared all the same, and comes back with the reply."""
    mark, hide, refusals = _marking_and_hiding(answered)
    one_inside_another(app, hide, mark, "UPDATE threads")
    db.session.expire_all()
    assert answered.reply.hidden_at is not None
    assert answered.thread.solved_post_id is None
    assert refusals == []
    moderation.set_post_hidden(answered.moderator, answered.reply, False)
    assert answered.thread.solved_post_id == answered.reply.id


def test_another_answer_marked_as_a_moderator_restores_the_first_stands(app, answered, browser):
    """The moderator's restoring read the question's hidden answer before the asker marked
    another reply, and restores after: the asker's choice stands."""
    _hide_as_moderator(answered, browser)
    other, _ = services.reply(answered.reader, answered.thread, "Fifteen, standing up.")
    thread_id, post_id, other_id = answered.thread.id, answered.reply.id, other.id
    asker_id, moderator_id = answered.author.id, answered.moderator.id

    def restore() -> None:
        post = db.session.get(Post, post_id)
        moderation.set_post_hidden(db.session.get(User, moderator_id), post, False)

    def mark() -> None:
        thread, post = db.session.get(Thread, thread_id), db.session.get(Post, other_id)
        marks.set_solution(db.session.get(User, asker_id), thread, post)

    one_inside_another(app, restore, mark, "UPDATE threads")
    db.session.expire_all()
    assert answered.reply.hidden_at is None
    assert answered.thread.solved_post_id == other_id
