"""Helpers for the library list tests: make a tagged resource, and read the titles a list shows."""

from __future__ import annotations

import re
from typing import Any

from peerlearn.discussions.models import ImpactComponent
from peerlearn.extensions import db
from peerlearn.resources.models import QmsElement, Resource, ResourceComponent, ResourceQmsElement

_TITLE = re.compile(r'<li class="pl-resource">\s*<h3[^>]*>\s*<a href="/resources/\d+">([^<]+)</a>')


def titles(page: str) -> list[str]:
    """The resource titles a library page lists, in order."""
    return _TITLE.findall(page)


def tag(
    resource: Resource,
    components: tuple[ImpactComponent, ...] = (),
    elements: tuple[QmsElement, ...] = (),
    **columns: Any,
) -> Resource:
    """Give a resource components, QMS elements and other column values."""
    resource.component_rows = [ResourceComponent(component=c) for c in components]
    resource.qms_rows = [ResourceQmsElement(element=e) for e in elements]
    for name, value in columns.items():
        setattr(resource, name, value)
    db.session.commit()
    return resource


def total(page: str) -> int:
    """The "N resources" count a library page shows."""
    match = re.search(r'id="results">([\d,]+) resources?<', page)
    assert match, "the page states how many resources match"
    return int(match.group(1).replace(",", ""))


def selected(page: str, name: str) -> str | None:
    """The value chosen in the page's ``<select name=…>`` (None when it shows its placeholder)."""
    block = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert block, f"no {name} select on the page"
    chosen = re.search(r'<option value="([^"]*)" selected', block.group(1))
    return chosen.group(1) if chosen and chosen.group(1) else None
