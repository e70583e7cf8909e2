"""Error pages that say what happened in plain words and never show a traceback."""

import math
import time

from flask import Flask, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from peerlearn.extensions import db, limiter


class RuleError(ValueError):
    """A service refused something a person asked for; ``message`` says why in their words and
    ``field`` names the form field it belongs beside (None for the whole form). Each feature
    raises its own subclass."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


#: Plain-English titles and explanations for the errors a reader may meet.
MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        "Something was wrong with that request",
        "Go back, check what you entered and try again.",
    ),
    403: (
        "You do not have permission to do that",
        "If you think you should, ask the space's moderators or a network administrator.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address.",
    ),
    405: ("That action is not allowed here", "Go back and use the page's own buttons and links."),
    413: (
        "That was too large",
        "The file or text you sent is larger than peerlearn accepts. Make it smaller and try again.",
    ),
    429: (
        "Too many attempts",
        "You have tried that too many times. Wait a few minutes before trying again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you entered has been saved half-way.",
    ),
    503: ("Sorry, the service is unavailable", "Try again later."),
}


#: Fields of text a person writes (a post's title and body, a description of a space, event or
#: resource and its summary, a report's note to the moderators, a message or question sent from
#: an event's plain chat forms), given back to copy on the error page of a form refused before it
#: was read (posting or reporting too fast, a form that had expired, a writer banned, or a space
#: archived, since the page was loaded): the page they wrote on let its draft go when the form
#: was sent.
KEPT_FIELDS = (
    ("title", "Title"),
    ("summary", "Summary"),
    ("body", "Your text"),
    ("description", "Description"),
    ("note", "Your note"),
    ("message-body", "Your message"),
    ("question-body", "Your question"),
)


def _typed(code: int) -> list[tuple[str, str, str]]:
    """What the refused form carried in :data:`KEPT_FIELDS`, as (name, label, text)."""
    if code not in {400, 403, 404, 429} or request.method != "POST":
        return []
    try:
        form = request.form
    except HTTPException:  # a body that cannot be read gives nothing back
        return []
    return [(name, label, form[name]) for name, label in KEPT_FIELDS if form.get(name, "").strip()]


def render_error(code: int, message: str | None = None) -> tuple[str, int]:
    """The error page for a status code, with an optional specific explanation.

    Whatever the request left unsaved is dropped first: after a failed statement the
    transaction refuses every other (PostgreSQL; after a failed flush, SQLite too), and the page
    itself reads the database (the signed-in header's counts)."""
    db.session.rollback()
    title, default = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    return render_template(
        "errors/error.html", code=code, title=title, message=message or default,
        typed=_typed(code),
    ), code  # fmt: skip


def waiting_time(seconds: int) -> str:
    """How long someone must wait, as people say it: "a minute", "12 minutes", "about an hour",
    "about 3 hours"."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return "a minute"
    if minutes < 50:
        return f"{minutes} minutes"
    hours = round(minutes / 60) or 1
    return "about an hour" if hours == 1 else f"about {hours} hours"


def too_many(wait: int, message: str | None = None) -> tuple[str, int, dict[str, str]]:
    """The "Too many attempts" page (429), saying when to try again (in words unless
    ``message`` says it, and in ``Retry-After``)."""
    page, code = render_error(
        429, message or f"You have tried that too many times. Try again in {waiting_time(wait)}."
    )
    return page, code, {"Retry-After": str(wait)}


def _handle_http(error: HTTPException) -> tuple[str, int] | HTTPException:
    if error.code is None or error.code < 400:
        return error
    if isinstance(error, RateLimitExceeded):
        # Flask-Limiter's limit on the view (registration, password changes, …): its reset time
        # says how long, and the limiter adds its Retry-After to this page.
        reached = limiter.current_limit
        if reached is not None:
            wait = max(1, math.ceil(reached.reset_at - time.time()))
            return too_many(wait)[:2]
    return render_error(error.code)


def _handle_csrf(error: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        "The form could not be accepted because it had expired or did not come from this site. "
        "Go back, reload the page and try again.",
    )


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, _handle_csrf)
    # Unhandled exceptions reach this as InternalServerError, after Flask has logged the traceback.
    app.register_error_handler(HTTPException, _handle_http)
