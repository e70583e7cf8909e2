"""One search interface, a backend per database: SQLite FTS5 and PostgreSQL full-text search.

A backend turns a parsed :class:`~peerlearn.search.query.Query` into a match condition and a
relevance expression on ``search_documents``, says how old a row is (for ranking), and cuts
highlighted snippets for the rows on one page of results. It never sees the raw input: the
parser has already reduced it to words and phrases of letters and digits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Select,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import cast
from sqlalchemy.types import Float, Integer

from peerlearn.extensions import db
from peerlearn.search.models import SearchDocument
from peerlearn.search.query import INVISIBLE, Query, compatible

#: Highlight markers put around matches by the database, then swapped for ``<mark>`` after the
#: text is escaped. Private-use characters, stripped from everything indexed (see
#: :func:`clean_text`), so stored text can never fake them.
START, STOP = "\ue000", "\ue001"
#: Stand-ins for ``<`` and ``>`` while PostgreSQL cuts a headline: its parser takes anything
#: tag-like for markup and drops it, and a post about ``<script>`` should show as written.
LT, GT = "\ue002", "\ue003"
#: Every private-use character (the markers above among them): SQLite's tokenizer takes them for
#: letters, PostgreSQL's for separators, and Word's symbol-font bullets come as them, often
#: right before a word (which SQLite then never found).
_PRIVATE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
SNIPPET_WORDS = 30


def clean_text(value: str) -> str:
    """Text as indexed: private-use characters (the highlight markers among them) made spaces,
    invisible characters (:data:`INVISIBLE`) removed, in compatibility form (as the query is:
    :func:`~peerlearn.search.query.compatible`), and whitespace collapsed."""
    return " ".join(INVISIBLE.sub("", compatible(_PRIVATE.sub(" ", value))).split())


def highlighted(fragment: str | None) -> Markup:
    """Escape a snippet from the database, then turn its markers (and nothing else) into
    ``<mark>`` elements. Unbalanced markers are dropped rather than trusted."""
    fragment = fragment or ""
    if fragment.count(START) != fragment.count(STOP):
        fragment = fragment.replace(START, "").replace(STOP, "")
    safe = str(escape(fragment.replace(LT, "<").replace(GT, ">")))
    return Markup(safe.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704


@dataclass(frozen=True)
class Snippet:
    """A result's title and an excerpt of its text, escaped, with matches in ``<mark>``."""

    title: Markup
    text: Markup


class Backend(Protocol):
    """What the search service needs from a database."""

    def matching(self, query: Select[Any], parsed: Query) -> tuple[Select[Any], ColumnElement[Any]]:
        """``query`` narrowed to rows matching ``parsed``, and their text relevance (higher is
        better)."""

    def age_in_days(self, now: datetime) -> ColumnElement[float]:
        """How many days before ``now`` each row's ``activity_at`` is (0 for a row dated later,
        such as a future event, which counts as new)."""

    def snippets(self, ids: list[int], parsed: Query) -> dict[int, Snippet]:
        """Highlighted titles and excerpts for these rows."""

    def rebuild(self) -> None:
        """Rebuild the database's full-text structures from ``search_documents``."""

    def prepare(self) -> None:
        """Set the database up for one search (in the current transaction)."""

    def newest_first(self) -> tuple[ColumnElement[Any], ...]:
        """What orders a query from :meth:`matching` newest first (each one descending): by
        date, then id."""

    def no_newer_than(self, place: tuple[Any, ...]) -> ColumnElement[bool]:
        """Condition on a query from :meth:`matching`: rows no newer than ``place`` (values of
        :meth:`newest_first`'s keys, as a row had them) in that order, that row included."""

    def dated(self, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
        """Conditions on a query from :meth:`matching`: rows dated from ``start`` (included) to
        ``end`` (not included), either open when None."""

    def ranking(
        self, query: Select[Any], parsed: Query, ids: list[int]
    ) -> tuple[Select[Any], ColumnElement[Any]]:
        """``query`` narrowed to these rows, matches of ``parsed`` found a moment ago (up to a
        few thousand), and their text relevance (higher is better)."""


def _dated(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if start is not None:
        conditions.append(SearchDocument.activity_at >= start)
    if end is not None:
        conditions.append(SearchDocument.activity_at < end)
    return conditions


def _fts_key(moment: datetime) -> int:
    """The smallest FTS5 row id of a row dated at ``moment`` (to the second; see ``models.py``),
    for a moment from 1902 to 2106; one outside is taken as that range's end (a number SQLite
    can hold), which only loosens or tightens the bound where no row is: the date's own
    condition, beside it, is exact."""
    seconds = min(max(math.floor(moment.timestamp()), -(2**31)), 2**32 - 1)
    return seconds << 31


def _fts5_string(words: tuple[str, ...]) -> str:
    # Words are letters and digits only (see query.py), so a double-quoted FTS5 string is safe.
    return '"' + " ".join(words) + '"'


class SQLiteBackend:
    """SQLite FTS5: an external-content table over ``search_documents``, porter stemming,
    bm25 ranking (title ten times the weight of the body).

    The FTS5 table's row ids are the rows' ``fts_key`` (date to the second, then id: see
    ``models.py``), so that its matches, which FTS5 gives in row id order, come newest first
    when read backwards, and stop there: reading each match's date and sorting took 130–200 ms
    for a word in a quarter of 500,000 posts, the backwards read 3–5 ms."""

    fts = literal_column("search_fts")
    fts_table = table("search_fts", column("rowid"))
    #: The FTS5 row id of each ``search_documents`` row (a generated column the model omits).
    key = literal_column("search_documents.fts_key")

    @staticmethod
    def expression(parsed: Query) -> str:
        wanted = " AND ".join(_fts5_string(term.words) for term in parsed.wanted)
        excluded = " OR ".join(_fts5_string(term.words) for term in parsed.excluded)
        return f"({wanted}) NOT ({excluded})" if excluded else f"({wanted})"

    def matching(self, query: Select[Any], parsed: Query) -> tuple[Select[Any], ColumnElement[Any]]:
        match = text("search_fts MATCH :fts_query").bindparams(fts_query=self.expression(parsed))
        narrowed = query.join(self.fts_table, self.fts_table.c.rowid == self.key).where(match)
        # bm25() is smaller for better matches; negate it so higher means more relevant.
        return narrowed, -func.bm25(self.fts, 10.0, 1.0)

    def age_in_days(self, now: datetime) -> ColumnElement[float]:
        moment = bindparam("now_utc", now.strftime("%Y-%m-%d %H:%M:%S"))
        # SQLite's two-argument max() is the larger value (the date is read once per row).
        return func.max(func.julianday(moment) - func.julianday(SearchDocument.activity_at), 0.0)

    def snippets(self, ids: list[int], parsed: Query) -> dict[int, Snippet]:
        if not ids:
            return {}
        rows = db.session.execute(
            text(
                "SELECT search_documents.id, highlight(search_fts, 0, :start, :stop),"
                " snippet(search_fts, 1, :start, :stop, '…', :words)"
                " FROM search_fts JOIN search_documents"
                " ON search_documents.fts_key = search_fts.rowid"
                " WHERE search_fts MATCH :fts_query AND search_fts.rowid IN"
                " (SELECT fts_key FROM search_documents WHERE id IN :ids)"
            ).bindparams(bindparam("ids", expanding=True)),
            {
                "start": START,
                "stop": STOP,
                "words": SNIPPET_WORDS,
                "fts_query": self.expression(parsed),
                "ids": ids,
            },
        )
        return {row[0]: Snippet(highlighted(row[1]), highlighted(row[2])) for row in rows}

    def rebuild(self) -> None:
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))

    def prepare(self) -> None:
        """Nothing to set."""

    def newest_first(self) -> tuple[ColumnElement[Any], ...]:
        return (self.fts_table.c.rowid,)

    def no_newer_than(self, place: tuple[Any, ...]) -> ColumnElement[bool]:
        return self.fts_table.c.rowid <= place[0]

    def dated(self, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
        """The dates, and the FTS5 row ids they span: FTS5 then reads only the matches in that
        range, where the date alone has it read every newer match backwards first."""
        rowid = self.fts_table.c.rowid
        conditions = _dated(start, end)
        if start is not None:
            conditions.append(rowid >= _fts_key(start))
        if end is not None:
            # SQLite reads a date to the millisecond, rounded: a row dated in a second's last
            # half-millisecond has the next second's key. The date's own condition is exact.
            conditions.append(rowid < _fts_key(end + timedelta(seconds=1)))
        return conditions

    def ranking(
        self, query: Select[Any], parsed: Query, ids: list[int]
    ) -> tuple[Select[Any], ColumnElement[Any]]:
        """The matches from the oldest of these rows to the newest, read from FTS5 (bm25() needs
        the match: FTS5 reads the words' statistics from it), then narrowed to the rows: the
        ids' ``+ 0`` keeps SQLite from looking each one up in FTS5 instead, a search of the
        whole match per id (300 ms for a thousand). (The newest bounds a search with an end
        date, whose candidates may be far older than the newest match.)"""
        narrowed, relevance = self.matching(query, parsed)
        candidate = SearchDocument.__table__.alias("candidate")
        key = literal_column("candidate.fts_key")
        oldest, newest = (
            select(bound(key)).select_from(candidate).where(candidate.c.id.in_(ids))
            for bound in (func.min, func.max)
        )
        rowid = self.fts_table.c.rowid
        within = rowid.between(oldest.scalar_subquery(), newest.scalar_subquery())
        return narrowed.where(within, (SearchDocument.id + 0).in_(ids)), relevance


class PostgreSQLBackend:
    """PostgreSQL full-text search: a generated, weighted ``tsvector`` column with a GIN index,
    ``to_tsquery('english', …)`` fed only the parser's words, and ``ts_rank``."""

    vector = literal_column("search_documents.search_vector")

    @staticmethod
    def _lexeme(word: str) -> str:
        # PostgreSQL reads a number after a hyphen as a signed number ("Covid-19" is "covid"
        # and "-19"; SQLite's "covid" and "19"): a number matches either.
        return f"('{word}' | '-{word}')" if word.isdigit() else f"'{word}'"

    @classmethod
    def tsquery_text(cls, parsed: Query) -> str:
        """The parsed query in ``to_tsquery`` syntax, rebuilt from words alone (letters and
        digits, so quoting them is safe): terms joined by ``&``, a phrase's words by ``<->``
        (common words in it count as a place, as in ``phraseto_tsquery``), exclusions ``!``."""
        parts = []
        for term in parsed.terms:
            words = " <-> ".join(cls._lexeme(word) for word in term.words)
            parts.append(("!" if term.excluded else "") + f"({words})")
        return " & ".join(parts)

    def tsquery(self, parsed: Query) -> ColumnElement[Any]:
        return func.to_tsquery(
            literal_column("'english'::regconfig"), bindparam("ts_query", self.tsquery_text(parsed))
        )

    def matching(self, query: Select[Any], parsed: Query) -> tuple[Select[Any], ColumnElement[Any]]:
        tsquery = self.tsquery(parsed)
        return query.where(self.vector.op("@@")(tsquery)), self.relevance(tsquery)

    def relevance(self, tsquery: ColumnElement[Any]) -> ColumnElement[float]:
        # Normalisation 1: rank / (1 + log(length)), so long documents do not win by length.
        return func.ts_rank(self.vector, tsquery, 1)

    def age_in_days(self, now: datetime) -> ColumnElement[float]:
        seconds = func.extract("epoch", bindparam("now_utc", now) - SearchDocument.activity_at)
        return func.greatest(cast(seconds, Float) / 86400.0, 0.0)

    def snippets(self, ids: list[int], parsed: Query) -> dict[int, Snippet]:
        if not ids:
            return {}
        tsquery = self.tsquery(parsed)
        options = (
            f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords=12, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        config = literal_column("'english'::regconfig")

        def shielded(column: Any) -> ColumnElement[str]:
            return func.replace(func.replace(column, "<", LT), ">", GT)

        rows = db.session.execute(
            select(
                SearchDocument.id,
                func.ts_headline(
                    config,
                    shielded(SearchDocument.title),
                    tsquery,
                    f"StartSel={START}, StopSel={STOP}, HighlightAll=true",
                ),
                func.ts_headline(config, shielded(SearchDocument.body), tsquery, options),
            ).where(SearchDocument.id.in_(ids))
        )
        return {row[0]: Snippet(highlighted(row[1]), highlighted(row[2])) for row in rows}

    def rebuild(self) -> None:
        """Nothing to do: the generated column follows its row."""

    def prepare(self) -> None:
        """For this transaction: no JIT compilation, and a plan made for the words searched.

        A search's statements carry the permission policy's conditions for every kind, so the
        planner's cost estimate passes the JIT thresholds, and compiling them took about 950 ms
        on 500,000 posts, against 25 ms to run them (measured: ``bench/search.py --explain``).
        And psycopg prepares a statement run often on a connection, after which PostgreSQL may
        plan it once for any words: reading the newest matches through the date suits a common
        word and reading the full-text index a rare one, and one plan for both took a search for
        two common words from 35 to 140 ms."""
        db.session.execute(
            text(
                "SELECT set_config('jit', 'off', true),"
                " set_config('plan_cache_mode', 'force_custom_plan', true)"
            )
        )

    def newest_first(self) -> tuple[ColumnElement[Any], ...]:
        return (SearchDocument.activity_at, SearchDocument.id)

    def dated(self, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
        return _dated(start, end)

    def no_newer_than(self, place: tuple[Any, ...]) -> ColumnElement[bool]:
        # Values, not a subquery: the planner then knows how many rows are older (given a
        # subquery, it guessed a third, read every match and sorted them: 0.4 s).
        return tuple_(SearchDocument.activity_at, SearchDocument.id) <= tuple(place)

    def ranking(
        self, query: Select[Any], parsed: Query, ids: list[int]
    ) -> tuple[Select[Any], ColumnElement[Any]]:
        """The rows by id alone: they matched a moment ago, and with the match as well the
        planner, guessing how many rows match, at times read every match through the full-text
        index to keep a thousand (27 ms instead of 3). A row whose words an edit took out since
        ranks last. The ids go as one array parameter: the statement's text stays the same
        however many ids there are (psycopg prepares a statement by its text), and binding
        1,200 parameters one by one cost more than the lookups."""
        among = SearchDocument.id == any_(bindparam("ids", ids, ARRAY(Integer), unique=True))
        return query.where(among), self.relevance(self.tsquery(parsed))


def backend() -> Backend:
    """The backend for the database the app is on."""
    if db.engine.dialect.name == "postgresql":
        return PostgreSQLBackend()
    return SQLiteBackend()
