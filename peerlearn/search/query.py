"""The search box's little language, parsed by us into a safe form both backends translate.

- words: ``flow coaching`` finds things containing every word (English stems: "coaches" finds
  "coaching");
- ``"exact phrases"`` in double quotes (a missing closing quote closes at the end);
- ``-word`` or ``-"a phrase"`` leaves out things that contain it (``-covid-19`` leaves out
  "covid-19", not everything containing "covid" or "19").

Nothing a reader types reaches a database's own query syntax: the parser keeps only runs of
letters and digits (the same characters the full-text tokenizers index), so FTS operators
(``NEAR``, ``AND``, ``*``, ``^``, ``:``), SQL fragments and punctuation are just separators or
plain words. Very long input is cut to :data:`MAX_LENGTH` characters and :data:`MAX_TERMS`
terms; common English words are dropped, as PostgreSQL's English configuration does, so
both backends agree: outside phrases, and at a phrase's ends (``"the board"`` looks for
"board"; a phrase of common words alone looks for nothing). A common word inside a phrase
stays: SQLite needs it there, where PostgreSQL accepts any word in its place.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Characters of a search that count; also the search boxes' ``maxlength``: 300 characters make
#: an address of at most 2.7 KB (9 bytes each, percent-encoded), which servers accept (gunicorn's
#: request line is 4,094 bytes), where a longer search pasted in got a server's bare error page.
MAX_LENGTH = 300
MAX_TERMS = 12
MAX_WORD = 60

#: Characters that do not show and may sit inside a word (soft hyphens, zero-width spaces, word
#: joiners, byte-order marks, direction marks and overrides), as text pasted from documents and
#: web pages carries them: removed from what is typed and from what is indexed
#: (``backends.clean_text``), so that they never split a word in two. (Zero-width joiners and
#: non-joiners, which shape emoji and some scripts, stay separators on both sides.)
INVISIBLE = re.compile("[\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def compatible(text: str) -> str:
    """Text in Unicode's compatibility form (NFKC), as typed and as indexed: an accent typed as
    a combining mark is one letter with it (PostgreSQL compares letters as stored), and a
    ligature from a PDF's text ("ﬁ") is its letters."""
    return unicodedata.normalize("NFKC", text)


#: Runs of letters and digits: what SQLite's unicode61 tokenizer and PostgreSQL's parser index.
_WORD = re.compile(r"[^\W_]+")

#: PostgreSQL's English stop words (Snowball), which ``to_tsvector('english', …)`` never indexes.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can did do does doing don down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own s same she should so some such t than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with you your yours yourself yourselves
    """.split()  # noqa: SIM905 - one word list, easier to read and compare as text
)


@dataclass(frozen=True)
class Term:
    """One word, or a phrase of words in order; ``excluded`` when it was prefixed with ``-``."""

    words: tuple[str, ...]
    excluded: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Query:
    """What the reader asked for."""

    terms: tuple[Term, ...] = ()
    #: The input as it was typed (trimmed), for showing back.
    text: str = ""

    @property
    def wanted(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if not term.excluded)

    @property
    def excluded(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.excluded)

    @property
    def searchable(self) -> bool:
        """Has at least one word to look for (a query of exclusions alone finds nothing)."""
        return bool(self.wanted)


def _words(text: str) -> list[str]:
    return [word[:MAX_WORD] for word in _WORD.findall(text.casefold())]


def parse(text: str | None) -> Query:
    """Parse what was typed. Never raises: anything it does not understand is ignored."""
    typed = " ".join(INVISIBLE.sub("", compatible(text or "")).split())[:MAX_LENGTH]
    # Quotes typed on phones and in Word come curly; treat them as straight ones.
    source = re.sub(r"[“”„«»]", '"', typed)
    terms: list[Term] = []
    seen: set[Term] = set()

    def add(words: list[str], excluded: bool, phrase: bool) -> None:
        if not phrase:
            words = [word for word in words if word not in STOP_WORDS]
        while words and words[0] in STOP_WORDS:
            words = words[1:]
        while words and words[-1] in STOP_WORDS:
            words = words[:-1]
        if not words:
            return
        phrase = phrase and len(words) > 1
        candidates = (
            [Term(tuple(words), excluded)]
            if phrase
            else [Term((word,), excluded) for word in words]
        )
        for term in candidates:
            if term not in seen and len(terms) < MAX_TERMS:
                seen.add(term)
                terms.append(term)

    for match in re.finditer(r'(-?)"([^"]*)("|$)|(-?)([^\s"]+)', source):
        if match.group(2) is not None and (match.group(3) or match.group(2)):
            add(_words(match.group(2)), bool(match.group(1)), phrase=True)
        elif match.group(5) is not None:
            # A leading hyphen excludes; hyphens inside a word just join its parts, and an
            # excluded word of parts (``-covid-19``) is left out as a whole, as a phrase.
            excluded = bool(match.group(4))
            add(_words(match.group(5)), excluded, phrase=excluded)
    return Query(tuple(terms), typed)
