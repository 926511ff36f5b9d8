"""Metric 8, stories: does the digest's grouping put each cluster's articles in one story?

Every document of every cluster is copied into one temporary folder, named
``<cluster>__<file>``, and grouped the way ``brief digest run`` groups a day's articles (a dry
run: no model, no state, no email): ingested, each cleaned on its own, keyed by
``service.digest.stories.keys_of`` and grouped by ``service.digest.stories.group`` with no
story known before. All articles get the same time, so the order (and the result) depends on
the articles alone. Then, over all pairs of articles: precision = pairs put in one story that
belong to one cluster / pairs put in one story; recall = pairs of one cluster put in one story
/ pairs of one cluster; and the number of stories against the number of clusters.
"""

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

from service.clean import clean
from service.digest.stories import Item, group, keys_of
from service.ingest import ingest

SEPARATOR = "__"


@dataclass
class Stories:
    articles: int = 0
    clusters: int = 0
    stories: int = 0
    precision: float | None = None
    recall: float | None = None
    groups: list[list[str]] = field(default_factory=list)
    """Each story's articles, as ``cluster__file``."""


def stories(files: Mapping[str, Mapping[str, Path]]) -> Stories:
    """Group ``files`` (cluster -> document -> path) as the digest would, and score it."""
    with tempfile.TemporaryDirectory(prefix="newsbrief-stories-") as folder:
        for cluster, docs in files.items():
            for path in docs.values():
                shutil.copyfile(path, Path(folder) / f"{cluster}{SEPARATOR}{path.name}")
        groups = _grouped(Path(folder))
    return score(groups, len(files))


def _grouped(folder: Path) -> list[list[str]]:
    articles = ingest([folder]).articles
    name = {a.id: Path(a.origin).name for a in articles}
    when = datetime(2026, 1, 1, tzinfo=UTC)
    # Each article cleaned on its own, as the digest does before grouping.
    found = group([], [Item(a.id, keys_of(clean([a])[0]), when) for a in articles])
    return [sorted(name[i.article_id] for i in story.items) for story in found]


def score(groups: list[list[str]], clusters: int) -> Stories:
    """Pairwise precision and recall of ``groups`` of ``cluster__file`` names."""
    together = {p for g in groups for p in combinations(sorted(g), 2)}
    names = sorted(n for g in groups for n in g)
    same = {(a, b) for a, b in combinations(names, 2) if _cluster(a) == _cluster(b)}
    right = len(together & same)
    return Stories(
        articles=len(names),
        clusters=clusters,
        stories=len(groups),
        precision=right / len(together) if together else None,
        recall=right / len(same) if same else None,
        groups=groups,
    )


def _cluster(name: str) -> str:
    return name.split(SEPARATOR)[0]
