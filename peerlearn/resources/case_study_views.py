"""Case study pages: write one, edit it, read it as a page, and print it (or save it as a PDF)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from peerlearn.core.errors import RuleError
from peerlearn.core.forms import show_error
from peerlearn.extensions import db
from peerlearn.permissions import Action, authorize, can, space_or_404, visible_or_404
from peerlearn.resources import bp, case_studies
from peerlearn.resources.case_study_forms import CaseStudyForm, case_study_form
from peerlearn.resources.models import CaseStudySectionName, Resource, ResourceKind
from peerlearn.resources.views import audience


def _case_study_or_404(resource_id: int) -> Resource:
    resource = visible_or_404(Resource, resource_id)
    if resource.kind is not ResourceKind.case_study:
        abort(404)
    return resource


@bp.route("/spaces/<slug>/library/case-studies/new", methods=["GET", "POST"])
@login_required
def new_case_study(slug: str) -> str | Response:
    space = space_or_404(slug)
    authorize(Action.post, space)
    form = CaseStudyForm(space=space, actor=current_user)
    if request.method == "GET":
        form.organisation_id.data = str(current_user.organisation_id or "")
    if form.validate_on_submit():
        try:
            resource = case_studies.create_case_study(
                current_user, space, form.draft(), form.sections()
            )
        except RuleError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(f"Your case study “{resource.title}” has been published.", "success")
            return redirect(url_for("resources.case_study", resource_id=resource.id))
    return render_template("resources/case_study_form.html", space=space, form=form, resource=None)


@bp.route("/resources/<int:resource_id>/case-study/edit", methods=["GET", "POST"])
@login_required
def edit_case_study(resource_id: int) -> str | Response:
    resource = _case_study_or_404(resource_id)
    authorize(Action.edit, resource)
    if request.method == "GET":
        form = case_study_form(resource, current_user)
    else:
        form = CaseStudyForm(space=resource.space, actor=current_user, resource=resource)
    if form.validate_on_submit():
        try:
            case_studies.update_case_study(current_user, resource, form.draft(), form.sections())
        except RuleError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash("Your changes have been saved.", "success")
            return redirect(url_for("resources.case_study", resource_id=resource.id))
    return render_template(
        "resources/case_study_form.html", space=resource.space, form=form, resource=resource
    )


def _page_context(resource: Resource) -> dict[str, object]:
    original = resource.adapted_from
    return {
        "resource": resource,
        "space": resource.space,
        "sections": case_studies.sections_of(resource),
        "section_names": list(CaseStudySectionName),
        "original": original
        if original is not None and can(current_user, "view", original)
        else None,
        "audience": audience(resource),
    }


@bp.get("/resources/<int:resource_id>/case-study")
def case_study(resource_id: int) -> str:
    resource = _case_study_or_404(resource_id)
    return render_template("resources/case_study.html", **_page_context(resource))


@bp.get("/resources/<int:resource_id>/print")
def print_case_study(resource_id: int) -> str:
    resource = _case_study_or_404(resource_id)
    return render_template("resources/case_study_print.html", **_page_context(resource))
