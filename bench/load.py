"""Benchmark 8: the embedded one-article briefing on a quiet machine and on a busy one.

Method: for each tuning of the embedded model's server (:class:`service.local_model.Tuning`:
libgomp's defaults, ``OMP_WAIT_POLICY=PASSIVE``, a short ``GOMP_SPINCOUNT``, threads left
out for the load), start the server once, then brief the same seed article
(``--no-cache``: 2 calls) with the machine quiet, with one core busy and with every usable
core busy. The busy load is this benchmark's own: one process per busy core, each spinning
at normal priority, started before the briefing and stopped after it (and never running
longer than ``BUSY_LIMIT`` seconds). The threads-from-load tuning starts its server under
each load, as the load it reads is the load at the start. Ratios are to the same tuning's
quiet time; the targets are at most 1.5x with one core busy and 2.3x with both.

It refuses to run unless the machine is quiet (1-minute load under ``QUIET_LOAD`` before it
starts): other work would be measured as ours. Needs ``newsbrief[local]``.

    python -m bench.load [TUNING ...]      # names as printed; default: all
"""

import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import SEEDS
from service import brief
from service.local_model import LocalServer, Tuning, usable_cpus
from service.settings import Settings, default_cache_dir

QUIET_LOAD = 0.5
BUSY_LIMIT = 900.0
TUNINGS = {
    "libgomp defaults": Tuning(),
    "OMP_WAIT_POLICY=PASSIVE": Tuning(wait_policy="passive"),
    "GOMP_SPINCOUNT=10000": Tuning(spin_count=10_000),
    "threads from load": Tuning(threads_from_load=True),
}


def _spin(deadline: float) -> None:
    while time.monotonic() < deadline:
        pass


@contextmanager
def busy(cores: int) -> Iterator[None]:
    """``cores`` spinning processes, stopped on leaving (or after ``BUSY_LIMIT`` s)."""
    deadline = time.monotonic() + BUSY_LIMIT
    spinners = [multiprocessing.Process(target=_spin, args=(deadline,)) for _ in range(cores)]
    for spinner in spinners:
        spinner.start()
    time.sleep(2.0)  # let the load average and the scheduler see them
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


def briefing_seconds(url: str) -> float:
    article = sorted(SEEDS.glob("*.txt"))[0]  # the same one each time
    settings = Settings(local_url=url, use_cache=False, cache_dir=Path(tempfile.mkdtemp()))
    started = time.perf_counter()
    brief([article], settings=settings)
    return time.perf_counter() - started


@contextmanager
def server(tuning: Tuning) -> Iterator[str]:
    local = LocalServer(default_cache_dir(), None, 8192, tuning)
    local.start()
    try:
        yield local.base_url
    finally:
        local.stop()


def measure(name: str, tuning: Tuning) -> list[float]:
    """Seconds quiet, with one core busy and with every usable core busy."""
    loads = [0, 1, usable_cpus()]
    if not tuning.threads_from_load:
        with server(tuning) as url:
            return [_under(cores, url) for cores in loads]
    times = []
    for cores in loads:  # the server reads the load when it starts: start it under each
        with busy(cores), server(tuning) as url:
            times.append(briefing_seconds(url))
    return times


def _under(cores: int, url: str) -> float:
    with busy(cores):
        return briefing_seconds(url)


def main() -> None:
    load = os.getloadavg()[0]
    if load >= QUIET_LOAD and "--anyway" not in sys.argv:
        print(f"bench.load: the machine is not quiet (1-minute load {load:.2f}); not measured")
        sys.exit(3)
    names = [a for a in sys.argv[1:] if a != "--anyway"] or list(TUNINGS)
    cpus = usable_cpus()
    print(f"benchmark 8: one seed article, embedded model, {cpus} usable CPUs, load {load:.2f}")
    print(f"  {'tuning':<26} quiet   1 busy        {cpus} busy")
    for name in names:
        quiet, one, every = measure(name, TUNINGS[name])
        line = f"  {name:<26} {quiet:5.1f} s {one:5.1f} s {one / quiet:4.2f}x"
        print(line + f" {every:5.1f} s {every / quiet:4.2f}x", flush=True)


if __name__ == "__main__":
    main()
