"""Response hardening for every request: CSP with per-request nonces and the other security headers,
the check that keeps ``next=`` redirects on this site, and the refusal of NUL characters."""

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

from peerlearn.core.errors import render_error


def csp_nonce() -> str:
    """The current request's script nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    """The policy: our own origin only, scripts only with this request's nonce, never framed."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def is_safe_redirect(target: str | None) -> bool:
    """True for a path on this site (``/spaces``), false for anything that could leave it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def refuse_nul_characters() -> tuple[str, int] | None:
    """Refuse (400) a request whose address, query string or form holds a NUL character. No
    page sends one, and PostgreSQL can neither store nor compare text containing it: the
    statement fails, and the reader would get a 500 for a search or a form."""
    texts = [request.path]
    for values in (request.args, request.form):
        for key, items in values.lists():
            texts += [key, *items]
    if any("\x00" in text for text in texts):
        return render_error(
            400, "The request contained a character that cannot be used (a NUL character)."
        )
    return None


def set_security_headers(response: Response) -> Response:
    """Add the security headers to every response, error pages included."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    # Production is always https (config.check insists on an https:// base URL), even when the
    # app sees plain http from a TLS-terminating proxy it was not told about; browsers ignore
    # the header over plain http, so sending it there costs nothing.
    if request.is_secure or current_app.config["PEERLEARN_ENV"] == "production":
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if current_user and current_user.is_authenticated and "Cache-Control" not in headers:
        # Pages for a signed-in reader are private: never kept by shared or back-button caches.
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the hooks and the ``csp_nonce`` template global."""
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
