"""Several deployments of one model: the calls spread, limits hold, a failing server is left
out and its calls answered by the others, retries stay bounded, and the cache is shared."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service import brief
from service._exceptions import ConfigError, ModelError, TransportError
from service.cli import main
from service.deployments import Slot
from service.digest.config import load_config
from service.gateway import Gateway, ModelRequest
from service.pipeline import make_endpoint, make_gateway
from service.settings import Deployment, Settings
from tests.conftest import SEEDS
from tests.fault_server import Plan
from tests.fleet import fleet, refusing_url

CALLS = 24


def settings_for(servers: list[str], tmp_path: Path, **extra: Any) -> Settings:
    limit = extra.pop("max_in_flight", 2)
    base: dict[str, Any] = {
        "model": "hosted_vllm/fault",
        "deployments": [Deployment(api_base=url, max_in_flight=limit) for url in servers],
        "cache_dir": tmp_path,
        "use_cache": False,
        "retry_wait_max": 0.01,
        "transport_retries": 3,
        "deployment_cooldown": 60.0,
    }
    return Settings(**{**base, **extra})


def request(n: int) -> ModelRequest:
    return ModelRequest([{"role": "user", "content": f"[1] Sentence {n}."}], {}, "S", "v1", 20)


def send_all(gateway: Gateway, count: int = CALLS) -> list[Any]:
    async def every() -> list[Any]:
        sends = (gateway.complete(request(n)) for n in range(count))
        return await asyncio.gather(*sends, return_exceptions=True)

    return asyncio.run(every())


def answered(results: list[Any]) -> bool:
    return not [r for r in results if isinstance(r, BaseException)]


def test_the_calls_spread_over_every_server_within_its_limit(tmp_path: Path) -> None:
    plans = [Plan(latency=0.05) for _ in range(3)]
    with fleet(plans) as servers:
        settings = settings_for([s.url for s in servers], tmp_path, max_in_flight=2)
        results = send_all(make_gateway(settings))
    assert answered(results)
    assert sum(len(p.requests) for p in plans) == CALLS
    assert all(p.requests for p in plans)
    assert max(s.peak for s in servers) <= 2


def test_more_calls_than_slots_wait_for_one(tmp_path: Path) -> None:
    plans = [Plan(latency=0.05) for _ in range(2)]
    with fleet(plans) as servers:
        urls = [s.url for s in servers]
        settings = settings_for(urls, tmp_path, max_in_flight=1, concurrency=8)
        results = send_all(make_gateway(settings))
    assert answered(results)
    assert [s.peak for s in servers] == [1, 1]


@pytest.mark.parametrize("failure", ["500", "503", "429", "refused"])
def test_a_failing_server_is_left_out_and_no_call_is_lost(failure: str, tmp_path: Path) -> None:
    plans = [Plan(latency=0.05) for _ in range(3)]
    if failure != "refused":
        plans[0].rate, plans[0].faults = 1.0, (failure,)
    with fleet(plans) as servers:
        urls = [refusing_url() if failure == "refused" else servers[0].url]
        urls += [s.url for s in servers[1:]]
        gateway = make_gateway(settings_for(urls, tmp_path, max_in_flight=2))
        results = send_all(gateway)
    assert answered(results)
    assert len(plans[0].requests) <= 2  # the calls it held when it first failed; then none
    assert sum(len(p.requests) for p in plans[1:]) == CALLS


def test_when_every_server_fails_a_call_is_sent_at_most_retries_plus_one_times(
    tmp_path: Path,
) -> None:
    plans = [Plan(rate=1.0, faults=("500",)) for _ in range(3)]
    with fleet(plans) as servers:
        settings = settings_for([s.url for s in servers], tmp_path, transport_retries=2)
        (outcome,) = send_all(make_gateway(settings), count=1)
    assert isinstance(outcome, TransportError)
    assert sum(len(p.requests) for p in plans) == 3


def test_when_every_deployment_fails_the_fallback_model_answers_on_its_own_server(
    tmp_path: Path,
) -> None:
    plans, backup = [Plan(rate=1.0, faults=("503",)) for _ in range(2)], Plan()
    with fleet(plans) as servers, fleet([backup]) as (spare,):
        fallback = [f"hosted_vllm/backup@{spare.url}"]
        settings = settings_for([s.url for s in servers], tmp_path, fallback_models=fallback)
        results = send_all(make_gateway(settings), count=4)
    assert answered(results)
    assert {r["body"]["model"] for r in backup.requests} == {"backup"}


def test_a_reply_from_one_server_is_reused_whichever_serves_next(tmp_path: Path) -> None:
    first, second = [Plan(), Plan()], [Plan()]
    with fleet(first) as servers:
        cached = settings_for([s.url for s in servers], tmp_path, use_cache=True)
        before = brief([SEEDS], settings=cached)
    with fleet(second) as servers:
        after = brief([SEEDS], settings=settings_for([servers[0].url], tmp_path, use_cache=True))
    assert before.usage.calls == sum(len(p.requests) for p in first) > 0
    assert (after.usage.calls, after.usage.cache_hits) == (0, before.usage.calls)
    assert second[0].requests == []
    assert [s.text for s in after.all_sentences()] == [s.text for s in before.all_sentences()]


def test_the_cache_names_the_model_not_a_server(tmp_path: Path) -> None:
    one = settings_for(["http://127.0.0.1:1/v1"], tmp_path)
    two = settings_for(["http://127.0.0.1:2/v1", "http://127.0.0.1:3/v1"], tmp_path)
    other = settings_for(["http://127.0.0.1:2/v1"], tmp_path, model="hosted_vllm/other")
    assert make_endpoint(one).identity == make_endpoint(two).identity
    assert make_endpoint(one).identity != make_endpoint(other).identity


def test_the_default_concurrency_fills_every_deployment(tmp_path: Path) -> None:
    four = settings_for([f"http://127.0.0.1:{p}/v1" for p in range(1, 5)], tmp_path)
    unlimited = four.model_copy(update={"deployments": [Deployment(api_base="http://a/v1")]})
    assert four.effective_concurrency() == 8
    assert unlimited.effective_concurrency() == 16


def test_a_per_minute_limit_frees_a_slot_when_its_oldest_call_is_a_minute_old() -> None:
    slot = Slot({"litellm_params": {}, "model_name": "m"}, limit=None, rpm=2)
    slot.started.extend([100.0, 130.0])
    assert not slot.free(159.0)
    assert slot.free(160.0)


def test_a_missing_key_variable_is_named_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSBRIEF_TEST_KEY", raising=False)
    keyed = Deployment(api_base="http://127.0.0.1:1/v1", api_key_env="NEWSBRIEF_TEST_KEY")
    settings = settings_for([], tmp_path).model_copy(update={"deployments": [keyed]})
    with pytest.raises(ModelError, match="NEWSBRIEF_TEST_KEY is not set"):
        make_endpoint(settings)


def test_repeated_api_base_options_share_the_calls(tmp_path: Path) -> None:
    plans = [Plan(), Plan()]
    with fleet(plans) as servers:
        args = ["-m", "hosted_vllm/fault", "--no-cache", "--cache-dir", str(tmp_path)]
        args += [f"--api-base={s.url}" for s in servers]
        result = CliRunner().invoke(main, ["brief", *args, str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert all(p.requests for p in plans)


def test_a_deployments_file_is_read_and_a_bad_one_named(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    plans = [Plan(), Plan()]
    with fleet(plans) as servers:
        good.write_text("".join(f'[[deployment]]\napi_base = "{s.url}"\n' for s in servers))
        bad.write_text('[[deployment]]\napi_base = "http://a/v1"\nmax_in_flight = 0\n')
        runner = CliRunner()
        common = ["brief", "-m", "hosted_vllm/fault", "--no-cache", "--cache-dir", str(tmp_path)]
        ok = runner.invoke(main, [*common, "--deployments", str(good), str(SEEDS)])
        refused = runner.invoke(main, [*common, "--deployments", str(bad), str(SEEDS)])
    assert ok.exit_code == 0, ok.output
    assert all(p.requests for p in plans)
    assert refused.exit_code == 2
    assert "bad.toml" in refused.output
    assert "max_in_flight" in refused.output


def write_digest(tmp_path: Path, deployments: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f'[[digest]]\nname = "d"\nsources = ["news"]\nrecipients = ["a@example.org"]\n'
        f'model = "hosted_vllm/fault"\ndeployments = {deployments}\n'
    )
    return path


def test_a_digest_names_its_deployments_as_urls_or_tables(tmp_path: Path) -> None:
    listed = '["http://a/v1", { api_base = "http://b/v1", max_in_flight = 8, rpm = 600 }]'
    (digest,) = load_config(write_digest(tmp_path, listed)).digest
    assert digest.deployments == [
        Deployment(api_base="http://a/v1"),
        Deployment(api_base="http://b/v1", max_in_flight=8, rpm=600),
    ]


def test_a_digest_deployment_refuses_a_key_written_in_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write_digest(tmp_path, '[{ api_base = "http://a/v1", api_key = "sk-1" }]'))
    assert "sk-1" not in str(raised.value)
