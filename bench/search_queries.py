"""The queries ``bench/search.py`` times: one-, two- and three-word queries and quoted phrases,
drawn with a fixed seed from ``bench/vocabulary.py``, half from post text and half from names."""

import random
import re
from dataclasses import dataclass

from bench import vocabulary as words

#: Post bodies are made of these sentences (each is in about a quarter of the posts): common words.
COMMON_SOURCES = words.SENTENCES
#: Names that appear only in thread titles, space names, people and organisations: rarer words.
RARE_SOURCES = (*words.TOPICS, *words.JOB_TITLES, *words.COMMUNITIES)


@dataclass(frozen=True)
class Probe:
    """One query as typed, its class, and where its words came from."""

    kind: str
    text: str
    source: str


def _tokens(phrase: str) -> list[str]:
    """Lower-case runs of letters (addresses, digits and markup dropped)."""
    return re.findall(r"[^\W\d_]+", re.sub(r"\S+://\S+", " ", phrase).casefold())


def _grams(phrases: tuple[str, ...], n: int, phrase: bool = False) -> list[str]:
    """Runs of ``n`` words as they stand in ``phrases``: content words only (stop words dropped,
    as the parser drops them), or for a quoted phrase every word, with a content word at each end."""
    from peerlearn.search.query import STOP_WORDS

    found = set()
    for source in phrases:
        tokens = _tokens(source)
        if not phrase:
            tokens = [t for t in tokens if t not in STOP_WORDS and len(t) >= 3]
        for start in range(len(tokens) - n + 1):
            gram = tokens[start : start + n]
            if not phrase or (gram[0] not in STOP_WORDS and gram[-1] not in STOP_WORDS):
                found.add(" ".join(gram))
    return sorted(found)


def choose_queries(per_class: int, seed: int) -> list[Probe]:
    """``per_class`` queries of each class, half from post text and half from names."""
    rng = random.Random(seed)
    common_words = set(_grams(COMMON_SOURCES + words.QUESTIONS, 1))
    rare_words = [w for w in _grams(RARE_SOURCES + words.PLACES, 1) if w not in common_words]
    pools = {
        "one word": ([w for w in sorted(common_words) if len(w) >= 4], rare_words),
        "two words": (_grams(COMMON_SOURCES, 2), _grams(RARE_SOURCES, 2)),
        "three words": (_grams(COMMON_SOURCES, 3), _grams(RARE_SOURCES, 3)),
        "phrase": (
            _grams(COMMON_SOURCES, 2, phrase=True) + _grams(COMMON_SOURCES, 3, phrase=True),
            _grams(RARE_SOURCES, 2, phrase=True) + _grams(RARE_SOURCES, 3, phrase=True),
        ),
    }
    probes = []
    for kind, (common, rare) in pools.items():
        quote = '"{}"' if kind == "phrase" else "{}"
        for source, pool, count in (
            ("post text", common, per_class - per_class // 2),
            ("names", rare, per_class // 2),
        ):
            probes += [Probe(kind, quote.format(gram), source) for gram in rng.sample(pool, count)]
    return probes
