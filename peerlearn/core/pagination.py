"""The one way to paginate: ``paginate(select)`` reads ``?page=`` safely and returns a page."""

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from peerlearn.extensions import db

PER_PAGE = 25


def current_page(arg: str = "page") -> int:
    """The page number in query argument ``arg``, or 1 when it is missing or nonsense."""
    raw = request.args.get(arg, "1")
    return max(1, min(int(raw), 100_000)) if raw.isascii() and raw.isdigit() else 1


def paginate(
    query: Select[Any], per_page: int = PER_PAGE, arg: str = "page", total: int | None = None
) -> Pagination:
    """One page of ``query``'s results (an empty page past the end, never an error). A page with
    two lists pages each by its own query argument ``arg``. ``total``, when the page has counted
    the rows already, saves counting them again."""
    page = db.paginate(
        query, page=current_page(arg), per_page=per_page, error_out=False, count=total is None
    )
    if total is not None:
        page.total = total
    return page
