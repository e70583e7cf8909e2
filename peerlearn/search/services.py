"""Searching: parse, match, keep only what the reader may see, rank, page, and cut snippets.

Permissions are part of the query itself: each matching row is kept only when the permission
policy's SQL filter for its kind allows its thing (for threads, replies and events, applied to
the index's copies of the thing's space and a reply's thread; see ``kinds.py``), so counts and
pages hold what the reader may open. The results shown are then checked one by one with the
policy's single-item rule.

A search first finds the newest visible matches, at most :data:`CANDIDATES` of them (see
:func:`_newest_visible`): the counts come from these. Then one statement ranks them and reads a
page. A search matching more ranks the newest :data:`CANDIDATES` and says there are more (the
page suggests words, a phrase or dates to reach further back): ranking every match of a word
found in a quarter of everything took 0.5–0.75 s on 500,000 posts, and finding and ranking the
newest 1,000 takes a few milliseconds (``docs/performance.md``). No more than 1,000 results are
ever served (:data:`MAX_PAGE` pages).

Ranking (higher first), the same on both databases::

    score = relevance × recency × helpfulness
    relevance   = -bm25(title ×10, body ×1)            (SQLite FTS5)
                | ts_rank(A-weighted title + B body, 1) (PostgreSQL; normalised by log length)
    recency     = 1 + 1 / (1 + age_in_days / 30)        (2 today, 1.5 at a month, → 1 when old)
    helpfulness = 1 + 0.5 × h / (h + 3)                 (replies: h helpful marks; 1 otherwise)

Text relevance dominates; among similar matches the newer, and the posts others found helpful,
come first. The multipliers are bounded (at most 3×) so a fresh weak match cannot bury a strong
one.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Row, Select, and_, case, false, func, or_, select

from peerlearn.core.db import utcnow
from peerlearn.core.templating import LONDON
from peerlearn.discussions.models import ImpactComponent, Thread
from peerlearn.extensions import db
from peerlearn.organisations.models import Organisation, Region
from peerlearn.permissions import Action, can, remember_memberships
from peerlearn.search.backends import Snippet, backend
from peerlearn.search.kinds import KINDS
from peerlearn.search.models import Kind, SearchDocument, component_bit
from peerlearn.search.query import Query, parse
from peerlearn.spaces.models import Space

logger = logging.getLogger(__name__)

PER_PAGE = 20
#: Pages past this are not served: nobody reads them, and deep offsets cost every match.
MAX_PAGE = 50
#: How many of the newest visible matches a search counts and ranks (see the module's
#: docstring): as many as its pages can show (``MAX_PAGE × PER_PAGE``).
CANDIDATES = 1000
#: How many of the newest matches a search's round reads before the permission filter keeps
#: those the reader may see: twice :data:`CANDIDATES`, so that the round serves a reader who may
#: see half of them.
ROUND = 2 * CANDIDATES


def visible_documents(
    user: Any, kinds: list[Kind], doc: Any = SearchDocument, *, few: bool = False
) -> ColumnElement[bool]:
    """SQL condition on index rows of these kinds whose thing the reader may open, as the
    permission policy's filter for that kind says (``KindSpec.visible``). ``doc`` holds the
    rows' columns: :class:`SearchDocument`, or a subquery's ``c``; ``few`` when they are a
    round's (at most :data:`ROUND`), not every match."""
    return or_(*(and_(doc.kind == kind, KINDS[kind].visible(user, doc, few)) for kind in kinds))


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the search to."""

    kind: Kind | None = None
    space_id: int | None = None
    #: Things tagged with this NHS IMPACT component (threads and their replies, events,
    #: resources).
    component: ImpactComponent | None = None
    #: Things from this organisation (see :attr:`SearchDocument.organisation_id`), or from any
    #: organisation in this region.
    organisation_id: int | None = None
    region: Region | None = None
    #: Inclusive dates, in London, compared with each result's date.
    since: date | None = None
    until: date | None = None


@dataclass
class Result:
    """One thing found, ready to show."""

    kind: Kind
    target: Any
    snippet: Snippet
    date: datetime
    space: Space | None = None
    #: For a reply: the thread it is in.
    thread: Thread | None = None

    @property
    def title(self) -> Markup:
        return self.snippet.title

    @property
    def url(self) -> str:
        """The result's address (built when shown: it needs a request)."""
        return KINDS[self.kind].url(self.target)


class ResultsPage(Pagination):
    """One page of results, with the usual pagination attributes (``pages``, ``has_next`` …);
    pages past :data:`MAX_PAGE` are not counted, so the last one served offers no next one."""

    @property
    def pages(self) -> int:
        return min(super().pages, MAX_PAGE)

    def _query_items(self) -> list[Any]:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]


@dataclass
class SearchResults:
    """What a search found for the reader."""

    query: Query
    page: ResultsPage
    #: Matches per kind, for the kind filter's labels (only the kind chosen, when one is).
    counts: dict[Kind, int] = field(default_factory=dict)
    #: Whether more matched than were ranked: the counts and the total are then the newest
    #: :data:`CANDIDATES`, and the results the best of those.
    more: bool = False

    @property
    def total(self) -> int:
        return self.page.total or 0

    def __iter__(self) -> Iterator[Result]:
        return iter(self.page.items)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(UTC)


def _score(relevance: ColumnElement[Any]) -> ColumnElement[float]:
    """The ranking formula in the module's docstring."""
    age = backend().age_in_days(utcnow())
    h = SearchDocument.helpful
    return relevance * (1.0 + 1.0 / (1.0 + age / 30.0)) * (1.0 + 0.5 * h / (h + 3.0))


def search(
    user: Any, text: str | None, filters: Filters | None = None, page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchResults:  # fmt: skip
    """Search everything the reader may see. Never raises for what was typed."""
    filters = filters or Filters()
    parsed = parse(text)
    page = max(1, min(page, MAX_PAGE))
    if not parsed.searchable:
        return SearchResults(parsed, ResultsPage(page, per_page, None, False, items=[], total=0))
    engine = backend()
    engine.prepare()
    base, _ = engine.matching(select(SearchDocument.id), parsed)
    if filters.kind is not None:
        base = base.where(SearchDocument.kind == filters.kind)
    if filters.space_id is not None:
        base = base.where(SearchDocument.space_id == filters.space_id)
    if filters.component is not None:
        base = base.where(SearchDocument.components.op("&")(component_bit(filters.component)) != 0)
    if filters.organisation_id is not None:
        base = base.where(SearchDocument.organisation_id == filters.organisation_id)
    if filters.region is not None:
        in_region = select(Organisation.id).where(Organisation.region == filters.region)
        base = base.where(SearchDocument.organisation_id.in_(in_region))
    start = _day_start(filters.since) if filters.since is not None else None
    end = None
    if filters.until is not None and filters.until < date.max:  # the last day ends nothing
        end = _day_start(filters.until + timedelta(days=1))
    base = base.where(*engine.dated(start, end))

    found, more = _newest_visible(user, base)
    counts = dict(Counter(row.kind for row in found))
    rows: list[Row[Any]] = []
    if found:
        shown = (
            SearchDocument.id,
            SearchDocument.kind,
            SearchDocument.object_id,
            SearchDocument.title,
            SearchDocument.activity_at,
        )
        ranked, relevance = engine.ranking(select(*shown), parsed, [row.id for row in found])
        ranked = ranked.order_by(_score(relevance).desc(), SearchDocument.id.desc())
        rows = db.session.execute(ranked.limit(per_page).offset((page - 1) * per_page)).all()
    items = _results(user, rows, parsed)
    return SearchResults(
        parsed,
        ResultsPage(page, per_page, None, False, items=items, total=len(found)),
        counts,
        more,
    )


def _newest_visible(user: Any, matching: Select[Any]) -> tuple[list[Row[Any]], bool]:
    """The newest matches the reader may see (id and kind), at most :data:`CANDIDATES`, and
    whether there are more.

    First a round: the newest :data:`ROUND` matches in a subquery (read newest first, through
    the date index on PostgreSQL and backwards through FTS5 on SQLite), kept when the reader may
    see them, stopping as soon as enough are found. Given the match and the permission filter
    as conditions of one query, PostgreSQL cannot tell that the filter keeps most matches, and
    for a word found everywhere it chose to read and sort every match (0.9 s instead of 20 ms);
    the round's limit makes it read newest first. The round also returns its own last row,
    kept or not, as the place to go on from. For a reader who may see few of the matches (a
    visitor, say), one statement then finds the rest: it reads the remaining matches newest
    first with the filter, until it has enough. (A second, larger round read every match for
    some three-word searches, as PostgreSQL guessed too few matches for the walk to pay: 0.4 s.)
    "More" is said only of matches the reader may see, so it never hints at what they may not."""
    engine = backend()
    recency = engine.newest_first()
    labels = [f"recency_{n}" for n in range(len(recency))]
    matches = (
        matching.with_only_columns(
            SearchDocument.id,
            SearchDocument.kind,
            SearchDocument.object_id,
            SearchDocument.thread_id,
            SearchDocument.space_id,
            *(key.label(label) for key, label in zip(recency, labels, strict=True)),
        )
        .order_by(*(key.desc() for key in recency))
        .limit(ROUND)
        .subquery()
    )
    # Numbered outside the limited query, so that the limit still bounds its sort.
    newest = [matches.c[label].desc() for label in labels]
    numbered = select(matches, func.row_number().over(order_by=newest).label("place"))
    numbered = numbered.subquery("round")
    keys = [numbered.c[label] for label in labels]
    last = numbered.c.place == ROUND
    rows = db.session.execute(
        # The round's last row comes with its keys (as the round read them), the place to go
        # on from: read again by id, it could have moved or gone since.
        select(
            numbered.c.id, numbered.c.kind, last.label("last"), *(case((last, key)) for key in keys)
        )
        .where(or_(visible_documents(user, list(Kind), numbered.c, few=True), last))
        .order_by(*(key.desc() for key in keys))
        .limit(CANDIDATES + 2)  # one more says there are more; the round's last row may come
    ).all()
    found = [row for row in rows if not row.last][: CANDIDATES + 1]
    end = next((tuple(row[3:]) for row in rows if row.last), None)
    if len(found) <= CANDIDATES and end is not None:  # the round was full: read on
        # coalesce(): SQLite would otherwise read the matches through the indexes the filter's
        # terms could use (without statistics it took those for selective), not newest first.
        visible = func.coalesce(visible_documents(user, list(Kind)), false())
        rest = matching.where(engine.no_newer_than(end), visible)
        rest = rest.with_only_columns(SearchDocument.id, SearchDocument.kind)
        rest = rest.order_by(*(key.desc() for key in recency))
        found += db.session.execute(rest.limit(CANDIDATES + 1 - len(found))).all()
        # A row whose date an edit changed between the two statements may come twice.
        found = list({row.id: row for row in found}.values())
    return found[:CANDIDATES], len(found) > CANDIDATES


def _results(user: Any, rows: list[Row[Any]], parsed: Query) -> list[Result]:
    """The page's things (one query per kind) and snippets, in rank order, for its index rows
    (id, kind, object id, title and date, as ranked).

    A thing whose kind's filter read the index's copy of its space is asked about again with the
    policy's single-item rule: the copy is kept in step by signal receivers, and one that failed
    (logged there) must not show a title or snippet from a space the thing has left. Such a
    thing is left off the page and logged; ``search-reindex`` puts the copy right."""
    if not rows:
        return []
    wanted: dict[Kind, list[int]] = {}
    for row in rows:
        wanted.setdefault(row.kind, []).append(row.object_id)
    things: dict[tuple[Kind, int], Any] = {}
    for kind, object_ids in wanted.items():
        spec = KINDS[kind]
        query = select(spec.model).where(spec.model.id.in_(object_ids)).options(*spec.load)
        for thing in db.session.scalars(query):
            things[(kind, thing.id)] = thing
    # The single-item rule reads the reader's membership of each result's space: one statement.
    remember_memberships(
        user,
        {
            KINDS[kind].space(thing).id
            for (kind, _), thing in things.items()
            if KINDS[kind].opens is not None
        },
    )
    snippets = backend().snippets([row.id for row in rows], parsed)
    results = []
    for row in rows:
        thing = things.get((row.kind, row.object_id))
        if thing is None:  # the thing went after the ranking statement read its row
            continue
        spec = KINDS[row.kind]
        if spec.opens is not None and not spec.opens(user, thing):
            # The index is behind (or the thing changed since the ranking statement read it).
            logger.warning("search index out of step: %s %s left off", row.kind.value, thing.id)
            continue
        # No snippet when an edit took the words out since the ranking (SQLite cuts them from
        # matching rows only): the title as read, so that the link has its text.
        snippet = snippets.get(row.id) or Snippet(escape(row.title), Markup(""))
        space = spec.space(thing)
        if row.kind is Kind.space and space is not None and not can(user, Action.list, space):
            space = None  # a group's community is named only to those who may see it listed
        result = Result(row.kind, thing, snippet, row.activity_at, space)
        if row.kind is Kind.post:
            # A reply has no title of its own: it is shown as "Reply in <thread title>".
            result.thread = thing.thread
            result.snippet = Snippet(Markup(""), snippet.text)
        results.append(result)
    return results
