"""Browsing the library: the network-wide and per-space lists, saved resources, "we're using
this", the linked discussion, and the help page."""

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from peerlearn.core.errors import RuleError
from peerlearn.core.pagination import paginate
from peerlearn.core.security import is_safe_redirect
from peerlearn.discussions.models import ImpactComponent
from peerlearn.permissions import Action, authorize, can, space_or_404, visible_or_404
from peerlearn.resources import bp, browsing, engagement
from peerlearn.resources.browse_forms import LibraryFilterForm
from peerlearn.resources.models import Licence, QmsElement, Resource, ResourceType
from peerlearn.spaces.models import Space
from peerlearn.spaces.services import readable_spaces

#: Resources on one page of a library list.
PER_PAGE = 20


def _list_page(template: str, space: Space | None = None, **context: object) -> str:
    """A library list: the filter form from the query string, one page of what the reader may
    see, and the counts shown beside each resource."""
    form = LibraryFilterForm(request.args)
    spaces = None if space is not None else readable_spaces(current_user)
    form.fill_choices(spaces)
    chosen = form.filters(spaces)
    filters = chosen
    if space is not None:
        filters = browsing.LibraryFilters(**{**chosen.__dict__, "space_id": space.id})
    page = paginate(browsing.library_query(current_user, filters), per_page=PER_PAGE)
    return render_template(
        template,
        form=form,
        narrowed=chosen.narrowed,  # by the reader's own filters, not the page's space
        page=page,
        counts=browsing.counts_for(current_user, page.items),
        space=space,
        unseen_space=form.unseen_space(spaces),
        **context,
    )


@bp.get("/library")
def library() -> str:
    return _list_page("resources/library.html")


@bp.get("/spaces/<slug>/library")
def space_library(slug: str) -> str:
    space = space_or_404(slug)
    return _list_page("resources/space_library.html", space=space)


@bp.get("/library/saved")
@login_required
def saved() -> str:
    page = paginate(browsing.saved_query(current_user), per_page=PER_PAGE)
    return render_template(
        "resources/saved.html", page=page, counts=browsing.counts_for(current_user, page.items)
    )


def _back_to(resource: Resource) -> Response:
    """Back where the button was pressed (a list or the resource page), never off the site."""
    target = request.form.get("next")
    if is_safe_redirect(target):
        return redirect(target)  # type: ignore[arg-type]
    return redirect(url_for("resources.resource", resource_id=resource.id))


def _mark(
    resource_id: int, name: str, setter: Callable[..., None], said: tuple[str, str]
) -> Response:
    """Set or clear one of the member's marks on a resource (``name=yes`` or ``no`` in the
    form), tell them, and go back where they were."""
    resource = visible_or_404(Resource, resource_id)
    wanted = request.form.get(name) != "no"
    try:
        setter(current_user, resource, wanted)
    except RuleError as error:
        flash(error.message, "error")
    else:
        flash(said[0 if wanted else 1].format(title=resource.title), "success")
    return _back_to(resource)


@bp.post("/resources/<int:resource_id>/save")
@login_required
def save(resource_id: int) -> Response:
    return _mark(resource_id, "saved", engagement.set_saved, (
        "Saved “{title}” to your saved resources.",
        "Removed “{title}” from your saved resources.",
    ))  # fmt: skip


@bp.post("/resources/<int:resource_id>/using")
@login_required
def using(resource_id: int) -> Response:
    return _mark(resource_id, "using", engagement.set_using, (
        "Thank you: your organisation is counted as using this resource.",
        "You no longer say your organisation is using this resource.",
    ))  # fmt: skip


@bp.post("/resources/<int:resource_id>/discuss")
@login_required
def discuss(resource_id: int) -> Response:
    resource = visible_or_404(Resource, resource_id)
    if resource.discussion_thread_id is None:
        authorize(Action.post, resource.space)
        if not engagement.can_be_discussed(resource):
            abort(403)
    thread = engagement.discussion_for(current_user, resource)
    if not can(current_user, Action.view, thread):
        abort(403)
    return redirect(url_for("discussions.thread", thread_id=thread.id))


@bp.app_template_global("resource_impact")
def resource_impact(resource: Resource) -> engagement.Impact:
    """For ``templates/resources/_impact.html``: the resource's use and the reader's marks."""
    return engagement.impact_of(current_user._get_current_object(), resource)  # type: ignore[attr-defined]


@bp.get("/help/library")
def help_page() -> str:
    return render_template(
        "resources/help.html",
        components=list(ImpactComponent),
        qms_elements=list(QmsElement),
        types=list(ResourceType),
        licences=list(Licence),
        licence_meanings=LICENCE_MEANINGS,
    )


#: What each licence lets others do, in plain words, for the help page.
LICENCE_MEANINGS = {
    Licence.ogl_3.value: "Anyone may copy, adapt and publish it, including commercially, as "
    "long as they say where it came from. The usual licence for material NHS bodies publish.",
    Licence.cc_by_4.value: "Anyone may copy, adapt and share it for any purpose, including "
    "commercially, as long as they credit the original and say what they changed.",
    Licence.cc_by_nc_4.value: "Anyone may copy, adapt and share it with credit, but not for "
    "commercial purposes: fine for another NHS organisation, not for a consultancy's product.",
    Licence.members_only.value: "Network members may use and adapt it in their own "
    "organisations, but must not pass it on or publish it outside the network.",
}
