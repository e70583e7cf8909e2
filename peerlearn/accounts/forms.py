"""Account forms. Each field's messages say what to do, the NHS way, and every field's problem
is told in one round: the services' checks of a password are reported here too."""

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, Length, Optional, ValidationError

from peerlearn.accounts import address_changes, password_changes, services
from peerlearn.accounts.models import User
from peerlearn.accounts.passwords import MAX_LENGTH, password_problem
from peerlearn.core.forms import EMAIL_FORMAT, Required, TextAreaField, optional_int, report


def _email_field(label: str = "E-mail address", description: str = "") -> EmailField:
    return EmailField(
        label,
        description=description,
        validators=[
            Required("Enter your e-mail address"),
            Length(max=254, message="E-mail address must be 254 characters or fewer"),
            Email(EMAIL_FORMAT, check_deliverability=False),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


def _new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        description=(
            "Use 12 characters or more. A few unrelated words together are easy to remember "
            "and hard to guess."
        ),
        validators=[
            Required("Enter a password"),
            Length(max=MAX_LENGTH, message=f"Password must be {MAX_LENGTH} characters or fewer"),
        ],
    )


def _organisation_field() -> SelectField:
    return SelectField(
        "Organisation",
        description="Choose the trust, system or body you work for.",
        coerce=optional_int,
        validate_choice=False,  # checked in validate_organisation_id against the directory
        validators=[Required("Choose your organisation")],
    )


class _OrganisationChoice:
    """Mixin: the organisation select is filled from the directory by the view."""

    organisation_id: SelectField

    def validate_organisation_id(self, field: SelectField) -> None:
        # Choices carry the ids as strings (as the browser sends them); the data is coerced.
        valid = {optional_int(choice.value) for choice in field.choices or [] if choice.value}
        if field.data is None or field.data not in valid:
            raise ValidationError("Choose your organisation from the list")


class RegisterForm(_OrganisationChoice, FlaskForm):
    """Create an account."""

    email = _email_field("Work e-mail address", "We will send you a link to confirm it.")
    display_name = StringField(
        "Full name",
        validators=[
            Required("Enter your full name"),
            Length(max=120, message="Full name must be 120 characters or fewer"),
        ],
    )
    job_title = StringField(
        "Job title",
        description="For example, Director of Improvement",
        validators=[
            Required("Enter your job title"),
            Length(max=120, message="Job title must be 120 characters or fewer"),
        ],
    )
    organisation_id = _organisation_field()
    password = _new_password_field()

    def validate_email(self, field: EmailField) -> None:
        # The service checks it again; here a domain not allowed is told with the other problems.
        if not field.errors:  # an address in the wrong format is told that alone
            report(services.check_registration_email, field.data or "")

    def validate_password(self, field: PasswordField) -> None:
        # The service checks it again; here its problem is told along with the other fields'.
        problem = password_problem(
            field.data or "",
            [self.email.data or "", self.display_name.data or "", self.job_title.data or ""],
        )
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    """Sign in."""

    email = _email_field()
    password = PasswordField("Password", validators=[Required("Enter your password")])
    remember = BooleanField("Keep me signed in on this device for 30 days")


class EmailOnlyForm(FlaskForm):
    """Ask for a link by e-mail (password reset, new confirmation link)."""

    email = _email_field()


class _ForUser:
    """Mixin: a form about the account ``user``, whose checks need to know whose it is."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user


class _NewPasswordFor(_ForUser):
    """Mixin: a new password for the account ``user``, checked against who they are."""

    def validate_password(self, field: PasswordField) -> None:
        # The service checks it again; here its problem is told along with the other fields'.
        report(password_changes.check_new_password, self.user, field.data or "")


class ResetPasswordForm(_NewPasswordFor, FlaskForm):
    """Choose a new password from a reset link (for the link's ``user``)."""

    password = _new_password_field("New password")


class ChangePasswordForm(_NewPasswordFor, FlaskForm):
    """Change the signed-in ``user``'s password."""

    current_password = PasswordField(
        "Current password", validators=[Required("Enter your current password")]
    )
    password = _new_password_field("New password")

    def validate_current_password(self, field: PasswordField) -> None:
        report(password_changes.check_current_password, self.user, field.data or "")

    def validate_password(self, field: PasswordField) -> None:
        super().validate_password(field)
        report(password_changes.check_changed, self.current_password.data or "", field.data or "")


class ChangeEmailForm(_ForUser, FlaskForm):
    """Move the signed-in ``user``'s account to a new address, confirmed by a link sent there.
    A wrong password and a new address they may not use are told together."""

    email = _email_field("New e-mail address", "We will send a link to the new address.")
    password = PasswordField("Your password", validators=[Required("Enter your password")])

    def validate_email(self, field: EmailField) -> None:
        if not field.errors:  # an address in the wrong format is told that alone
            report(address_changes.check_new_email, self.user, field.data or "")

    def validate_password(self, field: PasswordField) -> None:
        report(
            password_changes.check_current_password, self.user, field.data or "", field="password"
        )


class SignOutElsewhereForm(_ForUser, FlaskForm):
    """Sign the ``user``'s other browsers out, confirmed with their password."""

    password = PasswordField("Your password", validators=[Required("Enter your password")])

    def validate_password(self, field: PasswordField) -> None:
        report(
            password_changes.check_current_password, self.user, field.data or "", field="password"
        )


class ProfileForm(_OrganisationChoice, FlaskForm):
    """What other members see about you."""

    display_name = StringField(
        "Full name",
        validators=[
            Required("Enter your full name"),
            Length(max=120, message="Full name must be 120 characters or fewer"),
        ],
    )
    job_title = StringField(
        "Job title",
        validators=[
            Required("Enter your job title"),
            Length(max=120, message="Job title must be 120 characters or fewer"),
        ],
    )
    organisation_id = _organisation_field()
    bio = TextAreaField(
        "About you",
        description="What you work on and what you would like to learn about. You can use Markdown.",
        validators=[
            Optional(),
            Length(max=4000, message="About you must be 4,000 characters or fewer"),
        ],
    )
