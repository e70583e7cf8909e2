"""Account pages: register, confirm, sign in and out, passwords, settings, people."""

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from peerlearn.accounts import address_changes, other_browsers, password_changes, services
from peerlearn.accounts.data_export import member_data
from peerlearn.accounts.directory import listed_people, people_query
from peerlearn.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    EmailOnlyForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    SignOutElsewhereForm,
)
from peerlearn.accounts.models import User
from peerlearn.core.db import utcnow
from peerlearn.core.errors import too_many
from peerlearn.core.forms import DirectoryFilterForm, show_error
from peerlearn.core.pagination import paginate
from peerlearn.core.security import is_safe_redirect
from peerlearn.discussions.reading import recent_posts_by
from peerlearn.extensions import db, limiter
from peerlearn.organisations.services import organisation_choices, region_choices
from peerlearn.permissions import space_filter
from peerlearn.spaces.models import Membership, MemberState, Space

bp = Blueprint("accounts", __name__)

#: The one answer to a failed sign-in, whatever failed (no account enumeration).
SIGN_IN_FAILED = "Enter a correct e-mail address and password"


def _redirect_target() -> str:
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_redirect(target) else url_for("home.index")


def _me() -> User:
    """The signed-in user itself, not the ``current_user`` proxy: services may keep or store it
    (``login_user`` with the proxy would make ``current_user`` refer to itself)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


# Registration and confirmation ----------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegisterForm()
    form.organisation_id.choices = organisation_choices()
    if form.validate_on_submit():
        try:
            services.register_user(
                services.Registration(
                    email=form.email.data,
                    display_name=form.display_name.data,
                    job_title=form.job_title.data,
                    organisation_id=form.organisation_id.data,
                    password=form.password.data,
                )
            )
        except services.AccountError as error:
            show_error(form, error)
        else:
            return render_template(
                "accounts/check_email.html", email=services.normalise_email(form.email.data)
            )
    return render_template(
        "accounts/register.html", form=form, allowed_domains=services.allowed_domains()
    )


@bp.get("/confirm/<token>")
def confirm_email(token: str) -> str | Response | tuple[str, int]:
    user = services.confirmation_user(token)
    if user is None:
        return render_template("accounts/link_invalid.html", kind="confirm"), 400
    if user.email_confirmed:
        flash("Your e-mail address is confirmed. You can now sign in.", "success")
        return redirect(
            url_for("home.index" if current_user.is_authenticated else "accounts.login")
        )
    if current_user.is_authenticated:  # signed in to another account
        flash("Sign out, then follow the link again to confirm that address.", "info")
        return redirect(url_for("home.index"))
    # Confirmed by signing in here with the password chosen (services.confirmation_user).
    form = LoginForm(data={"email": user.email})
    return render_template("accounts/login.html", form=form, next="", confirm=token)


@bp.route("/confirm/resend", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def resend_confirmation() -> str:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.resend_confirmation(form.email.data)
        return render_template(
            "accounts/check_email.html", email=services.normalise_email(form.email.data)
        )
    return render_template("accounts/resend_confirmation.html", form=form)


# Signing in and out ---------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int, dict[str, str]]:
    if current_user.is_authenticated:
        return redirect(_redirect_target())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data,
                form.password.data,
                get_remote_address(),
                request.form.get("confirm", ""),
            )
        except services.TooManySignIns as over:
            return too_many(over.wait)
        except services.SignInRefused as refused:
            if refused.reason == "unconfirmed" and refused.user is not None:
                services.send_confirmation_again(refused.user)
                return render_template("accounts/unconfirmed.html", email=refused.user.email)
            if refused.reason == "inactive":
                form.form_errors.append(
                    "This account has been deactivated. Contact a network administrator."
                )
            else:
                form.form_errors.append(SIGN_IN_FAILED)
        else:
            target = _redirect_target()
            services.sign_in(user, remember=form.remember.data)
            if request.form.get("confirm"):
                flash("Your e-mail address is confirmed.", "success")
            return redirect(target)
    # From the query string on the first visit, from the hidden fields after a failed attempt.
    return render_template(
        "accounts/login.html",
        form=form,
        next=request.values.get("next", ""),
        confirm=request.form.get("confirm", ""),
    )


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> str | Response:
    if not current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if request.method == "POST":  # CSRF-checked like every POST
        services.sign_out(_me())
        flash("You have signed out.", "success")
        return redirect(url_for("home.index"))
    return render_template("accounts/logout.html")


# Passwords -------------------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def forgot_password() -> str:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        password_changes.request_password_reset(form.email.data)
        return render_template(
            "accounts/reset_sent.html", email=services.normalise_email(form.email.data)
        )
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    user = password_changes.user_for_reset_token(token)
    if user is None:
        return render_template("accounts/link_invalid.html", kind="reset"), 400
    form = ResetPasswordForm(user=user)
    if form.validate_on_submit():
        try:
            password_changes.reset_password(token, form.password.data)
        except services.AccountError as error:
            show_error(form, error)
        else:
            if current_user.is_authenticated:
                services.sign_out(_me())
            flash("Your password has been changed. Sign in with your new password.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


# Account settings ------------------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def settings() -> str | Response:
    user = _me()
    form = ProfileForm(
        obj=user, data=None if request.method == "POST" else {"bio": user.bio_source}
    )
    form.organisation_id.choices = organisation_choices()
    if form.validate_on_submit():
        services.update_profile(
            user,
            display_name=form.display_name.data,
            job_title=form.job_title.data,
            organisation_id=form.organisation_id.data,
            bio=form.bio.data or "",
        )
        flash("Your profile has been saved.", "success")
        return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/settings.html",
        form=form,
        other_browsers=other_browsers.other_sign_in_count(user),
    )


def _own_key() -> str:
    return f"account:{current_user.id}"


@bp.get("/account/data.json")
@login_required
@limiter.limit("10 per hour", key_func=_own_key)
def download_data() -> Response:
    """The member's own data as one JSON file (``data_export``), never cached on the way."""
    user = _me()
    body = json.dumps(member_data(user), indent=2, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    filename = f"peerlearn-data-{user.handle}-{utcnow():%Y-%m-%d}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


#: Tries at one's own password, on every form that asks for it, wherever they come from: a
#: stolen session must not be able to try passwords until one fits.
own_password_limit = limiter.shared_limit(
    "10 per hour", scope="own-password", key_func=_own_key, methods=["POST"]
)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@own_password_limit
def change_password() -> str | Response:
    form = ChangePasswordForm(user=_me())
    if form.validate_on_submit():
        try:
            password_changes.change_password(_me(), form.current_password.data, form.password.data)
        except services.AccountError as error:
            show_error(form, error)
        else:
            services.renew_session(_me())
            flash(
                "Your password has been changed. You have been signed out everywhere else.",
                "success",
            )
            return redirect(url_for("accounts.settings"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@limiter.limit("5 per hour", methods=["POST"])
@own_password_limit
def change_email() -> str | Response:
    form = ChangeEmailForm(user=_me())
    if form.validate_on_submit():
        try:
            address_changes.request_email_change(_me(), form.email.data, form.password.data)
        except services.AccountError as error:
            show_error(form, error)
        else:
            return render_template(
                "accounts/check_email.html",
                email=services.normalise_email(form.email.data),
                change=True,
            )
    return render_template("accounts/change_email.html", form=form)


def _signed_out_elsewhere(ended: int) -> str:
    if not ended:
        return "No other browser was signed in to your account. You are still signed in here."
    browsers = "1 other browser" if ended == 1 else f"{ended} other browsers"
    return f"You have signed out of {browsers}. You are still signed in here."


@bp.route("/account/sign-out-elsewhere", methods=["GET", "POST"])
@login_required
@own_password_limit
def sign_out_elsewhere() -> str | Response:
    user = _me()
    form = SignOutElsewhereForm(user=user)
    if form.validate_on_submit():
        try:
            ended = other_browsers.sign_out_other_browsers(user, form.password.data)
        except services.AccountError as error:
            show_error(form, error)
        else:
            services.renew_session(user)
            flash(_signed_out_elsewhere(ended), "success")
            return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/sign_out_elsewhere.html",
        form=form,
        other_browsers=other_browsers.other_sign_in_count(user),
    )


@bp.get("/account/email/confirm/<token>")
def confirm_email_change(token: str) -> str | Response | tuple[str, int]:
    user = address_changes.confirm_email_change(token)
    if user is None:
        return render_template("accounts/link_invalid.html", kind="change"), 400
    flash(f"Your e-mail address is now {user.email}.", "success")
    return redirect(
        url_for("accounts.settings" if current_user.is_authenticated else "accounts.login")
    )


# People ----------------------------------------------------------------------------------------


def _directory_form() -> DirectoryFilterForm:
    form = DirectoryFilterForm(request.args)
    form.organisation.choices = organisation_choices("Any organisation")
    form.region.choices = region_choices()
    return form


@bp.get("/people")
@login_required
def directory() -> str:
    form = _directory_form()
    page = paginate(people_query(**form.filters()))  # type: ignore[arg-type]
    return render_template("accounts/directory.html", form=form, page=page)


@bp.get("/people/<handle>")
@login_required
def profile(handle: str) -> str:
    person = db.session.scalar(select(User).where(User.handle == handle, listed_people()))
    if person is None:
        abort(404)
    # A subquery, not a join: the policy's own EXISTS on memberships must not correlate with it.
    theirs = select(Membership.space_id).where(
        Membership.user_id == person.id, Membership.state == MemberState.active
    )
    spaces = db.session.scalars(
        select(Space).where(Space.id.in_(theirs), space_filter(current_user)).order_by(Space.name)
    ).all()
    return render_template(
        "accounts/profile.html",
        person=person,
        spaces=spaces,
        posts=recent_posts_by(person, current_user),
    )
