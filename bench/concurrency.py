"""Benchmark 2: 1, 5, 20 and 100 articles at 1 s latency per call.

Method: the fault-free local model server (real HTTP on 127.0.0.1, in a process of its own)
answers every call after 1 s. Each size is briefed with a fresh cache at the default
concurrency for hosted models, at 64 calls at once, and, up to 20 articles, one call at a
time. One warm-up run first (litellm's import is not what this measures). The critical path
is one extraction latency plus one composition latency (2 s); wall time is shown against it
and against concurrency 1.

``--against DIR`` instead briefs 20 and 100 articles, at the default and at 64 at once, with
this tree's code and DIR's in turn (each run a process of its own, after a warm-up run in that
process; the same articles and the same model server), 3 rounds, and prints the medians side
by side: a change measured beside the code it replaces.

    python -m bench.concurrency [--against ../main]
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, median, model_server, write_articles
from service import brief
from service.settings import Settings

LATENCY = 1.0
CRITICAL_PATH = 2 * LATENCY


def run(count: int, concurrency: int | None) -> float:
    folder = Path(tempfile.mkdtemp(prefix="newsbrief-bench-"))
    write_articles(folder / "articles", count)
    with model_server(LATENCY) as url:
        settings = Settings(
            model="hosted_vllm/fault",
            api_base=url,
            cache_dir=folder / "cache",
            concurrency=concurrency,
        )
        started = time.perf_counter()
        briefing = brief([folder / "articles"], settings=settings)
        elapsed = time.perf_counter() - started
    assert len(briefing.sources) == count, briefing.skipped
    return elapsed


HEADER = ("articles", "default", "x critical", "64 at once", "x critical", "one at a time")


_CHILD = """
import sys, time
from pathlib import Path
import service
from service import brief
from service.settings import Settings
url, folder, size, limit, tree = sys.argv[1:6]
folder = Path(folder)
assert Path(service.__file__).resolve().is_relative_to(tree), (service.__file__, tree)
concurrency = int(limit) if limit != "default" else None
def settings(name):
    return Settings(model="hosted_vllm/fault", api_base=url, cache_dir=folder / name,
                    concurrency=concurrency)
brief([folder / "1"], settings=settings("warm-up"))  # litellm's import is not measured
started = time.perf_counter()
briefing = brief([folder / size], settings=settings("run"))
print(time.perf_counter() - started, briefing.usage.calls)
"""


def _in_process_of(tree: Path, url: str, size: int, limit: str) -> tuple[float, int]:
    folder = Path(tempfile.mkdtemp(prefix="newsbrief-bench-"))
    for count in (1, size):
        write_articles(folder / str(count), count)
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    arguments = [url, str(folder), str(size), limit, str(tree.resolve())]
    command = [sys.executable, "-c", _CHILD, *arguments]
    # run in ``tree``: ``python -c`` puts the working directory before PYTHONPATH, so from
    # another checkout the child would import that checkout's code
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, check=True)
    seconds, calls = done.stdout.split()
    return float(seconds), int(calls)


def side_by_side(other: Path) -> None:
    trees = {"this tree": ROOT, str(other): other}
    cases = [(size, limit) for size in (20, 100) for limit in ("default", "64")]
    times: dict[tuple[str, int, str], list[float]] = {}
    calls: dict[tuple[str, int, str], int] = {}
    with model_server(LATENCY) as url:
        for _ in range(3):
            for size, limit in cases:
                for name, tree in trees.items():
                    seconds, made = _in_process_of(tree, url, size, limit)
                    times.setdefault((name, size, limit), []).append(seconds)
                    calls[(name, size, limit)] = made
    print(
        f"benchmark 2, side by side: {LATENCY:.0f} s per call, critical path {CRITICAL_PATH:.0f} s"
    )
    for size, limit in cases:
        cells = []
        for name in trees:
            wall = median(times[(name, size, limit)])
            made = calls[(name, size, limit)]
            cells.append(f"{name}: {wall:5.2f} s {wall / CRITICAL_PATH:4.2f}x ({made} calls)")
        print(f"  {size:>3} articles, {limit:>7} at once: " + "; ".join(cells))


def main() -> None:
    if "--against" in sys.argv:
        side_by_side(Path(sys.argv[sys.argv.index("--against") + 1]))
        return
    default = Settings(model="hosted_vllm/fault").effective_concurrency()
    run(1, None)  # warm-up: litellm's import (seconds) is not what this measures
    print(f"benchmark 2: {LATENCY:.0f} s latency per call; critical path {CRITICAL_PATH:.0f} s")
    print(f"  default concurrency for hosted models: {default}")
    print("  " + "  ".join(f"{h:>13}" for h in HEADER))
    for count in (1, 5, 20, 100):
        wall, wide = run(count, None), run(count, 64)
        serial = run(count, 1) if count <= 20 else None
        cells = [
            str(count),
            f"{wall:.2f} s",
            f"{wall / CRITICAL_PATH:.2f}x",
            f"{wide:.2f} s",
            f"{wide / CRITICAL_PATH:.2f}x",
            f"{serial:.1f} s" if serial else f"(~{count + 1} s)",
        ]
        print("  " + "  ".join(f"{c:>13}" for c in cells))


if __name__ == "__main__":
    main()
