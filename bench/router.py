"""Benchmark 7: the 1,000-article digest against 1, 2 and 4 model servers, and a failing one.

Method: benchmark 5's digest (100 synthetic stories of 10 articles, one ``brief digest run``
in-process, a real SMTP server on 127.0.0.1) against fake OpenAI-compatible servers
(:mod:`tests.fleet`, in a process of their own), each answering at most 4 calls at once and
each call after 1 s. The digest names them as ``deployments`` with ``max_in_flight = 5``
each: one call more than a server's slots, so that each server holds a call waiting for its
next free slot while ``brief`` reads a reply and sends the next call (with exactly 4, every
slot idles for that turnaround, which grows with the calls per second; docs/scaling.md).
Scenarios, one after another in one run, each with a fresh state and cache:

- 1, 2 and 4 healthy servers;
- 3 healthy servers (what a run with one server down can at best do);
- 4 servers of which one answers every call with 500, or refuses every connection;
- 1 and 4 servers with ``max_in_flight = 4`` (the servers' slots, the setting before).

Before them, untimed, a one-story digest against one server: what a process does once
(importing litellm, the Router's and the template's first use) is then out of every
measured run; it used to fall in the first run only (about 3 s of the one-server run).

Throughput is articles briefed per second of the whole run (reading, grouping, briefing,
email); the ratios are to the one-server run. "Lost" counts calls that no healthy server
answered: every run must have each of its calls answered once by a healthy server (as many
as the healthy runs), and its email must hold all 100 stories, none left out.

    python -m bench.router [SCENARIO ...]    # default: every scenario; names as printed
"""

import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from bench.digest import PER_STORY, STORIES, mail_server, write_stories
from service.digest.config import load_config
from service.digest.run import run_digests
from service.settings import Settings
from tests.fault_server import Plan
from tests.fleet import fleet, refusing_url

LATENCY, SLOTS = 1.0, 4
IN_FLIGHT = SLOTS + 1
"""Calls ``brief`` sends to one server at once: one waits there for the next free slot."""
SCENARIOS = {
    "1 server": (1, None, IN_FLIGHT),
    "2 servers": (2, None, IN_FLIGHT),
    "4 servers": (4, None, IN_FLIGHT),
    "3 servers": (3, None, IN_FLIGHT),
    "4, one answering 500": (4, "500", IN_FLIGHT),
    "4, one refusing": (4, "refused", IN_FLIGHT),
    "1 server, 4 in flight": (1, None, SLOTS),
    "4 servers, 4 in flight": (4, None, SLOTS),
}
"""Each scenario: servers, the failure of the first one (None: all healthy), max_in_flight."""


@dataclass
class Result:
    name: str
    seconds: float
    stories: int
    left_out: int
    answered: int
    emails: int
    model_seconds: float
    """From the first model call's arrival at a server to the last call's end."""


def _serve(count: int, failure: str | None, pipe: Connection) -> None:
    plans = [Plan(latency=LATENCY) for _ in range(count)]
    if failure == "500":
        plans[0].rate, plans[0].faults, plans[0].latency = 1.0, ("500",), 0.0
    with fleet(plans, SLOTS) as servers:
        urls = [s.url for s in servers]
        if failure == "refused":
            urls[0] = refusing_url()
        pipe.send(urls)
        pipe.recv()  # until the run is over
        healthy = plans[1:] if failure else plans
        first = min(s.first for s in servers if s.first is not None)
        last = max(s.last for s in servers if s.last is not None)
        pipe.send((sum(len(p.requests) for p in healthy), last - first))


@contextmanager
def servers(count: int, failure: str | None) -> Iterator[tuple[list[str], list[tuple[int, float]]]]:
    """The fleet in a process of its own (its threads do not compete for our interpreter
    lock); yields its URLs and, once left, the calls its healthy servers answered and the
    seconds from the first call's arrival to the last call's end."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(count, failure, theirs), daemon=True)
    process.start()
    answered: list[tuple[int, float]] = []
    try:
        yield ours.recv(), answered
    finally:
        ours.send("stop")
        answered.append(ours.recv())
        process.join(timeout=10)


def write_config(folder: Path, news: Path, urls: list[str], in_flight: int = IN_FLIGHT) -> Path:
    path = folder / "digest.toml"
    tables = ", ".join(f'{{ api_base = "{u}", max_in_flight = {in_flight} }}' for u in urls)
    path.write_text(
        f'state_dir = "{folder / "state"}"\n\n[[digest]]\nname = "bench"\n'
        f'sources = ["{news}"]\nrecipients = ["ana@example.org"]\n'
        f'sender = "newsbrief <brief@example.org>"\nmodel = "hosted_vllm/fault"\n'
        f"deployments = [{tables}]\nmax_stories = {STORIES}\n"
        f"max_articles_per_story = {PER_STORY}\n"
    )
    return path


def run_scenario(name: str, root: Path, news: Path, box: Sequence[object]) -> Result:
    count, failure, in_flight = SCENARIOS[name]
    folder = root / name.replace(" ", "_").replace(",", "")
    folder.mkdir()
    received = len(box)
    with servers(count, failure) as (urls, answered):
        config = load_config(write_config(folder, news, urls, in_flight))
        settings = Settings(cache_dir=folder / "cache")
        started = time.perf_counter()
        (outcome,) = run_digests(config, settings)
        seconds = time.perf_counter() - started
    emails = len(box) - received
    (calls, model_seconds), left_out = answered[0], len(outcome.left_out)
    return Result(name, seconds, outcome.stories, left_out, calls, emails, model_seconds)


def report(results: list[Result]) -> None:
    named = {r.name: r for r in results}
    four, three = named.get("4 servers"), named.get("3 servers")
    articles = STORIES * PER_STORY
    print(f"benchmark 7: digest of {articles} articles; servers answer {SLOTS} calls at once,")
    print(f"  each after {LATENCY:.0f} s, {IN_FLIGHT} sent to each at once unless named;")
    print("  throughput relative to the one-server run with the same calls in flight")
    calls = max(r.answered for r in results)  # every healthy run answers all of its calls
    print("  scenario               whole run: s, articles/s, ratio   model calls: s, ratio")
    for r in results:
        base = _base(named, r)
        line = f"  {r.name:<22} {r.seconds:6.1f} {articles / r.seconds:6.1f} "
        line += f"{base.seconds / r.seconds:6.2f}x    {r.model_seconds:6.1f}"
        print(line + f" {base.model_seconds / r.model_seconds:6.2f}x")
        line = f"    {r.stories} stories, {r.left_out} left out, {r.emails} email(s),"
        line += f" {r.answered} calls answered, {calls - r.answered} lost,"
        print(line + f" {r.seconds - r.model_seconds:.1f} s outside the model calls")
    for r in results:
        if "one" in r.name and three and four:
            extra = (r.seconds / three.seconds - 1) * 100
            slower = (r.seconds / four.seconds - 1) * 100
            print(f"  {r.name}: {extra:+.1f}% time against 3 healthy, {slower:+.1f}% against 4")


def _base(named: dict[str, Result], result: Result) -> Result:
    """The one-server run that ``result`` is compared with: the same calls in flight."""
    in_flight = SCENARIOS[result.name][2]
    ones = [r for r in named.values() if SCENARIOS[r.name][:2] == (1, None)]
    same = [r for r in ones if SCENARIOS[r.name][2] == in_flight]
    return (same or ones or [result])[0]


def warm_up(root: Path, box: Sequence[object]) -> None:
    """One story's digest against one server, untimed (what a process does once)."""
    write_stories(root / "warm-up" / "news", stories=1)
    run_scenario("1 server", root / "warm-up", root / "warm-up" / "news", box)


def main() -> None:
    names = sys.argv[1:] or list(SCENARIOS)
    root = Path(tempfile.mkdtemp(prefix="newsbrief-router-bench-"))
    write_stories(root / "news")
    print(f"load before: {os.getloadavg()[0]:.2f} (1-minute average), {os.cpu_count()} cores")
    with mail_server(root) as box:
        warm_up(root, box.received)
        results = [run_scenario(name, root, root / "news", box.received) for name in names]
    print(f"load after: {os.getloadavg()[0]:.2f}")
    report(results)


if __name__ == "__main__":
    main()
