"""The quality benchmark's table: a row per cluster and a totals row (QUALITY.md reads it).

Fractions are shown as ``found/of``; the totals row adds up numerators and denominators, so
it weights clusters by their size. ``-`` means not measured: no key, no reference, no rows.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bench.quality_stories import Stories

if TYPE_CHECKING:
    from bench.quality import Result

Pair = tuple[int, int | None] | None
"""found / of (of is None for a plain count), or not measured."""

COLUMNS = [
    ("cluster", 22),
    ("lines", 5),
    ("grounded", 8),
    ("facts", 6),
    ("corrob", 6),
    ("redund", 6),
    ("diff R", 6),
    ("diff P", 6),
    ("junk", 5),
    ("lost", 4),
    ("angles", 6),
    ("units", 5),
    ("R-L", 4),
    ("words", 5),
    ("copied", 6),
    ("calls", 5),
    ("tokens", 7),
    ("wall s", 6),
]


def _pairs(r: "Result") -> list[Pair]:
    g, c, d, k, v, b = (
        r.grounding,
        r.consolidation,
        r.disagreements,
        r.cleanup,
        r.coverage,
        r.brevity,
    )
    return [
        (g.grounded, g.lines) if g else None,
        (c.stated, c.facts) if c else None,
        (c.corroborated, c.stated) if c else None,
        (c.redundant, None) if c else None,
        (d.shown, d.key) if d else None,
        (d.true, d.rows) if d else None,
        (len(k.hits), k.must_not_appear) if k and r.has_key else None,
        (len(k.lost), k.docs) if k else None,
        (k.kept, k.angles) if k and r.has_key else None,
        (v.units_matched, v.units) if v and v.units else None,
        (b.copied, len(r.lines)) if b else None,
    ]


def _fraction(pair: Pair) -> str:
    if pair is None:
        return "-"
    return str(pair[0]) if pair[1] is None else f"{pair[0]}/{pair[1]}"


def _row(r: "Result") -> list[str]:
    if r.error:
        return [r.cluster, f"FAILED: {r.error}"[:100]]
    p = [_fraction(x) for x in _pairs(r)]
    rouge = r.coverage.rougeL if r.coverage else None
    ratio = r.brevity.ratio if r.brevity else None
    tokens = r.usage.get("prompt_tokens", 0) + r.usage.get("completion_tokens", 0)
    return [
        r.cluster,
        str(len(r.lines)),
        *p[:10],
        f"{rouge:.2f}" if rouge is not None else "-",
        f"{ratio:.0%}" if ratio is not None else "-",
        p[10],
        str(r.usage.get("calls", 0)),
        f"{tokens:,}",
        f"{r.wall_s:.0f}",
    ]


def _total(results: Sequence["Result"]) -> list[str]:
    scored = [r for r in results if not r.error]
    columns = list(zip(*(_pairs(r) for r in scored), strict=True)) if scored else []
    p = [_fraction(_add(col)) for col in columns] or ["-"] * 11
    words = sum(r.brevity.briefing_words for r in scored if r.brevity)
    of = sum(r.brevity.article_words for r in scored if r.brevity)
    tokens = sum(
        r.usage.get("prompt_tokens", 0) + r.usage.get("completion_tokens", 0) for r in scored
    )
    rouge = [r.coverage.rougeL for r in scored if r.coverage and r.coverage.rougeL is not None]
    return [
        f"total ({len(scored)}/{len(results)} ok)",
        str(sum(len(r.lines) for r in scored)),
        *p[:10],
        _mean(rouge),
        f"{words / of:.0%}" if of else "-",
        p[10],
        str(sum(r.usage.get("calls", 0) for r in scored)),
        f"{tokens:,}",
        f"{sum(r.wall_s for r in scored):.0f}",
    ]


def _add(column: Sequence[Pair]) -> Pair:
    present = [x for x in column if x is not None]
    if not present:
        return None
    whole = [x[1] for x in present]
    return sum(x[0] for x in present), None if None in whole else sum(w or 0 for w in whole)


def _mean(values: Sequence[float]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "-"


def _line(cells: Sequence[str], fill: Callable[[str, int], str] = str.rjust) -> str:
    widths = [w for _, w in COLUMNS]
    first, *rest = cells
    return " ".join(
        [first.ljust(widths[0]), *(fill(c, w) for c, w in zip(rest, widths[1:], strict=False))]
    )


def table(results: Sequence["Result"], grouped: Stories) -> str:
    """The table, the stories line under it."""
    header = _line([name for name, _ in COLUMNS])
    rows = [_line(_row(r)) for r in results]
    rule = "-" * len(header)
    return "\n".join([header, rule, *rows, rule, _line(_total(results)), "", _stories(grouped)])


def _stories(s: Stories) -> str:
    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.0%}"

    return (
        f"stories (the digest's grouping of all {s.articles} articles): {s.stories} stories for "
        f"{s.clusters} clusters; same-story pairs: precision {pct(s.precision)}, "
        f"recall {pct(s.recall)}"
    )
