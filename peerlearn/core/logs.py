"""Logging to stderr: one line per request (method, path, status, duration), never a secret.

Paths whose route carries a token (e-mail confirmation, password reset, unsubscribe) are logged
with the token replaced, and the development server's own access log, which would print it, is
silenced in favour of this one.
"""

import logging
import sys
import time

from flask import Flask, Response, g, request

logger = logging.getLogger("peerlearn.request")

#: Route arguments whose values are secrets and must never reach a log line.
SECRET_VIEW_ARGS = frozenset({"token"})  # e-mailed links, unsubscribe, calendar feeds


class _DropWerkzeugAccessLog(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return '] "%s" %s %s' not in str(record.msg)


def loggable_path() -> str:
    """The request path with secret route arguments redacted."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SECRET_VIEW_ARGS and isinstance(value, str) and value:
            path = path.replace(value, "[redacted]")
    return path


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    logger.info(
        "%s %s %s %.1fms", request.method, loggable_path(), response.status_code, duration_ms
    )
    return response


def init_app(app: Flask) -> None:
    """Send logs to stderr at ``LOG_LEVEL`` and log every request once."""
    root = logging.getLogger()
    if not any(getattr(h, "_peerlearn", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._peerlearn = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger("peerlearn").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _DropWerkzeugAccessLog) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(_DropWerkzeugAccessLog())
    app.before_request(_start_timer)
    app.after_request(_log_request)
