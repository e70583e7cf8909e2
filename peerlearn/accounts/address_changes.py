"""Changing an account's e-mail address: confirmed by a link sent to the new address, never
revealing whether another account has it, and told to the old address once done."""

import logging

from flask import render_template

from peerlearn.accounts.models import User
from peerlearn.accounts.password_changes import check_current_password, password_fingerprint
from peerlearn.accounts.services import (
    AccountError,
    allowed_domains,
    email_domain_allowed,
    external_url,
    find_user_by_email,
    mail_account,
    normalise_email,
)
from peerlearn.accounts.tokens import make_token, read_token
from peerlearn.audit.services import record
from peerlearn.core.db import utcnow
from peerlearn.extensions import db

logger = logging.getLogger(__name__)


def request_email_change(user: User, new_email: str, password: str) -> None:
    """Send a confirmation link to the new address; the change happens when it is followed."""
    check_current_password(user, password, field="password")
    new_email = check_new_email(user, new_email)
    if find_user_by_email(new_email) is not None:
        # Saying so would reveal another person's account; the link will simply not be sent.
        logger.info("e-mail change to an address already in use was not sent")
        return
    # Bound to the password too: whoever learnt it and asked to move the account to their own
    # address loses the link when the owner sets a new password.
    token = make_token(
        "change-email",
        {"uid": user.id, "old": user.email, "new": new_email, "pw": password_fingerprint(user)},
    )
    mail_account(
        new_email,
        "Confirm your new e-mail address for peerlearn",
        render_template(
            "email/change_email.txt",
            user=user,
            url=external_url("accounts.confirm_email_change", token=token),
        ),
    )


def check_new_email(user: User, new_email: str) -> str:
    """The new address, normalised, if the user may move their account to it: not the address
    they have, and at an allowed domain. Whether another account has it is never said (that
    would reveal the account); :func:`request_email_change` sends that address nothing."""
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise AccountError("That is already your e-mail address", field="email")
    if not email_domain_allowed(new_email):
        raise AccountError(
            "Use a work e-mail address at: " + ", ".join(allowed_domains()), field="email"
        )
    return new_email


def confirm_email_change(token: str) -> User | None:
    """Apply an address change from its link, or None when the link is not valid."""
    payload = read_token("change-email", token)
    if payload is None:
        return None
    user = db.session.get(User, payload.get("uid"))
    new_email = str(payload.get("new", ""))
    if (
        user is None
        or not user.active
        or user.email != payload.get("old")
        or payload.get("pw") != password_fingerprint(user)
        or find_user_by_email(new_email)
    ):
        return None
    old_email = user.email
    record("account.email_changed", actor=user, subject=user, old=old_email, new=new_email)
    user.email = new_email
    user.email_confirmed_at = utcnow()
    db.session.commit()
    # The old address is told: whoever moved the account away from its owner is noticed.
    mail_account(
        old_email,
        "Your peerlearn e-mail address was changed",
        render_template(
            "email/email_changed.txt",
            user=user,
            new_email=new_email,
            reset_url=external_url("accounts.forgot_password"),
        ),
    )
    return user
