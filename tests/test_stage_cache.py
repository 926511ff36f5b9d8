"""Stage results kept in the reply cache: reused for the same input and code, redone otherwise."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import service.clean
import service.ingest
import service.merge
import service.pipeline
from schemas import Briefing
from service import brief
from service.cache import ResponseCache, StageCache, code_fingerprint
from service.settings import Settings
from tests.conftest import SEEDS
from tests.fake_model import FakeModel


def counted(calls: list[str], name: str, work: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        calls.append(name)
        return work(*args)

    return run


@pytest.fixture
def stages(tmp_path: Path) -> StageCache:
    return StageCache(ResponseCache(tmp_path), "code-1")


def test_a_result_is_computed_once_then_taken_from_the_cache(stages: StageCache) -> None:
    calls: list[str] = []
    work = counted(calls, "split", lambda: ["one", "two"])
    assert stages.memo("split", "some text", work, list) == ["one", "two"]
    assert stages.memo("split", "some text", work, list) == ["one", "two"]
    assert calls == ["split"]


@pytest.mark.parametrize(
    ("stage", "given", "fingerprint"),
    [
        ("split", "other text", "code-1"),
        ("clean", "some text", "code-1"),
        ("split", "some text", "code-2"),
        ("split", "some text\u00a0", "code-1"),
    ],
    ids=["other-input", "other-stage", "other-code", "one-character-more"],
)
def test_another_input_stage_or_code_is_a_miss(
    tmp_path: Path, stage: str, given: str, fingerprint: str
) -> None:
    cache = ResponseCache(tmp_path)
    StageCache(cache, "code-1").memo("split", "some text", lambda: ["first"], list)
    again = StageCache(cache, fingerprint).memo(stage, given, lambda: ["second"], list)
    assert again == ["second"]


def test_a_stored_value_of_another_kind_is_computed_again(stages: StageCache) -> None:
    assert stages.cache is not None
    stages.cache.keep(stages.key("split", "some text"), {"not": "a list"})
    assert stages.memo("split", "some text", lambda: ["fresh"], list) == ["fresh"]


def test_without_a_cache_every_result_is_computed() -> None:
    calls: list[str] = []
    stages = StageCache(None, "")
    for _ in range(2):
        stages.memo("split", "text", counted(calls, "split", lambda: ["s"]), list)
    assert calls == ["split", "split"]


def test_the_fingerprint_follows_every_byte_and_file_of_the_code(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "rules.py").write_text("LIMIT = 1\n")
    first = code_fingerprint([package])
    assert code_fingerprint([package]) == first
    (package / "rules.py").write_text("LIMIT = 2\n")
    second = code_fingerprint([package])
    (package / "more.py").write_text("")
    assert len({first, second, code_fingerprint([package])}) == 3


def brief_seeds(cache: Path) -> Briefing:
    return brief([SEEDS], settings=Settings(model="fake", cache_dir=cache))


def same(briefing: Briefing) -> dict[str, Any]:
    return briefing.model_dump(exclude={"generated_at", "usage"})


@pytest.fixture
def stage_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stages that need no model, counted each time they run."""
    calls: list[str] = []
    split = service.ingest.split_sentences
    monkeypatch.setattr(service.pipeline, "split_sentences", counted(calls, "split", split))
    monkeypatch.setattr(service.pipeline, "clean", counted(calls, "clean", service.clean.clean))
    cleaner = counted(calls, "clean", service.clean.Cleaner)  # the clean-up one at a time
    monkeypatch.setattr(service.pipeline, "Cleaner", cleaner)
    monkeypatch.setattr(service.merge, "merge", counted(calls, "merge", service.merge.merge))
    return calls


def test_a_rerun_takes_splitting_clean_up_and_merging_from_the_cache(
    fake_model: FakeModel, tmp_path: Path, stage_calls: list[str]
) -> None:
    first = brief_seeds(tmp_path)
    ran = list(stage_calls)
    assert set(ran) == {"split", "clean", "merge"}
    again = brief_seeds(tmp_path)
    assert stage_calls == ran  # nothing ran again
    assert same(again) == same(first)
    assert (again.usage.calls, again.usage.cache_hits) == (0, first.usage.calls)


def test_a_change_to_the_code_redoes_every_stage(
    fake_model: FakeModel, tmp_path: Path, stage_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = brief_seeds(tmp_path)
    ran = list(stage_calls)
    monkeypatch.setattr(service.pipeline, "_fingerprint", lambda: "changed code")
    again = brief_seeds(tmp_path)
    assert stage_calls == ran + ran
    assert same(again) == same(first)


def test_without_the_cache_every_stage_runs_each_time(
    fake_model: FakeModel, tmp_path: Path, stage_calls: list[str]
) -> None:
    settings = Settings(model="fake", cache_dir=tmp_path, use_cache=False)
    brief([SEEDS], settings=settings)
    ran = list(stage_calls)
    brief([SEEDS], settings=settings)
    assert stage_calls == ran + ran
