"""The embedded model's server process: llama-cpp-python's server, its threads following the
CPUs it actually gets.

llama.cpp's threads meet at a barrier at every layer. On a quiet machine one thread per CPU
is fastest; when another process holds a CPU, the thread that shares it is descheduled for
whole time slices while the others wait for it at each layer (measured here: 26 tokens/s
quiet, 1.8 tokens/s with one of two CPUs busy). So a sampler thread reads, every
:data:`PERIOD` seconds, how long this process's threads waited for a CPU against how long they
ran (the kernel's ``/proc/self/task/*/schedstat``). When they wait more than :data:`CROWDED`
of the time, llama.cpp gets one thread fewer if that makes them calm (when every CPU is
contended, fewer threads only get a smaller share); after a calm spell it tries one more
again, and backs off (twice as long each time, up to :data:`LONGEST_CALM`) when that crowds
it (:class:`Controller`). A change takes effect at llama.cpp's next decode step. Waiting, not
the CPUs' use, is the signal: a lower-priority process that only runs on a CPU we leave idle
must not keep us off it.

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
from typing import Any, Protocol

PERIOD = 0.5
"""Seconds between two readings of the threads' running and waiting times."""
CROWDED = 0.15
"""Share of the time this process's threads wait for a CPU above which one thread is dropped."""
SHARED = 0.25
"""Share of the time waiting for a CPU above which :class:`Oversubscribe` counts a reading
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
EXTRA = 1
"""Threads beyond the CPUs' number that :class:`Oversubscribe` gives llama.cpp when crowded."""
STEADY = 3
"""Readings in a row that must agree before :class:`Oversubscribe` changes the threads."""
GONE = 0.5
"""CPUs' worth of other processes' work below which :class:`Oversubscribe` counts them gone."""


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


class Oversubscribe:
    """Threads for llama.cpp: one per CPU while they run freely, :data:`EXTRA` more than the
    CPUs while other processes crowd them.

    More threads than CPUs do two things. libgomp, at every wait, compares the threads it
    manages with the CPUs the process may use and, when they are more, spins only briefly
    (100 times, not ``GOMP_SPINCOUNT``) before it sleeps (``config/linux/wait.h``,
    ``do_spin``): a thread that waits at a barrier gives its CPU to the one it waits for
    instead of spinning through its time slice. And llama.cpp's threads get a larger share of
    CPUs that other processes contend for. On a quiet machine one thread per CPU spinning
    long is fastest, and libgomp spins long again as soon as the team shrinks (``team.c``).
    A change needs :data:`STEADY` readings in a row that agree (and a reading with no request
    running says nothing): at one thread per CPU, threads waiting for a CPU more than
    :data:`SHARED` of the time; above, other processes using less than :data:`GONE` CPUs.
    """

    def __init__(self, cpus: int, extra: int = 1) -> None:
        self.cpus = cpus
        self.crowded_threads = cpus + extra
        self.threads = cpus
        self.agreeing = 0
        """Readings in a row that say the other number of threads would do better."""

    def next(self, share: float | None, others: float = 0.0) -> int:
        """The threads after a reading: ours waited ``share`` of the time, and other
        processes used ``others`` CPUs."""
        if share is None:
            return self.threads
        other_is_better = share > SHARED if self.threads == self.cpus else others < GONE
        self.agreeing = self.agreeing + 1 if other_is_better else 0
        if self.agreeing >= STEADY:
            quiet = self.threads != self.cpus
            self.threads, self.agreeing = self.cpus if quiet else self.crowded_threads, 0
        return self.threads


class ShortSpin:
    """libgomp's short spin, switched on and off while llama.cpp keeps its threads.

    libgomp spins only briefly before a waiting thread sleeps while the threads it manages
    outnumber the CPUs (:class:`Oversubscribe`); the count is the whole process's, every
    OpenMP team included. So a helper thread that runs one empty parallel region of two
    threads and then waits keeps one more thread managed (docked, asleep) until it ends, when
    libgomp frees its team and spins long again (``team.c``, ``gomp_free_thread``).
    """

    def __init__(self, library: str = "libgomp.so.1") -> None:
        self.library = library
        self._release: threading.Event | None = None

    def set(self, short: bool) -> None:
        """Spin briefly (``short``) or as ``GOMP_SPINCOUNT`` says."""
        if short and self._release is None:
            self._release = threading.Event()
            threading.Thread(target=self._hold, args=(self._release,), daemon=True).start()
        elif not short and self._release is not None:
            self._release.set()
            self._release = None

    def _hold(self, release: threading.Event) -> None:  # pragma: no cover - needs libgomp
        import ctypes

        nothing = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda _: None)
        ctypes.CDLL(self.library).GOMP_parallel(nothing, None, 2, 0)
        release.wait()


class Policy(Protocol):
    """What :func:`follow` asks of a thread policy."""

    threads: int

    def next(self, share: float | None, others: float = 0.0) -> int: ...


def follow(set_threads: Callable[[int], None], stop: threading.Event, policy: Policy) -> None:
    """Until ``stop``: every :data:`PERIOD`, give llama.cpp the threads ``policy`` chooses."""
    before = read()
    while not stop.wait(PERIOD):
        after = read()
        threads = policy.threads
        if policy.next(waiting_share(before, after), others(before, after)) != threads:
            set_threads(policy.threads)
        before = after


def _threads_policy(
    when_crowded: str, extra: int, cpus: int, llama: Any
) -> tuple[Policy, Callable[[int], None]]:  # pragma: no cover - runs in the server's process
    """The policy ``--when-crowded`` names, and what carries out its choice."""
    spin = ShortSpin()

    def threads(count: int) -> None:
        llama._ctx.set_n_threads(count, count)
        print(f"service.local_server: {count} thread(s)", file=sys.stderr, flush=True)

    def short(count: int) -> None:  # as many threads; spinning short as "more" does
        spin.set(count > cpus)
        print(f"service.local_server: short spin {count > cpus}", file=sys.stderr, flush=True)

    def split(count: int) -> None:  # crowded: prompts on more threads, tokens on one
        tokens = 1 if count > cpus else count
        llama._ctx.set_n_threads(tokens, count)
        print(f"service.local_server: {tokens}/{count} thread(s)", file=sys.stderr, flush=True)

    if when_crowded == "fewer":
        return Controller(cpus), threads
    chosen = {"short-spin": short, "split": split}.get(when_crowded, threads)
    return Oversubscribe(cpus, extra), chosen


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
        "--when-crowded", choices=["fewer", "more", "short-spin", "split"], default="fewer"
    )
    parser.add_argument("--extra-threads", type=int, default=EXTRA)
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

        cpus = len(os.sched_getaffinity(0))
        policy, setter = _threads_policy(args.when_crowded, args.extra_threads, cpus, llama)
        sampler = threading.Thread(target=follow, args=(setter, threading.Event(), policy))
        sampler.daemon = True  # ends with the server
        sampler.start()
    uvicorn.run(app, host=server.host, port=server.port)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
