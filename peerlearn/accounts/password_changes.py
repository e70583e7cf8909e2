"""Passwords: resetting one from a link sent to the account's address (once, and only while the
password and the address are what they were), changing one with the current password, and the
rules a new one must keep; the owner is e-mailed either way, and every other session ends."""

import hashlib

from flask import render_template

from peerlearn.accounts.models import User
from peerlearn.accounts.passwords import hash_password, password_problem, verify_password
from peerlearn.accounts.services import (
    AccountError,
    external_url,
    find_user_by_email,
    mail_account,
    may_mail_again,
)
from peerlearn.accounts.tokens import address_mark, make_token, read_token
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.core.signals import sign_ins_ended
from peerlearn.extensions import db


def password_fingerprint(user: User) -> str:
    # Changes whenever the password does, so a reset link works once and a change-of-address
    # link asked for before the password changed no longer works.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def request_password_reset(email: str) -> None:
    """E-mail a reset link if an active account has this address; the caller never says which."""
    user = find_user_by_email(email)
    if user is None or not user.active or not may_mail_again(user, "reset-password"):
        return
    # Bound to the address too: a link sent to an address the account has since left (a
    # mailbox someone else may read) stops working.
    token = make_token(
        "reset-password",
        {"uid": user.id, "pw": password_fingerprint(user), "to": address_mark(user.email)},
    )
    mail_account(
        user.email,
        "Reset your peerlearn password",
        render_template(
            "email/reset_password.txt",
            user=user,
            url=external_url("accounts.reset_password", token=token),
        ),
    )


def user_for_reset_token(token: str) -> User | None:
    """The account a reset link is for, while the link is still valid and unused."""
    payload = read_token("reset-password", token)
    if payload is None:
        return None
    user = db.session.get(User, payload.get("uid"))
    if (
        user is None
        or not user.active
        or payload.get("pw") != password_fingerprint(user)
        or payload.get("to") != address_mark(user.email)
    ):
        return None
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link, ending every existing session."""
    user = user_for_reset_token(token)
    if user is None:
        raise AccountError("This password reset link has expired or has already been used")
    _set_password(user, new_password)
    # The link proves control of the address, so an unconfirmed address is now confirmed.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    _password_changed(user, "auth.password_reset")
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password, ending the user's other sessions (the caller renews this one)."""
    check_current_password(user, current_password)
    check_changed(current_password, new_password)
    _set_password(user, new_password)
    _password_changed(user, "auth.password_changed")


def _password_changed(user: User, action: str) -> None:
    """Record and commit a new password, end the user's other sessions, and tell the account's
    owner: if it was not them, they learn that someone else knows it (or reads their mail) and
    how to take the account back."""
    record(action, actor=user, subject=user)
    db.session.commit()
    sign_ins_ended.send(user)
    mail_account(
        user.email,
        "Your peerlearn password was changed",
        render_template(
            "email/password_changed.txt",
            user=user,
            reset_url=external_url("accounts.forgot_password"),
        ),
    )


#: What a wrong password is told, by the field that asked for it: the current password when
#: changing it, or the password that confirms a change of e-mail address.
WRONG_PASSWORD = {
    "current_password": "Your current password is not correct",
    "password": "Your password is not correct",
}


def check_current_password(user: User, password: str, field: str = "current_password") -> None:
    """Refuse a password that is not the user's own, beside the form's ``field`` for it."""
    if not verify_password(user.password_hash, password):
        raise AccountError(WRONG_PASSWORD[field], field=field)


def check_new_password(user: User, new_password: str) -> None:
    """Refuse a new password that breaks the password rules or is easy to guess from who the
    user is (their e-mail address, name and job title)."""
    problem = password_problem(new_password, [user.email, user.display_name, user.job_title])
    if problem:
        raise AccountError(problem, field="password")


def check_changed(current_password: str, new_password: str) -> None:
    """Refuse, when changing a password, the one it already is (nothing would change, yet the
    other sessions would end and the owner be e-mailed). Only where the current password was
    typed: a reset link must not tell its holder what the password was."""
    if new_password == current_password:
        raise AccountError(
            "Your new password must be different from your current one", field="password"
        )


def _set_password(user: User, new_password: str) -> None:
    check_new_password(user, new_password)
    user.password_hash = hash_password(new_password)
    user.end_every_session()
