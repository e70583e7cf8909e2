"""The search form: what to look for and the filters (a GET form: shareable, no CSRF)."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SelectChoice, SelectField
from wtforms.validators import Optional, ValidationError

from peerlearn.core.forms import chosen_id, chosen_member
from peerlearn.discussions.models import ImpactComponent
from peerlearn.organisations.models import Region
from peerlearn.organisations.services import organisation_choices, region_choices
from peerlearn.search.models import Kind
from peerlearn.search.query import MAX_LENGTH
from peerlearn.search.services import Filters
from peerlearn.spaces.models import Space


class DayField(DateField):
    """A date from ``<input type="date">`` (YYYY-MM-DD), with an error in the NHS style."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a real date, like 2026-03-31") from None


class SearchForm(FlaskForm):
    """``/search?q=…&kind=…&space=…&component=…&organisation=…&region=…&since=…&until=…``.
    The view calls :meth:`set_spaces`; :meth:`filters` accepts only values offered."""

    class Meta:
        csrf = False

    # No length validator: a long query is cut by the parser, never refused.
    q = SearchField("Search for", render_kw={"maxlength": MAX_LENGTH})
    kind = SelectField(
        "Show",
        choices=[SelectChoice("", "Everything"), *(SelectChoice(k.value, k.plural) for k in Kind)],
        validate_choice=False,
    )
    space = SelectField("Community or group", validate_choice=False)
    component = SelectField(
        "NHS IMPACT component",
        choices=[
            SelectChoice("", "Any component"),
            *(SelectChoice(c.value, f"{c.number}. {c.label}") for c in ImpactComponent),
        ],
        validate_choice=False,
    )
    organisation = SelectField("Organisation", validate_choice=False)
    region = SelectField("Region", validate_choice=False)
    since = DayField("From", validators=[Optional()], format="%Y-%m-%d")
    until = DayField("To", validators=[Optional()], format="%Y-%m-%d")

    def set_spaces(self, spaces: list[Space]) -> None:
        self.space.choices = [
            SelectChoice("", "Any community or group"),
            *(SelectChoice(space.slug, space.name) for space in spaces),
        ]
        self._spaces = {space.slug: space.id for space in spaces}
        self.organisation.choices = organisation_choices("Any organisation")
        self.region.choices = region_choices()

    @property
    def filtered(self) -> bool:
        """Whether any filter is chosen (so the page offers to clear them)."""
        return any(
            field.data
            for field in (
                self.kind, self.space, self.component, self.organisation, self.region,
                self.since, self.until,
            )
        )  # fmt: skip

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The ‘to’ date must be the same as or after the ‘from’ date")

    def query_text(self) -> str:
        return (self.q.data or "")[: MAX_LENGTH * 4]

    def filters(self) -> Filters:
        """The filters to search with; anything unknown or invalid is ignored."""

        def valid(field: DateField) -> date | None:
            return None if field.errors else field.data

        since, until = valid(self.since), valid(self.until)
        if since and until and until < since:
            until = None
        return Filters(
            kind=chosen_member(Kind, self.kind),
            space_id=getattr(self, "_spaces", {}).get(self.space.data or ""),
            component=chosen_member(ImpactComponent, self.component),
            organisation_id=chosen_id(self.organisation),
            region=chosen_member(Region, self.region),
            since=since,
            until=until,
        )
