"""Benchmark 8: the embedded one-article briefing on a quiet machine and on a busy one.

Method: for each way of serving the embedded model (llama-cpp-python's server with libgomp's
defaults, with ``OMP_WAIT_POLICY=PASSIVE``, with a short ``GOMP_SPINCOUNT``, with threads that
follow the CPUs they get, alone and with the short spin (the server's default), and each of the
server's two ways of following them by name: one thread fewer when crowded (the former default)
and one more for prompts, one fewer for tokens (``split``); llama.cpp's own ``llama-server``
with its defaults and with ``--poll 0``), brief the same seed article (no cache: 2 calls) with
the machine quiet, with one core busy and with every usable core busy, each on a freshly
started server (its start is not timed), the ways taking turns in each state. The busy load is
this benchmark's own: one process per busy core, each spinning at normal priority, started 2 s
before the briefing and stopped after it. A briefing still running after ``LIMIT`` seconds is
stopped and shown as ``>LIMIT``. Ratios are to the same way's quiet time; the targets are at
most 1.5x with one core busy and 2.3x with both. Each server's log (the threads it chose,
llama.cpp's own timings) is kept in a folder named at the start.

It refuses to run unless the machine is quiet (1-minute load under ``QUIET_LOAD`` before it
starts): other work would be measured as ours. Needs ``newsbrief[local]``, and ``make
llama-server`` for the last two.

    python -m bench.load [--anyway] [WAY ...]   # names as printed; default: llama-cpp-python's
"""

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import SEEDS
from service import brief
from service.local_model import LOG, LocalServer, Tuning, usable_cpus
from service.settings import Settings, default_cache_dir

QUIET_LOAD = 0.5
LIMIT = 400.0
BUSY_LIMIT = LIMIT + 60.0
FEWER = ("--when-crowded", "fewer")
SPLIT = ("--when-crowded", "split")
WAYS = {
    "llama-cpp-python": ("llama-cpp-python", Tuning()),
    "  OMP_WAIT_POLICY=PASSIVE": ("llama-cpp-python", Tuning(wait_policy="passive")),
    "  GOMP_SPINCOUNT=10000": ("llama-cpp-python", Tuning(spin_count=10_000)),
    "  threads follow load": ("llama-cpp-python", Tuning(follow_load=True)),
    "  follow + SPINCOUNT=10000": ("llama-cpp-python", Tuning(follow_load=True, spin_count=10_000)),
    "  one fewer when crowded": ("llama-cpp-python", Tuning(True, None, 10_000, FEWER)),
    "  split when crowded": ("llama-cpp-python", Tuning(True, None, 10_000, SPLIT)),
    "llama-server": ("llama-server", Tuning()),
    "  --poll 0": ("llama-server", Tuning(server_args=("--poll", "0"))),
}
DEFAULT = [name for name, (engine, _) in WAYS.items() if engine == "llama-cpp-python"]


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


def briefing_seconds(url: str) -> float | None:
    """Seconds to brief the first seed article, or None past :data:`LIMIT`."""
    article = sorted(SEEDS.glob("*.txt"))[0]  # the same one each time
    settings = Settings(
        local_url=url, use_cache=False, transport_retries=0, cache_dir=Path(tempfile.mkdtemp())
    )
    started = time.perf_counter()
    run = threading.Thread(target=brief, args=([article],), kwargs={"settings": settings})
    run.daemon = True  # one past the limit ends with its server
    run.start()
    run.join(LIMIT)
    return None if run.is_alive() else time.perf_counter() - started


@contextmanager
def server(engine: str, tuning: Tuning, keep_log: Path) -> Iterator[str]:
    """A fresh server; its log (the threads it chose) is kept as ``keep_log``."""
    local = LocalServer(default_cache_dir(), None, 8192, tuning, engine)
    local.start()
    try:
        yield local.base_url
    finally:
        local.stop()
        shutil.copyfile(default_cache_dir() / LOG, keep_log)


def measure(ways: list[str], logs: Path) -> dict[str, list[float | None]]:
    """Seconds for each way quiet, with one core busy and with every usable core busy. The
    ways take turns within each state of the machine, in reverse order from one state to the
    next, so that other work on the machine drifting over the run weighs on each alike."""
    times: dict[str, list[float | None]] = {way: [] for way in ways}
    for turn, cores in enumerate([0, 1, usable_cpus()]):
        for number, way in sorted(enumerate(ways), reverse=turn % 2 == 1):
            engine, tuning = WAYS[way]
            with server(engine, tuning, logs / f"{number}-{cores}-busy.log") as url, busy(cores):
                times[way].append(briefing_seconds(url))
    return times


def _cell(seconds: float | None, quiet: float | None) -> str:
    if seconds is None:
        return f">{LIMIT:.0f} s" + " " * 6
    ratio = f"{seconds / quiet:5.2f}x" if quiet else " " * 6
    return f"{seconds:5.1f} s {ratio}"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "ways",
        nargs="*",
        metavar="WAY",
        help="ways to measure, by name (default: llama-cpp-python's): "
        + "; ".join(w.strip() for w in WAYS)
        + " (after --, a name that starts with a dash)",
    )
    parser.add_argument(
        "--anyway", action="store_true", help="measure even if the machine is not quiet"
    )
    arguments = parser.parse_args()
    unknown = set(arguments.ways) - {w.strip() for w in WAYS}
    if unknown:
        parser.error(f"no such way: {', '.join(sorted(unknown))}")
    return arguments


def main() -> None:
    arguments = _arguments()
    load = os.getloadavg()[0]
    if load >= QUIET_LOAD and not arguments.anyway:
        print(f"bench.load: the machine is not quiet (1-minute load {load:.2f}); not measured")
        sys.exit(3)
    names = arguments.ways
    chosen = [w for w in WAYS if w.strip() in names] if names else DEFAULT
    cpus = usable_cpus()
    print(f"benchmark 8: one seed article, embedded model, {cpus} usable CPUs, load {load:.2f}")
    print(f"  {'server':<27} quiet        1 busy            {cpus} busy")
    logs = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(f"  (each server's log in {logs})", flush=True)
    for name, (quiet, one, every) in measure(chosen, logs).items():
        line = f"  {name:<27} {_cell(quiet, None)[:7]}    {_cell(one, quiet)}  "
        print(line + _cell(every, quiet))


if __name__ == "__main__":
    main()
