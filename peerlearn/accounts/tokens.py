"""Signed, expiring links sent by e-mail (confirm address, reset password, change address,
unsubscribe)."""

import hashlib
import hmac
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

#: How long each kind of link stays valid, in seconds.
MAX_AGE = {
    "confirm-email": 7 * 24 * 3600,
    "reset-password": 3600,
    "change-email": 24 * 3600,
    # Unsubscribe links in notification e-mail keep working for a year.
    "unsubscribe": 365 * 24 * 3600,
}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"peerlearn.{purpose}")


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    """A URL-safe signed token carrying ``payload`` for one purpose."""
    if purpose not in MAX_AGE:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str) -> dict[str, Any] | None:
    """The payload of a valid, unexpired token for this purpose, or None."""
    try:
        payload = _serializer(purpose).loads(token, max_age=MAX_AGE[purpose])
    except BadSignature:  # also covers SignatureExpired
        return None
    return payload if isinstance(payload, dict) else None


def address_mark(email: str) -> str:
    """A short fingerprint of an e-mail address, for a link that holds only while the account
    keeps that address. Not the address itself, as links end up in browser histories and logs,
    and keyed with the secret key, so that whoever finds a link cannot test a guessed address
    (firstname.lastname@nhs.net) against it."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()[:20]
