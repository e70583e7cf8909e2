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
    """One page of ``query``'s results, never an error: past the end (an address kept from when
    there were more, say), the last page, rather than an empty one saying there is nothing. A
    page with two lists pages each by its own query argument ``arg``. ``total``, when the page
    has counted the rows already, saves counting them again."""
    number = current_page(arg)
    page = db.paginate(query, page=number, per_page=per_page, error_out=False, count=total is None)
    if total is not None:
        page.total = total
    if number > 1 and not page.items and page.total:
        counted = page.total
        page = db.paginate(query, page=page.pages, per_page=per_page, error_out=False, count=False)
        page.total = counted
    return page
