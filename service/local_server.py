"""The embedded model's server process: llama-cpp-python's server, its threads following the
CPUs it actually gets.

llama.cpp's threads meet at a barrier after every step of a layer. On a quiet machine one
thread per CPU, each spinning a while at a barrier before it sleeps, is fastest; when another
process holds a CPU, the thread that shares it is descheduled for whole time slices while the
others wait for it (measured here: 26 tokens/s quiet, 1.8 tokens/s with one of two CPUs busy
and libgomp's default spin). So a sampler thread reads, every :data:`PERIOD` seconds, how long
this process's threads waited for a CPU against how long they ran (the kernel's
``/proc/self/task/*/schedstat``): waiting, not the CPUs' use, is the signal, since a
lower-priority process that only runs on a CPU we leave idle must not keep us off it. A
change takes effect at llama.cpp's next decode step.

While they are crowded (:class:`Crowding`: a few readings in a row, so that a burst of
background work changes nothing), llama.cpp gets one thread more than the CPUs for prompts
and one fewer for single tokens (:func:`split_threads`; llama.cpp has one count for each):

- A prompt is long steps of matrix work taken in chunks by whichever thread is free: one more
  thread takes a larger share of contended CPUs, and makes libgomp (llama.cpp's OpenMP) spin
  only 100 times instead of ``GOMP_SPINCOUNT`` before a waiting thread sleeps, since it then
  manages more threads than the CPUs the process may use (``libgomp/config/linux/wait.h``,
  ``do_spin``; the count drops back when a smaller team starts, ``libgomp/team.c``): a
  waiting thread gives its CPU to the one it waits for.
- A token is many short steps, each ended by a barrier that waits for the slowest thread: one
  fewer leaves the contended CPU to the other process (with two CPUs: no barrier at all).

Crowded threads wait whatever the others do, so the quiet threads are tried again after a
while, and for twice as long after each trial that was crowded at once. ``--when-crowded
fewer`` is the former policy (:class:`Controller`: one thread fewer for both, kept while it
is calm), for comparison (BENCHMARKS.md, section 8).

It also samples under a grammar the way llama.cpp's own server does
(:mod:`service.lazy_grammar`). Started by :class:`service.local_model.LocalServer` as
``python -m service.local_server`` with llama-cpp-python's own server flags;
``--fixed-threads`` turns the thread sampler off, ``--grammar-first`` the lazy grammar.
"""

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

PERIOD = 0.5
"""Seconds between two readings of the threads' running and waiting times."""
CROWDED = 0.15
"""Share of the time this process's threads wait for a CPU above which one thread is dropped."""
SHARED = 0.25
"""Share of the time waiting for a CPU above which :class:`Crowding` counts a reading
crowded (quiet, background work makes single readings reach 0.2-0.35)."""
FIRST_CALM = 4
"""Calm readings before a thread dropped is tried again."""
LONGEST_CALM = 64
"""The most calm readings waited before trying again, after tries that crowded it."""
HOLD = 60
"""Crowded readings kept at the same threads after one fewer was crowded too."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
IDLE = 0.05
"""CPUs' worth of running and waiting below which a reading says nothing (no request)."""
STEADY = 3
"""Readings in a row, waiting more than :data:`SHARED`, before :class:`Crowding` says crowded."""
FIRST_TRY = 8
"""Crowded readings before :class:`Crowding` tries quiet again (doubled after a failed trial)."""


@dataclass(frozen=True)
class Reading:
    """Nanoseconds this process's threads ran and waited for a CPU, at one moment."""

    running: int
    waiting: int
    at: float
    busy: int = 0
    """Nanoseconds the CPUs this process may use were busy (``/proc/stat``), ours included."""


def schedstat(text: str) -> tuple[int, int]:
    """(ran, waited) in nanoseconds, from one ``/proc/.../schedstat`` line."""
    ran, waited, *_ = text.split()
    return int(ran), int(waited)


def busy_ns(stat: str, cpus: Iterable[int]) -> int:
    """Nanoseconds the given CPUs were busy (not idle, not waiting for I/O), from
    ``/proc/stat``: only the CPUs this process may use, not the whole host's."""
    wanted = {f"cpu{n}" for n in cpus}
    ticks = 0
    for line in stat.splitlines():
        name, *fields = line.split()
        if name in wanted:
            values = [int(v) for v in fields[:8]]
            ticks += sum(values) - values[3] - values[4]
    return ticks * 1_000_000_000 // CLOCK_TICKS


def read(tasks: Path = Path("/proc/self/task"), stat: Path = Path("/proc/stat")) -> Reading:
    """This process's threads' running and waiting times now (a thread that ended is skipped)."""
    ran = waited = 0
    for task in tasks.iterdir():
        try:
            one = schedstat((task / "schedstat").read_text(encoding="ascii"))
        except OSError:
            continue
        ran, waited = ran + one[0], waited + one[1]
    usable = os.sched_getaffinity(0)
    busy = busy_ns(stat.read_text(encoding="ascii"), usable) if stat.exists() else 0
    return Reading(ran, waited, time.monotonic(), busy)


def others(before: Reading, after: Reading) -> float:
    """CPUs' worth of work other processes did between two readings."""
    seconds = after.at - before.at
    done = (after.busy - before.busy) - (after.running - before.running)
    return max(0.0, done / 1e9 / seconds) if seconds > 0 else 0.0


def waiting_share(before: Reading, after: Reading) -> float | None:
    """Share of the time the threads waited between two readings; None when they were idle."""
    ran, waited = after.running - before.running, after.waiting - before.waiting
    seconds = after.at - before.at
    if seconds <= 0 or (ran + waited) / 1e9 < IDLE * seconds:
        return None
    return waited / (ran + waited)


class Controller:
    """Threads for llama.cpp from each reading of how long its threads waited for a CPU.

    Crowded (another process shares a CPU with one of ours): one thread fewer is tried. If the
    fewer threads are calm, they stay; if they are crowded too, every CPU is contended and
    fewer threads would only get a smaller share of them, so the thread comes back and stays
    for :data:`HOLD` readings. Below the CPUs' number, one more thread is tried after a calm
    spell; a try that crowds it doubles the wait before the next (up to :data:`LONGEST_CALM`),
    and while other processes use the CPUs it left, it waits the longest.
    """

    def __init__(self, cpus: int) -> None:
        self.cpus = cpus
        self.threads = cpus
        self.calm = 0
        self.patience = FIRST_CALM
        self.tried = 0
        """+1: one thread more was just tried; -1: one fewer; 0: nothing is being tried."""
        self.hold = 0

    def next(self, share: float | None, others: float = 0.0) -> int:
        """The threads after a reading: ours waited ``share`` of the time, and other
        processes used ``others`` CPUs."""
        if share is None:
            return self.threads  # no request running: nothing learnt
        crowded = share > CROWDED
        if self.tried:
            self._judge(crowded)
        elif crowded:
            self._crowded()
        else:
            self._calm(others)
        return self.threads

    def _judge(self, crowded: bool) -> None:
        tried, self.tried, self.calm = self.tried, 0, 0
        if crowded:  # the try did not help: undo it
            self.threads -= tried
            if tried < 0:
                self.hold = HOLD
            else:
                self.patience = min(self.patience * 2, LONGEST_CALM)
        elif tried > 0:
            self.patience = FIRST_CALM

    def _crowded(self) -> None:
        self.calm = 0
        if self.hold:
            self.hold -= 1
        elif self.threads > 1:
            self.threads, self.tried = self.threads - 1, -1

    def _calm(self, others: float) -> None:
        self.hold, self.calm = 0, self.calm + 1
        # while other processes use the CPUs we left, a try would only crowd us: try rarely
        # (a lower-priority process on them would give way, so never "never")
        free = self.cpus - self.threads - others >= 0.5
        if self.threads < self.cpus and self.calm >= (self.patience if free else LONGEST_CALM):
            self.threads, self.tried = self.threads + 1, 1


class Crowding:
    """Whether other processes crowd llama.cpp's threads, from how long they wait for a CPU.

    Quiet, it turns crowded after :data:`STEADY` readings in a row in which the threads waited
    for a CPU more than :data:`SHARED` of the time (on a quiet machine with background work a
    single such reading happens; with another process on a CPU every reading is). Crowded,
    the readings say nothing about the others (more threads than CPUs wait anyway, and a CPU
    left idle is filled by any lower-priority work), so after ``patience`` readings it turns
    quiet again on trial: if that trial turns crowded at once, the next wait is twice as long
    (up to :data:`LONGEST_CALM`), otherwise it starts again from :data:`FIRST_TRY`.
    """

    def __init__(self) -> None:
        self.crowded = False
        self.agreeing = 0
        """Readings in a row, while quiet, that say crowded."""
        self.readings = STEADY + 1
        """Readings since the last change (the first crowding is no failed trial)."""
        self.patience = FIRST_TRY

    def next(self, share: float | None) -> bool:
        """Crowded or not after a reading in which the threads waited ``share`` of the time
        (None: no request was running, nothing learnt)."""
        if share is None:
            return self.crowded
        self.readings += 1
        if self.crowded:
            if self.readings >= self.patience:
                self.crowded, self.readings = False, 0
            return self.crowded
        self.agreeing = self.agreeing + 1 if share > SHARED else 0
        if self.agreeing >= STEADY:
            failed_trial = self.readings == STEADY  # crowded from its first reading
            self.patience = min(2 * self.patience, LONGEST_CALM) if failed_trial else FIRST_TRY
            self.crowded, self.readings, self.agreeing = True, 0, 0
        return self.crowded


def split_threads(cpus: int, crowded: bool) -> tuple[int, int]:
    """llama.cpp's threads for one token and for a prompt: one per CPU when quiet; crowded,
    one fewer for tokens and one more than the CPUs for prompts (see the module's docstring)."""
    return (max(1, cpus - 1), cpus + 1) if crowded else (cpus, cpus)


Threads = TypeVar("Threads")


def follow(
    choose: Callable[[float | None, float], Threads],
    apply: Callable[[Threads], None],
    stop: threading.Event,
    first: Threads,
) -> None:
    """Until ``stop``: every :data:`PERIOD`, ``choose`` llama.cpp's threads from how long its
    threads waited and how much other processes ran, and ``apply`` them when they change."""
    before, chosen = read(), first
    while not stop.wait(PERIOD):
        after = read()
        now = choose(waiting_share(before, after), others(before, after))
        if now != chosen:
            apply(now)
            chosen = now
        before = after


def _follow_load(when_crowded: str, cpus: int, llama: Any) -> None:  # pragma: no cover
    """Start the thread that gives llama.cpp the threads ``--when-crowded`` chooses."""

    def apply(threads: tuple[int, int]) -> None:
        llama._ctx.set_n_threads(*threads)
        note = f"{threads[0]} thread(s) per token, {threads[1]} per prompt"
        print(f"service.local_server: {note}", file=sys.stderr, flush=True)

    if when_crowded == "fewer":
        controller = Controller(cpus)

        def choose(share: float | None, others: float) -> tuple[int, int]:
            threads = controller.next(share, others)
            return threads, threads
    else:
        crowding = Crowding()

        def choose(share: float | None, others: float) -> tuple[int, int]:
            return split_threads(cpus, crowding.next(share))

    arguments = (choose, apply, threading.Event(), (cpus, cpus))
    threading.Thread(target=follow, args=arguments, daemon=True).start()  # ends with the server


def main(argv: list[str]) -> None:  # pragma: no cover - runs in the server's process
    import argparse

    import uvicorn
    from llama_cpp.server import app as llama_app
    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    parser = argparse.ArgumentParser(prog="python -m service.local_server")
    add_args_from_model(parser, Settings)
    parser.add_argument("--fixed-threads", action="store_true", help="never change threads")
    parser.add_argument("--grammar-first", action="store_true", help="llama-cpp-python's sampling")
    parser.add_argument(
        "--when-crowded",
        choices=["fewer", "split"],
        default="split",
        help="crowded threads: one fewer for both, or split (one more for prompts, one fewer "
        "for tokens)",
    )
    args = parser.parse_args(argv)
    if not args.grammar_first:
        from service.lazy_grammar import install

        install()
    server = parse_model_from_args(ServerSettings, args)
    app = llama_app.create_app(
        server_settings=server, model_settings=[parse_model_from_args(ModelSettings, args)]
    )
    if not args.fixed_threads and os.path.exists("/proc/self/schedstat"):
        llama = llama_app._llama_proxy()  # the one model this server was started with
        _follow_load(args.when_crowded, len(os.sched_getaffinity(0)), llama)
    uvicorn.run(app, host=server.host, port=server.port)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
