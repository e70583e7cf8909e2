"""Search pages: results at ``/search?q=…`` (works without JavaScript) and ``/help/search``."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from peerlearn.core.pagination import current_page
from peerlearn.search import services
from peerlearn.search.forms import SearchForm
from peerlearn.search.models import Kind
from peerlearn.search.query import MAX_LENGTH
from peerlearn.spaces.services import readable_spaces

bp = Blueprint("search", __name__)
#: The header's search box, on every page, is as long as the results page's (``base.html``).
bp.add_app_template_global(MAX_LENGTH, "search_max_length")


@bp.get("/search")
def index() -> str:
    form = SearchForm(request.args)
    form.set_spaces(readable_spaces(current_user))
    form.validate()
    results = None
    if form.query_text().strip():
        results = services.search(
            current_user._get_current_object(),  # type: ignore[attr-defined]
            form.query_text(),
            form.filters(),
            page=current_page(),
        )
    return render_template("search/results.html", form=form, results=results, kinds=list(Kind))


@bp.get("/help/search")
def help_page() -> str:
    return render_template("search/help.html")
