"""Redis in production: health reporting and rate limits shared by every server process.

These run only when ``PEERLEARN_TEST_REDIS_URL`` names a reachable Redis (``.ci/run`` sets it)."""

import pytest

from tests.conftest import REDIS_URL

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="PEERLEARN_TEST_REDIS_URL is not set")


@pytest.fixture
def redis_config(redis_limits):
    return {"REDIS_URL": REDIS_URL, **redis_limits}


def test_health_reports_redis_ok(make_app, redis_config):
    response = make_app(**redis_config).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["redis"] == "ok"


def test_sign_in_limits_are_shared_between_server_processes(make_app, redis_config, make_user):
    """Five failures spread over two app instances (as two processes would be) use up one
    account's allowance; the sixth attempt is refused by either."""
    user = make_user()
    first, second = make_app(**redis_config), make_app(**redis_config)
    clients = [first.test_client(), second.test_client()]
    for attempt in range(5):
        response = clients[attempt % 2].post(
            "/login", data={"email": user.email, "password": "wrong password entirely"}
        )
        assert response.status_code == 200, attempt
    refused = clients[1].post("/login", data={"email": user.email, "password": "still wrong"})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
