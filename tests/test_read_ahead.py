"""While the model is awaited, each article's sentences are read ahead for the merge, in turns
of the event loop that find it idle; the briefing is the same whether or not that happened,
and nothing that goes wrong there fails a run."""

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

import service.merge
import service.pipeline
from schemas import Article, Briefing
from service import brief
from service.gateway import ModelRequest, Reply
from service.settings import Settings
from tests.conftest import SEEDS
from tests.fake_model import FakeModel, answer_with


def _same(briefing: Briefing) -> dict[str, Any]:
    return briefing.model_dump(exclude={"usage", "generated_at"})


def _brief(tmp_path: Path, name: str) -> Briefing:
    return brief([SEEDS], settings=Settings(model="fake", cache_dir=tmp_path / name))


async def _turn() -> None:
    await asyncio.sleep(0)  # every turn counts as idle: the read-ahead itself, not the detector


class _AfterReadingAhead(FakeModel):
    """Answers once every article it is told of has been read ahead (a bound only in case
    none is: then the test fails on what was read, not by hanging)."""

    def __init__(self, articles: int) -> None:
        super().__init__()
        self.articles = articles
        self.read: list[str] = []
        self.all_read = asyncio.Event()

    def reading(self, article: Article) -> None:
        self.read.append(article.id)
        if len(self.read) == self.articles:
            self.all_read.set()

    async def send(self, request: ModelRequest, timeout: float) -> Reply:
        await asyncio.wait_for(self.all_read.wait(), 60)
        return await super().send(request, timeout)


def test_the_articles_are_read_ahead_while_the_model_is_awaited(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    answer_with(monkeypatch, FakeModel())
    plain = _brief(tmp_path, "plain")
    model = _AfterReadingAhead(len(plain.sources))
    answer_with(monkeypatch, model)
    monkeypatch.setattr(service.pipeline, "_idle", _turn)
    read_ahead = service.merge.read_ahead

    def reading(article: Article) -> None:
        model.reading(article)
        read_ahead(article)

    monkeypatch.setattr(service.merge, "read_ahead", reading)
    ahead = _brief(tmp_path, "ahead")
    assert sorted(model.read) == sorted(s.article_id for s in plain.sources)
    assert _same(ahead) == _same(plain)


def test_a_read_ahead_that_fails_fails_nothing(
    fake_model: FakeModel, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_model.latency = 0.01
    plain = _brief(tmp_path, "plain")

    def fails(article: Article) -> None:
        raise RuntimeError(f"read ahead of {article.id}")

    monkeypatch.setattr(service.pipeline, "_idle", _turn)
    monkeypatch.setattr(service.merge, "read_ahead", fails)
    assert _same(_brief(tmp_path, "failing")) == _same(plain)


def test_the_loop_is_idle_only_once_nothing_else_runs() -> None:
    done: list[bool] = []

    async def busy() -> None:
        for _ in range(20):
            time.sleep(3 * service.pipeline.QUIET)  # in every turn of the loop while it runs
            await asyncio.sleep(0)
        done.append(True)

    async def idle_once_busy_is_done() -> bool:
        task = asyncio.ensure_future(busy())
        await asyncio.sleep(0)  # let it start
        await service.pipeline._idle()
        idle_after_busy = bool(done)
        await task
        return idle_after_busy

    assert asyncio.run(idle_once_busy_is_done())
