"""The one limit on reports: a person's reports of posts, library resources and live chat
messages draw on one allowance, so that reporting cannot be used to flood the moderators (or, with
reports that hide, to hide a space's content) however the reports are spread, over the plain forms
or the live chat's socket.

Both ways count through :func:`take_report`, against one key of the rate limiter's storage
(memory, or Redis across processes), so neither depends on how Flask-Limiter names its own."""

import functools
import math
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import current_app, request
from flask_login import current_user
from limits import parse

from peerlearn.core.errors import render_error
from peerlearn.extensions import limiter

#: How often one person may send a report, of posts, library resources and chat messages together.
REPORT_LIMIT = "20 per hour"
_ALLOWANCE = parse(REPORT_LIMIT)
REPORTS_AN_HOUR = _ALLOWANCE.amount

P = ParamSpec("P")
R = TypeVar("R")


def _identifiers() -> tuple[str, ...]:
    """The allowance's key: the app's rate-limit prefix (apps sharing one Redis), and who."""
    who = str(getattr(current_user, "id", None) or request.remote_addr)
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "peerlearn", "reports", who)


def take_report() -> int | None:
    """Count a report by the current user against the allowance. None when it is within it;
    otherwise (nothing counted) in how many seconds it has room again."""
    if not limiter.enabled:
        return None
    strategy = limiter.limiter
    if strategy.hit(_ALLOWANCE, *_identifiers()):
        return None
    reset_at, _ = strategy.get_window_stats(_ALLOWANCE, *_identifiers())
    return max(1, math.ceil(reset_at - time.time()))


def over_allowance(wait: int) -> str:
    """What a reporter over the allowance is told, whichever way they reported."""
    minutes = math.ceil(wait / 60)
    return (
        f"You can make up to {REPORTS_AN_HOUR} reports an hour, and have made them all: "
        f"you can report again in {minutes} minute{'s' if minutes != 1 else ''}"
    )


def report_limit(view: Callable[P, R]) -> Callable[P, R | tuple[str, int, dict[str, str]]]:
    """The decorator for every view that takes a report: each POST counts (one refused as
    already made too: it is still a report sent), and one over the allowance gets the "Too many
    attempts" page saying when they may report again."""

    @functools.wraps(view)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R | tuple[str, int, dict[str, str]]:
        if request.method == "POST":
            wait = take_report()
            if wait is not None:
                page, status = render_error(429, over_allowance(wait) + ".")
                return page, status, {"Retry-After": str(wait)}
        return view(*args, **kwargs)

    return limited
