"""The one permission policy: "may this user do this to that?", and "what may this user see?".

Every view, socket handler, search query and download asks here; nothing else checks roles or
memberships. Two faces of each rule are kept side by side so they cannot drift apart:

- :func:`can` answers for one item (a page, a button, a socket event);
- :func:`space_filter` builds the SQL condition used by list queries, so lists, counts and
  pagination only ever contain what :func:`can` would allow. A test checks that they agree for
  every role, visibility and action.
"""

from __future__ import annotations

import enum
from typing import Any, NoReturn

from flask import abort, make_response
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from peerlearn.accounts.models import User
from peerlearn.core.errors import render_error
from peerlearn.discussions.models import Post, Thread
from peerlearn.events.models import ChatMessage, Event, Question
from peerlearn.extensions import db, login_manager

# Who someone is (standing.py), asked for here like the rest of the policy.
from peerlearn.permissions.standing import (  # noqa: F401
    Actor,
    event_with_membership,
    event_with_membership_and,
    forget_standing,
    membership_of,
    remember_memberships,
    signed_in,
)
from peerlearn.resources.models import Resource
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    Visibility,
)


class Action(enum.StrEnum):
    """Things a person may try to do to a space."""

    view = "view"  #: read its content (home page, members, and later threads, events, library)
    list = "list"  #: see its name in lists and directories
    join = "join"  #: join it, ask to join it, or accept an invitation to it
    post = "post"  #: write in it
    moderate = "moderate"  #: admit, remove and ban members; hide, pin, lock and move threads
    manage = "manage"  #: change its settings and members' roles
    #: read its audit log (its owners and network administrators; archived or not: archiving
    #: stops changes, not the reading of what was done)
    audit = "audit"
    edit = "edit"  #: change a post (its author, or a moderator)
    #: remove a post, leaving a placeholder, or a Q&A question (its author, or a moderator)
    delete = "delete"
    flag = "flag"  #: report a post or a live chat message to the moderators
    mark_helpful = "mark_helpful"  #: say someone else's post helped
    mark_solved = "mark_solved"  #: mark the answer to a question (its asker, or a moderator)
    attend = "attend"  #: take part in an event: get its joining link, see who is going
    vote = "vote"  #: vote for a question in an event's live Q&A
    #: be told of its activity: follow it or its threads, be notified of replies, mentions and
    #: marks (readers who are not banned from it: a ban ends someone's part in a public space)
    follow = "follow"


def has_moderator_role(user: Actor, membership: Membership | None) -> bool:
    """An administrator, or an active moderator or owner of the membership's space (whatever the
    space's state: this is about who someone is, not what they may do now)."""
    person = signed_in(user)
    if person is None:
        return False
    if person.is_admin:
        return True
    return (
        membership is not None
        and membership.state is MemberState.active
        and membership.role in {MemberRole.moderator, MemberRole.owner}
    )


def reads(user: Actor, visibility: Visibility, membership: Membership | None) -> bool:
    """Who may read something with this visibility, given their membership of its space: the
    rule spaces and library resources share."""
    person = signed_in(user)
    if visibility is Visibility.public or (person is not None and person.is_admin):
        return True
    state = membership.state if membership is not None else None
    if visibility is Visibility.network:
        return person is not None and state is not MemberState.banned
    return state is MemberState.active


def space_allows(
    user: Actor, action: Action | str, space: Space, membership: Membership | None
) -> bool:
    """The rule itself, given the user's membership (or None). Pure: no database access."""
    action = Action(action)
    person = signed_in(user)
    admin = person is not None and person.is_admin
    state = membership.state if membership is not None else None
    active = state is MemberState.active
    role = membership.role if active and membership is not None else None

    if action is Action.list:
        return space.visibility is Visibility.public or person is not None
    if action is Action.view:
        return reads(user, space.visibility, membership)
    if action is Action.follow:
        return (
            person is not None
            and state is not MemberState.banned
            and reads(user, space.visibility, membership)
        )
    if action is Action.audit:
        return admin or role is MemberRole.owner
    if space.archived:
        # Archived spaces are read-only; only an administrator may still change their settings.
        return action is Action.manage and admin
    if action is Action.join:
        if person is None or state in {
            MemberState.active,
            MemberState.requested,
            MemberState.banned,
        }:
            return False
        if state is MemberState.invited:
            return True
        return space.join_policy in {JoinPolicy.open, JoinPolicy.request}
    if action is Action.post:
        return admin or active
    if action is Action.moderate:
        return admin or role in {MemberRole.moderator, MemberRole.owner}
    if action is Action.manage:
        return admin or role is MemberRole.owner
    raise ValueError(f"unknown action {action!r}")  # pragma: no cover - Action() already checked


class Network:
    """The network as a whole: the target of network-wide actions (creating spaces, managing
    organisations and accounts, the moderation queue for every space)."""

    def __repr__(self) -> str:
        return "<the network>"


NETWORK = Network()


def network_allows(user: Actor, action: Action | str) -> bool:
    """Rules for the network itself: only network administrators manage or moderate it."""
    action = Action(action)
    person = signed_in(user)
    if action in {Action.manage, Action.moderate}:
        return person is not None and person.is_admin
    if action in {Action.view, Action.list}:
        return person is not None
    return False


def can(user: Actor, action: Action | str, target: Any) -> bool:
    """May ``user`` do ``action`` to ``target`` (the network, a space, thread, post, event, Q&A
    question or chat message, library resource or someone's membership of a space)?"""
    if isinstance(target, Network):
        return network_allows(user, action)
    if isinstance(target, Space):
        # Whether a space may be listed never depends on membership (breadcrumbs ask often).
        listing = Action(action) is Action.list
        return space_allows(user, action, target, None if listing else membership_of(user, target))
    if isinstance(target, Thread):
        return thread_allows(user, action, target, membership_of(user, target.space))
    if isinstance(target, Post):
        return post_allows(user, action, target, membership_of(user, target.thread.space))
    if isinstance(target, Event):
        return event_allows(user, action, target, membership_of(user, target.space))
    if isinstance(target, Question):
        return question_allows(user, action, target, membership_of(user, target.event.space))
    if isinstance(target, ChatMessage):
        return chat_message_allows(user, action, target, membership_of(user, target.event.space))
    if isinstance(target, Resource):
        return resource_allows(user, action, target, membership_of(user, target.space))
    if isinstance(target, Membership):
        return membership_allows(user, action, target, membership_of(user, target.space))
    raise TypeError(f"no permission rules for {type(target).__name__}")


def space_filter(user: Actor, action: Action | str = Action.view) -> ColumnElement[bool]:
    """SQL condition on :class:`Space` matching exactly the spaces :func:`can` allows for
    ``view`` or ``list``. Use it inside list queries, never filter pages after the fact."""
    action = Action(action)
    person = signed_in(user)
    public = Space.visibility == Visibility.public
    if action is Action.list:
        return true() if person is not None else public
    if action is not Action.view:
        raise ValueError("space_filter answers for view and list only")
    if person is None:
        return public
    if person.is_admin:
        return true()

    return or_(
        public,
        and_(
            Space.visibility == Visibility.network,
            Space.id.not_in(member_space_ids(person, MemberState.banned)),
        ),
        Space.id.in_(member_space_ids(person, MemberState.active)),
    )


def member_space_ids(person: User, state: MemberState) -> Select[tuple[int]]:
    """A subquery of the ids of the spaces where ``person``'s membership is in ``state``. Never
    correlated, even inside a query that joins memberships itself (a profile's list of spaces,
    say), nor to the space: PostgreSQL runs it once, and can still plan the query around it in
    parallel, which a correlated subquery forbids."""
    return (
        select(Membership.space_id)
        .where(Membership.user_id == person.id, Membership.state == state)
        .correlate(None)
    )


def authorize(action: Action | str, target: Any, *, hide: bool = False) -> None:
    """Stop the request unless the current user may do ``action`` to ``target``.

    Anonymous visitors are sent to sign in; signed-in users get 403 (saying so when they are
    banned from the space of ``target``), or 404 when ``hide`` is set (for things whose very
    existence must not be confirmed).
    """
    if can(current_user, action, target):
        return
    if not hide and banned_from(current_user, _space_of(target)):
        abort(make_response(render_error(403, BANNED_FROM_SPACE)))
    deny(hide=hide)


#: What a member banned from a space is told when the policy refuses them something in it.
BANNED_FROM_SPACE = (
    "You are banned from this space, so you cannot do that here. If you think this is a "
    "mistake, ask a network administrator."
)


def banned_from(user: Actor, space: Space | None) -> bool:
    """Whether the user is banned from the space, as their membership stands: for a page to say
    so where they would take part (a ban from a public space leaves it readable)."""
    if space is None:
        return False
    membership = membership_of(user, space)
    return membership is not None and membership.state is MemberState.banned


def _space_of(target: Any) -> Space | None:
    """The space ``target`` is in (or is), for what :func:`authorize` says when it refuses."""
    if isinstance(target, Space):
        return target
    if isinstance(target, Post):
        return target.thread.space
    if isinstance(target, Question | ChatMessage):
        return target.event.space
    space = getattr(target, "space", None)
    return space if isinstance(space, Space) else None


def authorize_unseen(action: Action | str, target: Any) -> None:
    """:func:`authorize` for an action some may take on what they may not see (a network
    administrator removing OFFICIAL-SENSITIVE material they may not read): refused as not found
    to those who may neither see it nor do ``action``, as forbidden to those who may see it but
    not do ``action``."""
    if can(current_user, action, target):
        return
    authorize(Action.view, target, hide=True)
    deny()


def visible_or_404(model: type[Any], ident: int) -> Any:
    """The thread, post or event with this id if the current user may see it. Otherwise 404:
    what a reader may not see is never confirmed to exist (anonymous visitors are asked to sign
    in)."""
    target = db.get_or_404(model, ident)
    authorize(Action.view, target, hide=True)
    return target


def space_or_404(slug: str, action: Action | str = Action.view) -> Space:
    """The space with this address if the current user may ``action`` it: 404 when its name
    may not even be listed to them, 403 when it may but the action is not theirs."""
    space = db.first_or_404(select(Space).where(Space.slug == slug))
    authorize(action, space, hide=not can(current_user, Action.list, space))
    return space


def deny(*, hide: bool = False) -> NoReturn:
    """Refuse the current request the way :func:`authorize` does."""
    if signed_in(current_user) is None:
        abort(login_manager.unauthorized())
    abort(404 if hide else 403)


def moderated_space_ids(user: Actor, *, archived: bool = True) -> Select[tuple[int]]:
    """A subquery of the ids of spaces the user moderates (every space for administrators).
    With ``archived`` False, only those where they may act as moderators now: nobody moderates
    an archived space (:func:`space_allows`), so its reports wait out of the queues."""
    person = signed_in(user)
    if person is None:
        return select(Space.id).where(false())
    open_spaces = None if archived else select(Space.id).where(Space.archived_at.is_(None))
    if person.is_admin:
        return select(Space.id) if open_spaces is None else open_spaces
    query = select(Membership.space_id).where(
        Membership.user_id == person.id,
        Membership.state == MemberState.active,
        Membership.role.in_([MemberRole.moderator, MemberRole.owner]),
    )
    return query if open_spaces is None else query.where(Membership.space_id.in_(open_spaces))


def readable_space_ids(user: Actor) -> Select[tuple[int]]:
    """A subquery of the ids of spaces whose content the user may read."""
    return select(Space.id).where(space_filter(user, Action.view))


def content_filter(
    user: Actor, space_id: ColumnElement[int], shown: ColumnElement[bool]
) -> ColumnElement[bool]:
    """SQL condition for things in a space that moderators can hide (threads, posts): in a space
    the user may read, and ``shown`` unless they moderate that space. The rule the thread and
    post filters below, and the search index's, share with :func:`thread_allows` and
    :func:`post_allows`."""
    return and_(
        space_id.in_(readable_space_ids(user)),
        or_(shown, space_id.in_(moderated_space_ids(user))),
    )


def event_filter(user: Actor, space_id: ColumnElement[int] | None = None) -> ColumnElement[bool]:
    """SQL condition on :class:`Event` matching exactly the events :func:`can` lets the user see;
    on a row about an event, given the column holding the event's space (``space_id``)."""
    return (Event.space_id if space_id is None else space_id).in_(readable_space_ids(user))


# Each part of the network has its rules, both faces side by side, in a module of this package:
# discussions, events and their live Q&A, memberships, the resource library, and the search
# index's copies of what those read. They are part of this policy and imported from here like every other rule.
from peerlearn.permissions.copies import (  # noqa: E402
    event_copy_filter as event_copy_filter,
)
from peerlearn.permissions.copies import (  # noqa: E402
    post_copy_filter as post_copy_filter,
)
from peerlearn.permissions.copies import (  # noqa: E402
    thread_copy_filter as thread_copy_filter,
)
from peerlearn.permissions.discussions import (  # noqa: E402
    post_allows as post_allows,
)
from peerlearn.permissions.discussions import (  # noqa: E402
    post_filter as post_filter,
)
from peerlearn.permissions.discussions import (  # noqa: E402
    post_rights_key as post_rights_key,
)
from peerlearn.permissions.discussions import (  # noqa: E402
    thread_allows as thread_allows,
)
from peerlearn.permissions.discussions import (  # noqa: E402
    thread_and_post_filter as thread_and_post_filter,
)
from peerlearn.permissions.discussions import (  # noqa: E402
    thread_filter as thread_filter,
)
from peerlearn.permissions.events import (  # noqa: E402
    chat_message_allows as chat_message_allows,
)
from peerlearn.permissions.events import (  # noqa: E402
    chat_message_readers as chat_message_readers,
)
from peerlearn.permissions.events import (  # noqa: E402
    event_allows as event_allows,
)
from peerlearn.permissions.events import (  # noqa: E402
    event_readers as event_readers,
)
from peerlearn.permissions.events import (  # noqa: E402
    question_allows as question_allows,
)
from peerlearn.permissions.events import (  # noqa: E402
    question_filter as question_filter,
)
from peerlearn.permissions.events import (  # noqa: E402
    question_readers as question_readers,
)
from peerlearn.permissions.memberships import (  # noqa: E402
    membership_allows as membership_allows,
)
from peerlearn.permissions.resources import (  # noqa: E402
    reads_material as reads_material,
)
from peerlearn.permissions.resources import (  # noqa: E402
    reads_sensitive as reads_sensitive,
)
from peerlearn.permissions.resources import (  # noqa: E402
    removal_shown_to as removal_shown_to,
)
from peerlearn.permissions.resources import (  # noqa: E402
    resource_allows as resource_allows,
)
from peerlearn.permissions.resources import (  # noqa: E402
    resource_filter as resource_filter,
)
from peerlearn.permissions.resources import (  # noqa: E402
    resource_readers as resource_readers,
)
