"""A moderator's action on a thread or a post arriving as they lose the role: the page's check
found them a moderator, and an owner's making them a plain member is committed before the
action holds the thread and space. Every action (hiding, restoring, dismissing reports,
pinning, locking, hiding a thread, slow mode, moving, removing or editing someone's post) asks
again as held, as their actions on memberships do: refused with "You are no longer a moderator
of this space.", and nothing is changed or audited."""

import pytest

from peerlearn.accounts.models import User
from peerlearn.discussions.models import Post, PostRevision, Thread
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.moderation.models import Flag, FlagReason
from peerlearn.spaces import memberships
from peerlearn.spaces.models import MemberRole, Space
from peerlearn.spaces.services import get_membership
from tests.accounts.pages import Page
from tests.discussions.moderation_helpers import Discussion, audit, count, overtaken
from tests.spaces.flows import owner_of

REFUSAL = "You are no longer a moderator of this space."


def _as_it_was(discussion: Discussion) -> tuple[object, ...]:
    """Everything the actions below would change: the reply, the thread, reports, revisions."""
    db.session.expire_all()
    reply = db.session.get(Post, discussion.reply.id)
    thread = db.session.get(Thread, discussion.thread.id)
    return (
        reply.hidden_at,
        reply.deleted_at,
        reply.body_source,
        (thread.pinned, thread.locked, thread.hidden, thread.slow_mode_seconds, thread.space_id),
        count(Flag, Flag.resolved_at.is_(None)),
        count(PostRevision),
    )


#: Each action: where the moderator's browser sends it, and what the form holds (filled in with
#: the reply's id ``post``, the thread's ``thread``, and ``other``, another space they moderate).
ACTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "hide a post": ("/posts/{post}/moderate", {"action": "hide"}),
    "restore a post": ("/posts/{post}/moderate", {"action": "restore"}),
    "dismiss reports": ("/posts/{post}/moderate", {"action": "dismiss"}),
    "pin": ("/threads/{thread}/moderate", {"action": "pin"}),
    "lock": ("/threads/{thread}/moderate", {"action": "lock"}),
    "hide a thread": ("/threads/{thread}/moderate", {"action": "hide"}),
    "slow mode": ("/threads/{thread}/moderate", {"action": "slow_mode", "seconds": "300"}),
    "move": ("/threads/{thread}/move", {"space_id": "{other}"}),
    "remove a post": ("/posts/{post}/delete", {}),
    "edit a post": ("/posts/{post}/edit", {"body": "Ten minutes (edited by a moderator)."}),
}

#: The actions whose refusal is shown in their form again, not as a message on the thread.
IN_THE_FORM = {"move", "edit a post"}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_moderator_made_a_plain_member_as_they_act_is_refused(
    app, discussion, browser, make_space, add_member, action
):
    moderator, space = discussion.moderator, discussion.space
    other = make_space("Flow Coaching SIG")
    add_member(other, moderator, MemberRole.moderator)
    if action == "restore a post":
        moderation.set_post_hidden(owner_of(space), discussion.reply, True)
    if action == "dismiss reports":
        moderation.flag_post(discussion.reader, discussion.reply, FlagReason.spam)
    client = browser(moderator)
    ids = {"post": discussion.reply.id, "thread": discussion.thread.id, "other": other.id}
    path, form = ACTIONS[action]
    path, data = path.format(**ids), {name: value.format(**ids) for name, value in form.items()}
    owner_id, moderator_id, space_id = owner_of(space).id, moderator.id, space.id
    before, audited = _as_it_was(discussion), audit()

    def demote() -> None:
        held = db.session.get(Space, space_id)
        target = get_membership(held, db.session.get(User, moderator_id))
        memberships.change_role(db.session.get(User, owner_id), target, MemberRole.member)

    response = overtaken(app, client, path, data, demote)
    if action in IN_THE_FORM:
        assert Page(response).summary_has(REFUSAL)
    else:
        assert response.status_code == 302
        shown = Page(client.get(response.location, follow_redirects=True))
        assert f"Important: {REFUSAL}" in shown.main_text
    assert _as_it_was(discussion) == before
    assert audit() == [*audited, "membership.role_changed"]


def test_a_thread_moved_by_another_moderator_a_moment_ago_is_not_moved_again(
    app, discussion, browser, make_space, add_member
):
    """Two moderators move one thread at once, to different spaces: the second, whose page
    found it in the first space, is refused (the thread is now in a space they do not
    moderate), and the first move stands, audited once (in the log of each space)."""
    moderator, space = discussion.moderator, discussion.space
    theirs, mine = make_space("Flow Coaching SIG"), make_space("Measurement SIG")
    other = owner_of(space)
    add_member(theirs, other, MemberRole.moderator)
    add_member(mine, moderator, MemberRole.moderator)
    client = browser(moderator)
    thread_id, other_id, theirs_id = discussion.thread.id, other.id, theirs.id
    audited = audit()

    def move_elsewhere() -> None:
        moderation.move_thread(db.session.get(User, other_id), db.session.get(Thread, thread_id),
                               db.session.get(Space, theirs_id))  # fmt: skip

    response = overtaken(app, client, f"/threads/{thread_id}/move", {"space_id": str(mine.id)},
                         move_elsewhere)  # fmt: skip
    assert Page(response).summary_has("The thread was moved to another space a moment ago")
    db.session.expire_all()
    assert db.session.get(Thread, thread_id).space_id == theirs_id
    assert audit() == [*audited, "thread.moved", "thread.moved_in"]
