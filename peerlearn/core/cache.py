"""Caching of rendered page fragments and short-lived values (Flask-Caching).

In-process (``SimpleCache``) by default; shared through Redis when ``REDIS_URL`` is set. Two
kinds of entry, with different rules:

- **Fragments** (:func:`fragment`): a piece of HTML keyed by *everything it is made from* (the
  caller passes every value the template reads, the viewer's rights included). A changed post,
  name or right makes a different key, so an entry can never be stale, and one viewer's entry is
  only ever served to a viewer whose key is identical, i.e. who would see exactly the same HTML.
  Keys also carry a digest of the templates, so a deployment never serves old markup. Nothing in
  a key comes from the request itself (no header, argument or cookie).
- **Short-lived values** (:func:`remember`): a value kept for a few seconds and deleted
  (:func:`forget`) when the code that changes it runs. With several processes and no Redis, a
  delete reaches only its own process, so the others may lag by the timeout at most.

CSRF tokens are per session: a fragment is rendered with a placeholder in their place, and the
current request's token is put back on the way out.
"""

import hashlib
import hmac
from collections.abc import Callable, Hashable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from peerlearn.extensions import cache

#: Seconds a rendered fragment is kept (its key already makes it exact; this only bounds memory).
FRAGMENT_TIMEOUT = 600


def init_app(app: Flask) -> None:
    """Bind the cache: Redis when the app has one, otherwise in this process."""
    redis_url = app.config.get("REDIS_URL")
    defaults: dict[str, Any] = {
        "CACHE_TYPE": "RedisCache" if redis_url else "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": FRAGMENT_TIMEOUT,
        "CACHE_KEY_PREFIX": "peerlearn:",
        "CACHE_THRESHOLD": 5_000,  # SimpleCache: entries kept; once full, each new one drops the oldest
    }
    if redis_url:
        defaults["CACHE_REDIS_URL"] = redis_url
    for name, value in defaults.items():
        app.config.setdefault(name, value)
    cache.init_app(app)
    templates = Path(app.template_folder or "templates")
    digest = hashlib.blake2b(version("nhsuk-frontend-jinja").encode(), digest_size=8)
    for path in sorted(templates.rglob("*.html")):
        digest.update(path.read_bytes())
    app.extensions["peerlearn_fragments"] = {
        "templates": digest.hexdigest(),
        # Unguessable, and the same in every process of one deployment (Redis is shared).
        "csrf_placeholder": "plcsrf"
        + hmac.new(app.secret_key.encode(), b"fragment csrf", "sha256").hexdigest()[:24],  # type: ignore[union-attr]
    }


def _settings() -> dict[str, str]:
    return current_app.extensions["peerlearn_fragments"]


def fragment_key(kind: str, parts: tuple[Hashable, ...]) -> str:
    """The cache key of a fragment: its kind, the templates' digest and a digest of ``parts``."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    return f"fragment:{kind}:{_settings()['templates']}:{digest}"


def fragment(kind: str, parts: tuple[Hashable, ...], render: Callable[[], str]) -> Markup:
    """The HTML ``render()`` makes, from the cache when ``parts`` were rendered before.

    ``parts`` must hold every value ``render`` reads (ids and versions of the records shown, the
    viewer's rights on them): that is what makes the entry exact.
    """
    key = fragment_key(kind, parts)
    html = cache.get(key)
    if html is None:
        html = _render_with_placeholder(render)
        nonce = g.get("csp_nonce")
        if not nonce or nonce not in html:  # a script nonce is this response's alone
            cache.set(key, html, timeout=FRAGMENT_TIMEOUT)
    placeholder = _settings()["csrf_placeholder"]
    if placeholder in html:
        html = html.replace(placeholder, generate_csrf())
    return Markup(html)  # noqa: S704 - HTML our own templates rendered (user text already sanitised)


def _render_with_placeholder(render: Callable[[], str]) -> str:
    # Flask-WTF keeps the request's signed token in g.csrf_token and returns it on every call.
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    missing = object()
    token = g.get(field, missing)
    setattr(g, field, _settings()["csrf_placeholder"])
    try:
        return str(render())
    finally:
        if token is missing:
            g.pop(field, None)
        else:
            setattr(g, field, token)


def remember(key: str, timeout: int, compute: Callable[[], Any]) -> Any:
    """A short-lived value: ``compute()``, kept ``timeout`` seconds or until :func:`forget`."""
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=timeout)
    return value


def forget(*keys: str) -> None:
    """Drop short-lived values whose source just changed."""
    cache.delete_many(*keys)
