"""Benchmark 2: 1, 5, 20 and 100 articles at 1 s latency per call.

Method: the fault-free local model server (real HTTP on 127.0.0.1, in a process of its own)
answers every call after 1 s. Each size is briefed with a fresh cache at the default
concurrency for hosted models, at 64 calls at once, and, up to 20 articles, one call at a
time. One warm-up run first (litellm's import is not what this measures). The critical path
is one extraction latency plus one composition latency (2 s); wall time is shown against it
and against concurrency 1.

    python -m bench.concurrency
"""

import tempfile
import time
from pathlib import Path

from bench.common import model_server, write_articles
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


def main() -> None:
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
