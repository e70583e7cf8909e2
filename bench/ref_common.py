"""What the two bare reference servers share: peerlearn's chat namespace and message shape."""

from datetime import UTC, datetime
from typing import Any

NAMESPACE = "/live"


def room(data: dict[str, Any]) -> str:
    return f"event:{data['event_id']}"


def message(number: int, data: dict[str, Any]) -> dict[str, Any]:
    """A ``message`` payload as peerlearn's contract has it, built from a ``send``'s data."""
    return {
        "id": number,
        "event_id": data["event_id"],
        "author": {"id": 1, "name": "Chat Member 1", "organisation": None},
        "body_html": data["body"],
        "deleted": False,
        "created_at": datetime.now(UTC).isoformat(),
        "client_id": data["client_id"],
    }
