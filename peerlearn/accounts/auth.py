"""Flask-Login wiring: loading the signed-in user from the session's token."""

import functools
from datetime import timedelta

from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from peerlearn.accounts.models import SignIn, User
from peerlearn.core.db import utcnow
from peerlearn.extensions import db, login_manager

#: How stale ``last_seen_at`` may get before a request refreshes it (avoids a write per request).
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


@functools.cache
def _signed_in_user() -> Select[tuple[User]]:
    # With the organisation: pages and the live chat show it beside the reader's name. Built once:
    # every request and every socket event runs it, and SQLAlchemy would otherwise build it and
    # work out its cache key each time.
    return (
        select(User)
        .join(SignIn, SignIn.user_id == User.id)
        .where(SignIn.token == bindparam("token"), SignIn.created_at >= bindparam("oldest"))
        .options(joinedload(User.organisation))
    )


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The active user whose sign-in this is; a token signed out, ended or older than the
    longest a sign-in lasts (the remember-me cookie's life) loads nobody."""
    oldest = utcnow() - current_app.config["REMEMBER_COOKIE_DURATION"]
    user = db.session.scalar(_signed_in_user(), {"token": token, "oldest": oldest})
    if user is None or not user.active:
        return None
    user.sign_in_token = token
    return user


def _touch_last_seen() -> None:
    if not current_user.is_authenticated:
        return
    now = utcnow()
    if current_user.last_seen_at is None or now - current_user.last_seen_at > LAST_SEEN_RESOLUTION:
        current_user.last_seen_at = now
        db.session.commit()


def init_app(app: Flask) -> None:
    """Configure sign-in redirects and messages."""
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(_touch_last_seen)
