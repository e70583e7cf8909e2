"""The security baseline every response carries, and the settings production insists on."""

import logging
import re

import pytest

from peerlearn import create_app
from peerlearn.config import ConfigError
from peerlearn.core.security import is_safe_redirect
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, OrganisationKind
from tests.conftest import PASSWORD

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{20,}'", csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize("path", ["/", "/about", "/login", "/register", "/healthz", "/spaces"])
def test_pages_carry_the_security_headers(client, path):
    assert_security_headers(client.get(path))


@pytest.mark.parametrize(("path", "status"), [("/no-such-page", 404), ("/spaces/nope", 404)])
def test_error_pages_carry_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response)
    assert "Page not found" in response.get_data(as_text=True)


def test_every_script_on_a_page_carries_this_requests_nonce(client):
    first = client.get("/about")
    nonce = re.search(r"'nonce-([^']+)'", first.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script[^>]*>", first.get_data(as_text=True))
    assert scripts, "the layout loads scripts"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    second = client.get("/about")
    assert nonce not in second.headers["Content-Security-Policy"], "a nonce is never reused"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/about").headers
    secure = client.get("/about", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user, login):
    response = login(client, make_user())
    cookies = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("peerlearn_session=")
    ]
    assert cookies, response.headers.getlist("Set-Cookie")
    assert "HttpOnly" in cookies[-1]
    assert "SameSite=Lax" in cookies[-1]


def test_signed_in_pages_are_not_cached(client, make_user, login):
    assert "no-store" not in client.get("/about").headers.get("Cache-Control", "")
    login(client, make_user())
    assert client.get("/about").headers["Cache-Control"] == "no-store"


def test_a_form_posted_without_its_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "x"}, csrf=False)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/organisations?q=%00", None),
        ("get", "/people?q=a%00", None),
        ("get", "/admin/users?q=%00", None),
        ("get", "/admin/audit?action=admin.%00", None),
        ("get", "/spaces/qms%00/events", None),
        ("get", "/events?when%00=past", None),
        ("post", "/admin/domains/remove", {"domain": "nhs.net\x00"}),
        ("post", "/admin/organisations/new", {"name": "Barts\x00", "kind": "trust"}),
    ],
)
def test_a_nul_character_anywhere_in_a_request_is_refused_plainly(
    client, make_user, login, method, path, data
):
    # PostgreSQL cannot store or compare text holding NUL: these were 500s there.
    login(client, make_user(admin=True))
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 400
    assert "a NUL character" in response.get_data(as_text=True)
    assert_security_headers(response)


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/spaces", True),
        ("/spaces/qms?tab=members", True),
        ("https://evil.example/", False),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("\\\\evil.example", False),
        ("javascript:alert(1)", False),
        ("/\tevil", False),
        ("http:evil.example", False),
        ("", False),
        (None, False),
    ],
)
def test_next_redirects_stay_on_this_site(target, safe):
    assert is_safe_redirect(target) is safe


def test_unexpected_errors_show_a_plain_page_without_a_traceback(make_app):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in body
    assert "Traceback" not in body and "hunter2" not in body and "RuntimeError" not in body
    assert_security_headers(response)


def test_a_failed_database_write_still_gets_the_plain_error_page(make_app, make_user):
    # The page itself reads the database (the signed-in header's counts): it must not be
    # refused for the failed transaction, leaving the server's bare 500 without our headers.
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/write-twice")
    def write_twice():
        db.session.add(Organisation(name="Same", kind=OrganisationKind.trust))
        db.session.add(Organisation(name="Same", kind=OrganisationKind.trust))
        db.session.flush()  # two organisations with one name: refused

    user = make_user()
    browser = app.test_client()
    browser.post("/login", data={"email": user.email, "password": PASSWORD})
    response = browser.get("/write-twice")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.get_data(as_text=True)
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_too_large_requests_get_a_clear_413_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/login", data={"email": "x" * 5000}, csrf=False)
    assert response.status_code == 413
    assert "That was too large" in response.get_data(as_text=True)


def test_requests_are_logged_once_each_without_tokens(client, caplog):
    caplog.set_level(logging.INFO, logger="peerlearn.request")
    client.get("/confirm/some-secret-token-value")
    lines = [r.getMessage() for r in caplog.records if r.name == "peerlearn.request"]
    assert len(lines) == 1
    assert re.fullmatch(r"GET /confirm/\[redacted\] 400 \d+\.\dms", lines[0]), lines[0]
    assert "some-secret-token-value" not in caplog.text


class TestProductionSettings:
    BASE = {
        "PEERLEARN_ENV": "production",
        "PEERLEARN_BASE_URL": "https://peerlearn.nhs.example",
        "SECRET_KEY": "k" * 48,
    }

    @pytest.mark.parametrize("secret", ["", "change-me", "dev", "short-but-random"])
    def test_refuses_to_start_with_a_missing_default_or_weak_secret(self, app_config, secret):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app({**app_config, **self.BASE, "SECRET_KEY": secret})

    def test_refuses_a_plain_http_base_url(self, app_config):
        with pytest.raises(ConfigError, match="https"):
            create_app({**app_config, **self.BASE, "PEERLEARN_BASE_URL": "http://example.org"})

    def test_hsts_even_when_the_proxy_in_front_is_not_declared(self, make_app):
        """Production is always https (PEERLEARN_BASE_URL insists): a TLS-terminating proxy the
        app was not told about (PEERLEARN_PROXY_COUNT unset) must not cost the browser HSTS."""
        client = make_app(**self.BASE).test_client()
        response = client.get("/about")  # plain http, as the app sees it behind the proxy
        assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")

    def test_hardens_cookies_and_refuses_the_documented_demo_password(self, monkeypatch, tmp_path):
        monkeypatch.setenv("PEERLEARN_ENV", "production")
        monkeypatch.setenv("SECRET_KEY", "s" * 48)
        monkeypatch.setenv("PEERLEARN_BASE_URL", "https://peerlearn.nhs.example")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
        monkeypatch.delenv("PEERLEARN_DEMO_PASSWORD", raising=False)
        app = create_app()
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
        assert app.config["PEERLEARN_DEMO_PASSWORD"] is None
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code != 0
        assert "refused in production" in result.output


HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_what_a_user_typed_is_escaped_when_a_form_shows_it_again(client):
    """Form values, hints and messages pass through the NHS.UK macros: they must be escaped."""
    response = client.post(
        "/register",
        data={"email": HOSTILE, "display_name": HOSTILE, "job_title": HOSTILE, "password": "x"},
    )
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # kept, as text


def test_search_style_query_strings_are_escaped_in_filter_forms(client, make_user, login):
    login(client, make_user())
    page = client.get("/people", query_string={"q": HOSTILE}).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page


def test_every_app_refuses_anonymous_socket_connections(make_app):
    """Socket handlers survive the creation of further apps (workers, CLI, tests)."""
    from peerlearn.extensions import socketio

    make_app()
    other = make_app()  # the last app bound owns the Socket.IO server
    assert not socketio.test_client(other, flask_test_client=other.test_client()).is_connected()
