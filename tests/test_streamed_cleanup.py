"""Articles cleaned one at a time, each sent to the model once no article still to come can
change it: the same clean-up and the same briefing as when every article is cleaned first."""

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

import pytest

import service.clean
import service.pipeline
from schemas import Article, Briefing
from service import brief
from service.clean import Cleaner, clean
from service.gateway import ModelRequest
from service.ingest import ingest
from service.pipeline import brief_prepared, ingest_options, open_gateway, prepare, stage_cache
from service.settings import Settings
from tests.conftest import SEEDS
from tests.fake_model import FakeModel, answer_with, canned_answer

HELD = "000"
"""The seed whose last paragraphs are another story: judged only against every article."""


def seeds(*first: str) -> list[Path]:
    """The seed files, those named by the prefixes ``first`` first, then the others."""
    files = sorted(SEEDS.glob("*.txt"))
    named = [f for prefix in first for f in files if f.name.startswith(prefix)]
    return [*named, *(f for f in files if f not in named)]


def streamed(articles: list[Article]) -> tuple[list[Article], list[list[str]]]:
    """The articles given to a ``Cleaner`` one at a time, and the names released after each."""
    cleaner, released, steps = Cleaner(len(articles)), [], []
    for article in articles:
        cleaner.add(article)
        ready = cleaner.ready()
        released += ready
        steps.append([Path(a.origin).name[:3] for a in ready])
    return [*released, *cleaner.finish()], steps


def with_copy_and_other_story(tmp_path: Path) -> list[Path]:
    """The seeds, a near copy of one (a line added) and a page about something else."""
    files = sorted(SEEDS.glob("*.txt"))
    copy = tmp_path / "copy.txt"
    copy.write_text(files[2].read_text() + "\nAdvertisement\n")
    other = tmp_path / "other.txt"
    other.write_text(
        "Glasgow Rovers signed the Norwegian striker Lars Henriksen on Friday for a club record.\n"
        "Henriksen scored 31 goals for Bergen Athletic last season, the club said in Glasgow.\n"
        "Manager Fiona McLeod said Henriksen would wear the number nine shirt at Hampden Park.\n"
    )
    return [*files, copy, other]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_articles_given_one_at_a_time_are_cleaned_as_all_at_once(
    tmp_path: Path, order: tuple[int, ...]
) -> None:
    files = with_copy_and_other_story(tmp_path)
    groups = [files[:3], files[3:5], files[5:]]
    articles = ingest([f for i in order for f in groups[i]]).articles
    alone, _ = streamed(articles)
    assert alone == clean(articles)
    assert any(a.duplicate_of for a in alone)  # the copy was found, and the off-topic tail
    assert any(r.kind == "off-topic" for a in alone for r in a.removed)


def test_an_article_on_the_story_is_released_before_the_rest_are_given() -> None:
    _, steps = streamed(ingest(seeds("001", "002", "003", "004")).articles)
    assert steps[1] == ["001", "002"]  # against one other article already
    assert HELD not in {name for step in steps for name in step}


def test_an_article_that_may_lose_a_paragraph_holds_back_those_after_it() -> None:
    _, steps = streamed(ingest(seeds(HELD)).articles)
    assert steps == [[]] * len(steps)  # duplicates are marked in order: all wait for the first


def test_an_article_held_back_is_judged_again_only_as_the_set_doubles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    judged: list[int] = []
    settled = Cleaner._settled

    def judging(cleaner: Cleaner, index: int) -> bool:
        judged.append(len(cleaner.given))
        return settled(cleaner, index)

    monkeypatch.setattr(Cleaner, "_settled", judging)
    streamed(ingest(seeds(HELD)).articles)
    assert judged == [1, 2, 4]  # of 5: not after each one


def test_a_set_too_small_to_compare_is_released_at_once() -> None:
    _, steps = streamed(ingest(seeds(HELD, "001")[:2]).articles)
    assert steps == [[HELD], ["001"]]


def test_the_rest_is_released_only_once_every_article_is_given() -> None:
    cleaner = Cleaner(2)
    cleaner.add(ingest(seeds()[:1]).articles[0])
    with pytest.raises(ValueError, match="1 of 2"):
        cleaner.finish()


def same(briefing: Briefing) -> dict[str, Any]:
    return briefing.model_dump(exclude={"generated_at", "usage"})


def cleaned_first(inputs: list[Path], settings: Settings) -> Briefing:
    """The briefing built the way a digest builds it: every article cleaned, then sent."""

    async def run() -> Briefing:
        async with open_gateway(settings) as gateway:
            stages = stage_cache(gateway.cache)
            ingested = ingest(inputs, options=ingest_options(settings, stages))
            prepared = prepare(ingested.articles, ingested.skipped, stages)
            return await brief_prepared(gateway, prepared)

    return asyncio.run(run())


def test_a_briefing_built_while_cleaning_equals_one_built_after(
    fake_model: FakeModel, tmp_path: Path
) -> None:
    inputs = with_copy_and_other_story(tmp_path)
    streaming = brief(inputs, settings=Settings(model="fake", cache_dir=tmp_path / "streaming"))
    after = cleaned_first(inputs, Settings(model="fake", cache_dir=tmp_path / "after"))
    assert same(streaming) == same(after)


def test_the_first_calls_leave_before_every_article_is_cleaned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given: list[Article] = []
    add = service.clean.Cleaner.add

    def adding(cleaner: Cleaner, article: Article) -> None:
        given.append(article)
        add(cleaner, article)

    seen_at: list[int] = []  # how many articles the clean-up had been given, at each call

    def answer(request: ModelRequest) -> str:
        seen_at.append(len(given))
        return canned_answer(request)

    monkeypatch.setattr(service.clean.Cleaner, "add", adding)
    answer_with(monkeypatch, FakeModel(answer=answer))
    inputs = seeds("001", "002", "003", "004")
    briefing = brief(inputs, settings=Settings(model="fake", cache_dir=tmp_path))
    assert len(briefing.sources) == len(inputs)
    assert min(seen_at) < len(inputs)


def failing_on(marker: str) -> FakeModel:
    """A model that fails every call about the article holding ``marker``."""

    def answer(request: ModelRequest) -> str:
        if any(marker in m["content"] for m in request.messages):
            raise ConnectionError("the server closed the connection")
        return canned_answer(request)

    return FakeModel(answer=answer)


def test_bad_articles_are_skipped_and_reported_while_streaming(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    noise = tmp_path / "noise.txt"
    noise.write_text("Advertisement\nShare this article\nSubscribe to our newsletter\n")
    inputs = [*seeds("001", "002"), empty, noise]
    failing = next(s.text for s in ingest(seeds("003")[:1]).articles[0].sentences[3:4])
    answer_with(monkeypatch, failing_on(failing))
    briefing = brief(inputs, settings=Settings(model="fake", cache_dir=tmp_path / "cache"))
    skipped = {(Path(s.subject).name, s.stage) for s in briefing.skipped}
    assert {("empty.txt", "ingest"), ("noise.txt", "ingest")} <= skipped
    assert any(name.startswith("003") and stage == "extract" for name, stage in skipped)
    assert len(briefing.sources) == len(inputs) - 3


def test_the_wait_for_calls_to_leave_ends_on_a_loop_that_is_never_idle() -> None:
    async def busy(stop: asyncio.Event) -> None:
        while not stop.is_set():
            time.sleep(3 * service.pipeline.QUIET)  # every turn of the loop overruns a sleep
            await asyncio.sleep(0)

    async def gave_up_while_busy() -> bool:
        stop = asyncio.Event()
        task = asyncio.ensure_future(busy(stop))
        await asyncio.sleep(0)
        await service.pipeline._idle(service.pipeline.SENDING)  # returns: no hang
        still_busy = not task.done()
        stop.set()
        await task
        return still_busy

    assert asyncio.run(gave_up_while_busy())
