"""The whole pipeline against faulty models: every run ends in a valid briefing or an explicit
failure, no article is lost, calls are bounded, the budget holds.

Faults in a reply and the budget use the in-process fake model; what only HTTP shows (status
codes, Retry-After, hangs, dropped connections, fallbacks between servers) the fault server."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from schemas import Briefing
from service import BriefError, brief
from service._exceptions import TransportError
from service.gateway import Gateway, LiteLLMEndpoint, ModelRequest, retry_after
from service.settings import Settings
from tests.conftest import SEEDS
from tests.fake_model import CONTENT_FAULTS, FakeModel, answer_with
from tests.fault_server import FAULTS, Plan, fault_server

ARTICLES = 5
NOWHERE = "http://127.0.0.1:9/v1"  # the fake answers: no request leaves the process


def settings_for(url: str, tmp_path: Path, **extra: Any) -> Settings:
    base: dict[str, Any] = {
        "model": "hosted_vllm/fault",
        "api_base": url,
        "cache_dir": tmp_path,
        "use_cache": False,
        "timeout": 1.0,
        "retry_wait_max": 0.01,
        "transport_retries": 3,
        "reasks": 2,
    }
    return Settings(**{**base, **extra})


@pytest.fixture
def server() -> Iterator[tuple[str, Plan]]:
    plan = Plan(hang=2.0)
    with fault_server(plan) as url:
        yield url, plan


def max_calls(settings: Settings, models: int = 1) -> int:
    """The bound: every request (articles + compose) x its re-asks x its sends x models."""
    sends = (settings.transport_retries + 1) * models
    return (ARTICLES + 1) * (settings.reasks + 1) * sends


def assert_accounted(briefing: Briefing) -> None:
    """Every citation resolves and every seed article is a source or a reported failure."""
    articles = {a.id: a for a in briefing.articles}
    for sentence in briefing.all_sentences():
        assert sentence.citations
        for citation in sentence.citations:
            assert set(citation.sentence_ids) <= articles[citation.article_id].sentence_ids
    sourced = {Path(s.origin).name for s in briefing.sources}
    failed = {Path(s.subject).name for s in briefing.skipped if s.stage == "extract"}
    assert sourced | failed == {p.name for p in SEEDS.glob("*.txt")}
    assert not sourced & failed


def run(settings: Settings) -> Briefing | BriefError:
    try:
        return brief([SEEDS], settings=settings)
    except BriefError as error:
        return error


def test_no_faults_makes_one_call_per_article_and_one_to_compose(
    fake_model: FakeModel, tmp_path: Path
) -> None:
    briefing = run(settings_for(NOWHERE, tmp_path))
    assert isinstance(briefing, Briefing)
    assert_accounted(briefing)
    assert briefing.skipped == []
    assert len(fake_model.requests) == ARTICLES + 1


@contextmanager
def faulty_model(fault: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """A model that injects ``fault``: in-process for a reply fault, else over HTTP."""
    if fault in CONTENT_FAULTS:
        model = FakeModel()
        answer_with(monkeypatch, model)
        yield NOWHERE, model
        return
    plan = Plan(hang=2.0)
    with fault_server(plan) as url:
        yield url, plan


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_alone_ends_cleanly(
    fault: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with faulty_model(fault, monkeypatch) as (url, model):
        model.faults, model.rate = (fault,), 0.4
        settings = settings_for(url, tmp_path)
        outcome = run(settings)
    assert model.injected, "no fault was injected"
    assert len(model.requests) <= max_calls(settings)
    if isinstance(outcome, Briefing):
        assert_accounted(outcome)
    else:
        assert str(outcome).strip()
        assert "\n" not in str(outcome)


@pytest.mark.parametrize("seed", range(20))
def test_thirty_percent_mixed_faults(seed: int, server: tuple[str, Plan], tmp_path: Path) -> None:
    url, plan = server
    plan.rate, plan.seed = 0.3, seed
    plan.__post_init__()
    settings = settings_for(url, tmp_path, max_tokens_per_run=200_000)
    outcome = run(settings)
    assert len(plan.requests) <= max_calls(settings)
    if isinstance(outcome, Briefing):
        assert_accounted(outcome)
        assert outcome.usage.prompt_tokens + outcome.usage.completion_tokens <= 200_000
        assert outcome.usage.calls <= len(plan.requests)
    else:
        assert str(outcome).strip()


def test_reasks_never_grow_the_history(fake_model: FakeModel, tmp_path: Path) -> None:
    fake_model.faults, fake_model.rate = CONTENT_FAULTS, 0.5
    run(settings_for(NOWHERE, tmp_path))
    assert fake_model.injected
    assert max(len(r.messages) for r in fake_model.requests) == 4


def test_retry_after_is_read_from_the_provider(server: tuple[str, Plan], tmp_path: Path) -> None:
    url, plan = server
    plan.faults, plan.rate, plan.retry_after = ("429",), 1.0, "7"
    settings = settings_for(url, tmp_path, transport_retries=0)
    gateway = Gateway([LiteLLMEndpoint(settings.model, url)], settings, None)
    request = ModelRequest([{"role": "user", "content": "[1] A sentence."}], {}, "S", "v1", 20)
    with pytest.raises(TransportError) as raised:
        asyncio.run(gateway.complete(request))
    assert retry_after(raised.value.__cause__) == 7.0


def test_a_failing_model_falls_back_once_and_stays(tmp_path: Path) -> None:
    broken, healthy = Plan(rate=1.0, faults=("500",)), Plan()
    with fault_server(broken) as bad_url, fault_server(healthy) as good_url:
        settings = settings_for(
            bad_url, tmp_path, fallback_models=[f"hosted_vllm/backup@{good_url}"]
        )
        briefing = run(settings)
    assert isinstance(briefing, Briefing)
    assert_accounted(briefing)
    assert briefing.usage.fallbacks == 1
    assert briefing.skipped == []
    # only the calls already in flight when the first one gave up reached the broken model
    in_flight = settings.effective_concurrency()
    assert len(broken.requests) <= in_flight * (settings.transport_retries + 1)
    assert len(healthy.requests) == ARTICLES + 1


def test_the_token_budget_is_never_exceeded(fake_model: FakeModel, tmp_path: Path) -> None:
    budget = 6_000
    briefing = run(settings_for(NOWHERE, tmp_path, max_tokens_per_run=budget))
    assert isinstance(briefing, Briefing)
    assert_accounted(briefing)
    assert briefing.usage.prompt_tokens + briefing.usage.completion_tokens <= budget
    reasons = [s.reason for s in briefing.skipped]
    assert any(r.startswith("run budget reached") for r in reasons)


def test_calls_in_flight_count_against_the_budget(fake_model: FakeModel, tmp_path: Path) -> None:
    # Five extractions at once, each worst case under the cap but not all together: the
    # budget must hold back the calls it cannot afford before any of them has answered.
    fake_model.latency = 0.3
    settings = settings_for(NOWHERE, tmp_path, max_tokens_per_run=12_000, concurrency=5)
    outcome = run(settings)
    assert isinstance(outcome, Briefing | BriefError)
    if isinstance(outcome, Briefing):
        assert outcome.usage.prompt_tokens + outcome.usage.completion_tokens <= 12_000
        assert any(s.reason.startswith("run budget reached") for s in outcome.skipped)
    else:
        assert "run budget reached" in str(outcome)


def test_a_budget_too_small_for_anything_is_an_explicit_failure(
    fake_model: FakeModel, tmp_path: Path
) -> None:
    outcome = run(settings_for(NOWHERE, tmp_path, max_tokens_per_run=100))
    assert isinstance(outcome, BriefError)
    assert "run budget reached" in str(outcome)
    assert fake_model.requests == []


def test_cli_budget_and_fallback_options(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from service.cli import EXIT_PARTIAL, main

    broken, healthy = Plan(rate=1.0, faults=("503",)), Plan()
    with fault_server(broken) as bad_url, fault_server(healthy) as good_url:
        args = [
            str(SEEDS),
            "-m",
            "hosted_vllm/fault",
            "--api-base",
            bad_url,
            "--cache-dir",
            str(tmp_path),
        ]
        args += ["--fallback-model", f"hosted_vllm/backup@{good_url}", "--max-tokens", "6000"]
        result = CliRunner(env={"BRIEF_RETRY_WAIT_MAX": "0"}).invoke(main, args)
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "run budget reached" in result.stderr
    assert healthy.requests
