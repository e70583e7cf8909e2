"""Template filters and globals shared by every page."""

from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask_login import current_user
from jinja2.runtime import Macro
from markupsafe import Markup

from peerlearn.core.cache import fragment
from peerlearn.core.text import email_html, user_html

#: Everyone using peerlearn is in England: times are stored in UTC and shown in London time.
LONDON = ZoneInfo("Europe/London")


def local_time(value: datetime | None, fmt: str = "%-d %B %Y, %H:%M") -> str:
    """A UTC timestamp shown in Europe/London time."""
    if value is None:
        return ""
    return value.astimezone(LONDON).strftime(fmt)


def local_end(ends: datetime, starts: datetime) -> str:
    """When something that began at ``starts`` ends, in London time, as read after its start:
    15:30 on the same day; midnight at the end of that day (00:00 would read as its start); or
    with its date when it ends on a later day (at midnight: at the end of the day before)."""
    start, end = starts.astimezone(LONDON), ends.astimezone(LONDON)
    if end.date() == start.date():
        return f"{end:%H:%M}"
    if end.time() == time(0, 0):
        if end.date() == start.date() + timedelta(days=1):
            return "midnight"
        # Midnight at the end of the last day, as its end date was entered (not the next day's).
        return f"midnight at the end of {end - timedelta(days=1):%A %-d %B %Y}"
    return f"{end:%A %-d %B %Y, %H:%M}"


def iso_time(value: datetime | None) -> str:
    """A machine-readable timestamp for ``<time datetime=…>``."""
    return value.isoformat() if value is not None else ""


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, … 21st, 22nd, …"""
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def query_with(**changes: object) -> str:
    """The current query string with some arguments changed (for pagination links)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return "?" + urlencode(args) if args else "?"


def cached_macro(kind: str, macro: Macro, params: dict[str, object]) -> Markup:
    """``macro(params)`` through the fragment cache, keyed by the parameters themselves.

    For NHS.UK component macros imported without context: their output depends on ``params``
    alone, so equal parameters (the same links, names and counts) mean the same HTML.
    """
    return fragment(kind, (repr(params),), lambda: macro(params))


def email_html_filter(stored_html: str | None) -> Markup:
    """Stored, sanitised HTML for an e-mail, its links to the site's pages made absolute."""
    return email_html(stored_html, current_app.config["PEERLEARN_BASE_URL"])


def init_app(app: Flask) -> None:
    """Register filters and globals."""
    from peerlearn.permissions import can

    app.jinja_env.filters["user_html"] = user_html
    app.jinja_env.filters["email_html"] = email_html_filter
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_end"] = local_end
    app.jinja_env.filters["iso_time"] = iso_time
    app.jinja_env.filters["ordinal"] = ordinal
    app.jinja_env.globals["query_with"] = query_with
    app.jinja_env.globals["cached_macro"] = cached_macro

    def can_in_template(action: str, target: object) -> bool:
        # The real user, not Flask-Login's proxy: a page asks hundreds of times.
        return can(current_user._get_current_object(), action, target)  # type: ignore[attr-defined]

    app.jinja_env.globals["can"] = can_in_template
