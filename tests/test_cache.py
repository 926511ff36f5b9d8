"""Cache keys change with everything that changes a reply, and nothing else."""

import asyncio
from pathlib import Path

import pytest

from service.cache import ResponseCache, cache_key
from service.gateway import Gateway, ModelRequest, Reply
from service.settings import Settings

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}}
PARAMS = {"max_tokens": 100, "temperature": 0.0}
BASE = ("model-a", MESSAGES, SCHEMA, "v1", PARAMS)


@pytest.mark.parametrize(
    "changed",
    [
        ("model-b", MESSAGES, SCHEMA, "v1", PARAMS),
        ("model-a", [*MESSAGES[:1], {"role": "user", "content": "Hello!"}], SCHEMA, "v1", PARAMS),
        ("model-a", MESSAGES, {"type": "object"}, "v1", PARAMS),
        ("model-a", MESSAGES, SCHEMA, "v2", PARAMS),
        ("model-a", MESSAGES, SCHEMA, "v1", {**PARAMS, "max_tokens": 200}),
        ("model-a", MESSAGES, SCHEMA, "v1", {**PARAMS, "temperature": 0.7}),
    ],
    ids=["model", "messages", "schema", "template-version", "max-tokens", "temperature"],
)
def test_key_changes_with_what_changes_the_answer(changed: tuple) -> None:  # type: ignore[type-arg]
    assert cache_key(*changed) != cache_key(*BASE)


def test_key_ignores_dict_order() -> None:
    reordered = {"temperature": 0.0, "max_tokens": 100}
    schema = {"properties": {"a": {"type": "string"}}, "type": "object"}
    assert cache_key("model-a", MESSAGES, schema, "v1", reordered) == cache_key(*BASE)


class _FailingEndpoint:
    """An endpoint that must never be reached: the cache must answer."""

    identity = "never"

    async def send(self, request: ModelRequest, timeout: float) -> Reply:
        raise AssertionError("a cached request reached the model")

    async def close(self) -> None:
        return None


def test_a_hit_costs_no_call_and_no_tokens(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    gateway = Gateway([_FailingEndpoint()], Settings(cache_dir=tmp_path), cache)
    request = ModelRequest(MESSAGES, SCHEMA, "S", "v1", max_tokens=100)
    stored = {"content": "{}", "finish_reason": "stop", "prompt_tokens": 9, "completion_tokens": 3}
    cache.put(gateway._key(request), stored)
    reply = asyncio.run(gateway.complete(request))
    assert reply.cached
    assert reply.content == "{}"
    assert gateway.meter.usage.cache_hits == 1
    assert (gateway.meter.usage.calls, gateway.meter.usage.prompt_tokens) == (0, 0)
