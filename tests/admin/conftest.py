"""Fixtures for the admin tests: a network administrator, and a browser signed in as her."""

import pytest


@pytest.fixture
def admin(make_user):
    """Ada, a network administrator."""
    return make_user("Ada Admin", "ada@england.nhs.uk", admin=True)


@pytest.fixture
def admin_client(client, login, admin):
    """A browser signed in as Ada."""
    login(client, admin)
    return client
