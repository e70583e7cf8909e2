"""The library's filter form: a GET form that works without JavaScript and keeps its choices."""

import enum

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from peerlearn.core.forms import chosen_id, chosen_member
from peerlearn.discussions.models import ImpactComponent
from peerlearn.organisations.models import Region
from peerlearn.organisations.services import organisation_choices, region_choices
from peerlearn.resources.browsing import LibraryFilters, Sort
from peerlearn.resources.models import (
    Classification,
    Licence,
    QmsElement,
    ResourceKind,
    ResourceType,
)
from peerlearn.spaces.models import Space


def _choices(placeholder: str, values: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice("", placeholder), *(SelectChoice(value, text) for value, text in values)]


def _labelled(kind: type[enum.StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.label) for member in kind]  # type: ignore[attr-defined]


def _select(label: str) -> SelectField:
    # Unknown values are ignored by ``filters`` rather than reported: a stale bookmark still works.
    return SelectField(label, coerce=str, validate_choice=False)


class LibraryFilterForm(FlaskForm):
    """Narrow and order a library list. Built from ``request.args``; no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    space = _select("Community or group")
    type = _select("Type")
    kind = _select("Format")
    component = _select("NHS IMPACT component")
    qms = _select("QMS element")
    organisation = _select("Organisation it came from")
    region = _select("Region")
    licence = _select("Licence")
    classification = _select("Classification")
    sort = _select("Sort by")

    def fill_choices(self, spaces: list[Space] | None) -> None:
        """Offer the choices; ``spaces`` are those the reader may browse (None on a space's own
        library, where the space is fixed)."""
        if spaces is not None:
            self.space.choices = _choices(
                "Any community or group", [(space.slug, space.name) for space in spaces]
            )
        self.type.choices = _choices("Any type", _labelled(ResourceType))
        self.kind.choices = _choices("Any format", _labelled(ResourceKind))
        self.component.choices = _choices(
            "Any component", [(c.value, f"{c.number}. {c.label}") for c in ImpactComponent]
        )
        self.qms.choices = _choices("Any QMS element", _labelled(QmsElement))
        self.organisation.choices = organisation_choices("Any organisation")
        self.region.choices = region_choices()
        self.licence.choices = _choices("Any licence", _labelled(Licence))
        self.classification.choices = _choices("Any classification", _labelled(Classification))
        self.sort.choices = [SelectChoice(s.value, s.label) for s in Sort]

    def unseen_space(self, spaces: list[Space] | None) -> str | None:
        """The space asked for (``?space=``) when it is not among ``spaces``, the reader's: it
        does not exist, or they may not see it. The filter is dropped, and the page says so the
        same way for both, so it tells nobody whether a private space exists."""
        asked = self.space.data
        if spaces is None or not asked or any(s.slug == asked for s in spaces):
            return None
        return asked

    def filters(self, spaces: list[Space] | None = None) -> LibraryFilters:
        """The chosen filters; anything not among the choices is ignored."""

        space_id = None
        if spaces is not None and self.space.data:
            space_id = next((s.id for s in spaces if s.slug == self.space.data), None)
        return LibraryFilters(
            space_id=space_id,
            type=chosen_member(ResourceType, self.type),
            kind=chosen_member(ResourceKind, self.kind),
            component=chosen_member(ImpactComponent, self.component),
            qms_element=chosen_member(QmsElement, self.qms),
            organisation_id=chosen_id(self.organisation),
            region=chosen_member(Region, self.region),
            licence=chosen_member(Licence, self.licence),
            classification=chosen_member(Classification, self.classification),
            sort=chosen_member(Sort, self.sort) or Sort.newest,
        )
