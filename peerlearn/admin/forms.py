"""Forms used only in the admin area."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from peerlearn.core.forms import Required, optional_int
from peerlearn.organisations.models import OrganisationKind, Region


class OrganisationForm(FlaskForm):
    """Add or edit an organisation."""

    name = StringField(
        "Name",
        validators=[
            Required("Enter the organisation's name"),
            Length(max=200, message="Name must be 200 characters or fewer"),
        ],
    )
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice("", "Choose a kind"),
            *(SelectChoice(k.value, k.label) for k in OrganisationKind),
        ],
        validators=[Required("Choose what kind of organisation it is")],
    )
    region = SelectField(
        "NHS England region",
        choices=[
            SelectChoice("", "None (national)"),
            *(SelectChoice(r.value, r.label) for r in Region),
        ],
        validators=[Optional()],
    )
    parent_id = SelectField(
        "Part of",
        description="A trust's integrated care system, or a system's region.",
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional()],
    )
    ods_code = StringField(
        "ODS code (optional)",
        description="The Organisation Data Service code, like RXN.",
        validators=[
            Optional(),
            Length(max=12, message="ODS code must be 12 characters or fewer"),
            Regexp(r"^[A-Za-z0-9]+$", message="ODS code must contain only letters and numbers"),
        ],
    )

    def validate_kind(self, field: SelectField) -> None:
        if field.data not in {k.value for k in OrganisationKind}:
            raise ValidationError("Choose what kind of organisation it is")


class DomainForm(FlaskForm):
    """Add a domain to the registration allow-list."""

    domain = StringField(
        "E-mail domain",
        description="For example nhs.net. Addresses at its subdomains (like lthtr.nhs.uk for nhs.uk) are allowed too.",
        validators=[
            Required("Enter a domain, like nhs.net"),
            Length(max=253, message="Domain must be 253 characters or fewer"),
            Regexp(
                r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$",
                message="Enter a domain in the correct format, like nhs.net",
            ),
        ],
        filters=[
            lambda value: value.strip().lower().lstrip("@") if isinstance(value, str) else value
        ],
    )


class UserSearchForm(FlaskForm):
    """Find accounts by name or e-mail (GET)."""

    class Meta:
        csrf = False

    q = StringField("Name or e-mail address", validators=[Optional(), Length(max=254)])
