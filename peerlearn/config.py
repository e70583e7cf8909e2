"""Configuration read from environment variables, with safe defaults for the embedded run.

Every variable is listed in the README. The embedded default needs nothing: SQLite and uploads under
the instance folder, e-mail written to an outbox folder, one process. ``PEERLEARN_ENV=production``
turns on the hardened settings and refuses to start with a missing or default secret.
"""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

#: The demo accounts' password when ``PEERLEARN_DEMO_PASSWORD`` is unset (documented in the README).
DEFAULT_DEMO_PASSWORD = "improve-together-2026"  # noqa: S105 - documented demo value, refused in production

_PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "dev", "secret", "development"}

#: Socket.IO async modes peerlearn runs on (docs/live-chat-production.md): ``threading`` for the
#: embedded ``flask run``, ``gevent`` under ``gunicorn -k gevent``. eventlet is deprecated upstream
#: and psycopg 3 does not support it.
ASYNC_MODES = ("threading", "gevent")


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'peerlearn.db'}"
    return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def gevent_patched() -> bool:
    """Whether this process runs on gevent (its worker monkey-patched the standard library)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("socket"))


def _async_mode() -> str:
    """``PEERLEARN_ASYNC_MODE``, or the server's own: gevent under a gevent worker, else threading.

    Never guessed from what is installed (Flask-SocketIO would pick gevent whenever it can be
    imported, which breaks ``flask run``)."""
    chosen = os.environ.get("PEERLEARN_ASYNC_MODE", "").strip().lower()
    return chosen or ("gevent" if gevent_patched() else "threading")


def _development_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder, so development sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def from_environment(instance_path: Path) -> dict[str, Any]:
    """Build the app's settings from the environment."""
    env = os.environ.get("PEERLEARN_ENV", "development").strip().lower() or "development"
    production = env == "production"
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    upload_mb = int(os.environ.get("PEERLEARN_UPLOAD_MAX_MB", "25"))
    # The request may be a little larger than the file (the form's other fields): a file just
    # over the limit then reaches the form, which says so beside the field with the rest kept.
    request_mb = int(os.environ.get("PEERLEARN_MAX_REQUEST_MB") or upload_mb + 1)
    secret = os.environ.get("SECRET_KEY", "").strip()
    if not secret and not production:
        secret = _development_secret(instance_path)
    return {
        "PEERLEARN_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "SOCKETIO_ASYNC_MODE": _async_mode(),
        "SOCKETIO_CHANNEL": os.environ.get("PEERLEARN_SOCKETIO_CHANNEL", "").strip() or None,
        # Uploaded files live outside static/: they are only ever served through the library's
        # download views, which ask the permission policy.
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(instance_path / "uploads"),
        "PEERLEARN_BASE_URL": (
            os.environ.get("PEERLEARN_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        ),
        "PEERLEARN_DEMO_PASSWORD": os.environ.get("PEERLEARN_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD),
        "PEERLEARN_PROXY_COUNT": int(os.environ.get("PEERLEARN_PROXY_COUNT", "0")),
        # Mail: SMTP when MAIL_SERVER is set, otherwise console and outbox folder.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", True),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL", False),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "peerlearn <no-reply@peerlearn.example>"
        ),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR") or str(instance_path / "outbox"),
        # Sessions and cookies.
        "SESSION_COOKIE_NAME": "__Host-peerlearn" if production else "peerlearn_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_NAME": "__Host-peerlearn_remember" if production else "peerlearn_remember",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Forms and limits.
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": max(request_mb, upload_mb) * 1024 * 1024,
        #: Largest file the library accepts, in bytes.
        "UPLOAD_MAX_BYTES": upload_mb * 1024 * 1024,
        #: Largest image the library accepts, in pixels (width × height), before re-encoding:
        #: 25 megapixels holds a 24-megapixel camera's 6,000 × 4,000 photo and any chart or
        #: scanned page, and keeps re-encoding within a few seconds and inside the child
        #: process's 1 GB memory limit (peerlearn/resources/extraction.py: a noisy
        #: 25-megapixel WebP needs about 650 MB).
        "UPLOAD_MAX_PIXELS": int(os.environ.get("PEERLEARN_UPLOAD_MAX_PIXELS", "25000000")),
        #: Seconds the child process may take to re-encode an image before it is stopped and the
        #: image refused (a 25-megapixel one takes a few).
        "UPLOAD_IMAGE_TIMEOUT": float(os.environ.get("PEERLEARN_UPLOAD_IMAGE_TIMEOUT", "30")),
        # Search reads the words of uploaded documents up to this size, in a child process
        # stopped after this many seconds (peerlearn/resources/extraction.py).
        "EXTRACTION_MAX_BYTES": 10 * 1024 * 1024,
        "EXTRACTION_TIMEOUT": float(os.environ.get("PEERLEARN_EXTRACTION_TIMEOUT", "10")),
        # The live chat: its time window around each event, and how often a room is told who
        # is present (peerlearn/events/sockets.py, PresenceAnnouncer).
        "PEERLEARN_CHAT_OPENS_MINUTES": int(os.environ.get("PEERLEARN_CHAT_OPENS_MINUTES", "30")),
        "PEERLEARN_CHAT_CLOSES_MINUTES": int(os.environ.get("PEERLEARN_CHAT_CLOSES_MINUTES", "30")),
        "PEERLEARN_PRESENCE_INTERVAL": float(os.environ.get("PEERLEARN_PRESENCE_INTERVAL", "1")),
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
    }


def check(config: dict[str, Any]) -> None:
    """Refuse settings that are unsafe for the environment they claim to be."""
    if config.get("PEERLEARN_ENV") not in {"development", "production", "testing"}:
        raise ConfigError("PEERLEARN_ENV must be 'development' or 'production'")
    _check_async_mode(config.get("SOCKETIO_ASYNC_MODE", "threading"))
    if config["PEERLEARN_ENV"] != "production":
        return
    secret = str(config.get("SECRET_KEY") or "")
    if secret.lower() in _PLACEHOLDER_SECRETS or len(secret) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    if config.get("PEERLEARN_DEMO_PASSWORD") == DEFAULT_DEMO_PASSWORD:
        # The demo password is documented publicly; demo accounts must never use it in production.
        config["PEERLEARN_DEMO_PASSWORD"] = None
    if not str(config.get("PEERLEARN_BASE_URL", "")).startswith("https://"):
        raise ConfigError("PEERLEARN_BASE_URL must be the site's https:// address in production")


def _check_async_mode(mode: str) -> None:
    """The async mode must match the server the app runs in, or WebSockets misbehave quietly."""
    if mode not in ASYNC_MODES:
        raise ConfigError(f"PEERLEARN_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}")
    if (mode == "gevent") != gevent_patched():
        raise ConfigError(
            "PEERLEARN_ASYNC_MODE=gevent needs a gevent server (gunicorn -k gevent) and that "
            "server needs gevent mode; the embedded flask run uses threading"
        )
    waiting = sys.modules.get("psycopg.waiting")
    if (
        mode == "gevent"
        and waiting is not None
        and waiting.wait is getattr(waiting, "wait_c", None)
    ):
        # psycopg picks its wait function when first imported: before gevent's patching it
        # would block every connection in the process while a query runs.
        raise ConfigError(
            "psycopg was imported before gevent patched the process: do not use gunicorn "
            "--preload with the gevent worker"
        )
