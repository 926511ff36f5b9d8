"""The embedded model's server process: llama-cpp-python's server, its threads following the
CPUs that other processes leave free.

llama.cpp's threads meet at a barrier at every layer. On a quiet machine one thread per CPU
is fastest; when another process holds a CPU, the thread that shares it is descheduled for
whole time slices while the others wait for it at each layer (measured here: 26 tokens/s
quiet, 1.8 tokens/s with one of two CPUs busy). So a sampler thread reads, every
:data:`PERIOD` seconds, how much CPU everything else used (``/proc/stat`` less this process's
own ``/proc/self/stat``) and gives llama.cpp one thread per CPU left free, at least one. A
change takes effect at llama.cpp's next decode step.

Started by :class:`service.local_model.LocalServer` as ``python -m service.local_server``
with llama-cpp-python's own server flags; ``--fixed-threads`` turns the sampler off.
"""

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PERIOD = 0.5
"""Seconds between two readings of the CPUs' use."""
SMOOTHING = 0.5
"""Weight of the newest reading in the running mean of the CPUs others use."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Reading:
    """CPU time, in clock ticks, at one moment: busy on the usable CPUs, and this process's."""

    busy: int
    own: int
    at: float


def busy_ticks(stat: str, cpus: Iterable[int]) -> int:
    """Ticks the given CPUs spent busy (not idle, not waiting for I/O), from ``/proc/stat``."""
    wanted = {f"cpu{n}" for n in cpus}
    total = 0
    for line in stat.splitlines():
        name, *fields = line.split()
        if name in wanted:
            values = [int(v) for v in fields[:8]]
            total += sum(values) - values[3] - values[4]  # idle and iowait
    return total


def own_ticks(self_stat: str) -> int:
    """Ticks this process spent on the CPU (user + system), from ``/proc/self/stat``."""
    fields = self_stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return int(fields[11]) + int(fields[12])  # utime and stime


def threads_free(others: float, cpus: int) -> int:
    """Threads for llama.cpp: one per CPU that others leave free, at least one."""
    return max(1, min(cpus, round(cpus - others)))


def others_busy(before: Reading, after: Reading) -> float:
    """CPUs' worth of work done by other processes between two readings."""
    seconds = after.at - before.at
    if seconds <= 0:
        return 0.0
    ticks = (after.busy - before.busy) - (after.own - before.own)
    return max(0.0, ticks / CLOCK_TICKS / seconds)


def read(cpus: Iterable[int]) -> Reading:
    """The CPUs' use now."""
    with open("/proc/stat", encoding="ascii") as stat, open("/proc/self/stat") as own:
        return Reading(busy_ticks(stat.read(), cpus), own_ticks(own.read()), time.monotonic())


def follow(set_threads: Callable[[int], None], stop: threading.Event, cpus: list[int]) -> None:
    """Until ``stop``: every :data:`PERIOD`, set the threads to the ``cpus`` others leave free."""
    before, others, current = read(cpus), 0.0, len(cpus)
    while not stop.wait(PERIOD):
        after = read(cpus)
        others = SMOOTHING * others_busy(before, after) + (1 - SMOOTHING) * others
        before, wanted = after, threads_free(others, len(cpus))
        if wanted != current:
            set_threads(wanted)
            current = wanted


def main(argv: list[str]) -> None:  # pragma: no cover - runs in the server's process
    import argparse

    import uvicorn
    from llama_cpp.server import app as llama_app
    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    parser = argparse.ArgumentParser(prog="python -m service.local_server")
    add_args_from_model(parser, Settings)
    parser.add_argument("--fixed-threads", action="store_true", help="never change threads")
    args = parser.parse_args(argv)
    server = parse_model_from_args(ServerSettings, args)
    app = llama_app.create_app(
        server_settings=server, model_settings=[parse_model_from_args(ModelSettings, args)]
    )
    if not args.fixed_threads and os.path.exists("/proc/stat"):
        llama = llama_app._llama_proxy()  # the one model this server was started with

        def setter(threads: int) -> None:
            llama._ctx.set_n_threads(threads, threads)
            print(f"service.local_server: {threads} thread(s)", file=sys.stderr, flush=True)

        cpus = sorted(os.sched_getaffinity(0))
        sampler = threading.Thread(target=follow, args=(setter, threading.Event(), cpus))
        sampler.daemon = True  # ends with the server
        sampler.start()
    uvicorn.run(app, host=server.host, port=server.port)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
