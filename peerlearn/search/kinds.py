"""Every kind of thing search finds, in one registry: what it contributes to the index, who may
see it (the permission policy's SQL filter), how to read it back for a page of results, and
where its result links to.

What is indexed, and why:

- a **thread**: its title, tags, NHS IMPACT components and its opening post's text (while the
  opening post is neither removed nor hidden: the title stays findable, the text goes);
- a **post** (shown as a reply): every reply's text (hidden replies stay, for the space's
  moderators; removed ones leave the index, as their text is gone for everyone);
- an **event**: title, description and venue;
- a **space**: name and summary (what a listing shows: names of private spaces may be listed,
  their descriptions and content never);
- a **person**: name, handle, job title, organisation and bio;
- a **resource**: title, summary, tags, type, NHS IMPACT components, QMS elements, originating
  organisation, a link's domain, a case study's sections, and the text extracted from its current
  file version (capped at :data:`DOCUMENT_TEXT_LIMIT` characters). A removed resource leaves the
  index; a hidden one stays, for its space's moderators and uploader (``resource_filter``).

Whether a reader may see a row is never stored in the index: the search query keeps a row only
when the permission policy's SQL filter for its kind allows it (:attr:`KindSpec.visible`), so
membership and visibility changes need no reindex. For threads, replies and events, of which
there are hundreds of thousands, the filter reads the index's copy of the thing's space
(``space_id``, kept in step on moves) and of a reply's thread (``thread_id``), and looks up only
the few hidden and removed things
(``permissions.thread_copy_filter`` and its siblings), instead of reading every match's own row;
each result shown is checked again with the policy's single-item rule (:attr:`KindSpec.opens`),
so a copy left stale by a failed update never shows a title or a snippet. Spaces, people and
resources, of which the index keeps no such copies, are checked against their own rows
(:func:`own_rows`).

A thing's row is refreshed after each committed write to it, by reading the thing again once a
row is held (:attr:`KindSpec.held`): of two edits at once, the later one's refresh waits for the
earlier one's and reads what the later edit left, so the index ends with the last words saved.

Adding a kind (the resource library, say) is one :class:`Kind` member, one :class:`KindSpec`
in :data:`KINDS` (its ``held`` row included), and one signal receiver in ``indexing.py``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nh3
from flask import url_for
from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.orm import joinedload, selectinload

from peerlearn.accounts.directory import listed_people
from peerlearn.accounts.models import User
from peerlearn.discussions.models import Post, Thread
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.permissions import (
    Action,
    can,
    event_copy_filter,
    post_copy_filter,
    resource_filter,
    signed_in,
    space_filter,
    thread_copy_filter,
)
from peerlearn.resources.models import CaseStudySection, Resource
from peerlearn.search.backends import clean_text
from peerlearn.search.models import Kind, component_bits
from peerlearn.spaces.models import Space

_BLOCK_TAG = re.compile(r"</?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|br|hr|tr|td|th|table)\b", re.I)


def plain_text(stored_html: str | None) -> str:
    """The words of stored (already sanitised) HTML, tags and entities gone."""
    # Block boundaries become spaces; inline tags (links, emphasis) join their words as shown.
    spaced = _BLOCK_TAG.sub(r" \g<0>", stored_html or "")
    return clean_text(html.unescape(nh3.clean(spaced, tags=set())))


@dataclass(frozen=True)
class Entry:
    """What one thing contributes to the index."""

    kind: Kind
    object_id: int
    space_id: int | None
    title: str
    body: str
    activity_at: datetime
    organisation_id: int | None = None
    #: The NHS IMPACT components, as bits (see :func:`component_bits`).
    components: int = 0
    #: A reply's helpful marks.
    helpful: int = 0
    #: A reply's thread.
    thread_id: int | None = None


def organisation_of(author: User | None) -> int | None:
    """The organisation an author's things are filed under: the author's own, as it is now."""
    return author.organisation_id if author is not None else None


def thread_entry(thread: Thread, opening: Post | None) -> Entry:
    words = [
        *(tag.name for tag in thread.tags),
        *(component.label for component in thread.components),
    ]
    if opening is not None and not opening.removed:
        words.append(plain_text(opening.body_html))
    return Entry(
        Kind.thread,
        thread.id,
        thread.space_id,
        clean_text(thread.title),
        clean_text(" ".join(words)),
        thread.created_at,
        organisation_of(thread.author),
        component_bits(thread.components),
    )


def post_entry(post: Post) -> Entry | None:
    """A reply's entry; None for an opening post (its thread carries it) or a removed post."""
    if post.root_id is None or post.deleted_at is not None:
        return None
    return Entry(
        Kind.post,
        post.id,
        post.thread.space_id,
        "",
        plain_text(post.body_html),
        post.edited_at or post.created_at,
        organisation_of(post.author),
        component_bits(post.thread.components),
        post.helpful_count,
        post.thread_id,
    )


def event_entry(event: Event) -> Entry:
    body = " ".join([plain_text(event.description_html), event.venue or ""])
    return Entry(
        Kind.event,
        event.id,
        event.space_id,
        clean_text(event.title),
        clean_text(body),
        event.starts_at,
        organisation_of(event.created_by),
        component_bits(event.components),
    )


def space_entry(space: Space) -> Entry:
    return Entry(
        Kind.space, space.id, space.id, clean_text(space.name), clean_text(space.summary),
        space.created_at,
    )  # fmt: skip


def person_entry(user: User) -> Entry:
    organisation = user.organisation.name if user.organisation is not None else ""
    # The handle's parts as words: PostgreSQL would read "person-2" as "person" and "-2".
    handle = user.handle.replace("-", " ")
    body = " ".join([handle, user.job_title, organisation, plain_text(user.bio_html)])
    return Entry(
        Kind.person, user.id, None, clean_text(user.display_name), clean_text(body),
        user.created_at, user.organisation_id,
    )  # fmt: skip


#: The most of a document's extracted text that is indexed.
DOCUMENT_TEXT_LIMIT = 500_000


def resource_entry(resource: Resource) -> Entry | None:
    """A resource's entry; None once it is removed (its text is gone for everyone)."""
    if resource.deleted_at is not None:
        return None
    sections = db.session.scalars(
        select(CaseStudySection.html).where(CaseStudySection.resource_id == resource.id)
    )
    version = resource.current_version
    words = [
        plain_text(resource.summary_html),
        *resource.tags,
        resource.type.label,
        *(component.label for component in resource.components),
        *(element.label for element in resource.qms_elements),
        resource.organisation.name if resource.organisation is not None else "",
        # The domain's parts as words: PostgreSQL would read "nhs.uk" as one host token.
        (resource.link_domain or "").replace(".", " "),
        *(plain_text(section) for section in sections),
        (version.extracted_text or "")[:DOCUMENT_TEXT_LIMIT] if version is not None else "",
    ]
    return Entry(
        Kind.resource,
        resource.id,
        resource.space_id,
        clean_text(resource.title),
        clean_text(" ".join(words)),
        resource.updated_at or resource.created_at,
        resource.organisation_id,
        component_bits(resource.components),
    )


def opening_post(thread: Thread) -> Post | None:
    return db.session.scalar(
        select(Post).where(Post.thread_id == thread.id, Post.root_id.is_(None)).limit(1)
    )


def people_filter(user: Any) -> ColumnElement[bool]:
    """SQL condition on :class:`User` for the people a reader may find: signed-in members see
    active, confirmed members (as the people directory and profiles do); anonymous readers
    see nobody."""
    if signed_in(user) is None:
        return false()
    return listed_people()


def own_rows(
    model: type[Any], allows: Callable[[Any], ColumnElement[bool]]
) -> Callable[[Any, Any, bool], ColumnElement[bool]]:
    """A :attr:`KindSpec.visible` for a kind whose things the index keeps no copies of the
    policy's facts for (spaces, people, resources): ``allows(user)``, a condition on ``model``,
    asked of each thing's own row.

    For a round's few rows, each thing of the kind is looked up by its id: listing every row
    ``allows`` read all 10,000 resources and 5,000 people whenever a round held one of them,
    5–6 ms of a selective search's 20 on PostgreSQL (``docs/performance.md``). Over all the
    matches, the list is made once instead: PostgreSQL prices a lookup as if made for every
    match, and with them chose to read and sort every match rather than read newest first (a
    visitor's search for three common words went from 50 to 400 ms). A row gone from ``model``
    allows nothing."""

    def visible(user: Any, doc: Any, few: bool) -> ColumnElement[bool]:
        if few:
            own = select(allows(user)).where(model.id == doc.object_id).scalar_subquery()
            return func.coalesce(own, false())
        return doc.object_id.in_(select(model.id).where(allows(user)))

    return visible


def removed_post_ids() -> Select[tuple[int]]:
    """The posts removed by their author or a moderator (few: ``ix_posts_removed`` holds only
    them); their words are nobody's to search."""
    return select(Post.id).where(Post.deleted_at.is_not(None))


#: Which row refreshing a thing's index row holds, given the thing's id: a column of it, kept as it
#: is (:func:`~peerlearn.core.db.hold`), and the condition naming the row.
Held = Callable[[int], tuple[Any, ColumnElement[bool]]]


def own_row(column: Any) -> Held:
    """A :attr:`KindSpec.held` naming the thing's own row, held by ``column`` (of the thing's
    model): one no refresh reads and, where the model has one, its ``updated_at`` (any other
    column written would set that to now)."""
    return lambda object_id: (column, column.class_.id == object_id)


def thread_of_reply(object_id: int) -> tuple[Any, ColumnElement[bool]]:
    """A reply's :attr:`KindSpec.held`: its thread's row, which a move writes (and carries its
    replies' rows with it: ``indexing._follow_moves``), as every writer to a thread holds it
    (:func:`~peerlearn.discussions.removal.hold_thread`)."""
    thread_id = select(Post.thread_id).where(Post.id == object_id).scalar_subquery()
    return Thread.reply_count, Thread.id == thread_id


@dataclass(frozen=True)
class KindSpec:
    """How search handles one kind of thing."""

    model: type[Any]
    #: What one thing contributes to the index (None: nothing, its row is dropped).
    entry: Callable[[Any], Entry | None]
    #: SQL condition on rows of this kind: the things the reader may open, as the permission
    #: policy's filter for the kind says. Asked as ``visible(reader, doc, few)``, where ``doc``
    #: holds the row's columns (:class:`SearchDocument` itself, or a subquery's ``c`` of its
    #: columns) and ``few`` says whether they are a round's few thousand rows rather than every
    #: match (see :func:`own_rows`).
    visible: Callable[[Any, Any, bool], ColumnElement[bool]]
    #: The rows a full rebuild reads.
    source: Callable[[], Select[Any]]
    #: Loading options for showing a page of results (no N+1 queries): each thing's space (and
    #: a reply's thread) in the same statement, as a page holds twenty at most.
    load: tuple[Any, ...] = ()
    #: The result's address.
    url: Callable[[Any], str] = lambda thing: ""
    #: The space a result is shown in.
    space: Callable[[Any], Space | None] = lambda thing: None
    #: For kinds whose ``visible`` reads the index's copy of the thing's space: the policy's
    #: single-item rule, asked again of each result shown (``opens(reader, thing)``).
    opens: Callable[[Any, Any], bool] | None = None
    #: The row refreshing one thing's index row holds before it reads the thing: two refreshes
    #: of it then run one after the other, the later reading what the later write left.
    held: Held = field(kw_only=True)


def _opens(user: Any, thing: Any) -> bool:
    return can(user, Action.view, thing)


KINDS: dict[Kind, KindSpec] = {
    Kind.thread: KindSpec(
        Thread,
        lambda thread: thread_entry(thread, opening_post(thread)),
        lambda user, doc, few: thread_copy_filter(user, doc.object_id, doc.space_id),
        lambda: select(Thread).options(
            selectinload(Thread.tags),
            selectinload(Thread.component_rows),
            selectinload(Thread.author),
        ),
        (joinedload(Thread.space),),
        lambda thread: url_for("discussions.thread", thread_id=thread.id),
        lambda thread: thread.space,
        _opens,
        held=own_row(Thread.reply_count),
    ),
    Kind.post: KindSpec(
        Post,
        post_entry,
        # A removed post shows as a placeholder: its text is not the reader's to search.
        lambda user, doc, few: (
            post_copy_filter(user, doc.object_id, doc.thread_id, doc.space_id)
            & doc.object_id.not_in(removed_post_ids())
        ),
        lambda: (
            select(Post)
            .where(Post.root_id.is_not(None))
            .options(
                selectinload(Post.thread).selectinload(Thread.component_rows),
                selectinload(Post.author),
            )
        ),
        (joinedload(Post.thread).joinedload(Thread.space),),
        lambda post: url_for("discussions.permalink", thread_id=post.thread_id, post_id=post.id),
        lambda post: post.thread.space,
        lambda user, post: post.deleted_at is None and _opens(user, post),
        held=thread_of_reply,
    ),
    Kind.event: KindSpec(
        Event,
        event_entry,
        lambda user, doc, few: event_copy_filter(user, doc.space_id),
        lambda: select(Event).options(
            selectinload(Event.component_rows), selectinload(Event.created_by)
        ),
        (joinedload(Event.space),),
        lambda event: url_for("events.detail", event_id=event.id),
        lambda event: event.space,
        _opens,
        held=own_row(Event.updated_at),  # calendars see no change (it is kept as it is)
    ),
    Kind.space: KindSpec(
        Space,
        space_entry,
        own_rows(Space, lambda user: space_filter(user, Action.list)),
        lambda: select(Space),
        (joinedload(Space.parent),),
        lambda space: url_for("spaces.home", slug=space.slug),
        lambda space: space.parent,  # a group is shown in its community
        held=own_row(Space.name),
    ),
    Kind.person: KindSpec(
        User,
        person_entry,
        own_rows(User, people_filter),
        lambda: select(User).options(selectinload(User.organisation)),
        (joinedload(User.organisation),),
        lambda user: url_for("accounts.profile", handle=user.handle),
        held=own_row(User.site_role),
    ),
    Kind.resource: KindSpec(
        Resource,
        resource_entry,
        own_rows(Resource, resource_filter),
        lambda: select(Resource).options(
            selectinload(Resource.tag_rows),
            selectinload(Resource.component_rows),
            selectinload(Resource.qms_rows),
            selectinload(Resource.organisation),
            selectinload(Resource.current_version),
        ),
        (joinedload(Resource.space),),
        lambda resource: url_for("resources.resource", resource_id=resource.id),
        lambda resource: resource.space,
        held=own_row(Resource.updated_at),
    ),
}
