"""Briefing quality on real multi-outlet clusters, scored against answer keys written by hand.

    python -m bench.quality [--model M] [--out FILE.json] [--shared DIR] [CLUSTER ...]

Briefs each cluster of ``../shared/eval-dev/`` (its ``D*.txt`` files only, never
``references.json``) and the seeds (``../shared/seeds/``, cluster ``seeds``) through the public
API, ``service.brief``, with the default settings and the shared reply cache (so a second run
makes no model call); scores each briefing against ``bench/keys/<cluster>.toml``; prints one
table (a row per cluster, a totals row) on stdout and writes the full result as JSON
(``--out``, default ``bench/results/quality-latest.json``). Progress goes to stderr. The model
is the embedded one unless ``--model`` (any litellm model string) or ``BRIEF_MODEL`` says.
``../shared`` is resolved from the repository root; ``--shared`` points elsewhere.

The metrics are defined in :mod:`bench.quality_metrics` and :mod:`bench.quality_stories`, and
for readers in QUALITY.md. A cluster that cannot be briefed is reported and the run goes on; a
cluster without a key is scored on what needs none.

Exit codes: 0 every cluster briefed and scored; 1 some cluster failed or its key is malformed
(listed); 2 bad command line (an unknown cluster, no shared folder); 5 the embedded model is not
installed (every cluster would fail alike).
"""

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.quality_keys import Key, KeyFileError, key_for
from bench.quality_metrics import (
    Brevity,
    Cleanup,
    Consolidation,
    Coverage,
    Disagreements,
    Grounding,
    brevity,
    cleanup,
    consolidation,
    coverage,
    disagreements,
    grounding,
)
from bench.quality_stories import Stories, stories
from bench.quality_table import table
from bench.quality_view import View, view_of
from service import BriefError, Briefing, LocalModelError, Settings, brief, render

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SEEDS = "seeds"


@dataclass(frozen=True)
class Cluster:
    """One set of articles about one event, and what its dataset says about it."""

    name: str
    files: dict[str, Path]
    """Document name (D1, ...) -> file."""
    references: dict[str, Any]


@dataclass
class Result:
    """Everything measured on one cluster."""

    cluster: str
    error: str | None = None
    key_error: str | None = None
    has_key: bool = False
    wall_s: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)
    grounding: Grounding | None = None
    consolidation: Consolidation | None = None
    disagreements: Disagreements | None = None
    cleanup: Cleanup | None = None
    coverage: Coverage | None = None
    brevity: Brevity | None = None
    title: str = ""
    lines: list[dict[str, Any]] = field(default_factory=list)
    markdown: str = ""


def find_clusters(shared: Path) -> list[Cluster]:
    """Every eval-dev cluster, in name order, then the seeds."""
    found = [
        Cluster(d.name, {p.stem: p for p in sorted(d.glob("D*.txt"))}, _references(d))
        for d in sorted((shared / "eval-dev").iterdir())
        if d.is_dir()
    ]
    seeds = sorted(p for p in (shared / SEEDS).iterdir() if p.is_file())
    return [*found, Cluster(SEEDS, {f"D{i}": p for i, p in enumerate(seeds, 1)}, {})]


def _references(folder: Path) -> dict[str, Any]:
    path = folder / "references.json"
    loaded: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    return loaded


def measure(cluster: Cluster, settings: Settings) -> Result:
    """Brief ``cluster`` and score the briefing. A failure is recorded in the result, not
    raised, except :class:`LocalModelError` (every cluster would fail alike)."""
    result = Result(cluster.name)
    started = time.perf_counter()
    try:
        briefing = brief([str(p) for p in cluster.files.values()], settings=settings)
    except LocalModelError:
        raise
    except BriefError as error:
        result.error = " ".join(str(error).split())
        return result
    result.wall_s = time.perf_counter() - started
    _score_safely(result, briefing, cluster)
    return result


def _score_safely(result: Result, briefing: Briefing, cluster: Cluster) -> None:
    result.usage = briefing.usage.model_dump(exclude={"stages"})
    result.markdown = render(briefing)
    try:
        score(result, view_of(briefing, cluster.files), cluster)
    except Exception as error:  # a scoring bug must not cost the other clusters' briefings
        result.error = f"scoring failed: {error!r}"


def score(result: Result, view: View, cluster: Cluster) -> None:
    """Fill ``result`` with every metric of ``view``."""
    key = _key(result)
    refs = cluster.references
    units = [u["text"] for u in refs.get("reference_units") or []]
    result.title = view.title
    result.lines = [{"text": line.text, "docs": sorted(line.docs)} for line in view.lines]
    result.grounding = grounding(view)
    result.cleanup = cleanup(view, key)
    result.coverage = coverage(view, units, refs.get("reference_summary"))
    result.brevity = brevity(view)
    if key is not None:
        result.consolidation = consolidation(view, key)
        result.disagreements = disagreements(view, key)


def _key(result: Result) -> Key | None:
    try:
        key = key_for(result.cluster)
    except KeyFileError as error:
        result.key_error = str(error)
        return None
    result.has_key = key is not None
    return key


def run(clusters: Sequence[Cluster], settings: Settings, out: Path) -> list[Result]:
    """Measure each cluster in turn, saying so on stderr; the JSON is rewritten after each, so
    an interrupted run keeps what it measured."""
    results: list[Result] = []
    for number, cluster in enumerate(clusters, 1):
        say(f"[{number}/{len(clusters)}] {cluster.name}: {len(cluster.files)} documents ...")
        results.append(measure(cluster, settings))
        say(f"[{number}/{len(clusters)}] {cluster.name}: {_outcome(results[-1])}")
        write(out, results, None, settings)
    return results


def _outcome(result: Result) -> str:
    if result.error:
        return f"failed: {result.error}"
    calls, hits = result.usage.get("calls", 0), result.usage.get("cache_hits", 0)
    return f"briefed in {result.wall_s:.1f} s ({calls} calls, {hits} from the cache){_note(result)}"


def _note(result: Result) -> str:
    if result.key_error:
        return f"; key: {result.key_error}"
    return "" if result.has_key else "; no key: scored on what needs none"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write(path: Path, results: list[Result], grouped: Stories | None, settings: Settings) -> None:
    """The full result as JSON."""
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": settings.model,
        "clusters": [asdict(r) for r in results],
        "stories": asdict(grouped) if grouped else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quality", description=__doc__.split("\n")[0]
    )
    parser.add_argument("clusters", nargs="*", metavar="CLUSTER", help="default: all, and seeds")
    parser.add_argument("--model", help="a litellm model string (default: the embedded model)")
    parser.add_argument("--out", type=Path, default=RESULTS / "quality-latest.json")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    return parser.parse_args(argv)


def _chosen(args: argparse.Namespace) -> list[Cluster] | str:
    """The clusters asked for, or why the command line is wrong."""
    shared: Path = args.shared
    if not (shared / "eval-dev").is_dir() or not (shared / SEEDS).is_dir():
        return f"{shared} has no eval-dev/ and seeds/ folders (see --shared)"
    every = find_clusters(shared)
    wanted: list[str] = args.clusters
    unknown = sorted(set(wanted) - {c.name for c in every})
    if unknown:
        return f"unknown cluster {', '.join(unknown)}; known: {', '.join(c.name for c in every)}"
    return [c for c in every if not wanted or c.name in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    chosen = _chosen(args)
    if isinstance(chosen, str):
        say(f"bench.quality: error: {chosen}")
        return 2
    settings = Settings(model=args.model) if args.model else Settings()
    try:
        results = run(chosen, settings, args.out)
    except LocalModelError as error:
        say(f"bench.quality: error: {error}")
        return 5
    grouped = stories({c.name: c.files for c in chosen})
    print(table(results, grouped))
    write(args.out, results, grouped, settings)
    say(f"wrote {args.out}")
    return 1 if any(r.error or r.key_error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
