"""Reading a rendered page the way a person (or a screen reader) would: its headings, links, form
fields and their values, error messages beside fields and the error summary."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip


def squash(text: str) -> str:
    """Text with runs of whitespace made single spaces, as it reads on screen."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """A parsed response: ``Page(client.get("/login"))``. ``values`` holds the fields of the
    page's own forms (inside ``<main>``), as the header's search box is on every page."""

    def __init__(self, response: Any) -> None:
        super().__init__(convert_charrefs=True)
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        self.headings: list[tuple[int, str]] = []
        self.links: list[tuple[str, str]] = []
        self.main_links: list[tuple[str, str]] = []
        self.values: dict[str, str] = {}
        self.field_errors: dict[str, str] = {}
        self.summary: list[tuple[str | None, str]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.main_tags: list[tuple[str, dict[str, str]]] = []
        self.main_text = ""
        self._stack: list[_Open] = []
        self._select: str | None = None
        self._in_main = False
        self._in_summary = False
        self._main: list[str] = []
        self.feed(self.html)
        self.close()
        self.main_text = squash(" ".join(self._main))

    # HTMLParser ---------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        self.tags.append((tag, attrs))
        classes = attrs.get("class", "").split()
        if tag == "main":
            self._in_main = True
        if self._in_main:
            self.main_tags.append((tag, attrs))
        if "nhsuk-error-summary" in classes:
            self._in_summary = True
        if self._in_main:  # the page's own forms, not the header's search box
            self._form_value(tag, attrs)
        if tag not in _VOID:
            self._stack.append(_Open(tag, attrs))

    def _form_value(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "input" and attrs.get("name") and attrs.get("type") not in {"checkbox", "radio"}:
            self.values[attrs["name"]] = attrs.get("value", "")
        if tag == "input" and attrs.get("type") in {"checkbox", "radio"} and "checked" in attrs:
            self.values[attrs.get("name", "")] = attrs.get("value", "on")
        if tag == "select":
            self._select = attrs.get("name")
            self.values.setdefault(self._select or "", "")
        if tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        while self._stack:
            node = self._stack.pop()
            text = squash("".join(node.text))
            if self._stack:
                self._stack[-1].text.append(" " + "".join(node.text) + " ")
            self._closed(node, text)
            if node.tag == tag:
                break
        if tag == "main":
            self._in_main = False
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1].text.append(data)
        if self._in_main:
            self._main.append(data)

    def _closed(self, node: _Open, text: str) -> None:
        if re.fullmatch(r"h[1-6]", node.tag):
            self.headings.append((int(node.tag[1]), text))
        elif node.tag == "a":
            self.links.append((node.attrs.get("href", ""), text))
            if self._in_main:
                self.main_links.append((node.attrs.get("href", ""), text))
            if self._in_summary:
                self.summary.append((node.attrs.get("href"), text))
        elif node.tag == "textarea" and node.attrs.get("name"):
            self.values[node.attrs["name"]] = "".join(node.text).removeprefix("\n")
        elif "nhsuk-error-message" in node.attrs.get("class", "").split():
            field_id = node.attrs.get("id", "").removesuffix("-error")
            self.field_errors[field_id] = text.removeprefix("Error:").strip()
        elif node.tag == "div" and "nhsuk-error-summary" in node.attrs.get("class", "").split():
            self._in_summary = False
        elif (
            node.tag == "li"
            and self._in_summary
            and not node.attrs
            and not any(text == summary_text for _href, summary_text in self.summary)
        ):
            # A form-wide message in the summary has no link to a field.
            self.summary.append((None, text))

    # Questions a test asks ----------------------------------------------------------------------
    @property
    def h1(self) -> str:
        ones = [text for level, text in self.headings if level == 1]
        assert len(ones) == 1, f"expected one <h1>, found {ones}"
        return ones[0]

    def link(self, text: str) -> str:
        """The href of the link whose text is ``text``."""
        for href, link_text in self.links:
            if link_text == text:
                return href
        raise AssertionError(f"no link {text!r} in {[t for _h, t in self.links]}")

    def main_link(self, text: str) -> str:
        """The href of the link in the page's main content whose text is ``text``."""
        for href, link_text in self.main_links:
            if link_text == text:
                return href
        raise AssertionError(f"no link {text!r} in {[t for _h, t in self.main_links]}")

    def has_link(self, href: str) -> bool:
        return any(link_href == href for link_href, _text in self.links)

    def error_for(self, field_id: str) -> str | None:
        """The error message shown beside a field, if any."""
        return self.field_errors.get(field_id)

    def summary_has(self, message: str, field_id: str | None = None) -> bool:
        """Whether the error summary lists the message (linking to the field, when given)."""
        wanted = f"#{field_id}" if field_id else None
        return any(text == message and (wanted is None or href == wanted)
                   for href, text in self.summary)  # fmt: skip


def normalise_volatile(html: str) -> str:
    """A page with its per-request values (CSRF token, CSP nonce) blanked out."""
    html = re.sub(r'(name="csrf-token" content=|name="csrf_token" value=)"[^"]*"', r'\1""', html)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)
