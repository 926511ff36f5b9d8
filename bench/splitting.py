"""Benchmark 6: ingest and clean-up of one single-line text file, against its size.

Method: write a file that is one line of sentences (no line break at all) of 0.475, 0.95 and
1.9 MB, and time ``ingest`` + ``clean`` on it 3 times each (no model involved). Medians are
printed with seconds per MB: a flat figure is linear work. Before pysbd was given bounded
chunks, the 1.9 MB file did not finish in 120 s.

    python -m bench.splitting
"""

import tempfile
from functools import partial
from pathlib import Path

from bench.common import median, timed
from service.clean import clean
from service.ingest import ingest

SENTENCE = "The council met again and talked about the budget for the year. "
SIZES_MB = (0.475, 0.95, 1.9)


def _read(path: Path) -> None:
    clean(ingest([path]).articles)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="newsbrief-bench-"))
    print("benchmark 6: ingest + clean of a single-line file")
    for size in SIZES_MB:
        path = folder / f"{size}.txt"
        path.write_text(SENTENCE * int(size * 1_000_000 / len(SENTENCE)))
        seconds = median(timed(partial(_read, path), repeat=3))
        print(f"  {size:>5} MB: {seconds:5.2f} s, {seconds / size:4.2f} s per MB")


if __name__ == "__main__":
    main()
