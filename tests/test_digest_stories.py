"""Story grouping on mixed inputs (text, Markdown, JSON records; several outlets per story) and
stable story ids across runs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from schemas import Article
from service.clean import clean
from service.digest.stories import (
    THRESHOLD,
    Item,
    Story,
    group,
    keys_of,
    similarity,
    story_id_for,
    weights,
)
from service.ingest import ingest, make_article
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


FIRE = "\n".join((
    "Pine Ridge fire forces evacuations in Carson Valley",
    "The Pine Ridge fire grew to 4,500 acres overnight and forced 2,300 homes in Carson Valley"
    " to evacuate, Governor Mara Lindqvist said on Tuesday.",
    "Crews from Dalton County fought the Pine Ridge fire along Route 9 near Carson Valley.",
    "Lindqvist declared an emergency for Dalton County and asked for federal help.",
))  # fmt: skip
ANGLE = "\n".join((
    "Insurers brace for a costly season",
    "Insurance companies expect a wave of claims as households count their losses this summer.",
    "Analysts at Brenner Capital said premiums could rise by a fifth next year.",
    "Brokers said many policies written in the spring exclude smoke damage.",
    "In Carson Valley, where the Pine Ridge fire has burned 4,500 acres, agents opened a claims"
    " office on Route 9.",
    "Governor Mara Lindqvist said Dalton County families who lost homes to the Pine Ridge fire"
    " would get state help.",
))  # fmt: skip
MATCH = "\n".join((
    "Harbor United wins the cup final",
    "Harbor United beat Northgate Rovers 3-1 in the cup final at Kestrel Park on Saturday.",
    "The striker Tomas Vell scored twice before a crowd of 41,000, and the coach praised them.",
    "Rovers had not lost a final in six years; their captain said the season was a success.",
))  # fmt: skip


def synthetic(*texts: str) -> list[Article]:
    return [make_article(t, f"{n}.txt", f"outlet-{n}") for n, t in enumerate(texts)]


def test_another_angle_joins_its_story_by_the_names_and_numbers_of_its_whole_text() -> None:
    # the second article's headline and lead are about insurers, its last lines about the fire
    articles = synthetic(FIRE, ANGLE, MATCH)
    stories = group([], items(articles))
    assert outlets(stories, articles) == {
        frozenset({"outlet-0", "outlet-1"}),
        frozenset({"outlet-2"}),
    }


def test_two_articles_alone_group_as_they_would_among_many() -> None:
    # weights count at least a day's worth of articles: a pair is not judged on its own
    alone = group([], items(synthetic(FIRE, ANGLE)))
    assert len(alone) == 1


def test_a_key_many_articles_share_weighs_less_than_one_few_share() -> None:
    common, rare = frozenset({"court", "ruling"}), frozenset({"court", "bardack"})
    weight = weights([common, rare, frozenset({"court"}), frozenset({"court", "ruling"})])
    assert weight["court"] < weight["ruling"] < weight["bardack"]


def test_keys_mark_what_an_article_keeps_coming_back_to() -> None:
    (fire,) = synthetic(FIRE)
    keys = keys_of(clean([fire])[0])
    assert {"pine+ridge", "#4500", "lindqvist"} <= keys
    assert {"pine+ridge~2", "lindqvist~2"} <= keys


def one_by_one(new: list[Item]) -> set[frozenset[str]]:
    """The grouping rule worked out pair by pair: each article, oldest first, joins the story
    of the placed article most similar to it (the earliest made of stories as similar)."""
    weight = weights([i.keys for i in new])
    stories: list[list[Item]] = []
    for item in sorted(new, key=lambda i: (i.when, i.article_id)):
        scores = [max(similarity(item.keys, o.keys, weight) for o in s) for s in stories]
        best = max(range(len(stories)), key=scores.__getitem__, default=None)
        if best is not None and scores[best] >= THRESHOLD:
            stories[best].append(item)
        else:
            stories.append([item])
    return {frozenset(i.article_id for i in s) for s in stories}


def test_grouping_all_at_once_places_each_article_as_pair_by_pair() -> None:
    found = items([*read(SEEDS, DATA / "day1", DATA / "day2"), *synthetic(FIRE, ANGLE, MATCH)])
    stories = group([], found)
    assert {frozenset(i.article_id for i in s.items) for s in stories} == one_by_one(found)


def test_among_stories_as_similar_an_article_joins_the_earliest_made() -> None:
    words = frozenset({"harbor", "ferry", "strike", "union", "wages", "talks"})
    first, second = (Item(f"a{n}", words, T0, story_id=f"s{n}") for n in (1, 2))
    later = Item("b", words, T0 + timedelta(hours=1))
    for known, earliest in (([first, second], "s1"), ([second, first], "s2")):
        joined = next(s for s in group(known, [later]) if later in s.items)
        assert joined.story_id == earliest
