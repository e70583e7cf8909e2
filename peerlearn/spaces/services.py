"""Space rules and transactions: reading spaces and memberships, creating spaces, changing their
settings and archiving them.

The membership changes themselves (joining, leaving, requests, invitations, bans and roles) are
in :mod:`peerlearn.spaces.memberships`; the few steps both share (holding a space, admitting a
request, telling the person, sending :data:`~peerlearn.core.signals.membership_changed`) stay
here, beside the settings change that opens a space and admits its waiting requests.
"""

import re
from dataclasses import dataclass
from typing import Any

from flask import render_template
from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from peerlearn.accounts.directory import find_listed_person, listed_people, people_query
from peerlearn.accounts.models import User
from peerlearn.accounts.services import external_url
from peerlearn.audit.services import record
from peerlearn.core.db import change_if, hold, utcnow
from peerlearn.core.deferred import after_response
from peerlearn.core.errors import RuleError
from peerlearn.core.mail import send_mail
from peerlearn.core.signals import membership_changed, space_changed
from peerlearn.core.text import render_markdown
from peerlearn.extensions import db
from peerlearn.permissions import space_filter
from peerlearn.spaces.models import (
    JoinPolicy,
    MemberRole,
    Membership,
    MemberState,
    Space,
    SpaceKind,
    Visibility,
)

#: Paths under /spaces/ that are pages, not spaces.
RESERVED_SLUGS = frozenset({"new"})
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class SpaceError(RuleError):
    """A rule about spaces was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


# Reading ----------------------------------------------------------------------------------------


def get_membership(space: Space, user: User) -> Membership | None:
    """The user's membership row in the space, in any state."""
    return db.session.scalar(
        select(Membership).where(Membership.space_id == space.id, Membership.user_id == user.id)
    )


def member_counts(space_ids: list[int]) -> dict[int, int]:
    """Active member count per space, in one query: of the people the network lists (as the
    members page lists them), so a deactivated account is not counted."""
    if not space_ids:
        return {}
    rows = db.session.execute(
        select(Membership.space_id, func.count())
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.space_id.in_(space_ids),
            Membership.state == MemberState.active,
            listed_people(),
        )
        .group_by(Membership.space_id)
    )
    return {space_id: count for space_id, count in rows}


def states_for(user: Any, space_ids: list[int]) -> dict[int, Membership]:
    """The reader's own membership per space, in one query (empty for anonymous readers)."""
    if not getattr(user, "is_authenticated", False) or not space_ids:
        return {}
    rows = db.session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.space_id.in_(space_ids))
    )
    return {membership.space_id: membership for membership in rows}


def readable_ids(user: Any, space_ids: list[int]) -> set[int]:
    """Which of these spaces the reader may read (the policy's ``view``), in one query."""
    if not space_ids:
        return set()
    return set(
        db.session.scalars(
            select(Space.id).where(Space.id.in_(space_ids), space_filter(user, "view"))
        )
    )


def moderators_of(space: Space) -> list[User]:
    """The space's owners and moderators the network lists, owners first, then by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.space_id == space.id,
                Membership.state == MemberState.active,
                Membership.role.in_([MemberRole.owner, MemberRole.moderator]),
                listed_people(),  # each is linked to a profile, which only they have
            )
            .order_by(
                case((Membership.role == MemberRole.owner, 0), else_=1),
                User.display_name,
                User.id,
            )
        )
    )


def listed_groups(user: Any, community: Space) -> list[Space]:
    """The open special interest groups in a community whose names the reader may see, by name."""
    return list(
        db.session.scalars(
            select(Space)
            .where(
                Space.parent_id == community.id,
                Space.archived_at.is_(None),
                space_filter(user, "list"),
            )
            .order_by(func.lower(Space.name), Space.id)
        )
    )


def count_pending(space: Space, state: MemberState) -> int:
    """How many requests (or invitations, or bans) the space has, of the people the network
    lists, as :func:`pending` lists them."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.space_id == space.id, Membership.state == state, listed_people())
        )
        or 0
    )


def listed_spaces(user: Any, *, include_archived: bool = False) -> list[Space]:
    """Every space whose name the reader may see, communities first, then by name."""
    query = select(Space).where(space_filter(user, "list")).order_by(Space.kind, Space.name)
    if not include_archived:
        query = query.where(Space.archived_at.is_(None))
    return list(db.session.scalars(query))


def readable_spaces(user: Any) -> list[Space]:
    """Every space whose content the reader may read, archived ones too, by name: the choices of
    a filter by space (a space they may only see listed would filter everything out)."""
    return list(
        db.session.scalars(select(Space).where(space_filter(user, "view")).order_by(Space.name))
    )


def open_communities() -> list[Space]:
    """The communities a new special interest group may belong to: those not archived, by name."""
    return list(
        db.session.scalars(
            select(Space)
            .where(Space.kind == SpaceKind.community, Space.archived_at.is_(None))
            .order_by(Space.name)
        )
    )


def members_query(
    space: Space,
    *,
    state: MemberState = MemberState.active,
    q: str = "",
    organisation_id: int | None = None,
    region: str | None = None,
) -> Select[tuple[User]]:
    """People in the space in one state, filtered like the network directory."""
    return (
        people_query(q=q, organisation_id=organisation_id, region=region)
        .join(Membership, (Membership.user_id == User.id) & (Membership.space_id == space.id))
        .where(Membership.state == state)
    )


def memberships_in(space: Space, user_ids: list[int]) -> dict[int, Membership]:
    """Membership rows for some people in the space, keyed by user id, in one query."""
    if not user_ids:
        return {}
    rows = db.session.scalars(
        select(Membership).where(Membership.space_id == space.id, Membership.user_id.in_(user_ids))
    )
    return {membership.user_id: membership for membership in rows}


def pending(space: Space, state: MemberState) -> list[Membership]:
    """Requests or invitations waiting in the space, oldest first: of the people the network
    lists (:func:`listed_people`), as the members and their count are. Someone deactivated
    since cannot be answered, and their name would link to a profile that is not found."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.space_id == space.id, Membership.state == state, listed_people())
            .options(selectinload(Membership.user).selectinload(User.organisation))
            .order_by(Membership.created_at)
        )
    )


# Spaces -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpaceData:
    """The editable facts about a space."""

    name: str
    summary: str
    description: str
    visibility: Visibility
    join_policy: JoinPolicy


def create_space(
    actor: User,
    data: SpaceData,
    *,
    slug: str,
    kind: SpaceKind,
    parent: Space | None = None,
    owner_email: str = "",
) -> Space:
    """Create a community or a special interest group; its owner is the person with
    ``owner_email``, who must be one the network lists, or else the creator."""
    slug = slug.strip().lower()
    _check_slug(slug)
    owner = find_listed_person(owner_email) if owner_email else actor
    if owner is None:
        raise SpaceError(
            "Nobody with that e-mail address has an active peerlearn account", field="owner_email"
        )
    if kind is SpaceKind.sig and (parent is None or parent.kind is not SpaceKind.community):
        raise SpaceError("Choose the community this group belongs to", field="parent_id")
    if kind is SpaceKind.community and parent is not None:
        raise SpaceError("A community cannot belong to another community", field="parent_id")
    if parent is not None:
        hold_space(parent)  # checked as held: a community archived a moment ago takes no group
    if parent is not None and parent.archived:
        raise SpaceError(
            f"{parent.name} is archived. Choose a community that is not archived",
            field="parent_id",
        )
    space = Space(slug=slug, kind=kind, parent=parent, created_by_id=actor.id)
    _apply(space, data)
    db.session.add(space)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request took the address a moment ago, after the check (a double click on
        # Create): checked again, it is refused beside the field like any other clash.
        db.session.rollback()
        _check_slug(slug)
        raise
    db.session.add(
        Membership(
            space_id=space.id, user_id=owner.id, role=MemberRole.owner, state=MemberState.active
        )
    )
    record("space.created", actor=actor, space=space, subject=owner, name=space.name)
    db.session.commit()
    space_changed.send(space)
    return space


def _check_slug(slug: str) -> None:
    """Refuse a web address that is malformed, reserved or already another space's."""
    if not SLUG_PATTERN.match(slug):
        raise SpaceError(
            "Web address must use lower-case letters, numbers and single hyphens, like qms-sig",
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise SpaceError("That web address is reserved. Choose another", field="slug")
    if db.session.scalar(select(Space.id).where(Space.slug == slug)) is not None:
        raise SpaceError("Another space already uses that web address", field="slug")


def _apply(space: Space, data: SpaceData) -> None:
    # One line each, as every title is: a name goes into e-mail subjects, where a line break
    # (possible in a crafted request, never from the form's own field) would stop the e-mail.
    space.name = " ".join(data.name.split())
    space.summary = " ".join(data.summary.split())
    space.description_source = data.description
    space.description_html = render_markdown(data.description)
    space.visibility = data.visibility
    space.join_policy = data.join_policy


def update_space(actor: User, space: Space, data: SpaceData) -> int | None:
    """Change a space's settings; a change of visibility or joining is audited with old and new,
    as the space stood once held (:func:`hold_space`), not as this request read it: two saves at once
    (a double click) audit the change once. A space opened to anyone admits, in the same unit
    of work, everyone who had asked to join (of the people the network lists, :func:`pending`),
    as approving each request does.

    Returns how many were admitted so, or None, writing and auditing nothing, when the settings
    were already as given."""
    hold_space(space)
    if (data.name.strip(), data.summary.strip(), data.description) == (
        space.name,
        space.summary,
        space.description_source,
    ) and (data.visibility, data.join_policy) == (space.visibility, space.join_policy):
        db.session.rollback()
        return None
    requests = []
    opened = data.join_policy is JoinPolicy.open and space.join_policy is not JoinPolicy.open
    if opened and not space.archived:  # nobody joins a read-only space (its requests wait)
        requests = pending(space, MemberState.requested)
    admitted = [request.user for request in requests]
    for request in requests:
        admit_request(actor, request)
    changes = {}
    if data.visibility is not space.visibility:
        changes["visibility"] = f"{space.visibility.value} → {data.visibility.value}"
    if data.join_policy is not space.join_policy:
        changes["join_policy"] = f"{space.join_policy.value} → {data.join_policy.value}"
    if data.name.strip() != space.name:
        changes["name"] = f"{space.name} → {data.name.strip()}"
    _apply(space, data)
    record("space.updated", actor=actor, space=space, **changes)
    db.session.commit()
    space_changed.send(space)
    for user in admitted:
        tell_admitted(space, user)
    return len(admitted)


def set_archived(actor: User, space: Space, archived: bool) -> None:
    """Archive (read-only) or restore a space. One statement changes it only if it is not so
    already, so the same change made twice at once (a double click) is made and audited once."""
    unlike = Space.archived_at.is_(None) if archived else Space.archived_at.is_not(None)
    if not change_if(db.session, space, unlike, archived_at=utcnow() if archived else None):
        return
    record("space.archived" if archived else "space.unarchived", actor=actor, space=space)
    db.session.commit()
    space_changed.send(space)


# Shared by the settings and the membership changes ----------------------------------------------


def announce_membership(space: Space, user: User, state: MemberState | None) -> None:
    """Tell the rest of peerlearn (live rooms, events) that someone's standing in the space
    changed, once it is committed (``state`` None: the membership is gone)."""
    membership_changed.send(space, user=user, state=state)


def hold_space(space: Space) -> None:
    """Make this transaction the only one changing the space's memberships or settings until it
    ends (:func:`~peerlearn.core.db.hold`), before any other write. Each change then checks the
    memberships as the one before it left them: two owners leaving at the same moment cannot
    each count the other as the owner who stays, a second click on Join finds the first's
    membership instead of adding another (which the unique key refused with a 500), and a
    request approved as it is withdrawn is refused, not written to a row that has gone. The
    space itself is read again as held: one opened to anyone a moment ago is joined, not asked
    to join."""
    hold(db.session, Space.name, Space.id == space.id)
    db.session.refresh(space)


def admit_request(actor: User, request: Membership) -> None:
    """Approve a request to join in the caller's unit of work (the space held); once it is
    committed, :func:`tell_admitted`."""
    request.state = MemberState.active
    record("membership.approved", actor=actor, subject=request.user, space=request.space)


def tell_admitted(space: Space, user: User) -> None:
    email_member(user, space, "email/request_approved.txt",
            f"You have joined {space.name} on peerlearn")  # fmt: skip
    announce_membership(space, user, MemberState.active)


def email_member(user: User, space: Space, template: str, subject: str, **context: Any) -> None:
    """E-mail someone about their membership of the space (the template gets a link to it), once
    the page has been answered: a slow or absent mail server never slows or fails the change,
    which is committed by now (see :mod:`peerlearn.core.deferred`)."""
    to = user.email
    url = external_url("spaces.home", slug=space.slug)
    text = render_template(template, user=user, space=space, url=url, **context)
    after_response(lambda: send_mail(to, subject, text), f"membership e-mail {subject!r}")
