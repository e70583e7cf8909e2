"""Organisation model and its vocabularies."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peerlearn.core.db import utcnow
from peerlearn.extensions import db

if TYPE_CHECKING:
    from peerlearn.accounts.models import User


class OrganisationKind(enum.StrEnum):
    """What sort of body an organisation is."""

    trust = "trust"
    icb = "icb"
    ics = "ics"
    region = "region"
    national = "national"
    partner = "partner"

    @property
    def label(self) -> str:
        return {
            "trust": "Trust",
            "icb": "Integrated care board (ICB)",
            "ics": "Integrated care system (ICS)",
            "region": "NHS England region",
            "national": "National body",
            "partner": "Partner organisation",
        }[self.value]


class Region(enum.StrEnum):
    """The seven NHS England regions."""

    north_east_and_yorkshire = "north-east-and-yorkshire"
    north_west = "north-west"
    midlands = "midlands"
    east_of_england = "east-of-england"
    london = "london"
    south_east = "south-east"
    south_west = "south-west"

    @property
    def label(self) -> str:
        return {
            "north-east-and-yorkshire": "North East and Yorkshire",
            "north-west": "North West",
            "midlands": "Midlands",
            "east-of-england": "East of England",
            "london": "London",
            "south-east": "South East",
            "south-west": "South West",
        }[self.value]


class Organisation(db.Model):
    """An NHS or partner organisation that members belong to."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind]
    #: The NHS England region the organisation sits in; national bodies may have none.
    region: Mapped[Region | None]
    #: A trust's system, a system's region.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    #: Organisation Data Service code (e.g. ``RXN``); optional, unique when given.
    ods_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Organisation]] = relationship(
        back_populates="parent", order_by="Organisation.name"
    )
    members: Mapped[list[User]] = relationship(
        back_populates="organisation", order_by="User.display_name", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"
