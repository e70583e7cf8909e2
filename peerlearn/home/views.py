"""Home: a landing page for visitors, a starting point for members; about and accessibility."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

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
    return render_template(
        "home/dashboard.html",
        mine=mine,
        invitations=invitations,
        requested=requested,
        discover=[space for space in listed if space.id not in involved][:6],
        counts=spaces.member_counts([space.id for space in listed]),
    )


@bp.get("/about")
def about() -> str:
    return render_template("home/about.html")


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template("home/accessibility.html")
