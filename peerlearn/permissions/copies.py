"""The permission policy's thread, post and event filters applied to copies of the facts they
read: the search index keeps each thread's, post's and event's id with the id of its space (and
a reply's with its thread's), and a search checks hundreds of thousands of matches. These
filters read the copies and look up only the few hidden things, instead of reading every match's
own row (and its thread's); what they allow is what ``thread_filter``, ``post_filter`` and
``event_filter`` allow, as long as the copies are right (``tests/discussions/test_access.py``
applies them to the real tables' own columns; ``search/indexing.py`` moves the space copies with
a thread in the move's transaction, and a reply never changes thread)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select

from peerlearn.discussions.models import Post, Thread
from peerlearn.permissions import Actor, content_filter, readable_space_ids


def hidden_thread_ids() -> Select[tuple[int]]:
    """A subquery of the ids of hidden threads (few: ``ix_threads_hidden`` holds only them)."""
    return select(Thread.id).where(Thread.hidden)


def thread_copy_filter(
    user: Actor, thread_id: ColumnElement[int], space_id: ColumnElement[int]
) -> ColumnElement[bool]:
    """:func:`~peerlearn.permissions.thread_filter` on a copy of a thread's id and its space's id."""
    return content_filter(user, space_id, thread_id.not_in(hidden_thread_ids()))


def post_copy_filter(
    user: Actor,
    post_id: ColumnElement[int],
    thread_id: ColumnElement[int],
    space_id: ColumnElement[int],
) -> ColumnElement[bool]:
    """:func:`~peerlearn.permissions.post_filter` on a copy of a post's id, its thread's id and
    its thread's space's id: a post is hidden from readers who do not moderate the space when it
    is hidden or its thread is. (Each list is read from its own small index; the replies of the
    hidden threads, read through their threads, took a few milliseconds a search.)"""
    hidden_post_ids = select(Post.id).where(Post.hidden_at.is_not(None))
    shown = post_id.not_in(hidden_post_ids) & thread_id.not_in(hidden_thread_ids())
    return content_filter(user, space_id, shown)


def event_copy_filter(user: Actor, space_id: ColumnElement[int]) -> ColumnElement[bool]:
    """:func:`~peerlearn.permissions.event_filter` on a copy of an event's space's id."""
    return space_id.in_(readable_space_ids(user))
