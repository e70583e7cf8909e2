"""What browser tests share besides fixtures: the served app's outbox, signing in as a person
would, and the axe-core check every page must pass (``check_accessibility``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from tests.mail_fixtures import Mail, Outbox

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"

#: The demo accounts' password in the served app (a fresh one each run).
DEMO_PASSWORD = "browser tests walk the demo network " + secrets.token_hex(4)

#: The WCAG levels axe checks; a violation of impact "serious" or "critical" fails the test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}

#: Open a browser context (another person's browser) on the served app.
NewContext = Callable[..., BrowserContext]


# The served app --------------------------------------------------------------------------------


@dataclass
class LiveServer:
    """The app served for the session: its address, its outbox, its log and its SQLite database
    (for the rare test that must set what no form can, such as a time to the second)."""

    url: str
    outbox: Path
    log: Path
    database: Path

    def mail(self, to: str, subject: str, timeout: float = 15.0) -> Mail:
        """The newest message to ``to`` with this subject, waiting for it to be written: the app
        sends most e-mail once it has answered the request (``core.deferred.after_response``),
        so it may arrive a moment after the page a test is looking at."""
        outbox = Outbox(self.outbox)
        deadline = time.monotonic() + timeout
        while True:
            found = [mail for mail in outbox.to(to) if mail.subject == subject]
            if found:
                return found[-1]
            assert time.monotonic() < deadline, (
                f"no e-mail to {to} about {subject!r} within {timeout:g} s; "
                f"to them: {[mail.subject for mail in outbox.to(to)]}"
            )
            time.sleep(0.05)

    def log_tail(self, lines: int) -> str:
        """The last lines the server wrote, for a failing test's report."""
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# What a person does ----------------------------------------------------------------------------


def sign_in(page: Page, email_address: str, password: str) -> None:
    """Sign in through the form at /login as a person would, checking the pages on the way."""
    if urlsplit(page.url).path != "/login":
        page.goto("/login")
        check_accessibility(page)
    page.get_by_label("E-mail address").fill(email_address)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    check_accessibility(page)


# Accessibility ---------------------------------------------------------------------------------

#: Only violations are reported in full (``resultTypes``), which makes axe run faster.
_AXE_RUN = """async (tags) => await axe.run(document, {
  runOnly: {type: 'tag', values: tags},
  resultTypes: ['violations'],
})"""

#: The page as the browser built it without scripts, for checking in a tab that runs them:
#: scripts are dropped, and noscript content (parsed as markup here) is unwrapped to stay markup.
_SNAPSHOT = """() => {
  const root = document.documentElement.cloneNode(true);
  root.querySelectorAll('script').forEach((script) => script.remove());
  root.querySelectorAll('noscript').forEach((element) => element.replaceWith(...element.childNodes));
  return '<!DOCTYPE html>' + root.outerHTML;
}"""

#: Set on contexts made with ``java_script_enabled=False``.
JAVASCRIPT_OFF = "_peerlearn_javascript_off"

#: Moderate and minor findings, which do not fail a test: (rule, impact, help, element) -> paths.
LESSER_FINDINGS: dict[tuple[str, str, str, str], set[str]] = {}


@dataclass
class VisitLog:
    """The pages a browser tab has shown, and which of them axe has checked."""

    urls: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)

    def unchecked(self) -> list[str]:
        return [url for index, url in enumerate(self.urls) if index not in self.checked]


def track_visits(page: Page) -> VisitLog:
    """Record every page the tab shows, so a test can be held to checking each one."""
    visits: VisitLog | None = getattr(page, "_peerlearn_visits", None)
    if visits is None:
        visits = VisitLog()
        page._peerlearn_visits = visits  # type: ignore[attr-defined]

        def navigated(frame: Any) -> None:
            if frame == page.main_frame and frame.url != "about:blank":
                visits.urls.append(frame.url)

        page.on("framenavigated", navigated)
    return visits


def check_accessibility(page: Page) -> None:
    """Run axe-core (WCAG 2.2 AA) on the page as it is now; fail on serious or critical violations.

    Call it after every navigation. axe cannot run in a tab with JavaScript off, so such a page is
    copied, without its scripts, into a tab of its own and checked there, with the same styles.
    """
    page.wait_for_load_state()
    javascript_off = getattr(page.context, JAVASCRIPT_OFF, False)
    results = _axe_on_copy(page) if javascript_off else _axe(page)
    visits: VisitLog | None = getattr(page, "_peerlearn_visits", None)
    if visits is not None and visits.urls:
        visits.checked.add(len(visits.urls) - 1)
    failing = []
    for violation in results["violations"]:
        if violation.get("impact") in FAILING_IMPACTS:
            failing.append(violation)
            continue
        for node in violation["nodes"]:
            key = (violation["id"], str(violation["impact"]), violation["help"], _target(node))
            LESSER_FINDINGS.setdefault(key, set()).add(_path(page.url))
    assert not failing, f"accessibility violations on {page.url}:\n" + describe(failing)


def _axe(page: Page) -> dict[str, Any]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(_AXE_RUN, AXE_TAGS)  # type: ignore[no-any-return]


def _axe_on_copy(page: Page) -> dict[str, Any]:
    html = page.evaluate(_SNAPSHOT)
    url = page.url.split("#")[0]
    browser = page.context.browser
    assert browser is not None
    # One scripting context serves every copy; it closes with the browser.
    context: BrowserContext | None = getattr(browser, "_peerlearn_copies", None)
    if context is None:
        context = browser.new_context(bypass_csp=True, locale="en-GB")
        browser._peerlearn_copies = context  # type: ignore[attr-defined]
    copy = context.new_page()
    try:
        copy.route(
            lambda requested: requested == url,
            lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html
            ),
        )
        copy.goto(url)
        return _axe(copy)
    finally:
        copy.close()


def _target(node: dict[str, Any]) -> str:
    return " ".join(str(part) for part in node["target"])


def _path(url: str) -> str:
    parts = url.split("/", 3)
    return "/" + parts[3] if len(parts) == 4 else url


def describe(violations: list[dict[str, Any]]) -> str:
    """One entry per axe rule: its id, impact and help, then each failing element and why."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:10]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {_target(node)}\n      {summary}")
    return "\n".join(lines)
