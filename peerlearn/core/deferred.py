"""Work that follows a committed write but need not hold up its answer: e-mail, for now.

:func:`after_response` runs a task once the response has gone to the browser (through the WSGI
response's close hook: the server calls it after the last byte is written), so a slow or absent
mail server never slows down or fails the page that caused the e-mail. Outside a page request
(a socket event, a command, a test's direct service call) it runs at once. Either way a failure
is logged, never raised: the write it follows is already committed and answered, and whatever
the task did not finish is left for its own catch-up (for e-mail, ``flask send-digests``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import after_this_request, current_app, has_request_context, request
from werkzeug.wrappers import Response

logger = logging.getLogger(__name__)


def after_response(task: Callable[[], None], what: str) -> None:
    """Run ``task`` in an app context after this request's response is sent, or now outside a
    page request; ``what`` names it in the log if it fails."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                task()
            except Exception:
                logger.exception("%s failed", what)

    # A Socket.IO event also runs in a request context (with a ``sid``), but has no response.
    if has_request_context() and getattr(request, "sid", None) is None:

        @after_this_request
        def attach(response: Response) -> Response:
            response.call_on_close(run)
            return response

    else:
        run()
