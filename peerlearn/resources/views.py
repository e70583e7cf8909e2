"""Resource pages: share a file or link, the resource page, edit, new versions, downloads and
removing. Reports, hiding and withdrawing a version are in
:mod:`peerlearn.resources.moderation_views`."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from peerlearn.core.errors import RuleError, render_error
from peerlearn.core.forms import show_error
from peerlearn.core.ids import to_id
from peerlearn.extensions import db, limiter
from peerlearn.permissions import (
    Action,
    authorize,
    authorize_unseen,
    can,
    removal_shown_to,
    resource_readers,
    signed_in,
    space_or_404,
    visible_or_404,
)
from peerlearn.permissions.resources import version_downloadable
from peerlearn.resources import bp, files, services
from peerlearn.resources import reports as resource_reports
from peerlearn.resources.case_study_forms import case_study_form
from peerlearn.resources.forms import NewResourceForm, ResourceForm, VersionForm, fields_of
from peerlearn.resources.models import Resource, ResourceKind, ResourceVisibility
from peerlearn.resources.storage import (
    CHUNK,
    UploadRequest,
    format_size,
    storage,
    streams_into_storage,
    too_large_message,
)
from peerlearn.spaces.models import Visibility

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


@bp.app_template_global("upload_attributes")
def upload_attributes() -> dict[str, str]:
    """The file input's hints to the browser (the server decides): the kinds of file to offer,
    and the size limit with what to say of a file over it, for static/js/uploads.js to refuse
    such a file as it is chosen, before a file far over it has the whole request refused."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    return {
        "accept": files.ACCEPT_ATTRIBUTE,
        "data-max-bytes": str(limit),
        "data-too-large": too_large_message(limit),
    }


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


# Sharing ----------------------------------------------------------------------------------------


def _sharer_key() -> str:
    return f"share:{getattr(current_user, 'id', request.remote_addr)}"


#: Sharing a file or a link and uploading a new version draw on one allowance per account, as
#: posting does: each send of either form counts, so one account cannot fill the storage or
#: keep the child processes that read files busy.
SHARING_LIMIT = "30 per hour;100 per day"
sharing_limit = limiter.shared_limit(
    SHARING_LIMIT, scope="library-sharing", key_func=_sharer_key, methods=["POST"]
)


@bp.route("/spaces/<slug>/library/new", methods=["GET", "POST"])
@streams_into_storage
@login_required
@sharing_limit
def new_resource(slug: str) -> str | Response:
    space = space_or_404(slug)
    authorize(Action.post, space)
    form = NewResourceForm(space=space, actor=current_user)
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
            resource = services.create_resource(current_user, space, form.draft(), form.upload())
        except RuleError as error:
            show_error(form, error)
        else:
            flash(f"{resource.title} has been added to the library.", "success")
            return redirect(url_for("resources.resource", resource_id=resource.id))
    return render_template("resources/new.html", space=space, form=form)


# The resource page ------------------------------------------------------------------------------


@bp.get("/resources/<int:resource_id>")
def resource(resource_id: int) -> str | Response:
    resource = db.get_or_404(Resource, resource_id)
    if not can(current_user, Action.view, resource):
        # An administrator kept from OFFICIAL-SENSITIVE material acts on reports about it.
        authorize_unseen(Action.moderate, resource)
        return render_template(
            "resources/withheld.html",
            resource=resource,
            space=resource.space,
            flags=resource_reports.open_resource_flags(resource),
        )
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
        settled = f"Members of {resource.space.name}"
    else:
        settled = ResourceVisibility(narrowest.value).label
    if resource.hidden:
        return (
            f"While it is hidden, only the moderators of {resource.space.name} and the person "
            f"who shared it (once restored: {settled[0].lower()}{settled[1:]})"
        )
    return settled


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
    form = ResourceForm(
        data=fields_of(resource) if request.method == "GET" else None,
        space=resource.space,
        actor=current_user,
        resource=resource,
    )
    if form.validate_on_submit():
        try:
            services.update_resource(current_user, resource, form.draft())
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
        form=case_study_form(resource, current_user),
        resource=resource,
    )


@bp.route("/resources/<int:resource_id>/versions/new", methods=["GET", "POST"])
@streams_into_storage
@login_required
@sharing_limit
def new_version(resource_id: int) -> str | Response:
    resource = visible_or_404(Resource, resource_id)
    authorize(Action.edit, resource)
    if resource.kind is not ResourceKind.file:
        abort(404)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            version = services.add_version(
                current_user,
                resource,
                form.upload(),
                form.change_note.data,
                pii_declared=bool(form.pii_declaration.data),
                submission_key=form.submission_key.data or None,
            )
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
    PDFs may be viewed in the browser (``?view=1``), inside a sandbox. Any other ``view`` (``0``,
    or a hand-edited value) is ignored, as the library's filters ignore values they do not
    offer: the file comes as an attachment."""
    resource = visible_or_404(Resource, resource_id)
    version = services.version_for(resource, number)
    if version is None or not version_downloadable(current_user, version):
        abort(404)  # a withdrawn version is not there, except to moderators
    try:
        content = storage().open(version.sha256)
    except FileNotFoundError:
        logger.error("stored file %s of resource %s is missing", version.sha256, resource.id)
        abort(404)
    file_type = files.ALLOWED.get(version.mime)
    inline = request.args.get("view") == "1" and file_type is not None and file_type.inline
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
    try:
        response = response.make_conditional(
            request, accept_ranges=True, complete_length=version.size
        )
        # Only a response that sends the file (or part of it: a resumed download) is a
        # download: not a HEAD request (a link checker, a download manager asking the size),
        # nor "not modified", nor a range that cannot be served (416, raised here).
        if request.method == "GET" and response.status_code in {200, 206}:
            services.record_download(signed_in(current_user), version)
    except BaseException:
        response.close()  # the file it would have sent: nobody else closes it now
        raise
    return response


# Removing ---------------------------------------------------------------------------------------


@bp.route("/resources/<int:resource_id>/delete", methods=["GET", "POST"])
@login_required
def delete_resource(resource_id: int) -> str | Response:
    resource = db.get_or_404(Resource, resource_id)
    # "Remove it" pressed again once it has gone (a double click) is answered, not "not found".
    again = request.method == "POST" and removal_shown_to(current_user, resource)
    if not again:
        authorize_unseen(Action.delete, resource)
        if request.method == "GET":
            return render_template("resources/delete.html", resource=resource, space=resource.space)
        again = not services.delete_resource(current_user, resource)  # someone was first
    if again:
        flash(f"{resource.title} has already been removed from the library.", "info")
    else:
        flash(f"{resource.title} has been removed from the library.", "success")
    return redirect(url_for("resources.space_library", slug=resource.space.slug))
