"""What those who answered an event are told when an edit changes when or where it happens: its
times and venue before and after, and whether its joining link changed (never the link itself,
which only those who may attend are given, on the event page)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peerlearn.events.models import Event


class LinkChange(enum.StrEnum):
    """How an edit changed the event's joining link."""

    added = "added"
    changed = "changed"
    removed = "removed"

    @property
    def sentence(self) -> str:
        """What its answerers are told."""
        return {
            "added": "It now has a joining link: find it on the event page.",
            "changed": "Its joining link has changed: find the new one on the event page.",
            "removed": "It no longer has a joining link.",
        }[self.value]


@dataclass(frozen=True)
class Arrangements:
    """When and where an event happens, as its answerers are told it."""

    starts_at: datetime
    ends_at: datetime
    #: None for an event with only a joining link (online).
    venue: str | None

    @classmethod
    def of(cls, event: Event) -> Arrangements:
        return cls(event.starts_at, event.ends_at, event.venue)

    def as_json(self) -> dict[str, Any]:
        return {
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "venue": self.venue,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Arrangements:
        return cls(
            datetime.fromisoformat(data["starts_at"]),
            datetime.fromisoformat(data["ends_at"]),
            data.get("venue"),
        )


@dataclass(frozen=True)
class Rearrangement:
    """An edit's change to when or where an event happens; false when it changed neither (a new
    title, description or number of places only)."""

    was: Arrangements
    now: Arrangements
    link: LinkChange | None = None

    @classmethod
    def since(cls, was: Arrangements, was_link: str | None, event: Event) -> Rearrangement:
        """What changed since ``was`` (and the joining link ``was_link``) in the edited event."""
        link = event.joining_url
        return cls(
            was,
            Arrangements.of(event),
            None if link == was_link
            else LinkChange.added if was_link is None
            else LinkChange.removed if link is None
            else LinkChange.changed,
        )  # fmt: skip

    @property
    def time_changed(self) -> bool:
        was, now = self.was, self.now
        return (was.starts_at, was.ends_at) != (now.starts_at, now.ends_at)

    @property
    def venue_changed(self) -> bool:
        return self.was.venue != self.now.venue

    def __bool__(self) -> bool:
        return self.time_changed or self.venue_changed or self.link is not None

    @property
    def headline(self) -> str:
        """What is new, for a subject line or a list: "New time", "New time and venue", …"""
        parts = [
            name
            for name, changed in (
                ("time", self.time_changed),
                ("venue", self.venue_changed),
                ("joining link", self.link is not None),
            )
            if changed
        ]
        listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
        return f"New {listed}"

    def as_json(self) -> dict[str, Any]:
        """As a notification keeps it (:attr:`~peerlearn.notifications.models.Notification.change`)."""
        return {
            "was": self.was.as_json(),
            "now": self.now.as_json(),
            "link": self.link.value if self.link else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rearrangement:
        return cls(
            Arrangements.from_json(data["was"]),
            Arrangements.from_json(data["now"]),
            LinkChange(data["link"]) if data.get("link") else None,
        )
