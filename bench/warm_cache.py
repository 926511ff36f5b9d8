"""Benchmark 1: a warm-cache re-run of the seed briefing, whole process, against importing litellm.

Method: brief the seed articles once through the fault-free local model server (this fills
a fresh reply cache), then time ``brief`` as a new process 7 times against that cache with
the server gone (every reply must come from the cache), and ``python -c "import litellm"``
5 times. Medians are printed; the ratio is what the target is about (the machine is shared).

    python -m bench.warm_cache
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import SEEDS, median, timed
from service import brief
from service.settings import Settings
from tests.fault_server import Plan, fault_server


def main() -> None:
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

    def rerun() -> None:
        done = subprocess.run(brief_cmd, env=env, capture_output=True, text=True, check=True)
        assert "0 model calls" in done.stderr, done.stderr

    def import_litellm() -> None:
        subprocess.run([sys.executable, "-c", "import litellm"], check=True, env=env)

    cached = median(timed(rerun, 7))
    litellm = median(timed(import_litellm, 5))
    print("benchmark 1: warm-cache seed briefing (whole process) vs `import litellm`")
    print(f"  ratio: import litellm / cached brief = {litellm / cached:.1f}x (target >= 6x)")
    print(f"  cached brief, median of 7 runs: {cached:.3f} s (target <= 0.6 s)")
    print(f"  python -c 'import litellm', median of 5: {litellm:.3f} s")


if __name__ == "__main__":
    main()
