"""Forms for space settings and membership management."""

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import Email, Length, Optional

from peerlearn.core.forms import (
    EMAIL_FORMAT,
    Required,
    TextAreaField,
    optional_int,
    strip_whitespace,
)
from peerlearn.spaces.models import JoinPolicy, MemberRole, SpaceKind, Visibility

# The fields a space's settings and a new space share, made by functions so that each form can
# list them in the order its page shows them (the error summary follows the form's order).


def _name_field() -> StringField:
    return StringField(
        "Name",
        validators=[
            Required("Enter a name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
    )


def _summary_field() -> StringField:
    return StringField(
        "Summary",
        description="One sentence shown in lists of spaces.",
        validators=[Optional(), Length(max=280, message="Summary must be 280 characters or fewer")],
    )


def _description_field() -> TextAreaField:
    return TextAreaField(
        "About this space",
        description="What the space is for and who should join. You can use Markdown.",
        validators=[
            Optional(),
            Length(max=20_000, message="About this space must be 20,000 characters or fewer"),
        ],
    )


def _visibility_field() -> RadioField:
    return RadioField(
        "Who can read it",
        choices=[SelectChoice(v.value, v.label) for v in Visibility],
        validators=[Required("Choose who can read the space")],
    )


def _join_policy_field() -> RadioField:
    return RadioField(
        "How people join",
        choices=[SelectChoice(p.value, p.label) for p in JoinPolicy],
        validators=[Required("Choose how people join")],
    )


class SpaceSettingsForm(FlaskForm):
    """What a space's owner may change."""

    name = _name_field()
    summary = _summary_field()
    description = _description_field()
    visibility = _visibility_field()
    join_policy = _join_policy_field()


class NewSpaceForm(FlaskForm):
    """Create a space (network administrators)."""

    kind = RadioField(
        "Kind of space",
        choices=[SelectChoice(k.value, k.label) for k in SpaceKind],
        validators=[Required("Choose a kind of space")],
    )
    parent_id = SelectField(
        "Community",
        description="A special interest group belongs to a community.",
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional()],
    )
    name = _name_field()
    slug = StringField(
        "Web address",
        description="Lower-case letters, numbers and hyphens, like qms-sig. It cannot be changed later.",
        validators=[
            Required("Enter a web address"),
            Length(max=80, message="Web address must be 80 characters or fewer"),
        ],
    )
    summary = _summary_field()
    description = _description_field()
    visibility = _visibility_field()
    join_policy = _join_policy_field()
    owner_email = EmailField(
        "Owner's e-mail address",
        description="Leave empty to own it yourself.",
        validators=[Optional(), Email(EMAIL_FORMAT, check_deliverability=False)],
        filters=[strip_whitespace],
    )


class InviteForm(FlaskForm):
    """Invite a member of the network to the space."""

    email = EmailField(
        "E-mail address",
        description="They must already have a peerlearn account.",
        validators=[
            Required("Enter the e-mail address of the person to invite"),
            Email(EMAIL_FORMAT, check_deliverability=False),
        ],
        filters=[strip_whitespace],
    )


class RoleForm(FlaskForm):
    """Change a member's role."""

    role = SelectField(
        "Role",
        choices=[SelectChoice(r.value, r.value.capitalize()) for r in MemberRole],
        validators=[Required("Choose a role")],
    )


class BanForm(FlaskForm):
    """Ban someone, with an optional reason for the audit log."""

    reason = StringField(
        "Reason (optional)",
        validators=[Optional(), Length(max=500, message="Reason must be 500 characters or fewer")],
    )
