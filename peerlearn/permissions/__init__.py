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
import functools
from collections.abc import Iterable
from typing import Any, NoReturn

from flask import abort, g, has_app_context
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    event,
    false,
    inspect,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, joinedload
from werkzeug.local import LocalProxy

from peerlearn.accounts.models import User
from peerlearn.discussions.models import Post, Thread
from peerlearn.events.models import ChatMessage, Event, Question
from peerlearn.extensions import db, login_manager
from peerlearn.resources.models import Resource
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    Visibility,
)

Actor = User | AnonymousUserMixin | None


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


def signed_in(user: Actor) -> User | None:
    """The user when signed in and active, otherwise None."""
    if isinstance(user, User) and user.is_authenticated and user.active:
        return user
    return None


_MEMBERSHIPS = "_peerlearn_memberships"


def membership_of(user: Actor, space: Space) -> Membership | None:
    """The user's membership row in the space (any state), if there is one.

    A page asks the policy about many things in the same space (every post on a thread page), so
    answers are kept for the request; any write to the database forgets them.
    """
    person = signed_in(user)
    if person is None or space.id is None:
        return None
    cache = _membership_cache()
    key = (person.id, space.id)
    if key in cache:
        return cache[key]
    membership = db.session.scalar(
        select(Membership).where(Membership.space_id == space.id, Membership.user_id == person.id)
    )
    cache[key] = membership
    return membership


def remember_memberships(user: Actor, space_ids: Iterable[int]) -> None:
    """Look up ``user``'s memberships of these spaces in one statement and keep them for this
    request's checks, as :func:`membership_of` keeps those it looks up one at a time (for a page
    that asks about things in many spaces, such as search results)."""
    person = signed_in(user)
    if person is None:
        return
    cache = _membership_cache()
    wanted = {space_id for space_id in space_ids if (person.id, space_id) not in cache}
    if not wanted:
        return
    found = {
        membership.space_id: membership
        for membership in db.session.scalars(
            select(Membership).where(
                Membership.user_id == person.id, Membership.space_id.in_(wanted)
            )
        )
    }
    for space_id in wanted:
        cache[(person.id, space_id)] = found.get(space_id)


def _membership_cache() -> dict[tuple[int, int], Membership | None]:
    """The request's memberships by (user id, space id); outside a request, one that is
    forgotten at once."""
    return g.setdefault(_MEMBERSHIPS, {}) if has_app_context() else {}


def event_with_membership(user: Actor, event_id: int) -> Event | None:
    """The event, its space and ``user``'s membership of that space in one statement, the
    membership kept for this request's checks as :func:`membership_of` keeps those it looks up.
    The live chat asks this on every socket event, where ``get`` and the checks would send three
    statements."""
    return event_with_membership_and(user, event_id)[0]


def event_with_membership_and(
    user: Actor, event_id: int, *also: ColumnElement[Any]
) -> tuple[Event | None, tuple[Any, ...]]:
    """:func:`event_with_membership`, and the values of ``also`` (SQL expressions over the
    event's row, which may name the user as ``bindparam("user_id")``) read by the same
    statement: a chat send learns whether its sender is muted without a statement of its own.
    The values are None when there is no such event. Pass the same ``also`` objects each time
    (module constants): the statement is built once for each."""
    person = signed_in(user)
    query = _event_query(person is not None, also)
    found = db.session.execute(
        query, {"event_id": event_id, "user_id": person.id if person else None}
    ).first()
    if found is None:
        return None, (None,) * len(also)
    if person is None:
        return found[0], tuple(found[1:])
    found_event, membership, *values = found
    _membership_cache()[(person.id, found_event.space_id)] = membership
    return found_event, tuple(values)


@functools.lru_cache(maxsize=16)  # bounded, should a caller build its ``also`` afresh each time
def _event_query(signed_in: bool, also: tuple[ColumnElement[Any], ...]) -> Select[Any]:
    # Built once: every socket event of the live chat runs one of these, and SQLAlchemy would
    # otherwise build it and work out its cache key each time.
    query = select(Event).options(joinedload(Event.space)).where(Event.id == bindparam("event_id"))
    if signed_in:
        query = query.add_columns(Membership).outerjoin(
            Membership,
            and_(Membership.space_id == Event.space_id, Membership.user_id == bindparam("user_id")),
        )
    return query.add_columns(*also)


def forget_standing(user: Actor) -> None:
    """Have the policy's next answers about ``user`` read their account and their memberships as
    committed now, not as this request first read them (kept for the request, and as loaded in
    the session): for a service that asks again once it holds what it writes, so that a removal,
    a ban or a deactivation committed since the request's own check counts."""
    if has_app_context():
        g.pop(_MEMBERSHIPS, None)
    person = user._get_current_object() if isinstance(user, LocalProxy) else user
    if not isinstance(person, User) or person not in db.session:
        return
    db.session.expire(person, ["active", "site_role"])
    for loaded in list(db.session.identity_map.values()):
        # Read as loaded, not loaded again: one expired by a commit is read afresh anyway, and
        # loading it would fail if its row has gone since (a ban lifted as it is announced).
        if isinstance(loaded, Membership) and inspect(loaded).dict.get("user_id") in (
            person.id,
            None,
        ):
            db.session.expire(loaded)


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_memberships(session: Session, *args: object) -> None:
    if has_app_context():
        g.pop(_MEMBERSHIPS, None)


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

    Anonymous visitors are sent to sign in; signed-in users get 403, or 404 when ``hide`` is set
    (for things whose very existence must not be confirmed).
    """
    if can(current_user, action, target):
        return
    deny(hide=hide)


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
