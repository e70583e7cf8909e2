"""Browser fixtures: one served app with the demo network, one headless Chromium, fresh contexts.

The app runs as a real ``flask run`` subprocess on a port of its own, on a SQLite database in a
temporary folder, with e-mail written to an outbox folder the tests read links from. Chromium is
Debian's (``/usr/bin/chromium``), driven by Playwright; nothing is downloaded, and without it these
tests are skipped. Every page a test shows must be checked with ``check_accessibility`` (axe-core,
WCAG 2.2 AA): a test that shows a page it did not check fails.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from bench.chat_server import COMMANDS, Server
from tests.conftest import AXE_LESSER_FINDING

from .browser_support import (
    DEMO_PASSWORD,
    JAVASCRIPT_OFF,
    LESSER_FINDINGS,
    REPO_ROOT,
    LiveServer,
    NewContext,
    sign_in,
    track_visits,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Only the served app answers: any other host is unknown at once. With the pages' CSP
    # bypassed (for axe), the NHS.UK stylesheet's fonts on assets.nhs.uk would otherwise be
    # fetched, and each page's load waited up to 5 s for a name lookup that cannot succeed here.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

#: Playwright waits 30 s by default; half that is ample for any page of this app, even on a busy CI.
TIMEOUT_MS = 15_000
# Its assertions wait only 5 s by default, which a busy CI can exceed between a page loading and
# its live chat joining (seen under load): they get the same allowance as everything else. An
# assertion that holds returns as soon as it does, so this costs nothing when all is well.
expect.set_options(timeout=TIMEOUT_MS)

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, remember it and add the tail of the server's log to the report. axe's lesser
    findings travel with the report (from a pytest-xdist worker too) to the summary
    (``pytest_terminal_summary`` in tests/conftest.py)."""
    report = yield
    for (rule, impact, help_text, target), paths in LESSER_FINDINGS.items():
        for path in sorted(paths):
            report.user_properties.append(
                (AXE_LESSER_FINDING, (rule, impact, help_text, target, path))
            )
    LESSER_FINDINGS.clear()
    if report.failed:
        item.stash[_FAILED] = True
        server = getattr(item, "funcargs", {}).get("live_server")
        if isinstance(server, LiveServer):
            report.sections.append(("peerlearn server log (last 60 lines)", server.log_tail(60)))
    return report


# The served app --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium; without it the browser tests are skipped, not failed."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("no Chromium found: install Debian's chromium to run browser tests")


@pytest.fixture(scope="session")
def live_server(
    chromium_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app, migrated and seeded with the demo network, served on a local port of its own
    (``bench.chat_server.Server``: the embedded server, ``flask run``).

    Rate limits stay on, as in production; the tests keep under them.
    """
    root = tmp_path_factory.mktemp("live")
    database = root / "browser.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "MAIL_OUTBOX_DIR": str(root / "outbox"),
        "UPLOAD_DIR": str(root / "uploads"),
        "SECRET_KEY": secrets.token_urlsafe(36),
        "PEERLEARN_DEMO_PASSWORD": DEMO_PASSWORD,
        "PEERLEARN_ENV": "development",
        # A file over the upload limit is quick to hand the browser (25 MB took it 15 s).
        "PEERLEARN_UPLOAD_MAX_MB": "2",
        "PYTHONUNBUFFERED": "1",
    }
    for inherited in ("MAIL_SERVER", "REDIS_URL", "RATELIMIT_ENABLED", "PEERLEARN_PROXY_COUNT"):
        env.pop(inherited, None)
    server = Server(COMMANDS["threading"], env, root / "server.log")
    env["PEERLEARN_BASE_URL"] = server.url

    def run(*command: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "peerlearn", *command],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def finish(process: subprocess.Popen[str], what: str) -> None:
        try:
            # Generous: seeding the demo takes ~20 s alone, several times that on a loaded machine.
            output, _ = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 0, f"flask {what} failed:\n{output[-3000:]}"

    try:
        finish(run("db", "upgrade"), "db upgrade")
        # Seeding and starting the server each take a Python start-up; they overlap to save time.
        seeding = run("seed-demo")
        try:
            server.start(timeout=120)
        finally:
            finish(seeding, "seed-demo")
        yield LiveServer(url=server.url, outbox=root / "outbox", log=server.log, database=database)
    finally:
        server.stop()


# The browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Browser]:
    """One headless Chromium for the whole session; each test opens its own contexts."""
    driver: Playwright = sync_playwright().start()
    try:
        browser = driver.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    finally:
        driver.stop()


def _open_context(browser: Browser, live_server: LiveServer, **options: Any) -> BrowserContext:
    """A browser context on the app. It bypasses the pages' Content-Security-Policy only so that
    axe-core can be injected."""
    context = browser.new_context(
        base_url=live_server.url,
        bypass_csp=True,
        locale="en-GB",
        timezone_id="Europe/London",
        **options,
    )
    context.set_default_timeout(TIMEOUT_MS)
    setattr(context, JAVASCRIPT_OFF, options.get("java_script_enabled") is False)
    return context


def _fail_on_unchecked(pages: list[Page], request: pytest.FixtureRequest) -> None:
    unchecked = [url for page in pages for url in track_visits(page).unchecked()]
    if unchecked and not request.node.stash.get(_FAILED, False):
        pytest.fail(f"pages shown without an accessibility check: {unchecked}")


@pytest.fixture(scope="session")
def _sign_ins() -> dict[str, Any]:
    """The cookies of each demo account signed in, by e-mail address, kept for the session."""
    return {}


def _signed_in_state(
    browser: Browser, live_server: LiveServer, sign_ins: dict[str, Any], email_address: str
) -> Any:
    """A browser's state (its cookies) once signed in as ``email_address``: signed in through the
    form, its pages checked, the first time in the session, and reused after that. Signing in
    takes a browser a second or two, and most tests are not about it."""
    if email_address not in sign_ins:
        context = _open_context(browser, live_server)
        try:
            sign_in(context.new_page(), email_address, DEMO_PASSWORD)
            sign_ins[email_address] = context.storage_state()
        finally:
            context.close()
    return sign_ins[email_address]


@pytest.fixture
def new_context(
    browser: Browser,
    live_server: LiveServer,
    _sign_ins: dict[str, Any],
    request: pytest.FixtureRequest,
) -> Iterator[NewContext]:
    """Open fresh browser contexts (one per person) on the app; all are closed after the test.
    ``signed_in_as=`` a demo account's e-mail address opens one already signed in as that person
    (through the form once per session; see ``_signed_in_state``).

    Every tab is tracked, and the test fails if it showed a page it never checked.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def make(*, signed_in_as: str | None = None, **options: Any) -> BrowserContext:
        if signed_in_as is not None:
            options["storage_state"] = _signed_in_state(
                browser, live_server, _sign_ins, signed_in_as
            )
        context = _open_context(browser, live_server, **options)
        context.on("page", lambda page: (track_visits(page), pages.append(page)))
        contexts.append(context)
        return context

    yield make

    for context in contexts:
        context.close()
    _fail_on_unchecked(pages, request)


@pytest.fixture
def page(new_context: NewContext) -> Page:
    """A tab in a fresh browser context, signed out."""
    return new_context().new_page()


@pytest.fixture(scope="session")
def _shared_contexts(
    browser: Browser, live_server: LiveServer
) -> Iterator[dict[str | None, BrowserContext]]:
    contexts: dict[str | None, BrowserContext] = {}
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.fixture
def tab_as(
    browser: Browser,
    live_server: LiveServer,
    _shared_contexts: dict[str | None, BrowserContext],
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[str | None], Page]]:
    """A new tab in the browser of a demo account (by e-mail address), or of a visitor (None).

    Each person's browser is opened, and signed in through the form, once for the session and
    shared, so its cache stays warm: use it to read pages, never to change what others see.
    """
    pages: list[Page] = []

    def make(email_address: str | None) -> Page:
        context = _shared_contexts.get(email_address)
        if context is None:
            context = _open_context(browser, live_server)
            if email_address is not None:
                tab = context.new_page()
                sign_in(tab, email_address, DEMO_PASSWORD)
                tab.close()
            _shared_contexts[email_address] = context
        page = context.new_page()
        track_visits(page)
        pages.append(page)
        return page

    yield make

    for page in pages:
        page.close()
    _fail_on_unchecked(pages, request)
