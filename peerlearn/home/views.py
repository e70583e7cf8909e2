"""Home: a landing page for visitors, a starting point for members; about and accessibility."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from peerlearn.discussions import reading as discussion_reading
from peerlearn.discussions.models import Thread
from peerlearn.events import services as events
from peerlearn.extensions import db
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import Membership, MemberState, Space

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    listed = spaces.listed_spaces(current_user)
    if not current_user.is_authenticated:
        return render_template("home/landing.html", spaces=listed)
    memberships = db.session.scalars(
        select(Membership)
        .join(Membership.space)
        .where(Membership.user_id == current_user.id, Space.archived_at.is_(None))
        .options(selectinload(Membership.space))
        .order_by(Space.name)
    ).all()
    mine = [m.space for m in memberships if m.state is MemberState.active]
    invitations = [m.space for m in memberships if m.state is MemberState.invited]
    requested = [m.space for m in memberships if m.state is MemberState.requested]
    involved = {m.space_id for m in memberships}
    mine_ids = [space.id for space in mine]
    latest = db.session.scalars(
        discussion_reading.threads_query(current_user).where(Thread.space_id.in_(mine_ids)).limit(8)
    ).all()
    latest_ids = [thread.id for thread in latest]
    return render_template(
        "home/dashboard.html",
        mine=mine,
        invitations=invitations,
        requested=requested,
        discover=[space for space in listed if space.id not in involved][:6],
        counts=spaces.member_counts([space.id for space in listed]),
        unread_by_space=discussion_reading.unread_threads_by_space(current_user, mine_ids),
        latest=latest,
        unread=discussion_reading.unread_counts(current_user, latest_ids),
        events=db.session.scalars(events.events_query(current_user).limit(3)).all(),
    )


@bp.get("/about")
def about() -> str:
    return render_template("home/about.html")


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template("home/accessibility.html")
