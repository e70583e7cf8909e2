"""Account rules and transactions: registration, confirmation, sign-in, profiles (passwords:
:mod:`peerlearn.accounts.password_changes`; e-mail addresses: :mod:`~peerlearn.accounts.address_changes`)."""

import logging
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, has_request_context, render_template, request, session, url_for
from flask_login import login_user, logout_user
from limits import RateLimitItem, parse
from sqlalchemy import delete, select

from peerlearn.accounts.models import AllowedEmailDomain, SignIn, User
from peerlearn.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from peerlearn.accounts.tokens import make_token, read_token
from peerlearn.audit.services import record
from peerlearn.core import allowances
from peerlearn.core.db import utcnow
from peerlearn.core.deferred import after_response
from peerlearn.core.errors import RuleError
from peerlearn.core.mail import send_mail
from peerlearn.core.signals import (
    person_changed,
    sign_ins_ended,
)
from peerlearn.core.text import render_markdown
from peerlearn.extensions import db

logger = logging.getLogger(__name__)


class AccountError(RuleError):
    """A rule about accounts was broken (see :class:`~peerlearn.core.errors.RuleError`)."""


def normalise_email(email: str) -> str:
    """E-mail addresses are compared and stored lower-case, without surrounding spaces."""
    return email.strip().lower()


def external_url(endpoint: str, **values: object) -> str:
    """An absolute link for an e-mail, built from ``PEERLEARN_BASE_URL`` (never the Host header).

    Works outside a request too (CLI commands, background work), from the URL map alone.
    """
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        path = current_app.url_map.bind("peerlearn.invalid").build(endpoint, values)
    return current_app.config["PEERLEARN_BASE_URL"] + path


def find_user_by_email(email: str) -> User | None:
    """The account with this e-mail address, if any."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# Registration ------------------------------------------------------------------------------------


def allowed_domains() -> list[str]:
    """The registration allow-list, sorted; empty means any domain may register."""
    return list(
        db.session.scalars(select(AllowedEmailDomain.domain).order_by(AllowedEmailDomain.domain))
    )


def email_domain_allowed(email: str) -> bool:
    """Whether the address's domain is on the allow-list (or a subdomain of an entry on it)."""
    domains = allowed_domains()
    if not domains:
        return True
    domain = normalise_email(email).rpartition("@")[2]
    return any(domain == allowed or domain.endswith("." + allowed) for allowed in domains)


def make_handle(display_name: str) -> str:
    """A unique handle from a name: ``Ailsa Brotherton`` becomes ``ailsa-brotherton`` (or ``-2``…)."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:32] or "member"
    taken = set(
        db.session.scalars(
            select(User.handle).where((User.handle == base) | User.handle.like(f"{base}-%"))
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


@dataclass(frozen=True)
class Registration:
    """What a person gives when they register."""

    email: str
    display_name: str
    job_title: str
    organisation_id: int | None
    password: str


def check_registration_email(email: str) -> str:
    """The address, normalised, if it may register: at an allowed domain. Whether it already has
    an account is never said (that would reveal the account); :func:`register_user` tells its
    owner instead."""
    email = normalise_email(email)
    if not email_domain_allowed(email):
        raise AccountError(
            "Use your work e-mail address. Registration is open to: "
            + ", ".join(allowed_domains()),
            field="email",
        )
    return email


def register_user(data: Registration) -> User | None:
    """Create an unconfirmed account and send its confirmation link.

    When the address already has an account nothing is created and its owner is told by e-mail;
    the caller shows the same page either way, so registration never reveals who has an account.
    """
    email = check_registration_email(data.email)
    problem = password_problem(data.password, [email, data.display_name, data.job_title])
    if problem:
        raise AccountError(problem, field="password")
    existing = find_user_by_email(email)
    if existing is not None:
        hash_password(data.password)  # spend the time a new account costs: timing tells nothing
        if not may_mail_again(existing, "already-registered"):
            return None
        mail_account(
            existing.email,
            "Someone tried to register on peerlearn with your e-mail address",
            render_template(
                "email/already_registered.txt",
                user=existing,
                login_url=external_url("accounts.login"),
                reset_url=external_url("accounts.forgot_password"),
            ),
        )
        return None
    user = User(
        email=email,
        display_name=data.display_name.strip(),
        job_title=data.job_title.strip(),
        organisation_id=data.organisation_id,
        handle=make_handle(data.display_name),
        password_hash=hash_password(data.password),
    )
    db.session.add(user)
    db.session.flush()
    record("account.registered", actor=user, subject=user)
    db.session.commit()
    person_changed.send(user)
    send_confirmation(user)
    return user


def mail_account(to: str, subject: str, text: str) -> None:
    """Send an account e-mail once the page has been answered (see core.deferred). The pages
    that send one (registration, a new confirmation link, a password reset, an address change)
    answer the same whether or not an account exists; sending in the request would give that
    away in its timing, or as an error page when the mail server is down."""
    after_response(lambda: send_mail(to, subject, text), f"account e-mail {subject!r}")


def send_confirmation(user: User) -> None:
    """E-mail a link that confirms the user's address."""
    token = make_token("confirm-email", {"uid": user.id, "email": user.email})
    mail_account(
        user.email,
        "Confirm your e-mail address for peerlearn",
        render_template(
            "email/confirm.txt",
            user=user,
            url=external_url("accounts.confirm_email", token=token),
        ),
    )


#: E-mails of one kind one account may be sent, however they are asked for (new confirmation
#: links, reset links, notices that someone tried to register with the address).
RESEND_LIMIT = parse("5 per hour")


def may_mail_again(user: User, kind: str) -> bool:
    """Whether this account may be sent another e-mail of this kind: the pages that send them
    are limited per visitor's address, but whoever asks from many addresses (or for another
    person's address) must not be able to fill that person's inbox. Past the limit the mail is
    silently not sent, and the page says the same."""
    if allowances.take(RESEND_LIMIT, kind, str(user.id)) is not None:
        logger.info("%s not sent: limit reached", kind)
        return False
    return True


def send_confirmation_again(user: User) -> None:
    """Send a new confirmation link, at most :data:`RESEND_LIMIT` to one address: signing in to
    an unconfirmed account sends one too, and someone who registered with another person's
    address must not be able to fill their inbox (silently not sent past the limit)."""
    if may_mail_again(user, "confirm-email"):
        send_confirmation(user)


def resend_confirmation(email: str) -> None:
    """Send a new confirmation link if an unconfirmed account has this address (silently not)."""
    user = find_user_by_email(email)
    if user is not None and user.active and not user.email_confirmed:
        send_confirmation_again(user)


def confirmation_user(token: str) -> User | None:
    """The account a confirmation link is for, while the link is valid; None when it is not.

    Following the link confirms nothing by itself: anyone may register any address, and the
    owner following it out of courtesy would hand the stranger who chose the password an account
    in their name. The link leads to the sign-in form, and :func:`authenticate` confirms the
    address when the password chosen comes with it."""
    payload = read_token("confirm-email", token)
    if payload is None:
        return None
    user = db.session.get(User, payload.get("uid"))
    if user is None or user.email != payload.get("email"):
        return None
    return user


# Signing in and out ------------------------------------------------------------------------------


class SignInRefused(Exception):
    """Sign-in did not succeed; ``reason`` is ``credentials``, ``unconfirmed`` or ``inactive``."""

    def __init__(self, reason: str, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


#: Failed sign-ins allowed for one account, from wherever they come, and from one address (the
#: visitor's), whichever accounts they try.
FAILED_SIGN_INS_PER_ACCOUNT = parse("5 per 15 minutes")
FAILED_SIGN_INS_PER_ADDRESS = parse("30 per 15 minutes")


class TooManySignIns(Exception):
    """The account's or the address's failed sign-ins are used up; ``wait`` says for how many
    seconds."""

    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


@contextmanager
def _sign_in_attempt(email: str, address: str) -> Iterator[None]:
    """Hold a place in the account's and the address's allowances of failed sign-ins while the
    password is checked, or raise :class:`TooManySignIns`. The place is taken before the check,
    so guesses sent at the same moment cannot all find the allowance unused (as checking it,
    then counting the failures afterwards, let them); it is given back unless the attempt
    failed on its credentials: a right password is no guess."""
    places = [
        (FAILED_SIGN_INS_PER_ACCOUNT, ("sign-in", "account", normalise_email(email)[:254])),
        (FAILED_SIGN_INS_PER_ADDRESS, ("sign-in", "address", address)),
    ]
    taken: list[tuple[RateLimitItem, tuple[str, ...]]] = []
    guessed = False
    try:
        for allowance, who in places:
            wait = allowances.take(allowance, *who)
            if wait is not None:
                raise TooManySignIns(wait)
            taken.append((allowance, who))
        yield
    except SignInRefused as refused:
        guessed = refused.reason == "credentials"
        raise
    finally:
        if not guessed:
            for allowance, who in taken:
                allowances.give_back(allowance, *who)


def authenticate(email: str, password: str, address: str, confirming: str = "") -> User:
    """The account for these credentials, or :class:`SignInRefused`; :class:`TooManySignIns`,
    without a look at the password, once the failed sign-ins for the account or from ``address``
    (the visitor's) are used up. Failures are audited. An unconfirmed address is confirmed when
    ``confirming`` is its valid confirmation link's token (the sign-in form that link leads
    to)."""
    with _sign_in_attempt(email, address):
        return _authenticate(email, password, confirming)


def _authenticate(email: str, password: str, confirming: str) -> User:
    user = find_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        record("auth.sign_in_failed", subject=user, email=normalise_email(email)[:254])
        db.session.commit()
        raise SignInRefused("credentials")
    if not user.active:
        record("auth.sign_in_refused", subject=user, reason="deactivated")
        db.session.commit()
        raise SignInRefused("inactive", user)
    if not user.email_confirmed:
        if not confirming or confirmation_user(confirming) is not user:
            raise SignInRefused("unconfirmed", user)
        user.email_confirmed_at = utcnow()
        record("account.email_confirmed", actor=user, subject=user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _start_sign_in(user: User, *, remember: bool) -> None:
    """Record a new sign-in for this browser and put its token in the session (and, when asked,
    the remember-me cookie); the user's sign-ins too old to be used any more are dropped."""
    oldest = utcnow() - current_app.config["REMEMBER_COOKIE_DURATION"]
    db.session.execute(delete(SignIn).where(SignIn.user_id == user.id, SignIn.created_at < oldest))
    started = SignIn(user_id=user.id)
    db.session.add(started)
    db.session.flush()
    user.sign_in_token = started.token
    login_user(user, remember=remember)


def sign_in(user: User, *, remember: bool) -> None:
    """Start a fresh session for the user (nothing of the anonymous session is carried over)."""
    session.clear()
    _start_sign_in(user, remember=remember)
    session.permanent = True
    user.last_seen_at = utcnow()
    record("auth.signed_in", actor=user, subject=user)
    db.session.commit()


def sign_out(user: User) -> None:
    """End this browser's sign-in, session and remember-me cookie with it (the account's other
    browsers stay signed in)."""
    db.session.execute(delete(SignIn).where(SignIn.token == user.get_id()))
    record("auth.signed_out", actor=user, subject=user)
    db.session.commit()
    sign_ins_ended.send(user)
    # Clear first: logout_user() leaves the note that tells Flask-Login to delete the remember-me
    # cookie in the session, and clearing after it would keep the cookie (and the sign-in) alive.
    session.clear()
    logout_user()


def renew_session(user: User) -> None:
    """Keep the current browser signed in after every sign-in of the user was ended."""
    remember = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
    _start_sign_in(user, remember=remember)
    db.session.commit()


# Profiles -----------------------------------------------------------------------------------------


def update_profile(
    user: User, *, display_name: str, job_title: str, organisation_id: int | None, bio: str
) -> None:
    """Save the profile, rendering the bio through the text pipeline."""
    user.display_name = display_name.strip()
    user.job_title = job_title.strip()
    user.organisation_id = organisation_id
    user.bio_source = bio
    user.bio_html = render_markdown(bio)
    db.session.commit()
    person_changed.send(user)
