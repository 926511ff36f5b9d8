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


def write_articles(folder: Path, count: int) -> list[Path]:
    """``count`` distinct articles on one story (a flood), so clean-up keeps them all."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        place = _PLACES[i % len(_PLACES)]
        text = (
            f"Flood waters rose near {place} on Tuesday, officials in district {i} said.\n"
            f"Rescue teams moved {10 + i} families from homes near {place} to the school.\n"
            f"The mayor said the flood barrier at {place} held until late in the evening.\n"
            f"Residents near {place} were told the river would fall by Thursday morning.\n"
        )
        path = folder / f"article_{i:03d}.txt"
        path.write_text(text)
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
