"""Story grouping on mixed inputs (text, Markdown, JSON records; several outlets per story) and
stable story ids across runs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from schemas import Article
from service.clean import clean
from service.digest.stories import Item, Story, group, keys_of, similarity, story_id_for
from service.ingest import ingest
from tests.conftest import SEEDS
from tests.digest_helpers import DATA

T0 = datetime(2024, 5, 6, tzinfo=UTC)


def items(articles: list[Article]) -> list[Item]:
    """Items in input order, one hour apart."""
    return [
        Item(a.id, keys_of(clean([a])[0]), T0 + timedelta(hours=n)) for n, a in enumerate(articles)
    ]


def read(*folders: object) -> list[Article]:
    return ingest([str(f) for f in folders]).articles


def outlets(stories: list[Story], articles: list[Article]) -> set[frozenset[str]]:
    source = {a.id: a.source for a in articles}
    return {frozenset(source[i.article_id] for i in s.items) for s in stories}


def test_articles_group_into_their_stories_across_outlets_and_formats() -> None:
    articles = read(DATA / "day1", DATA / "day2")
    stories = group([], items(articles))
    assert outlets(stories, articles) == {
        frozenset({"harbor-times", "northern-ledger", "Coastal Wire", "fjord-times"}),
        frozenset({"carson-herald", "mountain-news", "Valley Courier"}),
        frozenset({"norland-post", "Finance Daily"}),
    }


def test_real_articles_with_boilerplate_stay_one_story_beside_the_others() -> None:
    articles = read(SEEDS, DATA / "day1")
    stories = group([], items(articles))
    assert len(stories) == 4
    seeds = {a.id for a in articles if a.origin.startswith(str(SEEDS))}
    assert any({i.article_id for i in s.items} == seeds for s in stories)


def test_the_id_is_a_hash_of_the_earliest_article_whatever_the_order() -> None:
    found = items(read(DATA / "day1"))
    forward = {s.story_id for s in group([], found)}
    backward = {s.story_id for s in group([], list(reversed(found)))}
    assert forward == backward
    earliest = min(found, key=lambda i: i.when)
    assert story_id_for(earliest) in forward


def test_known_articles_keep_their_story_and_a_later_one_joins_it() -> None:
    first = group([], items(read(DATA / "day1")))
    known = [replace(i, story_id=s.story_id) for s in first for i in s.items]
    (later,) = items(read(DATA / "day2"))
    later = replace(later, when=T0 + timedelta(days=1))
    second = group(known, [later])
    assert {s.story_id for s in second} == {s.story_id for s in first}
    halden = next(s for s in second if any(i.article_id == later.article_id for i in s.items))
    assert len(halden.items) == 4


def test_unrelated_articles_share_no_story() -> None:
    one, other = items(
        read(DATA / "day1" / "norland-post.txt", DATA / "day1" / "carson-herald.txt")
    )
    assert similarity(one.keys, other.keys) == 0.0
    assert len(group([], [one, other])) == 2
