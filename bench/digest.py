"""Benchmark 5: a digest of 1,000 articles in 100 stories at 1 s latency per model call.

Method: 100 synthetic stories of 10 articles each (every story its own made-up town, firm
and people, so grouping has real work to do), written as .txt files in one folder. The
fault-free local model server (real HTTP on 127.0.0.1) answers every call after 1 s; a real
SMTP server (aiosmtpd on 127.0.0.1, STARTTLS and login, as in the tests) receives the email.
One ``brief digest run`` in-process, default settings (concurrency 16 for hosted models),
state in a fresh SQLite file; wall time of the run, and the process's peak resident memory
(``ru_maxrss``: this process, with the SMTP server's thread; the model server runs in a
process of its own, as a real one would). Then a
second run, which must find nothing new. 1,100 calls at 16 at once make a floor of ~69 s.

    python -m bench.digest
"""

import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import model_server
from bench.common import word as _word
from service.digest.config import load_config
from service.digest.run import run_digests
from service.settings import Settings
from tests.smtp_server import PASSWORD, USER, Mailbox, smtp_server, trusted_ca

STORIES, PER_STORY, LATENCY = 100, 10, 1.0


def write_stories(folder: Path, stories: int = STORIES) -> None:
    """``stories`` stories of ``PER_STORY`` articles, each article from its own outlet.

    Each story has its own names and nouns (made-up words), as different news stories share
    few words; its articles tell it in differently ordered sentences.
    """
    folder.mkdir(parents=True)
    for story in range(stories):
        town, firm, person, *nouns = (_word(story * 8 + k) for k in range(8))
        facts = [
            f"{person.capitalize()} said the {nouns[0]} at {town.capitalize()} was closed.",
            f"The {nouns[1]} of {firm.capitalize()} met the {nouns[2]} on Monday.",
            f"Officials in {town.capitalize()} said {nouns[3]} crews checked the {nouns[4]}.",
            f"{firm.capitalize()} said the {nouns[4]} would reopen after the {nouns[0]} review.",
        ]
        for n in range(PER_STORY):
            order = facts[n % 4 :] + facts[: n % 4]
            title = f"{firm.capitalize()} {nouns[0]} in {town.capitalize()} closed"
            count = f"About {40 + n} {nouns[2]} joined, {person.capitalize()} said."
            text = f"{title}\n\n" + "\n".join([*order, count]) + "\n"
            (folder / f"s{story:03d}_outlet{n}.txt").write_text(text)


def write_config(folder: Path, model_url: str) -> Path:
    path = folder / "digest.toml"
    path.write_text(
        f'state_dir = "{folder / "state"}"\n\n[[digest]]\nname = "bench"\n'
        f'sources = ["{folder / "news"}"]\nrecipients = ["ana@example.org"]\n'
        f'sender = "newsbrief <brief@example.org>"\nmodel = "hosted_vllm/fault"\n'
        f'api_base = "{model_url}"\nmax_stories = {STORIES}\n'
        f"max_articles_per_story = {PER_STORY}\n"
    )
    return path


@contextmanager
def mail_server(folder: Path) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 (STARTTLS, login), set as the digest's in the
    environment; yields its mailbox."""
    ca, ca_file = trusted_ca(folder)
    with smtp_server(ca) as (port, box):
        os.environ.update(
            BRIEF_SMTP_HOST="127.0.0.1",
            BRIEF_SMTP_PORT=str(port),
            BRIEF_SMTP_USER=USER,
            BRIEF_SMTP_PASSWORD=PASSWORD,
            SSL_CERT_FILE=str(ca_file),
        )
        yield box


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="newsbrief-digest-bench-"))
    write_stories(folder / "news")
    with mail_server(folder) as box, model_server(LATENCY) as url:
        config = load_config(write_config(folder, url))
        settings = Settings(cache_dir=folder / "cache")
        started = time.perf_counter()
        (first,) = run_digests(config, settings)
        wall = time.perf_counter() - started
        started = time.perf_counter()
        (second,) = run_digests(config, settings)
        again = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    limit = Settings(model="hosted_vllm/fault").effective_concurrency()
    print(f"benchmark 5: digest of {STORIES * PER_STORY} articles in {STORIES} stories")
    print(f"  model latency {LATENCY:.0f} s per call; {limit} calls at once")
    floor = STORIES * (PER_STORY + 1) * LATENCY / limit
    print(
        f"  first run: {wall:.1f} s (target < 180 s; {wall / floor:.2f}x the {floor:.0f} s floor)"
    )
    print(f"    {first.status}, {first.stories} stories,", end=" ")
    print(f"{len(first.left_out)} left out, {len(box.received)} email(s) received")
    print(f"  second run: {again:.1f} s, {second.status}, {second.stories} stories")
    print(f"  peak memory (ru_maxrss, whole process): {peak_mb:.0f} MB (target < 400 MB)")


if __name__ == "__main__":
    main()
