"""Fixtures for the membership tests: a signed-in browser per person, and a space to join."""

from collections.abc import Callable

import pytest

from peerlearn.accounts.models import User
from peerlearn.spaces.models import (
    Space,
)
from tests.conftest import Client


@pytest.fixture
def browser(new_client, login) -> Callable[[User], Client]:
    """A browser of its own, signed in as the given person."""

    def open_as(user: User) -> Client:
        client = new_client()
        login(client, user)
        return client

    return open_as


@pytest.fixture
def space(make_space, make_user) -> Space:
    """A network space anyone may join, owned by Olive Owner."""
    return make_space("Flow Coaching SIG", owner=make_user("Olive Owner"))
