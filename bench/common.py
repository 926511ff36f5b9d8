"""Shared pieces of the benchmarks: synthetic article sets and the timing helpers."""

import multiprocessing
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from tests.fault_server import Plan, fault_server

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"

_PLACES = ["the harbour", "the old mill", "the river bank", "the station", "the market square"]
_SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "va", "sel", "dor", "fin", "gar", "hol"]
_SYLLABLES += ["jex", "bri", "nau", "pel", "qua", "ros", "tam", "vey", "zor", "ul", "om"]
WORDS = len(_SYLLABLES) ** 3


def word(seed: int) -> str:
    """A made-up word, distinct for each seed below ``WORDS`` (22**3)."""
    n = len(_SYLLABLES)
    return _SYLLABLES[seed % n] + _SYLLABLES[seed // n % n] + _SYLLABLES[seed // n // n % n]


def write_articles(folder: Path, count: int) -> list[Path]:
    """``count`` distinct articles on one story (a flood), so clean-up keeps them all and
    none is a near-duplicate of another: each is its own model call.

    Each names its own made-up people and places (seeds spread over the syllables, as
    neighbouring seeds share two of three) and tells the facts in its own order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        place = _PLACES[i % len(_PLACES)]
        w = [word((i * 12 + k) * 7919 % WORDS).capitalize() for k in range(12)]
        facts = [
            f"Flood waters rose near {place} on Tuesday, {w[0]} {w[1]} of district {i} said.",
            f"Rescue teams led by {w[2]} moved {10 + i} families from {w[3]} Road to the "
            f"{w[4]} school.",
            f"The mayor said the {w[5]} barrier at {place} held until late in the evening.",
            f"Residents of {w[3]} Road were told the {w[6]} river would fall by Thursday, "
            f"{w[7]} {w[8]} added.",
            f"Volunteers from {w[9]} and {w[10]} filled sandbags near the {w[11]} bridge.",
        ]
        path = folder / f"article_{i:03d}.txt"
        path.write_text("\n".join(facts[i % 5 :] + facts[: i % 5]) + "\n")
        paths.append(path)
    return paths


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` runs of ``action``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def _serve(latency: float, pipe: Connection) -> None:
    with fault_server(Plan(latency=latency)) as url:
        pipe.send(url)
        pipe.recv()  # until told to stop


@contextmanager
def model_server(latency: float) -> Iterator[str]:
    """The fault-free model server in a process of its own, so that its threads do not
    compete with the run being measured for this process's interpreter lock."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(latency, theirs), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send("stop")
        process.join(timeout=5)
