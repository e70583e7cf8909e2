"""Work that follows a committed write but need not hold up its answer: e-mail, for now.

:func:`after_response` runs a task once the response has gone to the browser (through the WSGI
response's close hook, which :class:`Response` calls once the server has taken the last byte of
the body, or when the server closes it, whichever comes first), so a slow or absent mail server
never slows down or fails the page that caused the e-mail. Outside a page request
(a socket event, a command, a test's direct service call) it runs at once. Either way a failure
is logged, never raised: the write it follows is already committed and answered, and whatever
the task did not finish is left for its own catch-up (for e-mail, ``flask send-digests``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import flask
from flask import after_this_request, current_app, has_request_context, request
from werkzeug.wsgi import ClosingIterator

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
        def attach(response: flask.Response) -> flask.Response:
            response.call_on_close(run)
            return response

    else:
        run()


class Response(flask.Response):
    """The app's response class: closed (its ``call_on_close`` hooks run) as soon as the server
    has taken the whole body, as well as when the server closes it, and only once.

    PEP 3333 has the server close every response, but Werkzeug's development server (the
    embedded default's) reads what is left on the socket first and skips the close when that
    read fails: after a form's redirect, Chromium often resets the connection, and an e-mail
    waiting for the close was never sent. A body passed straight to the server (a download's
    file wrapper, which gunicorn sends with ``sendfile``) is left as it was."""

    def get_app_iter(self, environ: Any) -> Any:
        body = super().get_app_iter(environ)
        return _ClosedWhenDone(body) if isinstance(body, ClosingIterator) else body


class _ClosedWhenDone(Iterator[bytes]):
    """A response body that closes itself after its last chunk, and closes once."""

    def __init__(self, body: ClosingIterator) -> None:
        self._body = body
        self._closed = False

    def __next__(self) -> bytes:
        try:
            return next(self._body)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._body.close()
