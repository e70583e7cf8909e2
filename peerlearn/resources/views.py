"""Resource pages: share a file or link, the resource page, edit, new versions, downloads,
reports, and hiding, restoring and removing."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file
from wtforms import SelectChoice

from peerlearn.core.errors import RuleError, render_error
from peerlearn.core.forms import show_error
from peerlearn.core.ids import to_id
from peerlearn.discussions.models import ImpactComponent
from peerlearn.events.forms import parse_date
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation
from peerlearn.permissions import (
    Action,
    authorize,
    can,
    removal_shown_to,
    resource_readers,
    signed_in,
    space_or_404,
    visible_or_404,
)
from peerlearn.resources import bp, case_studies, files, services
from peerlearn.resources import reports as resource_reports
from peerlearn.resources.case_study_forms import CaseStudyForm
from peerlearn.resources.forms import (
    FlagForm,
    NewResourceForm,
    ResourceForm,
    VersionForm,
    resource_id_from,
)
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    Resource,
    ResourceFlagReason,
    ResourceKind,
    ResourceType,
    ResourceVisibility,
)
from peerlearn.resources.storage import (
    CHUNK,
    UploadRequest,
    format_size,
    storage,
    streams_into_storage,
)
from peerlearn.spaces.models import Space, Visibility

logger = logging.getLogger(__name__)

# The upload views stream their files straight into the storage root (see UploadRequest).
bp.record_once(lambda state: setattr(state.app, "request_class", UploadRequest))


# Errors the request itself can meet ------------------------------------------------------------


@bp.app_template_global("upload_limit")
def upload_limit() -> str:
    """The size limit for files, as people read it (25 MB)."""
    return format_size(current_app.config["UPLOAD_MAX_BYTES"])


@bp.app_template_global("image_limit")
def image_limit() -> str:
    """The largest image accepted, as people read it (25 megapixels)."""
    return files.format_pixels(current_app.config["UPLOAD_MAX_PIXELS"])


@bp.app_template_global("upload_accept")
def upload_accept() -> str:
    """The file input's ``accept`` list: a hint to the browser (the server decides)."""
    return files.ACCEPT_ATTRIBUTE


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    return render_error(
        413,
        f"Files in the library can be up to {upload_limit()}. Nothing was saved. Go back to the "
        "form (your browser usually keeps what you typed), choose a smaller file or share a "
        "link to it instead, and send the form again.",
    )


@bp.errorhandler(CSRFError)
def form_not_accepted(error: CSRFError) -> tuple[str, int]:
    """A form whose body stopped short parses as empty, so its token is missing: say the upload
    was interrupted rather than that the form expired."""
    if request.content_length and not request.form and not request.files:
        return interrupted(error)
    return render_error(
        400,
        "The form could not be accepted because it had expired or did not come from this site. "
        "Go back, reload the page and try again.",
    )


@bp.errorhandler(ClientDisconnected)
def interrupted(error: Exception) -> tuple[str, int]:
    return render_error(
        400,
        "The upload was interrupted before the whole file arrived, so nothing was saved. "
        "Go back to the form, choose the file again and send it.",
    )


# Forms ------------------------------------------------------------------------------------------


def fill_choices(form: ResourceForm, space: Space, *, new: bool = True) -> None:
    """Offer the visibilities the space allows and every organisation. Leaving the organisation
    blank means the sharer's own on a new resource, and not recorded on one being changed."""
    form.visibility.choices = [  # type: ignore[assignment]
        SelectChoice(v.value, v.label) for v in services.visibility_choices(space)
    ]
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    form.organisation_id.choices = [  # type: ignore[assignment]
        SelectChoice("", "Your own organisation" if new else "Not recorded"),
        *(SelectChoice(str(i), name) for i, name in organisations),
    ]


def draft_from(form: ResourceForm) -> services.ResourceDraft:
    """The draft the form describes (its values are already validated against the choices)."""
    try:
        visibility = ResourceVisibility(form.visibility.data)
    except ValueError:
        raise services.ResourceError("Choose who can see it", field="visibility") from None
    authors = services.authors_from_handles(form.authors.data or "")
    link = getattr(form, "link_url", None)
    return services.ResourceDraft(
        title=form.title.data or "",
        summary=form.summary.data or "",
        type=ResourceType(form.type.data),
        licence=Licence(form.licence.data),
        visibility=visibility,
        classification=Classification(form.classification.data),
        pii_declared=bool(form.pii_declaration.data),
        components=tuple(ImpactComponent(c) for c in form.components.data or []),
        qms_elements=tuple(QmsElement(e) for e in form.qms_elements.data or []),
        tags=tuple((form.tags.data or "").split(",")),
        organisation_id=int(form.organisation_id.data) if form.organisation_id.data else None,
        adapted_from_id=resource_id_from(form.adapted_from.data),
        review_by=parse_date(form.review_by.data) if form.review_by.data else None,
        author_ids=tuple(a.id for a in authors),
        link_url=link.data if link is not None else None,
    )


def _upload(field: object) -> services.Upload | None:
    data = getattr(field, "data", None)
    if data is None or not getattr(data, "filename", None):
        return None
    return services.Upload(stream=data.stream, filename=data.filename)


def fields_of(resource: Resource) -> dict[str, object]:
    """The description form's fields as the resource stands."""
    return {
        "title": resource.title,
        "summary": resource.summary_source,
        "type": resource.type.value,
        "components": [c.value for c in resource.components],
        "qms_elements": [e.value for e in resource.qms_elements],
        "tags": ", ".join(resource.tags),
        "organisation_id": str(resource.organisation_id or ""),
        "authors": ", ".join(
            f"@{a.handle}" for a in resource.authors if a.id != resource.created_by_id
        ),
        "licence": resource.licence.value,
        "classification": resource.classification.value,
        "visibility": resource.visibility.value,
        "adapted_from": str(resource.adapted_from_id or ""),
        "review_by": f"{resource.review_by:%d/%m/%Y}" if resource.review_by else "",
        "pii_declaration": resource.pii_declared_at is not None,
        "link_url": resource.link_url or "",
    }


def case_study_form(resource: Resource) -> CaseStudyForm:
    """The case study form filled from the resource, its sections included. On a POST, each
    field the request sent shows what was sent instead (the general form, posted from a page
    left open, sends all but the sections)."""
    data = fields_of(resource)
    for section in case_studies.sections_of(resource):
        data[case_studies.field_name(section.name)] = section.source
    form = CaseStudyForm(data=data)
    fill_choices(form, resource.space, new=False)
    form.fix_type()
    return form


# Sharing ----------------------------------------------------------------------------------------


@bp.route("/spaces/<slug>/library/new", methods=["GET", "POST"])
@streams_into_storage
@login_required
def new_resource(slug: str) -> str | Response:
    space = space_or_404(slug)
    authorize(Action.post, space)
    form = NewResourceForm()
    fill_choices(form, space)
    if request.method == "GET":
        form.organisation_id.data = str(current_user.organisation_id or "")
        original_id = request.args.get("adapted_from", type=to_id)
        original = db.session.get(Resource, original_id) if original_id else None
        if original is not None and can(current_user, Action.view, original):
            form.adapted_from.data = str(original.id)
            form.type.data = original.type.value
            form.components.data = [c.value for c in original.components]
            form.qms_elements.data = [e.value for e in original.qms_elements]
    if form.validate_on_submit():
        try:
            is_file = form.kind.data == ResourceKind.file.value
            upload = _upload(form.file) if is_file else None
            if is_file and upload is None:
                raise files.UploadError("Select a file to upload")
            resource = services.create_resource(current_user, space, draft_from(form), upload)
        except RuleError as error:
            show_error(form, error)
        else:
            flash(f"{resource.title} has been added to the library.", "success")
            return redirect(url_for("resources.resource", resource_id=resource.id))
    return render_template("resources/new.html", space=space, form=form)


# The resource page ------------------------------------------------------------------------------


@bp.get("/resources/<int:resource_id>")
def resource(resource_id: int) -> str | Response:
    resource = visible_or_404(Resource, resource_id)
    if (
        resource.kind is ResourceKind.case_study
        and "resources.case_study" in current_app.view_functions
    ):  # a case study reads as its own page
        return redirect(url_for("resources.case_study", resource_id=resource.id))
    moderator = can(current_user, Action.moderate, resource)
    original = resource.adapted_from
    return render_template(
        "resources/resource.html",
        resource=resource,
        space=resource.space,
        file_type=files.ALLOWED.get(resource.current_version.mime)
        if resource.current_version
        else None,
        original=original if original is not None and can(current_user, "view", original) else None,
        flags=resource_reports.open_resource_flags(resource) if moderator else [],
        moderator=moderator,
        format_size=format_size,
        audience=audience(resource),
    )


def audience(resource: Resource) -> str:
    """Who can see the resource, in words: the narrower of what its own settings allow (the
    policy's :func:`~peerlearn.permissions.resource_readers`) and its space's visibility."""
    narrowest = max(
        resource_readers(resource), resource.space.visibility, key=list(Visibility).index
    )
    if narrowest is Visibility.private:
        return f"Members of {resource.space.name}"
    return ResourceVisibility(narrowest.value).label


# Editing and versions ---------------------------------------------------------------------------


@bp.route("/resources/<int:resource_id>/edit", methods=["GET", "POST"])
@login_required
def edit_resource(resource_id: int) -> str | Response:
    resource = visible_or_404(Resource, resource_id)
    authorize(Action.edit, resource)
    if resource.kind is ResourceKind.case_study:  # its type is fixed, and its sections are there
        if request.method == "GET":
            return redirect(url_for("resources.edit_case_study", resource_id=resource.id))
        return _retyped(resource)
    form = ResourceForm(data=fields_of(resource)) if request.method == "GET" else ResourceForm()
    fill_choices(form, resource.space, new=False)
    if form.validate_on_submit():
        try:
            services.update_resource(current_user, resource, draft_from(form))
        except RuleError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash("Your changes have been saved.", "success")
            return redirect(url_for("resources.resource", resource_id=resource.id))
    return render_template(
        "resources/edit.html", resource=resource, space=resource.space, form=form
    )


def _retyped(resource: Resource) -> str:
    """The general form posted for a case study (from a page opened before it became one): it
    is saved on its own form, with its sections, so nothing is saved here. That form is shown
    instead, with what was typed in the fields the two share, to check and save."""
    flash(
        "This resource is now a case study, so it is changed on this form, with its sections. "
        "Nothing has been saved yet: check what you typed, then save your changes.",
        "error",
    )
    return render_template(
        "resources/case_study_form.html",
        space=resource.space,
        form=case_study_form(resource),
        resource=resource,
    )


@bp.route("/resources/<int:resource_id>/versions/new", methods=["GET", "POST"])
@streams_into_storage
@login_required
def new_version(resource_id: int) -> str | Response:
    resource = visible_or_404(Resource, resource_id)
    authorize(Action.edit, resource)
    if resource.kind is not ResourceKind.file:
        abort(404)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            upload = _upload(form.file)
            if upload is None:
                raise files.UploadError("Select a file to upload")
            version = services.add_version(current_user, resource, upload, form.change_note.data)
        except RuleError as error:
            show_error(form, error)
        else:
            flash(f"Version {version.number} has been uploaded.", "success")
            return redirect(url_for("resources.resource", resource_id=resource_id))
    return render_template(
        "resources/new_version.html", resource=resource, space=resource.space, form=form
    )


# Downloads --------------------------------------------------------------------------------------


@bp.get("/resources/<int:resource_id>/download")
@bp.get("/resources/<int:resource_id>/versions/<int:number>/download")
def download(resource_id: int, number: int | None = None) -> Response:
    """The file, only ever through the permission policy. Attachments by default; images and
    PDFs may be viewed in the browser (``?view=1``), inside a sandbox."""
    resource = visible_or_404(Resource, resource_id)
    version = services.version_for(resource, number) if resource.kind is ResourceKind.file else None
    if version is None:
        abort(404)
    try:
        content = storage().open(version.sha256)
    except FileNotFoundError:
        logger.error("stored file %s of resource %s is missing", version.sha256, resource.id)
        abort(404)
    services.record_download(signed_in(current_user), version)
    file_type = files.ALLOWED.get(version.mime)
    inline = bool(request.args.get("view")) and file_type is not None and file_type.inline
    response = Response(
        # The server's file wrapper (gunicorn: sendfile); read in large blocks where it has none.
        wrap_file(request.environ, content, buffer_size=CHUNK),
        mimetype=version.mime,
        direct_passthrough=True,
    )
    response.content_length = version.size
    response.headers["Content-Disposition"] = files.content_disposition(
        "inline" if inline else "attachment", services.download_name(resource, version)
    )
    response.headers["Content-Security-Policy"] = files.INLINE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.set_etag(version.sha256)
    return response.make_conditional(request, accept_ranges=True, complete_length=version.size)


# Reports and moderation -------------------------------------------------------------------------


@bp.route("/resources/<int:resource_id>/flag", methods=["GET", "POST"])
@login_required
def flag_resource(resource_id: int) -> str | Response:
    resource = visible_or_404(Resource, resource_id)
    authorize(Action.flag, resource)
    form = FlagForm()
    if form.validate_on_submit():
        reason = ResourceFlagReason(form.reason.data)
        try:
            resource_reports.flag_resource(current_user, resource, reason, form.note.data or "")
        except RuleError as error:
            show_error(form, error)
        else:
            if reason.hides:
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


def _moderated(resource_id: int) -> Resource:
    resource = visible_or_404(Resource, resource_id)
    authorize(Action.moderate, resource)
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
    resource_reports.dismiss_flags(current_user, resource)
    flash("The reports have been dismissed.", "success")
    return redirect(url_for("resources.resource", resource_id=resource_id))


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


@bp.route("/resources/<int:resource_id>/delete", methods=["GET", "POST"])
@login_required
def delete_resource(resource_id: int) -> str | Response:
    resource = db.get_or_404(Resource, resource_id)
    # "Remove it" pressed again once it has gone (a double click) is answered, not "not found".
    again = request.method == "POST" and removal_shown_to(current_user, resource)
    if not again:
        authorize(Action.view, resource, hide=True)
        authorize(Action.delete, resource)
        if request.method == "GET":
            return render_template("resources/delete.html", resource=resource, space=resource.space)
        again = not services.delete_resource(current_user, resource)  # someone was first
    if again:
        flash(f"{resource.title} has already been removed from the library.", "info")
    else:
        flash(f"{resource.title} has been removed from the library.", "success")
    return redirect(url_for("resources.space_library", slug=resource.space.slug))
