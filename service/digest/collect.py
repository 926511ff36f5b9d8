"""The digest's first steps, all queries: collect the articles, group them, choose the stories.

Nothing here writes state: where grouping placed the new articles is returned for
:func:`service.digest.run.remember` to store.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas import Article, Skipped
from service.clean import clean
from service.digest.config import DigestConfig
from service.digest.edition import LeftOut
from service.digest.mail import one_line
from service.digest.state import Sent, State
from service.digest.stories import Item, Story, group, keys_of
from service.ingest import ingest
from service.pipeline import ingest_options
from service.settings import Settings

STORY_MEMORY_DAYS = 30
"""How long a story's articles are remembered for placing later articles in it."""


@dataclass(frozen=True)
class Collected:
    """The articles the sources hold now, each with its time, and the inputs skipped."""

    articles: dict[str, Article]
    when: dict[str, datetime]
    skipped: list[Skipped]


@dataclass(frozen=True)
class Grouped:
    """The stories the articles form, and the new articles' places in them."""

    stories: list[Story]
    placed: list[Item]
    """Articles met for the first time, each with its story id: for the state to remember."""


@dataclass(frozen=True)
class Candidate:
    """A story with articles not sent before: what it would brief and how to show it."""

    story: Story
    articles: list[Article]
    """Its articles to brief, newest first, at most ``max_articles_per_story``."""
    present: list[str]
    """The ids of all its articles the sources hold now."""
    fresh: list[Article]
    sent: Sent | None
    outlets: int
    latest: datetime

    @property
    def label(self) -> str:
        title = self.articles[0].title or self.articles[0].origin
        return f"{one_line(title, 100)} ({len(self.present)} articles)"


def collect(config: DigestConfig, settings: Settings, state: State, now: datetime) -> Collected:
    """Read every source; give each article a time; keep those in the window."""
    # no per-run cap: a digest reads all its sources (each feed capped) and bounds its model
    # calls by max_stories and max_articles_per_story instead
    options = replace(ingest_options(settings), max_articles=None)
    ingested = ingest(config.sources, options=options)
    seen = state.first_seen(config.name)
    when = {a.id: _time_of(a, seen.get(a.id) or now) for a in ingested.articles}
    hours = config.window_hours()
    start = now - timedelta(hours=hours) if hours else None
    kept = {a.id: a for a in ingested.articles if start is None or when[a.id] >= start}
    return Collected(kept, when, ingested.skipped)


def _time_of(article: Article, fallback: datetime) -> datetime:
    """When it was published, else its file's modification time, else when first seen."""
    if article.published is not None:
        return _aware(article.published)
    path = Path(article.origin.split("#")[0])
    if "://" not in article.origin and path.is_file():
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return _aware(fallback)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def group_stories(name: str, state: State, collected: Collected, now: datetime) -> Grouped:
    """The stories of the collected articles and the articles remembered from earlier runs."""
    horizon = now - timedelta(days=STORY_MEMORY_DAYS)
    known = {
        i.article_id: i
        for i in state.known_items(name)
        if i.article_id in collected.articles or i.when >= horizon
    }
    new = [
        Item(a.id, keys_of(clean([a])[0]), collected.when[a.id])
        for a in collected.articles.values()
        if a.id not in known
    ]
    stories = group(known.values(), new)
    placed = [replace(i, story_id=s.story_id) for s in stories for i in s.items]
    return Grouped(stories, [i for i in placed if i.article_id not in known])


def choose(
    config: DigestConfig, stories: list[Story], collected: Collected, sent: Mapping[str, Sent]
) -> tuple[list[Candidate], list[LeftOut]]:
    """Stories with articles not sent before, the most widely reported and newest first."""
    found = [_candidate(config, s, collected, sent.get(s.story_id)) for s in stories]
    ranked = sorted(
        (c for c in found if c is not None),
        key=lambda c: (-c.outlets, -c.latest.timestamp(), c.story.story_id),
    )
    limit = config.max_stories
    beyond = [LeftOut(c.label, f"beyond the limit of {limit} stories") for c in ranked[limit:]]
    return ranked[:limit], beyond


def _candidate(
    config: DigestConfig, story: Story, collected: Collected, sent: Sent | None
) -> Candidate | None:
    present = [
        collected.articles[i.article_id] for i in story.items if i.article_id in collected.articles
    ]
    fresh = [a for a in present if sent is None or a.id not in sent.articles]
    if not fresh:
        return None
    newest = sorted(present, key=lambda a: (collected.when[a.id], a.id), reverse=True)
    return Candidate(
        story=story,
        articles=newest[: config.max_articles_per_story],
        present=[a.id for a in present],
        fresh=sorted(fresh, key=lambda a: (collected.when[a.id], a.id)),
        sent=sent,
        outlets=len({a.source for a in present}),
        latest=collected.when[newest[0].id],
    )
