"""The limits on failed sign-ins hold when the guesses arrive at the same moment, in threads of
their own, against the limiter's real storage: memory (one server process) and, when the suite
has one, Redis (shared by several). Every guess waits, just before its failure is recorded, until
all the others have got that far, or 3 seconds have passed: guesses let in on one look at the
allowance (the moment a check before the password and a count after it would let all of them
in) all meet there; guesses that each took their place first are never more than the allowance.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from peerlearn.audit.models import AuditEntry
from peerlearn.extensions import db
from tests.concurrency import at_once, first_writes_meet
from tests.conftest import PASSWORD

#: How many more guesses than the allowance arrive together.
OVER = 3


@pytest.fixture(params=["memory", "redis"])
def server(request: pytest.FixtureRequest, app: Any, make_app: Any) -> Any:
    """The app, its rate limits kept in memory, or in Redis (skipped without one)."""
    if request.param == "memory":
        return app
    return make_app(**request.getfixturevalue("redis_limits"))


def guess_at_once(server: Any, emails: list[str]) -> list[int]:
    """Sign in to each of ``emails`` with a wrong password, each guess from a browser (and a
    thread) of its own, all at once; the status of each answer."""
    statuses: list[int] = []

    def guess(email: str) -> Any:
        def send() -> None:
            client = server.test_client()
            answer = client.post("/login", data={"email": email, "password": "Not it at all 1"})
            statuses.append(answer.status_code)

        return send

    with server.app_context(), first_writes_meet("INSERT INTO audit", len(emails), before=True):
        at_once(server, [guess(email) for email in emails])
    return statuses


def failures_recorded() -> int:
    return db.session.scalar(select(func.count()).where(AuditEntry.action == "auth.sign_in_failed"))


def test_guesses_at_one_account_at_the_same_moment_get_no_more_than_its_five(server, make_user):
    user = make_user(email="known@trust.nhs.uk")
    statuses = guess_at_once(server, [user.email] * (5 + OVER))
    assert sorted(statuses) == [200] * 5 + [429] * OVER
    assert failures_recorded() == 5
    # Used up: even the right password is refused until the allowance has room again.
    refused = server.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_guesses_from_one_address_at_the_same_moment_get_no_more_than_its_thirty(server):
    emails = [f"person{n}@trust.nhs.uk" for n in range(30 + OVER)]
    statuses = guess_at_once(server, emails)
    assert sorted(statuses) == [200] * 30 + [429] * OVER
    assert failures_recorded() == 30
