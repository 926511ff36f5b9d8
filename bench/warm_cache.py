"""Benchmark 1: a warm-cache re-run of the seed briefing, whole process, against importing litellm.

Method: brief the seed articles once through the fault-free local model server (this fills
a fresh reply cache), then time ``brief`` as a new process 7 times against that cache with
the server gone (every reply must come from the cache), and ``python -c "import litellm"``
7 times, interleaved (one of each in turn, so a change in the machine's load touches both).
Medians are printed; the ratio is what the target is about (the machine is shared).

``--against DIR`` also times ``brief`` from another checkout (its code first on the path, the
same cache and environment), interleaved with the others: a change measured side by side.

    python -m bench.warm_cache [--against ../main]
"""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import ROOT, SEEDS, median
from service import brief
from service.settings import Settings
from tests.fault_server import Plan, fault_server


def _timed(action: Callable[[], object], times: list[float]) -> None:
    started = time.perf_counter()
    action()
    times.append(time.perf_counter() - started)


def main() -> None:
    against = Path(sys.argv[sys.argv.index("--against") + 1]) if "--against" in sys.argv else None
    cache = Path(tempfile.mkdtemp(prefix="newsbrief-bench-"))
    with fault_server(Plan()) as url:
        settings = Settings(model="hosted_vllm/fault", api_base=url, cache_dir=cache)
        brief([SEEDS], settings=settings)
    env = {
        **os.environ,
        "BRIEF_MODEL": "hosted_vllm/fault",
        "BRIEF_API_BASE": url,
        "BRIEF_CACHE_DIR": str(cache),
    }
    brief_cmd = [str(Path(sys.executable).with_name("brief")), str(SEEDS)]

    def rerun(tree: Path) -> Callable[[], None]:
        def run() -> None:
            tree_env = {**env, "PYTHONPATH": str(tree.resolve())}
            done = subprocess.run(brief_cmd, env=tree_env, capture_output=True, text=True)
            assert "0 model calls" in done.stderr, done.stderr

        return run

    def import_litellm() -> None:
        subprocess.run([sys.executable, "-c", "import litellm"], check=True, env=env)

    runs: dict[str, Callable[[], None]] = {
        "this tree": rerun(ROOT),
        "import litellm": import_litellm,
    }
    if against is not None:
        runs[str(against)] = rerun(against)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(7):
        for name, action in runs.items():
            _timed(action, times[name])
    cached, litellm = median(times["this tree"]), median(times["import litellm"])
    print("benchmark 1: warm-cache seed briefing (whole process) vs `import litellm`")
    print(f"  ratio: import litellm / cached brief = {litellm / cached:.1f}x (target >= 8x)")
    print(f"  cached brief, median of 7 runs: {cached:.3f} s")
    print(f"  python -c 'import litellm', median of 7: {litellm:.3f} s")
    if against is not None:
        other = median(times[str(against)])
        print(f"  cached brief from {against}, median of 7: {other:.3f} s", end="")
        print(f" ({other / cached:.2f}x this tree's; import litellm / it = {litellm / other:.1f}x)")


if __name__ == "__main__":
    main()
