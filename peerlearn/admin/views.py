"""Admin pages. Every route here is for network administrators only."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from peerlearn.accounts import administration
from peerlearn.accounts import services as accounts
from peerlearn.accounts.models import SiteRole, User
from peerlearn.admin import services
from peerlearn.admin.forms import DomainForm, OrganisationForm, UserSearchForm
from peerlearn.audit.reading import shown_details
from peerlearn.audit.services import entries_query
from peerlearn.core.db import contains_pattern
from peerlearn.core.forms import show_error
from peerlearn.core.pagination import paginate
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, OrganisationKind, Region
from peerlearn.organisations.services import (
    OrganisationData,
    OrganisationError,
    list_organisations,
    organisation_choices,
    save_organisation,
)
from peerlearn.permissions import NETWORK, Action, authorize
from peerlearn.spaces import services as spaces
from peerlearn.spaces.models import Space

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only() -> None:
    authorize(Action.manage, NETWORK)


@bp.get("")
def index() -> str:
    counts = {
        "users": db.session.scalar(select(func.count()).select_from(User).where(User.active)),
        "organisations": db.session.scalar(select(func.count()).select_from(Organisation)),
        "spaces": db.session.scalar(
            select(func.count()).select_from(Space).where(Space.archived_at.is_(None))
        ),
    }
    return render_template("admin/index.html", counts=counts)


# Users -----------------------------------------------------------------------------------------


@bp.get("/users")
def users() -> str:
    form = UserSearchForm(request.args)
    query = select(User).order_by(User.display_name, User.id)
    q = (form.q.data or "").strip()[:254]
    if q:
        pattern = contains_pattern(q)
        query = query.where(
            or_(
                User.display_name.ilike(pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
            )
        )
    return render_template("admin/users.html", form=form, page=paginate(query, per_page=50))


@bp.post(
    "/users/<int:user_id>/<any('deactivate', 'reactivate', 'make-admin', 'remove-admin'):action>"
)
def user_action(user_id: int, action: str) -> Response:
    user = db.get_or_404(User, user_id)
    try:
        if action in {"deactivate", "reactivate"}:
            administration.set_active(current_user, user, active=action == "reactivate")
        else:
            role = SiteRole.admin if action == "make-admin" else SiteRole.member
            administration.set_site_role(current_user, user, role)
    except accounts.AccountError as error:
        flash(error.message, "error")
    else:
        flash(
            {
                "deactivate": f"{user.display_name}'s account is deactivated and signed out everywhere.",
                "reactivate": f"{user.display_name}'s account is active again.",
                "make-admin": f"{user.display_name} is now a network administrator.",
                "remove-admin": f"{user.display_name} is no longer a network administrator.",
            }[action],
            "success",
        )
    return redirect(url_for("admin.users", q=request.form.get("q", "")))


# Organisations ---------------------------------------------------------------------------------


@bp.get("/organisations")
def organisations() -> str:
    return render_template("admin/organisations.html", organisations=list_organisations())


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"organisation_id": None})
@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int | None) -> str | Response:
    organisation = db.get_or_404(Organisation, organisation_id) if organisation_id else None
    form = OrganisationForm(
        obj=organisation,
        data=None
        if request.method == "POST" or organisation is None
        else {
            "kind": organisation.kind.value,
            "region": organisation.region.value if organisation.region else "",
        },
    )
    form.parent_id.choices = organisation_choices("None")
    if form.validate_on_submit():
        try:
            saved = save_organisation(
                current_user,
                OrganisationData(
                    name=form.name.data,
                    kind=OrganisationKind(form.kind.data),
                    region=Region(form.region.data) if form.region.data else None,
                    parent_id=form.parent_id.data,
                    ods_code=form.ods_code.data or None,
                ),
                organisation,
            )
        except OrganisationError as error:
            show_error(form, error)
        else:
            flash(f"{saved.name} has been saved.", "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=organisation)


# Spaces ----------------------------------------------------------------------------------------


@bp.get("/spaces")
def spaces_index() -> str:
    all_spaces = db.session.scalars(select(Space).order_by(Space.kind, Space.name)).all()
    return render_template(
        "admin/spaces.html",
        spaces=all_spaces,
        counts=spaces.member_counts([space.id for space in all_spaces]),
    )


@bp.post("/spaces/<int:space_id>/<any(archive, unarchive):action>")
def archive_space(space_id: int, action: str) -> Response:
    space = db.get_or_404(Space, space_id)
    spaces.set_archived(current_user, space, archived=action == "archive")
    flash(
        f"{space.name} is archived and now read-only."
        if action == "archive"
        else f"{space.name} is open again.",
        "success",
    )
    return redirect(url_for("admin.spaces_index"))


# Registration allow-list -----------------------------------------------------------------------


@bp.route("/domains", methods=["GET", "POST"])
def domains() -> str | Response:
    form = DomainForm()
    if form.validate_on_submit():
        if services.add_domain(current_user, form.domain.data):
            flash(f"People with {form.domain.data} addresses can now register.", "success")
        else:
            flash(f"{form.domain.data} was already allowed.", "info")
        return redirect(url_for("admin.domains"))
    return render_template("admin/domains.html", form=form, domains=accounts.allowed_domains())


@bp.post("/domains/remove")
def remove_domain() -> Response:
    domain = request.form.get("domain", "")
    if services.remove_domain(current_user, domain):
        flash(f"{domain} has been removed from the list.", "success")
    else:
        flash("That domain was not on the list.", "error")
    return redirect(url_for("admin.domains"))


# Audit log -------------------------------------------------------------------------------------


@bp.get("/audit")
def audit() -> str:
    action = request.args.get("action", "").strip()[:64]
    page = paginate(entries_query(action_prefix=action or None), per_page=50)
    details = shown_details(current_user, page.items)
    return render_template("admin/audit.html", page=page, action=action, details=details)
