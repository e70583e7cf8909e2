"""Replies and reply trees: nesting, paging long threads, quoting, removing, marking. (Editing
and the history of a post are in test_post_edits.py.)"""

import re

from sqlalchemy import func, select

from peerlearn.accounts.models import User
from peerlearn.discussions import reading, removal, services
from peerlearn.discussions.marks import set_helpful
from peerlearn.discussions.models import HelpfulMark, Post, Thread, ThreadKind
from peerlearn.extensions import db
from peerlearn.moderation import services as moderation
from peerlearn.notifications.models import Notification, NotificationKind
from peerlearn.spaces.models import MemberRole
from tests.concurrency import at_once, first_writes_meet, one_inside_another


def _post_ids_in_order(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="pl-post[^"]*" id="post-(\d+)"', page)]


def test_replies_form_a_tree_shown_depth_first(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig)
    a = post_reply(client, thread, body="First top-level reply")
    b = post_reply(client, thread, body="Second top-level reply")
    a1 = post_reply(client, thread, body="Reply to the first", to=a)
    a1x = post_reply(client, thread, body="Reply to the reply", to=a1)
    assert (a.depth, a1.depth, a1x.depth) == (0, 1, 2)
    assert a1x.root_id == a.id and a1x.parent_id == a1.id
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    ids = _post_ids_in_order(page)
    assert ids[1:] == [a.id, a1.id, a1x.id, b.id]
    assert "pl-depth-2" in page
    db.session.refresh(thread)
    assert thread.reply_count == 4


def test_deep_replies_stop_indenting_and_say_what_they_answer(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig)
    parent = None
    for level in range(7):
        parent = post_reply(client, thread, body=f"Level {level}", to=parent)
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "pl-depth-5" not in page
    assert page.count("In reply to") == 2  # levels 5 and 6 are drawn at depth 4


def test_long_threads_page_by_top_level_reply_and_never_split_a_tree(
    client, sig, member, login, start_thread
):
    author = member("Aisha Khan")
    login(client, author)
    thread = start_thread(client, sig)
    roots = [services.reply(author, thread, f"Root {n}")[0] for n in range(45)]
    child = services.reply(author, thread, "Child of root 19", parent=roots[19])[0]
    grandchild = services.reply(author, thread, "Grandchild", parent=child)[0]
    first = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    second = client.get(f"/threads/{thread.id}?page=2").get_data(as_text=True)
    third = client.get(f"/threads/{thread.id}?page=3").get_data(as_text=True)
    assert _post_ids_in_order(first)[1:] == [r.id for r in roots[:19]] + [
        roots[19].id,
        child.id,
        grandchild.id,
    ]
    assert _post_ids_in_order(second) == [r.id for r in roots[20:40]]
    assert _post_ids_in_order(third) == [r.id for r in roots[40:]]
    assert "Page 2 of 3" in first
    # A page past the end (an old link, say) shows the last, not "no replies yet".
    beyond = client.get(f"/threads/{thread.id}?page=99").get_data(as_text=True)
    assert _post_ids_in_order(beyond) == [r.id for r in roots[40:]]
    assert "No replies yet" not in beyond and "Page 98" not in beyond
    # A permalink lands on the right page at the post.
    response = client.get(f"/threads/{thread.id}/posts/{roots[42].id}")
    assert response.headers["Location"].endswith(f"/threads/{thread.id}?page=3#post-{roots[42].id}")
    response = client.get(f"/threads/{thread.id}/posts/{grandchild.id}")
    assert response.headers["Location"].endswith(f"/threads/{thread.id}#post-{grandchild.id}")


def test_quoting_prefills_the_reply_with_the_quoted_post(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig, body="Line one\nLine two")
    opening = reading.opening_post(thread)
    page = client.get(f"/threads/{thread.id}/reply?to={opening.id}&quote=1").get_data(as_text=True)
    assert "Aisha Khan wrote:\n&gt; Line one\n&gt; Line two" in page
    reply = post_reply(client, thread, body="Aisha Khan wrote:\n> Line one\n\nAgreed.", to=opening)
    assert "<blockquote>" in reply.body_html


def test_deleting_leaves_a_placeholder_and_keeps_the_tree(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member())
    thread = start_thread(client, sig)
    parent = post_reply(client, thread, body="Parent post text")
    child = post_reply(client, thread, body="Child post text", to=parent)
    assert client.post(f"/posts/{parent.id}/delete").status_code == 302
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Parent post text" not in page
    assert "This post was removed." in page
    assert "Child post text" in page
    assert _post_ids_in_order(page)[1:] == [parent.id, child.id]
    db.session.refresh(thread)
    assert thread.reply_count == 1
    # Nobody can reply to the removed post.
    response = client.post(
        f"/threads/{thread.id}/reply", data={"body": "x", "parent_id": parent.id}
    )
    assert response.status_code == 403 or "has been removed" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 3


def test_a_reply_to_a_post_from_another_thread_is_refused(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member())
    one = start_thread(client, sig, title="One")
    two = start_thread(client, sig, title="Two")
    foreign = post_reply(client, one, body="In thread one")
    page = client.post(
        f"/threads/{two.id}/reply", data={"body": "Keep this text", "parent_id": foreign.id}
    ).get_data(as_text=True)
    assert "You can only reply to a post in this thread" in page
    assert "Keep this text" in page
    assert (
        db.session.scalar(select(func.count()).select_from(Post).where(Post.thread_id == two.id))
        == 1
    )


def test_helpful_marks_one_per_member_and_never_your_own(
    client, new_client, sig, member, login, start_thread, post_reply
):
    author = member("Author")
    login(client, author)
    thread = start_thread(client, sig)
    post = post_reply(client, thread, body="Useful tip")
    assert client.post(f"/posts/{post.id}/helpful").status_code == 403
    fan = new_client()
    login(fan, member("Fan"))
    fan.post(f"/posts/{post.id}/helpful")
    fan.post(f"/posts/{post.id}/helpful")
    db.session.refresh(post)
    assert post.helpful_count == 1
    told = (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.user_id == author.id, Notification.kind == NotificationKind.post_helpful
        )
    )
    assert db.session.scalar(told) == 1
    fan.post(f"/posts/{post.id}/helpful", data={"helpful": "no"})
    db.session.refresh(post)
    assert post.helpful_count == 0
    assert db.session.scalar(told) == 1  # taking the mark back tells nobody


def _mark_at_once(app, post, marks):
    """Each ``(user, helpful)`` marked at the same moment, as concurrent requests would."""
    post_id = post.id
    at_once(
        app,
        [
            lambda u=user.id, h=helpful: set_helpful(
                db.session.get(User, u), db.session.get(Post, post_id), h
            )
            for user, helpful in marks
        ],
    )


def test_helpful_marks_given_and_taken_back_at_once_are_all_counted(app, discussion, member):
    fans = [member(f"Fan {n}") for n in range(8)]
    marks = select(func.count()).select_from(HelpfulMark)
    for _ in range(3):
        _mark_at_once(app, discussion.reply, [(fan, True) for fan in fans])
        db.session.rollback()  # see what they committed, as the next request would
        assert db.session.scalar(marks) == discussion.reply.helpful_count == 8
        _mark_at_once(app, discussion.reply, [(fan, False) for fan in fans[:5]])
        db.session.rollback()
        assert db.session.scalar(marks) == discussion.reply.helpful_count == 3
        _mark_at_once(app, discussion.reply, [(fan, False) for fan in fans[5:]])
        db.session.rollback()
        assert db.session.scalar(marks) == discussion.reply.helpful_count == 0


def test_the_asker_marks_the_answer_to_a_question(
    client, new_client, sig, member, login, start_thread, post_reply
):
    login(client, member("Asker"))
    thread = start_thread(client, sig, title="How do we start?", kind="question")
    answerer = new_client()
    login(answerer, member("Answerer"))
    answer = post_reply(answerer, thread, body="Start small")
    assert answerer.post(f"/posts/{answer.id}/solution").status_code == 403
    assert client.post(f"/posts/{answer.id}/solution").status_code == 302
    db.session.refresh(thread)
    assert thread.solved_post_id == answer.id
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Solved" in page and "Answer" in page
    listing = client.get(f"/spaces/{sig.slug}/threads?show=solved").get_data(as_text=True)
    assert "How do we start?" in listing


def test_discussions_cannot_be_marked_solved(client, sig, member, login, start_thread, post_reply):
    login(client, member())
    thread = start_thread(client, sig)
    assert thread.kind is ThreadKind.discussion
    post = post_reply(client, thread)
    assert client.post(f"/posts/{post.id}/solution").status_code == 403


def test_locked_threads_take_no_replies_from_members(
    client, new_client, sig, member, login, start_thread
):
    moderator = member("Moderator", role=MemberRole.moderator)
    login(client, moderator)
    thread = start_thread(client, sig)
    client.post(f"/threads/{thread.id}/moderate", data={"action": "lock"})
    someone = new_client()
    login(someone, member())
    page = someone.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "This thread is locked, so you cannot reply." in page
    assert someone.post(f"/threads/{thread.id}/reply", data={"body": "x"}).status_code == 403
    assert (
        client.post(f"/threads/{thread.id}/reply", data={"body": "Moderator note"}).status_code
        == 302
    )
    assert db.session.scalar(select(func.count()).select_from(Post)) == 2


def test_thread_rows_are_consistent_after_replies(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member())
    thread = start_thread(client, sig)
    last = post_reply(client, thread)
    db.session.refresh(thread)
    assert thread.last_post_id == last.id
    assert thread.last_activity_at >= last.created_at
    assert db.session.get(Thread, thread.id).reply_count == 1


def test_removing_the_newest_reply_rolls_the_threads_activity_back(
    client, sig, member, login, start_thread, post_reply
):
    login(client, member())
    thread = start_thread(client, sig)
    earlier = post_reply(client, thread, body="Earlier")
    newest = post_reply(client, thread, body="Newest")
    client.post(f"/posts/{newest.id}/delete")
    db.session.refresh(thread)
    assert thread.last_post_id == earlier.id
    assert thread.last_activity_at == earlier.created_at


def test_the_thread_page_offers_each_post_its_actions(
    client, new_client, sig, member, login, start_thread, post_reply
):
    login(client, member("Author"))
    thread = start_thread(client, sig)
    mine = post_reply(client, thread, body="My reply")
    reader = new_client()
    login(reader, member("Reader"))
    page = reader.get(f"/threads/{thread.id}").get_data(as_text=True)
    reply_link = f"/threads/{thread.id}/reply?to={mine.id}"
    assert reply_link in page and f"{reply_link}&amp;quote=1" in page
    assert f"/posts/{mine.id}/report" in page and f"/posts/{mine.id}/helpful" in page
    assert f"/posts/{mine.id}/edit" not in page  # not theirs
    own = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f"/posts/{mine.id}/edit" in own and f"/posts/{mine.id}/delete" in own


def test_quoting_a_selection_quotes_only_that(client, sig, member, login, start_thread):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig, body="First point.\n\nSecond point, which matters.")
    opening = reading.opening_post(thread)
    page = client.get(
        f"/threads/{thread.id}/reply",
        query_string={"to": opening.id, "quote": 1, "selection": "Second point"},
    ).get_data(as_text=True)
    assert "Aisha Khan wrote:\n&gt; Second point\n" in page
    assert "First point" not in page.split("<textarea")[1].split("</textarea>")[0]


def test_a_removed_post_cannot_be_quoted(
    client, new_client, sig, member, login, start_thread, post_reply
):
    login(client, member("Aisha Khan"))
    thread = start_thread(client, sig)
    regretted = post_reply(client, thread, body="Our board papers are at a private address")
    client.post(f"/posts/{regretted.id}/delete")
    reader = new_client()
    login(reader, member("Tom Whitfield"))
    response = reader.get(f"/threads/{thread.id}/reply?to={regretted.id}&quote=1")
    assert response.headers["Location"] == f"/threads/{thread.id}"  # said at once, no form
    page = reader.get(response.headers["Location"]).get_data(as_text=True)
    assert "That post has been removed, so you cannot reply to it" in page
    assert "private address" not in page


def test_the_same_reply_sent_three_times_at_once_is_stored_once(app, discussion, member):
    author_id, thread_id = member("Dee Doubleclick").id, discussion.thread.id
    before = db.session.scalar(select(func.count()).select_from(Post))
    landed = []

    def submit():
        post, _ = services.reply(
            db.session.get(User, author_id),
            db.session.get(Thread, thread_id),
            "Same here",
            submission_key="r" * 32,
        )
        landed.append(post.id)

    with first_writes_meet("UPDATE", parties=3, before=True):
        at_once(app, [submit, submit, submit])
    db.session.rollback()  # see what they committed, as the next request would
    stored = db.session.scalars(select(Post.id).where(Post.body_source == "Same here")).all()
    assert len(stored) == 1 and landed == stored * 3
    assert db.session.scalar(select(func.count()).select_from(Post)) == before + 1
    assert db.session.get(Thread, thread_id).reply_count == discussion.thread.reply_count


def test_replies_and_removals_at_once_leave_the_thread_counting_every_reply(
    app, discussion, member
):
    thread_id = discussion.thread.id
    people = [member(f"Replier {n}") for n in range(4)]
    doomed = [services.reply(person, discussion.thread, "Round 0")[0].id for person in people]
    shown = select(func.count()).where(
        Post.thread_id == thread_id,
        Post.root_id.is_not(None),
        Post.deleted_at.is_(None),
        Post.hidden_at.is_(None),
    )
    for number in range(1, 4):
        at_once(
            app,
            [
                *(
                    lambda p=post_id: removal.delete_post(None, db.session.get(Post, p))
                    for post_id in doomed
                ),
                *(
                    lambda u=person.id, n=number: services.reply(
                        db.session.get(User, u), db.session.get(Thread, thread_id), f"Round {n}"
                    )
                    for person in people
                ),
            ],
        )
        db.session.rollback()  # see what they committed, as the next request would
        thread = db.session.get(Thread, thread_id)
        assert thread.reply_count == db.session.scalar(shown) == 5
        assert thread.last_post_id == db.session.scalar(select(func.max(Post.id)))
        doomed = db.session.scalars(
            select(Post.id).where(Post.body_source == f"Round {number}")
        ).all()


def test_a_post_removed_by_its_author_as_a_moderator_hides_it_is_one_then_the_other(
    app, discussion
):
    # The author's removal holds the thread first; the moderator's hiding, in a request that has
    # not read the thread yet, wrote the post first: each then waited for the other's row.
    post_id, author_id, moderator_id = (
        discussion.reply.id,
        discussion.replier.id,
        discussion.moderator.id,
    )

    def remove() -> None:
        post = db.session.get(Post, post_id)
        post.thread.space  # noqa: B018 (read by the view's permission check)
        removal.delete_post(db.session.get(User, author_id), post)

    def hide() -> None:
        moderation.set_post_hidden(
            db.session.get(User, moderator_id), db.session.get(Post, post_id), True
        )

    with first_writes_meet("UPDATE"):
        at_once(app, [remove, hide])
    db.session.rollback()  # see what they committed, as the next request would
    post = db.session.get(Post, post_id)
    assert post.deleted_at is not None and post.hidden_at is not None
    assert post.thread.reply_count == 0


def test_a_reply_to_a_post_removed_a_moment_before_is_refused(app, discussion):
    """The post is removed (committed) after the reply has checked it but before the reply holds
    the thread: the reply is refused, not attached under a removed post."""
    post_id, replier_id, thread_id = discussion.reply.id, discussion.reader.id, discussion.thread.id
    refusals: list[str] = []

    def answer() -> None:
        thread = db.session.get(Thread, thread_id)
        try:
            services.reply(db.session.get(User, replier_id), thread, "Agreed",
                           parent=db.session.get(Post, post_id))  # fmt: skip
        except services.DiscussionError as refusal:
            refusals.append(str(refusal))

    def remove() -> None:
        removal.delete_post(None, db.session.get(Post, post_id))

    one_inside_another(app, answer, remove, "UPDATE threads")  # the reply's hold: it has checked
    db.session.rollback()
    assert refusals == ["That post has been removed, so you cannot reply to it"]
    assert db.session.scalars(select(Post.id).where(Post.parent_id == post_id)).all() == []
