"""Stories: articles about the same event, across outlets, with ids that last across runs.

Pure functions over articles and what the state remembers; no I/O. Grouping is deterministic:
each article becomes a set of *keys* (content words and names of its headline and lead), and
articles are taken oldest first; one joins the story holding the article it is most similar
to (overlap of keys, above a threshold), else it starts a story whose id is a hash of its own
id. Articles the state already placed keep their story, so a story's id never changes and a
later article about it joins it, even when the earlier articles are gone from the sources.
"""

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas import Article

LEAD_SENTENCES = 3
"""How much of an article, besides its headline, grouping reads."""
THRESHOLD = 0.25
"""Least overlap (shared keys / keys of the smaller article) for two articles to be one story."""
MIN_SHARED = 4
"""Least number of shared keys, so two short texts do not match on a couple of words."""

_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
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
    """The content words of the article's headline and lead, lower-cased, plural ``s`` dropped."""
    lead = " ".join(s.text for s in article.kept[:LEAD_SENTENCES])
    words = _WORD.findall(f"{article.title or ''} {lead}".lower())
    return frozenset(_stem(w) for w in words if len(w) >= 4 and w not in _STOP)


def _stem(word: str) -> str:
    word = word.replace("\u2019", "'").removesuffix("'s")
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared keys over the keys of the smaller set; 0 unless at least ``MIN_SHARED`` are shared."""
    shared = len(a & b)
    return shared / min(len(a), len(b)) if shared >= MIN_SHARED else 0.0


def story_id_for(item: Item) -> str:
    """A story's id: a hash of its earliest article's id."""
    return "s" + hashlib.sha256(item.article_id.encode()).hexdigest()[:11]


def group(known: Iterable[Item], new: Sequence[Item]) -> list[Story]:
    """``known`` items keep their stories; each new item joins the closest one or starts one."""
    stories: dict[str, Story] = {}
    for item in known:
        if item.story_id is not None:
            stories.setdefault(item.story_id, Story(item.story_id)).items.append(item)
    for item in sorted(new, key=lambda i: (i.when, i.article_id)):
        home = _closest(stories.values(), item)
        if home is None:
            home = stories.setdefault(story_id_for(item), Story(story_id_for(item)))
        home.items.append(item)
    return list(stories.values())


def _closest(stories: Iterable[Story], item: Item) -> Story | None:
    scored = [(max(similarity(item.keys, i.keys) for i in s.items), s) for s in stories]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best[1] if best[0] >= THRESHOLD else None
