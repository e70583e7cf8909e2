"""Browser fixtures: one served app with demo data, one headless Chromium, and axe-core checks.

The app runs as a real ``flask run`` subprocess on a free port, on a SQLite database in a temporary
folder, with e-mail written to an outbox folder the tests read links from. Chromium is Debian's
(``/usr/bin/chromium``), driven by Playwright; nothing is downloaded. Every page a test visits is
checked with axe-core for WCAG 2.2 AA, and a test fails if it navigates to a page it did not check.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Frame,
    Page,
    Playwright,
    sync_playwright,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
FLASK = Path(sys.executable).with_name("flask")

#: The demo accounts' password in the served app.
DEMO_PASSWORD = "browser tests walk the demo network " + secrets.token_hex(4)

#: The WCAG levels axe checks; a violation of impact "serious" or "critical" fails the test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Playwright's default is 30 s; a page of this app that takes more than this has a bug.
TIMEOUT_MS = 10_000


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, attach the tail of the server's log to the report, and remember it."""
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
        server = getattr(item, "funcargs", {}).get("live_server")
        if isinstance(server, LiveServer):
            report.sections.append(("peerlearn server log (last 60 lines)", server.log_tail(60)))
    return report


# The served app --------------------------------------------------------------------------------


@dataclass
class Mail:
    """One message from the app's outbox."""

    to: str
    subject: str
    text: str

    def link(self, path_prefix: str) -> str:
        """The first absolute link in the message whose path starts with ``path_prefix``."""
        match = re.search(r"https?://[^/\s]+" + re.escape(path_prefix) + r"\S*", self.text)
        assert match, f"no {path_prefix} link in the e-mail to {self.to}:\n{self.text}"
        return match.group(0)


@dataclass
class LiveServer:
    """The app served for the session."""

    url: str
    outbox: Path
    log: Path
    process: subprocess.Popen[bytes]

    def mails(self) -> list[Mail]:
        """Every message the app has sent, oldest first."""
        messages = []
        for path in sorted(self.outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            messages.append(Mail(str(message["To"]), str(message["Subject"]), body.get_content()))
        return messages

    def last_mail(self, to: str) -> Mail:
        """The newest message to ``to`` (the app writes it before it answers the request)."""
        mails = [mail for mail in self.mails() if mail.to == to]
        assert mails, f"no e-mail to {to}; the outbox has mail to {[m.to for m in self.mails()]}"
        return mails[-1]

    def log_tail(self, lines: int) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


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
    """The app, migrated and seeded with the demo network, served on a free local port."""
    root = tmp_path_factory.mktemp("live")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{root / 'browser.db'}",
        "MAIL_OUTBOX_DIR": str(root / "outbox"),
        "UPLOAD_DIR": str(root / "uploads"),
        "PEERLEARN_BASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(36),
        "PEERLEARN_DEMO_PASSWORD": DEMO_PASSWORD,
        "PEERLEARN_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("MAIL_SERVER", "REDIS_URL", "RATELIMIT_ENABLED", "FLASK_DEBUG", "PEERLEARN_PROXY_COUNT"):
        env.pop(name, None)
    flask = [str(FLASK), "--app", "peerlearn"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        done = subprocess.run(
            [*flask, *command], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"flask {' '.join(command)} failed:\n{done.stderr[-3000:]}"

    log = root / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*flask, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=url, outbox=root / "outbox", log=log, process=process)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start on {url}:\n{server.log_tail(40)}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(chromium_executable: str, playwright_driver: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole session; each test gets fresh contexts."""
    browser = playwright_driver.chromium.launch(
        executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class VisitLog:
    """The pages a browser tab has shown, and which of them axe has checked."""

    urls: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)

    def unchecked(self) -> list[str]:
        return [url for index, url in enumerate(self.urls) if index not in self.checked]


_VISITS = "_peerlearn_visits"

NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[NewContext]:
    """Open a browser context (another person's browser) on the app; closed after the test.

    Contexts bypass the page's Content-Security-Policy only so that axe-core can be injected.
    Every tab is tracked: the test fails if it showed a page it did not check with
    :func:`check_accessibility` (only the last page before each check needs one, so call it
    after every navigation).
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def track(page: Page) -> None:
        if hasattr(page, _VISITS):
            return
        visits = VisitLog()
        setattr(page, _VISITS, visits)
        pages.append(page)

        def navigated(frame: Frame) -> None:
            if frame == page.main_frame and frame.url != "about:blank":
                visits.urls.append(frame.url)

        page.on("framenavigated", navigated)

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            bypass_csp=True,
            locale="en-GB",
            timezone_id="Europe/London",
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", track)
        original_new_page = context.new_page

        def new_page() -> Page:
            page = original_new_page()
            track(page)
            return page

        context.new_page = new_page  # type: ignore[method-assign]
        contexts.append(context)
        return context

    yield make

    unchecked = [url for page in pages for url in getattr(page, _VISITS).unchecked()]
    for context in contexts:
        context.close()
    if unchecked and not request.node.stash.get(_FAILED, False):
        pytest.fail(f"pages shown without an accessibility check: {unchecked}")


@pytest.fixture
def page(new_context: NewContext) -> Page:
    """A tab in a fresh browser context, signed out."""
    return new_context().new_page()


@pytest.fixture(scope="session")
def signed_in_state(
    browser: Browser, live_server: LiveServer
) -> Callable[[str], dict[str, Any]]:
    """The cookies of a demo account signed in through the form, made once per account."""
    states: dict[str, dict[str, Any]] = {}

    def state(email_address: str) -> dict[str, Any]:
        if email_address not in states:
            context = browser.new_context(base_url=live_server.url)
            context.set_default_timeout(TIMEOUT_MS)
            try:
                tab = context.new_page()
                sign_in(tab, email_address, DEMO_PASSWORD)
                states[email_address] = context.storage_state()
            finally:
                context.close()
        return states[email_address]

    return state


@pytest.fixture
def page_as(new_context: NewContext, signed_in_state: Callable[[str], dict[str, Any]]) -> Callable[[str], Page]:
    """A tab in a fresh browser context, already signed in as the given demo account."""

    def make(email_address: str) -> Page:
        return new_context(storage_state=signed_in_state(email_address)).new_page()

    return make


# What a person does ----------------------------------------------------------------------------


def sign_in(page: Page, email_address: str, password: str, *, check: bool = False) -> None:
    """Sign in through the form at /login, as a person would (checking each page when asked)."""
    page.goto("/login")
    if check:
        check_accessibility(page)
    page.get_by_label("E-mail address").fill(email_address)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in as {email_address} failed on {page.url}"
    if check:
        check_accessibility(page)


# Accessibility ---------------------------------------------------------------------------------

_AXE_RUN = """async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})"""


def check_accessibility(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.2 AA) on the page as it is now; fail on serious or critical violations.

    Returns the lesser (moderate and minor) violations, for whoever wants to report them.
    """
    page.wait_for_load_state()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(_AXE_RUN, AXE_TAGS)
    visits: VisitLog | None = getattr(page, _VISITS, None)
    if visits is not None and visits.urls:
        visits.checked.add(len(visits.urls) - 1)
    violations = results["violations"]
    failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    assert not failing, f"accessibility violations on {page.url}:\n" + describe(failing)
    return [v for v in violations if v.get("impact") not in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per axe rule: its id, impact, help text and the elements that fail it."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:10]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)
