"""The one limit on reports: a person's reports of posts, library resources and live chat
messages draw on one allowance, so that reporting cannot be used to flood the moderators (or, with
reports that hide, to hide a space's content) however the reports are spread, over the plain forms
or the live chat's socket.

Both ways count through :func:`take_report`, against one allowance of the rate limiter's storage
(:mod:`peerlearn.core.allowances`: memory, or Redis across processes), so neither depends on how
Flask-Limiter names its own."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import request
from flask_login import current_user
from limits import parse

from peerlearn.core import allowances
from peerlearn.core.errors import too_many, waiting_time

#: How often one person may send a report, of posts, library resources and chat messages together.
REPORT_LIMIT = "20 per hour"
_ALLOWANCE = parse(REPORT_LIMIT)
REPORTS_AN_HOUR = _ALLOWANCE.amount

P = ParamSpec("P")
R = TypeVar("R")


def take_report() -> int | None:
    """Count a report by the current user against the allowance. None when it is within it;
    otherwise (nothing counted) in how many seconds it has room again."""
    who = str(getattr(current_user, "id", None) or request.remote_addr)
    return allowances.take(_ALLOWANCE, "reports", who)


def over_allowance(wait: int) -> str:
    """What a reporter over the allowance is told, whichever way they reported."""
    return (
        f"You can make up to {REPORTS_AN_HOUR} reports an hour, and have made them all: "
        f"you can report again in {waiting_time(wait)}"
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
                return too_many(wait, over_allowance(wait) + ".")
        return view(*args, **kwargs)

    return limited
