"""What members do with a resource besides reading it: save it, say "we're using this", and
discuss it in a linked thread. Views ask the permission policy first; these functions write.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.models import User
from peerlearn.audit.services import record
from peerlearn.core import signals
from peerlearn.core.db import utcnow
from peerlearn.core.errors import RuleError
from peerlearn.discussions.models import Thread
from peerlearn.discussions.reading import opening_post
from peerlearn.discussions.removal import delete_post
from peerlearn.discussions.services import ThreadDraft, start_thread
from peerlearn.extensions import db
from peerlearn.moderation.services import set_thread_flag
from peerlearn.permissions import Action, Actor, can, resource_filter, signed_in
from peerlearn.resources.browsing import NOT_ADAPTED, Adapted, adapted, uses_by_organisation
from peerlearn.resources.models import Resource, ResourceUse, ResourceVisibility, SavedResource
from peerlearn.spaces.models import Space, Visibility


class EngagementError(RuleError):
    """A rule about saving, using or discussing a resource was broken."""


def _insert_once(row: object) -> None:
    """Add a row keyed by (member, resource); a second click, even at the same moment, is a
    no-op."""
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def set_saved(user: User, resource: Resource, saved: bool) -> None:
    """Save the resource to the member's list, or take it off."""
    exists = db.session.get(SavedResource, (user.id, resource.id)) is not None
    if saved and not exists:
        _insert_once(SavedResource(user_id=user.id, resource_id=resource.id))
    elif not saved and exists:
        db.session.execute(
            delete(SavedResource).where(
                SavedResource.user_id == user.id, SavedResource.resource_id == resource.id
            )
        )
        db.session.commit()


def set_using(user: User, resource: Resource, using: bool) -> None:
    """Say "we're using this" for the member's organisation, or take it back. Said again after
    a move to another organisation, it is said for the new one (the old one's use was theirs to
    vouch for only while they were there)."""
    if using and user.organisation_id is None:
        raise EngagementError(NO_ORGANISATION)
    row = db.session.get(ResourceUse, (resource.id, user.id))
    if using and row is None:
        _insert_once(
            ResourceUse(
                resource_id=resource.id, user_id=user.id, organisation_id=user.organisation_id
            )
        )
    elif using and row is not None and row.organisation_id != user.organisation_id:
        row.organisation_id, row.created_at = user.organisation_id, utcnow()
        db.session.commit()
    elif not using and row is not None:
        db.session.execute(
            delete(ResourceUse).where(
                ResourceUse.resource_id == resource.id, ResourceUse.user_id == user.id
            )
        )
        db.session.commit()


#: Said to a member with no organisation on their profile who asks to count theirs as using a
#: resource: there is none to count.
NO_ORGANISATION = (
    "Add your organisation to your profile to say your organisation is using this resource"
)


def is_saved(user: User, resource: Resource) -> bool:
    return db.session.get(SavedResource, (user.id, resource.id)) is not None


def is_using(user: User, resource: Resource) -> bool:
    """Whether the member's organisation is counted as using the resource on their word: said
    while they were in the organisation they are in now."""
    row = db.session.get(ResourceUse, (resource.id, user.id))
    return row is not None and row.organisation_id == user.organisation_id


def organisations_using(resource: Resource) -> int:
    """How many distinct organisations said they use the resource, by the uses that still stand
    (:func:`~peerlearn.resources.browsing.standing_use`)."""
    return dict(
        db.session.execute(
            uses_by_organisation().where(ResourceUse.resource_id == resource.id)
        ).all()
    ).get(resource.id, 0)


def adaptations_of(user: Actor, resource: Resource) -> Adapted:
    """How many times, and by how many organisations, the resource was adapted, in what ``user``
    may see."""
    return adapted(user, [resource.id]).get(resource.id, NOT_ADAPTED)


@dataclass
class Impact:
    """What the resource page shows about a resource's use, and the reader's own standing."""

    used_by: int
    adapted: Adapted
    #: Adaptations the reader may see, newest first (at most ``MAX_ADAPTATIONS_SHOWN``).
    adaptations: list[Resource]
    saved: bool
    using: bool
    #: The linked discussion, when there is one the reader may read.
    thread: Thread | None
    #: Whether a linked discussion could be started at all (see :func:`can_be_discussed`).
    discussable: bool
    #: Whether the reader may start it now.
    can_start_discussion: bool


MAX_ADAPTATIONS_SHOWN = 10


def impact_of(user: Actor, resource: Resource) -> Impact:
    """Counts, adaptations and the reader's own marks for the resource page."""
    person = signed_in(user)
    adaptations = list(
        db.session.scalars(
            select(Resource)
            .where(Resource.adapted_from_id == resource.id, resource_filter(user))
            .options(selectinload(Resource.organisation))
            .order_by(Resource.created_at.desc(), Resource.id.desc())
            .limit(MAX_ADAPTATIONS_SHOWN)
        )
    )
    thread = None
    if resource.discussion_thread_id is not None:
        thread = db.session.get(Thread, resource.discussion_thread_id)
        if thread is not None and not can(user, Action.view, thread):
            thread = None
    discussable = can_be_discussed(resource)
    return Impact(
        used_by=organisations_using(resource),
        adapted=adaptations_of(user, resource),
        adaptations=adaptations,
        saved=person is not None and is_saved(person, resource),
        using=person is not None and is_using(person, resource),
        thread=thread,
        discussable=discussable,
        can_start_discussion=thread is None
        and resource.discussion_thread_id is None
        and discussable
        and can(user, Action.post, resource.space),
    )


# Comments ---------------------------------------------------------------------------------------


def can_be_discussed(resource: Resource) -> bool:
    """Whether a thread in the resource's space would reach only people who may see the
    resource. A members-only resource in a space others can read is not discussed in the
    open: its thread would show its title to readers the resource is kept from. Nor is
    OFFICIAL-SENSITIVE material, in any space: network administrators read every space's
    threads, but only those who are members read the material."""
    if resource.hidden_at is not None or resource.deleted_at is not None:
        return False
    if resource.classification.sensitive:
        return False
    space = resource.space.visibility
    if resource.visibility is ResourceVisibility.public:
        return True
    if resource.visibility is ResourceVisibility.network:
        return space is not Visibility.public  # a public space's threads reach visitors too
    return space is Visibility.private


#: What a removed resource's discussion thread is called from then on.
REMOVED_RESOURCE_THREAD = "Discussion of a removed resource"
#: What the discussion thread of a resource since marked OFFICIAL-SENSITIVE is called from then on.
SENSITIVE_RESOURCE_THREAD = "Discussion of an OFFICIAL-SENSITIVE resource"


def keep_discussion_private(resource: Resource) -> None:
    """Hide the resource's discussion thread once it would reach readers the resource is now
    kept from (the resource was narrowed, reported, hidden or removed, or its space opened up):
    the thread's title names the resource. A hidden thread is shown only to the space's
    moderators, who may open the resource; it stays hidden until one of them restores it.

    A removed resource can be opened by nobody, moderators included, and OFFICIAL-SENSITIVE
    material by no network administrator outside its space (who sees hidden threads too), so
    then its name also leaves the thread: the thread is renamed and its opening post (which
    names and links the resource) removed. The members' replies stay, for the moderators. Each
    step is audited, done by peerlearn itself (no actor)."""
    if resource.discussion_thread_id is None or can_be_discussed(resource):
        return
    thread = db.session.get(Thread, resource.discussion_thread_id)
    if thread is None:
        return
    if not thread.hidden:
        set_thread_flag(None, thread, "hidden", True)
    if resource.deleted_at is not None or resource.classification.sensitive:
        delete_post(None, opening_post(thread))
        title = (
            REMOVED_RESOURCE_THREAD
            if resource.deleted_at is not None
            else SENSITIVE_RESOURCE_THREAD
        )
        if thread.title != title:
            record("thread.renamed", space=thread.space, thread_id=thread.id, old=thread.title,
                   new=title)  # fmt: skip
            thread.title = title
            db.session.commit()
            signals.thread_changed.send(thread)


@signals.resource_changed.connect
def _on_resource_changed(resource: Resource, **_: Any) -> None:
    keep_discussion_private(resource)


@signals.space_changed.connect
def _on_space_changed(space: Space, **_: Any) -> None:
    discussed = select(Resource).where(
        Resource.space_id == space.id, Resource.discussion_thread_id.is_not(None)
    )
    for resource in db.session.scalars(discussed).all():
        keep_discussion_private(resource)


def discussion_for(user: User, resource: Resource) -> Thread:
    """The resource's discussion thread, started (once) by ``user`` if there is none yet."""
    if resource.discussion_thread_id is not None:
        thread = db.session.get(Thread, resource.discussion_thread_id)
        if thread is not None:
            return thread
    if not can_be_discussed(resource):
        raise EngagementError("This resource cannot be discussed in its space")
    thread, _ = start_thread(
        user,
        resource.space,
        ThreadDraft(
            title=f"Discussing: {resource.title}"[:200],
            body=(
                f"Questions and comments about the resource **{resource.title}** "
                f"([open it](/resources/{resource.id}))."
            ),
            components=tuple(resource.components),
        ),
    )
    # Two members starting it at the same moment: the first link wins, and the page sends both
    # to that thread (the other stays as an ordinary thread in the space).
    db.session.execute(
        update(Resource)
        .where(Resource.id == resource.id, Resource.discussion_thread_id.is_(None))
        .values(discussion_thread_id=thread.id, updated_at=Resource.updated_at)
    )
    db.session.commit()
    db.session.refresh(resource)
    return db.session.get(Thread, resource.discussion_thread_id) or thread
