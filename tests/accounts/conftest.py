"""Fixtures for the accounts tests: an organisation to register with, and a registration helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from peerlearn.organisations.models import Organisation

#: A password that passes every rule and is nobody's factory password.
NEW_PASSWORD = "plum tractor wisely orbit"


@pytest.fixture
def organisation(make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation("Leeds Teaching Hospitals NHS Trust")


@pytest.fixture
def register(client: Any, organisation: Organisation) -> Callable[..., Any]:
    """Fill in the registration form; keyword arguments replace the sensible defaults."""

    def fill_in(**changes: str) -> Any:
        data = {
            "email": "ann.new@nhs.net",
            "display_name": "Ann New",
            "job_title": "Head of Quality Improvement",
            "organisation_id": str(organisation.id),
            "password": NEW_PASSWORD,
            **changes,
        }
        return client.post("/register", data=data)

    return fill_in
