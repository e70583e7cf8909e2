"""The one limit on reports: a person's reports of posts and of library resources draw on one
allowance, so that reporting cannot be used to flood the moderators (or, with reports that hide,
to hide a space's content) however the reports are spread."""

from flask import request
from flask_login import current_user

from peerlearn.extensions import limiter

#: How often one person may send a report, of posts and library resources together.
REPORT_LIMIT = "20 per hour"


def _reporter_key() -> str:
    return f"report:{getattr(current_user, 'id', request.remote_addr)}"


#: The decorator for every view that takes a report (its POSTs count).
report_limit = limiter.shared_limit(
    REPORT_LIMIT, scope="reports", key_func=_reporter_key, methods=["POST"]
)
