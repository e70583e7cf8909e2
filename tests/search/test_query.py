"""The query language: what the parser makes of what people type, and that no input at all —
random unicode included — makes search raise, on either database."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from peerlearn.discussions.models import Thread
from peerlearn.extensions import db
from peerlearn.search.backends import PostgreSQLBackend, SQLiteBackend
from peerlearn.search.query import MAX_TERMS, Term, parse
from peerlearn.search.services import search


@pytest.mark.parametrize(
    ("typed", "terms"),
    [
        (
            'flow coaching "board assurance" -covid',
            [Term(("flow",)), Term(("coaching",)), Term(("board", "assurance")),
             Term(("covid",), excluded=True)],
        ),
        ('"unbalanced quote', [Term(("unbalanced", "quote"))]),
        ("“curly quotes” work", [Term(("curly", "quotes")), Term(("work",))]),
        ('-"winter pressures"', [Term(("winter", "pressures"), excluded=True)]),
        ("NEAR(a b) AND c* ^d title:e", [Term(("near",)), Term(("b",)), Term(("c",)),
                                          Term(("d",)), Term(("title",)), Term(("e",))]),
        ("'; DROP TABLE users; --", [Term(("drop",)), Term(("table",)), Term(("users",))]),
        ("the and of", []),
        ('"the board"', [Term(("board",))]),
        ('"flow of the patients" -"to be"', [Term(("flow", "of", "the", "patients"))]),
        ("covid-19 Café 🚑", [Term(("covid",)), Term(("19",)), Term(("café",))]),
        ("", []),
        ('"" - -- "', []),
    ],
)  # fmt: skip
def test_the_parser_keeps_only_words_phrases_and_exclusions(typed, terms) -> None:
    assert list(parse(typed).terms) == terms


def test_long_input_is_cut_not_refused() -> None:
    parsed = parse(" ".join(f"word{n}" for n in range(5000)))
    assert len(parsed.terms) == MAX_TERMS


def test_backends_only_ever_see_quoted_words() -> None:
    parsed = parse('flow "board assurance" -covid NEAR(x) "a"b')
    assert SQLiteBackend.expression(parsed) == (
        '("flow" AND "board assurance" AND "near" AND "x" AND "b") NOT ("covid")'
    )
    assert PostgreSQLBackend.tsquery_text(parsed) == (
        "('flow') & ('board' <-> 'assurance') & !('covid') & ('near') & ('x') & ('b')"
    )
    assert PostgreSQLBackend.tsquery_text(parse("-covid-19")) == "!('covid' <-> ('19' | '-19'))"


@settings(
    max_examples=60,
    deadline=None,
    database=None,  # no example database written into the worktree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(typed=st.text(max_size=300) | st.text(alphabet="\"-*^:()ab NEARORAND'\\", max_size=60))
def test_random_unicode_queries_never_raise(app, new_thread, author, typed) -> None:
    if db.session.scalar(select(Thread.id).limit(1)) is None:  # once, for every example
        new_thread("Flow coaching: NEAR and AND", 'Board "assurance" a* b^ c:d (e) 🚑 café')
    results = search(author, typed)
    assert results.total >= 0
    for result in results:
        assert str(result.snippet.text).count("<mark>") == str(result.snippet.text).count("</mark>")
