"""The one way to paginate: ``paginate(select)`` reads ``?page=`` safely and returns a page."""

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from peerlearn.extensions import db

PER_PAGE = 25


def current_page() -> int:
    """The ``page`` query argument, or 1 when it is missing or nonsense."""
    raw = request.args.get("page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isascii() and raw.isdigit() else 1


def paginate(query: Select[Any], per_page: int = PER_PAGE) -> Pagination:
    """One page of ``query``'s results (an empty page past the end, never an error)."""
    return db.paginate(query, page=current_page(), per_page=per_page, error_out=False, count=True)
