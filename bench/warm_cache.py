"""Benchmark 1: a warm-cache re-run of the seed briefing, whole process, against importing litellm.

Method: brief the seed articles once through the fault-free local model server (this fills
a fresh reply cache), then time ``brief`` as a new process 7 times against that cache with
the server gone (every reply must come from the cache), and ``python -c "import litellm"``
7 times, interleaved (one of each in turn, so a change in the machine's load touches both).
litellm is imported offline, as the product imports it (``LITELLM_LOCAL_MODEL_COST_MAP``, see
``service/gateway.py``): otherwise its import tries to fetch a price list, and how long a
failing lookup takes on the machine's network would be measured too.
Medians are printed, of wall time and of CPU time (user + system, from the process's rusage:
less moved by other processes on a shared machine); the wall-time ratio is the target's.

``--against DIR`` also times ``brief`` from another checkout (its code first on the path, the
same cache and environment), interleaved with the others: a change measured side by side.

    python -m bench.warm_cache [--against ../main]
"""

import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(action: Callable[[], object], times: list[float], cpu: list[float]) -> None:
    started, cpu_before = time.perf_counter(), _children_cpu()
    action()
    times.append(time.perf_counter() - started)
    cpu.append(_children_cpu() - cpu_before)


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
        offline = {**env, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        subprocess.run([sys.executable, "-c", "import litellm"], check=True, env=offline)

    runs: dict[str, Callable[[], None]] = {
        "this tree": rerun(ROOT),
        "import litellm": import_litellm,
    }
    if against is not None:
        runs[str(against)] = rerun(against)
    times: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(7):
        for name, action in runs.items():
            _timed(action, times[name], cpu[name])
    cached, litellm = median(times["this tree"]), median(times["import litellm"])
    print("benchmark 1: warm-cache seed briefing (whole process) vs `import litellm`")
    print(f"  ratio: import litellm / cached brief = {litellm / cached:.1f}x (target >= 8x)")
    print(f"  cached brief, median of 7 runs: {cached:.3f} s")
    print(f"  python -c 'import litellm', median of 7: {litellm:.3f} s")
    if against is not None:
        other = median(times[str(against)])
        print(f"  cached brief from {against}, median of 7: {other:.3f} s", end="")
        print(f" ({other / cached:.2f}x this tree's; import litellm / it = {litellm / other:.1f}x)")
    cpus = {name: median(values) for name, values in cpu.items()}
    listed = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in cpus.items())
    print(f"  CPU time (user + system), medians: {listed}")
    ratio = cpus["import litellm"] / cpus["this tree"]
    print(f"  CPU ratio: import litellm / cached brief = {ratio:.1f}x")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
