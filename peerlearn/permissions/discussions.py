"""Discussions' rules in the one permission policy: who may see, write in, moderate and mark
threads and posts (:func:`thread_allows`, :func:`post_allows`), the same rules as SQL for lists
(:func:`thread_filter`, :func:`post_filter`, :func:`thread_and_post_filter`), kept side by side
so they cannot drift apart, and the key of everything the post rule reads
(:func:`post_rights_key`, for cached fragments)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select

from peerlearn.discussions.models import Post, Thread, ThreadKind
from peerlearn.permissions import (
    Action,
    Actor,
    content_filter,
    has_moderator_role,
    moderated_space_ids,
    signed_in,
    space_allows,
)
from peerlearn.spaces.models import Membership


def thread_allows(
    user: Actor, action: Action | str, thread: Thread, membership: Membership | None
) -> bool:
    """Rules for a thread, given the user's membership of its space. Pure: no database access."""
    action = Action(action)
    space = thread.space

    def on_space(space_action: Action) -> bool:
        return space_allows(user, space_action, space, membership)

    moderator = on_space(Action.moderate)
    if action in {Action.view, Action.list}:
        # Seeing hidden things goes with the role, even once the space is archived and nobody
        # may moderate it any more.
        return on_space(Action.view) and (not thread.hidden or has_moderator_role(user, membership))
    if not thread_allows(user, Action.view, thread, membership):
        return False
    if action is Action.follow:
        return on_space(Action.follow)
    if action is Action.post:
        return on_space(Action.post) and not thread.hidden and (not thread.locked or moderator)
    if action in {Action.moderate, Action.manage}:
        return on_space(action)
    if action is Action.mark_solved:
        person = signed_in(user)
        asker = person is not None and thread.author_id == person.id
        return thread.kind is ThreadKind.question and (
            moderator or (asker and on_space(Action.post))
        )
    return False


def post_allows(
    user: Actor, action: Action | str, post: Post, membership: Membership | None
) -> bool:
    """Rules for one post, given the user's membership of its space. Pure: no database access."""
    action = Action(action)
    thread = post.thread
    if not thread_allows(user, Action.view, thread, membership):
        return False
    moderator = thread_allows(user, Action.moderate, thread, membership)
    if action in {Action.view, Action.list}:
        return post.hidden_at is None or has_moderator_role(user, membership)
    if post.deleted_at is not None or post.hidden_at is not None:
        # A removed post is a placeholder: only a moderator may still act on it (to restore it).
        return action is Action.moderate and moderator
    person = signed_in(user)
    own = person is not None and post.author_id == person.id
    if action is Action.post:  # reply to this post
        return thread_allows(user, Action.post, thread, membership)
    if action is Action.edit:
        return moderator or (own and thread_allows(user, Action.post, thread, membership))
    if action is Action.delete:
        return moderator or (own and space_allows(user, Action.post, thread.space, membership))
    if action is Action.flag:
        # Nobody can deal with a report in an archived space, so none can be made there.
        return person is not None and not own and not thread.space.archived
    if action is Action.mark_helpful:
        return not own and space_allows(user, Action.post, thread.space, membership)
    if action is Action.mark_solved:
        # Only a reply can be the answer, never the question itself.
        return post.root_id is not None and thread_allows(
            user, Action.mark_solved, thread, membership
        )
    if action is Action.moderate:
        return moderator
    return False


def post_rights_key(user: Actor, post: Post, membership: Membership | None) -> tuple[object, ...]:
    """Every value :func:`post_allows` reads (through :func:`thread_allows` and
    :func:`space_allows`), for a cache of what a post shows this viewer: equal keys get equal
    answers for every action. Keep it in step with those rules;
    ``tests/discussions/test_fragments.py`` checks it over the role table."""
    person = signed_in(user)
    me = person.id if person is not None else None
    thread = post.thread
    space = thread.space
    return (
        person is not None,
        person is not None and person.is_admin,
        membership.state if membership is not None else None,
        membership.role if membership is not None else None,
        space.visibility,
        space.archived,
        space.join_policy,
        thread.hidden,
        thread.locked,
        thread.kind,
        me is not None and thread.author_id == me,
        post.deleted_at is None,
        post.hidden_at is None,
        post.root_id is None,
        me is not None and post.author_id == me,
    )


def thread_filter(user: Actor) -> ColumnElement[bool]:
    """SQL condition on :class:`Thread` matching exactly the threads :func:`can` lets the user
    view: in a space they may read, and not hidden unless they moderate that space."""
    return content_filter(user, Thread.space_id, Thread.hidden.is_(False))


def thread_and_post_filter(user: Actor, post_id: ColumnElement[int | None]) -> ColumnElement[bool]:
    """SQL condition on a query joining :class:`Thread`, with the id of the post in it a row is
    about (or NULL: about the thread): the thread is one :func:`thread_filter` allows, and the
    post, if any, one :func:`post_filter` allows. For lists led by their own table (the
    notification centre) rather than by every thread the user may see; the few hidden posts are
    looked up as one short list (``ix_posts_hidden``), not each row's post."""
    hidden_posts = select(Post.id).where(Post.hidden_at.is_not(None))
    shown = and_(Thread.hidden.is_(False), or_(post_id.is_(None), post_id.not_in(hidden_posts)))
    return content_filter(user, Thread.space_id, shown)


def post_filter(user: Actor) -> ColumnElement[bool]:
    """SQL condition on :class:`Post` matching the posts :func:`can` lets the user view (removed
    posts appear as placeholders; hidden ones only to the space's moderators)."""
    visible_threads = select(Thread.id).where(thread_filter(user))
    moderated_threads = select(Thread.id).where(Thread.space_id.in_(moderated_space_ids(user)))
    return and_(
        Post.thread_id.in_(visible_threads),
        or_(Post.hidden_at.is_(None), Post.thread_id.in_(moderated_threads)),
    )
