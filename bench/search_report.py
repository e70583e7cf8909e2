"""How ``bench/search.py`` reports: the targets, the classes of queries and the phases of a
search it measures, and the text report built from its results."""

from __future__ import annotations

from typing import Any

from bench.load import code_version, machine

TARGET_P95_MS = 50.0
TARGET_RATIO = 2.0
CLASSES = ("one word", "two words", "three words", "phrase")
#: The phases of a search, each started by one kind of statement (``search_profile._phase``).
PHASES = ("preparing", "newest", "ranking", "loading", "snippets")


# Reporting --------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "timed out" if value is None else f"{value:.1f}"


def _count(value: int | None) -> str:
    return "timed out" if value is None else f"{value:,}"


def _mb(size: int) -> str:
    mb = size / 1024 / 1024
    return f"{mb:,.0f} MB" if mb >= 10 else f"{mb:,.1f} MB"


def _table(header: list[str], align: str, rows: list[list[str]]) -> list[str]:
    """A Markdown table; ``align`` has one letter a column: l(eft), r(ight) or c(entre)."""
    rule = {"l": "---", "r": "---:", "c": ":---:"}
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(rule[a] for a in align) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def report(results: dict[str, Any]) -> str:
    data, index, latency = results["data"], results["index"], results["latency"]
    if "seconds" in index:
        built = f"built by reindex_all (`flask search-reindex`) in {index['seconds']:.1f} s"
        if "vacuum_seconds" in index:
            built += f"; VACUUM ANALYZE search_documents {index['vacuum_seconds']:.1f} s"
    else:
        built = "reused, not rebuilt (--reindex times a rebuild)"
    sizes = index["size"]
    lines = [
        f"command: python -m bench.search {' '.join(results['argv'])}",
        f"{results['when']} UTC · {machine()} · load average {results['load']}",
        f"database: {data['dialect']} · {data['users']:,} users, {data['threads']:,} threads, "
        f"{data['posts']:,} posts, {data['resources']:,} resources · code: {code_version()}",
        f"index: {built}",
        f"index rows: {sum(index['rows'].values()):,} ("
        + ", ".join(f"{kind} {n:,}" for kind, n in index["rows"].items())
        + ")",
        "index size: "
        + ", ".join(f"{part} {_mb(n)}" for part, n in sizes.items())
        + f"; total {_mb(sum(sizes.values()))}",
        *(f"reader {label}" for label in results["readers"].values()),
        f"queries: {results['per_class']} per class, drawn with seed {results['seed']}; "
        f"{results['rounds']} timed runs of each after {results['warmup']} warm-up runs",
        "",
        f"Latency in ms. Targets: service p95 ≤ {TARGET_P95_MS:.0f} ms and ≤ {TARGET_RATIO:.0f}× "
        f"the raw query's p95. A statement running past {results['timeout']:g} s is stopped; a "
        "query stopped once is not run again for that caller.",
        "",
    ]
    rows = []
    for kind in CLASSES:
        raw = latency[kind]["raw"]["p95"]
        for caller, figures in latency[kind].items():
            stopped = f" ({figures['timed_out']:,} timed out)" if figures["timed_out"] else ""
            cells = [kind, caller, f"{figures['runs']:,}{stopped}"]
            cells += [_ms(figures[p]) for p in ("p50", "p95", "p99")]
            p95 = figures["p95"]
            if caller == "raw":
                cells += ["", "", ""]
            elif p95 is None or raw is None:
                cells += ["", "✗" if p95 is None else "✓" if p95 <= TARGET_P95_MS else "✗", "?"]
            else:
                ratio = p95 / raw if raw else 0.0
                cells.append(f"{ratio:.2f}")
                cells.append("✓" if p95 <= TARGET_P95_MS else "✗")
                cells.append("✓" if ratio <= TARGET_RATIO else "✗")
            rows.append(cells)
    header = ["class", "caller", "runs", "p50", "p95", "p99", "p95 / raw p95"]
    lines += _table([*header, "p95 ≤ 50 ms", "≤ 2× raw"], "llrrrrrcc", rows)

    callers = list(latency[CLASSES[0]])
    lines += ["", "Each query: rows matching it, results the first reader may see, median ms.", ""]
    rows = [
        [probe["kind"], f"`{probe['text']}`", probe["source"], f"{probe['matching']:,}",
         _count(probe["visible"]), *(_ms(probe["p50"][c]) for c in callers)]
        for probe in results["queries"]
    ]  # fmt: skip
    header = ["class", "query", "words from", "matching", f"{callers[0]} sees"]
    lines += _table([*header, *(f"{c} p50" for c in callers)], "lllrr" + "r" * len(callers), rows)

    if results["breakdown"]:
        lines += [
            "",
            f"Where the service's time goes, as {callers[0]}: median ms per search, with statement "
            "listeners on; a phase runs from its statement's start to the next statement's.",
            "",
        ]
        phases = [*PHASES, "total"]
        rows = [
            [key, *(f"{spent[p]:.1f}" for p in phases)]
            for key, spent in results["breakdown"].items()
        ]
        lines += _table(["class, words from", *phases], "l" + "r" * len(phases), rows)
    return "\n".join(lines)
