"""Who someone is, for the policy: signed in or not, and their memberships of spaces, read once
and kept for the request (the policy asks about many things in the same space on one page), then
forgotten on any write or when a service asks again (:func:`forget_standing`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from flask import g, has_app_context
from flask_login import AnonymousUserMixin
from sqlalchemy import ColumnElement, Select, and_, bindparam, event, inspect, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.local import LocalProxy

from peerlearn.accounts.models import User
from peerlearn.events.models import Event
from peerlearn.extensions import db
from peerlearn.spaces.models import Membership, Space

Actor = User | AnonymousUserMixin | None


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
