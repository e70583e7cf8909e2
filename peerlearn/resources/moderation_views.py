"""The library's moderation pages: reporting a resource, the space's list of reported resources,
hiding and restoring a resource, dismissing its reports, and withdrawing and restoring a version
of a file. Routes on the library's blueprint (:data:`peerlearn.resources.bp`), so their endpoint
names and addresses are the library's."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from peerlearn.core.errors import RuleError
from peerlearn.core.forms import show_error
from peerlearn.extensions import db
from peerlearn.moderation.limits import refused_over_allowance
from peerlearn.permissions import (
    Action,
    authorize,
    authorize_unseen,
    can,
    space_or_404,
    visible_or_404,
)
from peerlearn.resources import bp, services
from peerlearn.resources import reports as resource_reports
from peerlearn.resources.forms import FlagForm, RestoreVersionForm, WithdrawVersionForm
from peerlearn.resources.models import Resource, ResourceFlagReason, ResourceVersion

# Reports ----------------------------------------------------------------------------------------


@bp.route("/resources/<int:resource_id>/flag", methods=["GET", "POST"])
@login_required
def flag_resource(resource_id: int) -> str | Response | tuple[str, int, dict[str, str]]:
    resource = visible_or_404(Resource, resource_id)
    authorize(Action.flag, resource)
    form = FlagForm()
    if form.validate_on_submit():
        if (refused := refused_over_allowance()) is not None:
            return refused
        try:
            resource_reports.flag_resource(
                current_user, resource, ResourceFlagReason(form.reason.data), form.note.data or ""
            )
        except RuleError as error:
            show_error(form, error)
        else:
            if resource.hidden_at is not None:  # hidden by this report (moderation's rule)
                flash(
                    "Thank you. The resource is hidden until a moderator has reviewed it.",
                    "success",
                )
            else:
                flash("Thank you. The space's moderators will review your report.", "success")
            if not can(current_user, Action.view, resource):
                # Hidden now, and not to a moderator or its uploader: back to where it was listed.
                return redirect(url_for("resources.space_library", slug=resource.space.slug))
            return redirect(url_for("resources.resource", resource_id=resource_id))
    return render_template(
        "resources/flag.html", resource=resource, space=resource.space, form=form
    )


@bp.get("/spaces/<slug>/library/reports")
@login_required
def reports(slug: str) -> str:
    """The moderators' list of the space's reported resources."""
    space = space_or_404(slug)
    authorize(Action.moderate, space)
    return render_template(
        "resources/reports.html",
        space=space,
        reported=resource_reports.reported_resources(current_user, space),
    )


# Hiding and dismissing reports ------------------------------------------------------------------


def _moderated(resource_id: int) -> Resource:
    """The resource, for those who may moderate it (seen or not: see the policy's
    :data:`~peerlearn.permissions.resources.UNREAD_MODERATION`)."""
    resource = db.get_or_404(Resource, resource_id)
    authorize_unseen(Action.moderate, resource)
    return resource


@bp.post("/resources/<int:resource_id>/hide", endpoint="hide_resource", defaults={"hide": True})
@bp.post(
    "/resources/<int:resource_id>/restore", endpoint="restore_resource", defaults={"hide": False}
)
@login_required
def set_hidden(resource_id: int, hide: bool) -> Response:
    resource = _moderated(resource_id)
    resource_reports.set_resource_hidden(current_user, resource, hide)
    if hide:
        flash("The resource is hidden. Only moderators and its uploader can see it.", "success")
    else:
        flash("The resource is visible again.", "success")
    return redirect(url_for("resources.resource", resource_id=resource_id))


@bp.post("/resources/<int:resource_id>/dismiss-flags")
@login_required
def dismiss_flags(resource_id: int) -> Response:
    resource = _moderated(resource_id)
    if resource_reports.dismiss_flags(current_user, resource):
        flash("The reports have been dismissed.", "success")
    else:
        flash("There were no open reports to dismiss: they have already been dealt with.", "info")
    return redirect(url_for("resources.resource", resource_id=resource_id))


# Withdrawing and restoring a version ------------------------------------------------------------


def _moderated_version(resource_id: int, number: int) -> tuple[Resource, ResourceVersion]:
    """A version of a file, for its space's moderators (withdrawing and restoring it)."""
    resource = _moderated(resource_id)
    version = services.version_for(resource, number)
    if version is None:
        abort(404)
    return resource, version


def _back_to_versions(resource: Resource) -> Response:
    return redirect(url_for("resources.resource", resource_id=resource.id, _anchor="versions"))


@bp.route("/resources/<int:resource_id>/versions/<int:number>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_version(resource_id: int, number: int) -> str | Response:
    """A moderator withdraws one version, after a page that asks them to confirm (a plain form:
    no JavaScript needed)."""
    resource, version = _moderated_version(resource_id, number)
    if version.withdrawn_at is not None:  # pressed again, or another moderator was first
        flash(f"Version {number} has already been withdrawn.", "info")
        return _back_to_versions(resource)
    form = WithdrawVersionForm()
    if form.validate_on_submit():
        try:
            done = resource_reports.withdraw_version(
                current_user, resource, version, form.reason.data or ""
            )
        except RuleError as error:
            show_error(form, error)
        else:
            flash(
                f"Version {number} has been withdrawn: only moderators can download it now."
                if done
                else f"Version {number} has already been withdrawn.",
                "success" if done else "info",
            )
            return _back_to_versions(resource)
    return render_template(
        "resources/withdraw_version.html",
        resource=resource,
        space=resource.space,
        version=version,
        form=form,
        last_left=resource_reports.newest_left(resource, version) is None,
    )


@bp.route("/resources/<int:resource_id>/versions/<int:number>/restore", methods=["GET", "POST"])
@login_required
def restore_version(resource_id: int, number: int) -> str | Response:
    """Whoever may withdraw a version restores it, after a page that asks them to confirm, as
    withdrawing it did."""
    resource, version = _moderated_version(resource_id, number)
    restored = (
        f"Version {number} is not withdrawn: everyone who can see {resource.title} can download it."
    )
    if version.withdrawn_at is None:  # pressed again, or another moderator was first
        flash(restored, "info")
        return _back_to_versions(resource)
    form = RestoreVersionForm()
    if form.validate_on_submit():
        if resource_reports.restore_version(
            current_user, resource, version, form.reason.data or ""
        ):
            flash(f"Version {number} has been restored: everyone who can see "
                  f"{resource.title} can download it again.", "success")  # fmt: skip
        else:
            flash(restored, "info")
        return _back_to_versions(resource)
    return render_template(
        "resources/restore_version.html",
        resource=resource,
        space=resource.space,
        version=version,
        form=form,
    )
