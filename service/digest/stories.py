"""Stories: articles about the same event, across outlets, with ids that last across runs.

Pure functions over articles and what the state remembers; no I/O. Grouping is deterministic:
each article becomes a set of *keys* read from its whole kept text (headline included): its
content words and names, lower-cased and with a plural ``s`` dropped, pairs of neighbouring
ones (``tax+return``), and its numbers (``#15000``), each with marks for how often it recurs
(``nokia~2``, ``nokia~4``, ...), so what an article keeps coming back to weighs more than what
it says once. Two articles are compared by the overlap of their keys, each key weighted by how
rare it is among the articles grouped (a smoothed inverse document frequency, counting at least
a day's worth of articles): what two outlets share about one event (its people, places,
numbers, distinctive words and phrases) is rare in the rest of the day's news.
Articles are taken oldest first; one joins the story holding the article it is most similar
to (above a threshold), else it starts a story whose id is a hash of its own id. Articles the
state already placed keep their story, so a story's id never changes and a later article
about it joins it, even when the earlier articles are gone from the sources.
"""

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from schemas import Article

THRESHOLD = 0.105
"""Least weighted overlap of their keys for two articles to be one story."""
MIN_SHARED = 4
"""Least number of shared keys, so two short texts do not match on a couple of words."""
DAY = 30
"""Articles counted at least, when weighting keys: a word four articles share is rare in a
day's news even when only those four are grouped."""
REPEATS = 2
"""A key recurring this many times gets a mark ``key~2``, then ``key~4``, ``key~8``, ..."""

_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*|\d[\d,.]*\d|\d")
_STOP_WORDS = """
    about above after again against also among another because been before being below between
    both could does doing down during each even every from further have having here into itself
    just last least like many more most much must near next none only other over said says same
    should since some still such than that their them then there these they this those through
    under until upon very were what when where which while will with within without would year
    years your monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow
    week weeks month months january february march april june july august september october
    november december percent people officials official according told reported report reports
    news says added including first second third later early time times made make amid
"""
_STOP = frozenset(_STOP_WORDS.split())
_MARK, _PAIR = "~", "+"


@dataclass(frozen=True)
class Item:
    """One article as grouping sees it."""

    article_id: str
    keys: frozenset[str]
    when: datetime
    story_id: str | None = None
    """The story the state already placed it in, if any."""


@dataclass
class Story:
    """Articles about one event; ``story_id`` is stable across runs."""

    story_id: str
    items: list[Item] = field(default_factory=list)


def keys_of(article: Article) -> frozenset[str]:
    """The keys of the article's headline and kept text, with marks for those that recur."""
    texts = [article.title or "", *(s.text for s in article.kept)]
    counts = Counter(key for text in texts for key in _keys(text))
    return frozenset(counts) | frozenset(_marks(counts))


def _keys(text: str) -> Iterable[str]:
    # each word, and each pair of neighbouring ones ("tax+return", "supreme+court"): a pair
    # names what a text is about better than either word
    words = [_key(w) for w in _WORD.findall(text)]
    yield from filter(None, words)
    yield from (f"{a}{_PAIR}{b}" for a, b in pairwise(words) if a and b)


def _key(word: str) -> str | None:
    if word[0].isdigit():
        number = word.replace(",", "")
        return f"#{number}" if len(number) >= 3 else None  # "7" or "12" tells no story apart
    low = word.lower()
    return _stem(low) if len(low) >= 4 and low not in _STOP else None


def _marks(counts: Mapping[str, int]) -> Iterable[str]:
    for key, count in counts.items():
        times = REPEATS
        while count >= times:
            yield f"{key}{_MARK}{times}"
            times *= 2


def _stem(word: str) -> str:
    word = word.replace("\u2019", "'").removesuffix("'s")
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


Weights = Mapping[str, float]
"""Each key's weight: how rare it is among the articles grouped together."""


def weights(keys: Sequence[frozenset[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of every key: ln((1 + n) / (1 + df)) + 1."""
    found = Counter(k for ks in keys for k in ks)
    n = max(len(keys), DAY)
    return {k: math.log((1 + n) / (1 + df)) + 1 for k, df in found.items()}


def similarity(a: frozenset[str], b: frozenset[str], weight: Weights | None = None) -> float:
    """Weighted overlap of two key sets (the weight of the keys they share over that of the
    smaller set, weights squared); 0 unless at least ``MIN_SHARED`` words are shared."""
    w = weights([a, b]) if weight is None else weight
    return _overlap(a, b, w, min(_mass(a, w), _mass(b, w)))


def _overlap(a: frozenset[str], b: frozenset[str], weight: Weights, smaller: float) -> float:
    shared = a & b
    if not smaller or sum(_MARK not in k and _PAIR not in k for k in shared) < MIN_SHARED:
        return 0.0
    return _mass(shared, weight) / smaller


def _mass(keys: Iterable[str], weight: Weights) -> float:
    return sum(weight.get(k, 1.0) ** 2 for k in keys)


def story_id_for(item: Item) -> str:
    """A story's id: a hash of its earliest article's id."""
    return "s" + hashlib.sha256(item.article_id.encode()).hexdigest()[:11]


def group(known: Iterable[Item], new: Sequence[Item]) -> list[Story]:
    """``known`` items keep their stories; each new item joins the closest one or starts one."""
    known = list(known)
    table = _Table([*known, *new])
    for row, item in enumerate(known):
        if item.story_id is not None:
            table.place(row, item.story_id)
    for row in sorted(range(len(known), len(table.items)), key=table.order):
        home = table.closest(row)
        table.place(row, home or story_id_for(table.items[row]))
    return table.stories


class _Table:
    """The articles being grouped, each compared with all the others at once (numpy).

    Comparing a new article with each placed one in Python took most of a 1,000-article
    run (half a million pairs); an index of shared keys pruned nothing, as articles share
    common words. Here each key held by two or more articles keeps those articles' rows, and
    an article's overlap with every other is one weighted count over the rows of its keys:
    the sums of :func:`similarity`, added in another order.
    """

    def __init__(self, items: Sequence[Item]) -> None:
        self.items = items
        weight = weights([i.keys for i in items])
        self.mass = np.array([_mass(i.keys, weight) for i in items])
        holders: dict[str, list[int]] = {}
        for row, item in enumerate(items):
            for key in item.keys:
                holders.setdefault(key, []).append(row)
        self.holders = {k: np.array(rows) for k, rows in holders.items() if len(rows) > 1}
        self.squared = {k: weight[k] ** 2 for k in self.holders}
        self.story = np.full(len(items), -1)
        """Each row's story, by its number in order of making; -1 while it has none."""
        self.numbers: dict[str, int] = {}
        self.stories: list[Story] = []

    def order(self, row: int) -> tuple[datetime, str]:
        return self.items[row].when, self.items[row].article_id

    def place(self, row: int, story_id: str) -> None:
        if story_id not in self.numbers:
            self.numbers[story_id] = len(self.stories)
            self.stories.append(Story(story_id))
        self.story[row] = self.numbers[story_id]
        self.stories[self.numbers[story_id]].items.append(self.items[row])

    def closest(self, row: int) -> str | None:
        """The story holding the placed article most like ``row`` (the earliest made of
        those as like it), when like enough."""
        score, placed = self.scores(row), self.story >= 0
        best = score[placed].max(initial=0.0)
        if best < THRESHOLD:
            return None
        return self.stories[int(self.story[placed & (score == best)].min())].story_id

    def scores(self, row: int) -> NDArray[np.float64]:
        """``row``'s :func:`similarity` with every row."""
        keys = sorted(
            k for k in self.items[row].keys if k in self.holders
        )  # the same sums each run
        overlap = self._count(keys, [self.squared[k] for k in keys])
        words = self._count([k for k in keys if _MARK not in k and _PAIR not in k])
        smaller = np.minimum(self.mass, self.mass[row])
        valid = (words >= MIN_SHARED) & (smaller > 0)
        return np.where(valid, overlap / np.where(valid, smaller, 1.0), 0.0)

    def _count(self, keys: list[str], weights: list[float] | None = None) -> NDArray[np.float64]:
        # each row's sum of ``weights`` (else 1) over the ``keys`` it holds
        if not keys:
            return np.zeros(len(self.items))
        rows = [self.holders[k] for k in keys]
        each = None if weights is None else np.repeat(weights, [len(r) for r in rows])
        return np.bincount(np.concatenate(rows), each, len(self.items)).astype(np.float64)
