"""Cached HTML for the parts the discussion pages repeat: a post's article and a thread's row.

Each key holds every value its macro reads (see :func:`peerlearn.core.cache.fragment`): the
record's own columns that it prints, its author's name and organisation, the viewer's state
(signed in, marked helpful, new to them, unread count) and the viewer's rights on it as
:func:`peerlearn.permissions.post_rights_key` describes them. An edit, a helpful mark, a hidden
post, a renamed author or a different role therefore makes a new key: nothing is invalidated
by hand, and nobody is ever shown HTML rendered for rights they do not have.
"""

from collections.abc import Callable, Collection, Mapping

from flask import request
from flask_login import current_user
from markupsafe import Markup

from peerlearn.accounts.models import User
from peerlearn.core.cache import fragment
from peerlearn.discussions.models import Post, Thread
from peerlearn.permissions import membership_of, post_rights_key, signed_in


def _person(user: User | None) -> tuple[object, ...] | None:
    """What a post or row prints about a person."""
    if user is None:
        return None
    organisation = user.organisation.name if user.organisation is not None else None
    return (user.id, user.handle, user.display_name, user.job_title, organisation)


def post_article(
    macro: Callable[..., str],
    post: Post,
    thread: Thread,
    helpful: Collection[int],
    max_depth: int,
    read_before: int = 0,
    opening: bool = False,
) -> Markup:
    """``discussions/_macros.html``'s ``post_article`` for this viewer, from the cache if it can."""
    viewer = current_user._get_current_object()  # type: ignore[attr-defined]
    person = signed_in(viewer)
    in_reply_to = None
    if post.depth > max_depth and post.parent is not None:
        in_reply_to = (post.parent.id, _person(post.parent.author))
    parts = (
        request.script_root,
        max_depth,
        opening,
        thread.id,
        thread.solved_post_id == post.id,
        post.id,
        post.depth,
        post.created_at,
        post.edited_at is not None,
        post.deleted_at is not None,
        post.hidden_at is not None,
        post.helpful_count,
        post.body_html,
        _person(post.author),
        in_reply_to,
        viewer.is_authenticated,
        post.id in helpful,
        # The "New" badge.
        person is not None and post.id > read_before and post.author_id != person.id,
        post_rights_key(person, post, membership_of(person, thread.space)),
    )
    return fragment(
        "post",
        parts,
        lambda: macro(post, thread, helpful, max_depth, read_before, opening=opening),
    )


def thread_row(
    macro: Callable[..., str],
    thread: Thread,
    unread: Mapping[int, int],
    show_space: bool = False,
) -> Markup:
    """``discussions/_macros.html``'s ``thread_row`` for this viewer, from the cache if it can."""
    space = thread.space
    parts = (
        request.script_root,
        show_space,
        thread.id,
        thread.title,
        thread.pinned,
        thread.kind,
        thread.solved,
        thread.locked,
        thread.hidden,
        tuple(thread.components),
        tuple((tag.slug, tag.name) for tag in thread.tags),
        (space.slug, space.name),
        _person(thread.author),
        thread.reply_count,
        thread.last_activity_at,
        current_user.is_authenticated,
        unread.get(thread.id),
    )
    return fragment("thread-row", parts, lambda: macro(thread, unread, show_space))
