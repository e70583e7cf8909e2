"""The health check that load balancers and operators read."""


def test_healthz_reports_database_ok_and_redis_not_configured(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_503_when_redis_is_down(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.config["REDIS_URL"] = None
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["redis"] == "unavailable"
    assert response.json["database"] == "ok"
