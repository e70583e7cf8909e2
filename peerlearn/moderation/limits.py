"""The one limit on reports: a person's reports of posts, library resources and live chat
messages draw on one allowance, so that reporting cannot be used to flood the moderators (or, with
reports that hide, to hide a space's content) however the reports are spread, over the plain forms
or the live chat's socket.

Both ways count a report through :func:`take_report` once it is valid, against one allowance of
the rate limiter's storage (:mod:`peerlearn.core.allowances`: memory, or Redis across
processes), so neither depends on how Flask-Limiter names its own."""

from flask import request
from flask_login import current_user
from limits import parse

from peerlearn.core import allowances
from peerlearn.core.errors import too_many, waiting_time

#: How often one person may send a report, of posts, library resources and chat messages together.
REPORT_LIMIT = "20 per hour"
_ALLOWANCE = parse(REPORT_LIMIT)
REPORTS_AN_HOUR = _ALLOWANCE.amount


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


def refused_over_allowance() -> tuple[str, int, dict[str, str]] | None:
    """Count a report sent from a form, once the form is valid, against the allowance: as the
    socket does, a report refused for what it said (no reason, or something else with no note)
    is not counted, and one refused as already made still is (it is still a report sent). None
    when it is within the allowance; otherwise the "Too many attempts" page saying when they may
    report again."""
    wait = take_report()
    return None if wait is None else too_many(wait, over_allowance(wait) + ".")
