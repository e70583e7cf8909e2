"""The one limit on reports: a person's reports of posts, library resources and live chat
messages draw on one allowance, so that reporting cannot be used to flood the moderators (or, with
reports that hide, to hide a space's content) however the reports are spread, over the plain forms
or the live chat's socket."""

import math
import time

from flask import current_app, request
from flask_login import current_user
from limits import parse

from peerlearn.extensions import limiter

#: How often one person may send a report, of posts, library resources and chat messages together.
REPORT_LIMIT = "20 per hour"
#: The name of the one allowance (Flask-Limiter's scope of a shared limit).
REPORT_SCOPE = "reports"


def _reporter_key() -> str:
    return f"report:{getattr(current_user, 'id', request.remote_addr)}"


#: The decorator for every view that takes a report (its POSTs count).
report_limit = limiter.shared_limit(
    REPORT_LIMIT, scope=REPORT_SCOPE, key_func=_reporter_key, methods=["POST"]
)


def take_report() -> int | None:
    """Count a report by the current user that does not come through a view (the live chat's
    ``report_message``) against :data:`report_limit`'s allowance. Returns None when it is within
    the allowance, or else in how many seconds the allowance has room again.

    It is counted under the very storage key Flask-Limiter gives the shared limit (the
    application's key prefix, the reporter's key, the scope), so the forms and the socket draw on
    one count (tests/events/test_chat_reports.py mixes them)."""
    if not limiter.enabled:
        return None
    item = parse(REPORT_LIMIT)
    keys = [_reporter_key(), REPORT_SCOPE]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    if prefix:
        keys.insert(0, prefix)
    if limiter.limiter.hit(item, *keys):
        return None
    reset_at, _ = limiter.limiter.get_window_stats(item, *keys)
    return max(1, math.ceil(reset_at - time.time()))
