"""The transport layer against a scripted OpenAI-compatible server on 127.0.0.1.

The server is a few lines of http.server that answer from a script: this tests retry
behaviour (what is retried, how often), not a model, so no cassette is involved.
"""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service._exceptions import TransportError
from service.gateway import Gateway, LiteLLMEndpoint, ModelRequest, _litellm
from service.settings import Settings
from tests.fake_model import FakeModel
from tests.helpers import QuietHandler, serve

OK = {
    "id": "x",
    "object": "chat.completion",
    "created": 0,
    "model": "scripted",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
}


class Script:
    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.seen: list[dict[str, Any]] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server names it
            length = int(self.headers["Content-Length"])
            script.seen.append(
                {"body": json.loads(self.rfile.read(length)), "headers": dict(self.headers)}
            )
            status = script.statuses.pop(0) if script.statuses else 200
            error = {"error": {"message": f"status {status}"}}
            self.reply(
                status, "application/json", json.dumps(OK if status == 200 else error).encode()
            )

    with serve(Handler) as base:
        yield f"{base}/v1", script


REQUEST = ModelRequest([{"role": "user", "content": "hi"}], {"type": "object"}, "S", "v1", 50)


def _gateway(url: str, tmp_path: Path, retries: int = 3) -> Gateway:
    settings = Settings(
        model="hosted_vllm/scripted",
        api_base=url,
        cache_dir=tmp_path,
        transport_retries=retries,
        retry_wait_max=0.05,
    )
    return Gateway([LiteLLMEndpoint(settings.model, url)], settings, None)


def test_server_errors_are_retried_then_succeed(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.statuses = [500, 503]
    gateway = _gateway(url, tmp_path)
    reply = asyncio.run(gateway.complete(REQUEST))
    assert reply.content == "{}"
    assert len(script.seen) == 3
    assert gateway.meter.usage.calls == 1
    assert gateway.meter.usage.prompt_tokens == 7


def test_retries_are_bounded_with_no_hidden_sdk_retries(
    server: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = server
    script.statuses = [500] * 10
    with pytest.raises(TransportError):
        asyncio.run(_gateway(url, tmp_path, retries=2).complete(REQUEST))
    assert len(script.seen) == 3


def test_auth_and_bad_request_errors_are_not_retried(
    server: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = server
    script.statuses = [401, 400]
    gateway = _gateway(url, tmp_path)
    with pytest.raises(TransportError, match="Authentication"):
        asyncio.run(gateway.complete(REQUEST))
    with pytest.raises(TransportError, match="BadRequest"):
        asyncio.run(gateway.complete(REQUEST))
    assert len(script.seen) == 2


def test_the_request_carries_the_schema_and_parameters(
    server: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = server
    asyncio.run(_gateway(url, tmp_path).complete(REQUEST))
    body = script.seen[0]["body"]
    assert body["response_format"]["json_schema"]["schema"] == {"type": "object"}
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 50


def test_transient_errors_are_told_apart_by_type_not_by_name(tmp_path: Path) -> None:
    litellm = _litellm()  # offline, as the gateway imports it

    class RateLimitError(Exception):
        """Named like litellm's, but not one: not retried."""

    # a subclass of litellm's: retried like it
    throttled_type = type("Throttled", (litellm.RateLimitError,), {})

    settings = Settings(cache_dir=tmp_path, transport_retries=2, retry_wait_max=0.0)
    throttled = throttled_type("slow down", llm_provider="fake", model="fake")
    for error, sends in ((throttled, 3), (RateLimitError("slow down"), 1)):
        model = FakeModel(rate=1.0, faults=(error,))
        with pytest.raises(TransportError):
            asyncio.run(Gateway([model], settings, None).complete(REQUEST))
        assert len(model.requests) == sends, type(error).__name__


class _PriceList:
    """Stands in for litellm's pricing: counts how often a cost is worked out."""

    def __init__(self) -> None:
        self.asked = 0

    def completion_cost(self, completion_response: object) -> float:
        self.asked += 1
        return 0.25


class _Response:
    def __init__(self, hidden: dict[str, object]) -> None:
        self._hidden_params = hidden


@pytest.mark.parametrize(
    ("hidden", "cost", "asked"),
    [
        ({"response_cost": 0.002}, 0.002, 0),  # litellm's own figure, not worked out twice
        ({"response_cost": None}, None, 0),  # litellm knows no price for the model
        ({}, 0.25, 1),  # litellm did not say: worked out here
    ],
)
def test_a_replys_cost_is_worked_out_once(
    hidden: dict[str, object], cost: float | None, asked: int
) -> None:
    from types import ModuleType

    from service.gateway import _cost

    prices = _PriceList()
    module = ModuleType("litellm")
    module.completion_cost = prices.completion_cost  # type: ignore[attr-defined]
    assert _cost(module, _Response(hidden)) == cost
    assert prices.asked == asked
