"""Signing out of every other browser (OWASP ASVS 3.3.4): the member sees how many other
browsers are signed in to their account and, after confirming their password, ends all their
sign-ins but this browser's, remember-me cookies and open live connections included."""

from flask import current_app, render_template
from sqlalchemy import func, select

from peerlearn.accounts.models import SignIn, User
from peerlearn.accounts.password_changes import check_current_password
from peerlearn.accounts.services import external_url, mail_account
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.core.signals import sign_ins_ended
from peerlearn.extensions import db


def other_sign_in_count(user: User) -> int:
    """How many browsers other than this one are signed in to the account: its sign-ins not yet
    ended or too old to use. One closed without signing out still counts until then."""
    oldest = utcnow() - current_app.config["REMEMBER_COOKIE_DURATION"]
    count = db.session.scalar(
        select(func.count())
        .select_from(SignIn)
        .where(
            SignIn.user_id == user.id,
            SignIn.token != user.get_id(),
            SignIn.created_at >= oldest,
        )
    )
    return count or 0


def sign_out_other_browsers(user: User, password: str) -> int:
    """End every sign-in of the account once its password is confirmed, as a password change
    does (the caller renews this browser's, so that a copy of its cookie ends too), and tell the
    owner by e-mail. Returns how many other browsers were signed out."""
    check_current_password(user, password, field="password")
    ended = other_sign_in_count(user)
    user.end_every_session()
    record("auth.signed_out_elsewhere", actor=user, subject=user, browsers=ended)
    db.session.commit()
    sign_ins_ended.send(user)
    _tell_signed_out_elsewhere(user)
    return ended


def _tell_signed_out_elsewhere(user: User) -> None:
    """Only the password lets anyone do this: if it was not the owner, someone else knows it,
    and the owner's own browsers have just been signed out. Tell them how to take it back."""
    mail_account(
        user.email,
        "Your peerlearn account was signed out of other browsers",
        render_template(
            "email/signed_out_elsewhere.txt",
            user=user,
            reset_url=external_url("accounts.forgot_password"),
        ),
    )
