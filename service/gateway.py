"""The model gateway: the one seam between newsbrief and any model; only it imports litellm.

Layers, each bounded and in one place:

1. cache: a call whose key is in the reply cache returns at once, costs no tokens, and
   never imports litellm (importing it takes seconds);
2. budget (:mod:`service.budget`): a call that could take the run past its token cap is
   never made; the cost cap stops new calls once reached;
3. transport retry (here): rate limits, timeouts, dropped connections and 5xx are retried
   ``Settings.transport_retries`` times, waiting what ``Retry-After`` asks (capped at
   ``Settings.retry_wait_max``) or a jittered exponential back-off; litellm's and the
   provider SDK's own retries are switched off (``num_retries=0``) so that only this layer
   retries. Errors are told apart by litellm's exception types; authentication and
   bad-request errors are never retried. A model with several deployments
   (:mod:`service.deployments`) sends each retry to another one: the same retry, as their
   Router's own retries are off too;
4. fallback (here): when a model's transport retries are spent or it refuses the request,
   the next of ``Settings.fallback_models`` takes over for the rest of the run; at most
   ``(transport_retries + 1) x (1 + len(fallback_models))`` sends per request;
5. re-ask on an invalid reply lives in :mod:`service.structured`, above this one, with its
   own bound that a fallback does not reset.

litellm is told to use its bundled price map, so it never reaches the network at import.
"""

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from schemas import StageUsage, Usage
from service._exceptions import BriefError, ModelError, TransportError
from service.budget import Budget
from service.cache import ResponseCache, cache_key
from service.settings import Settings

Message = dict[str, str]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRequest:
    """One structured-output call."""

    messages: list[Message]
    schema: dict[str, Any]
    schema_name: str
    template_version: str
    max_tokens: int
    temperature: float = 0.0
    attempt: int = 0
    """Which re-ask this is: part of the cache key, so a re-ask never replays an earlier one."""


@dataclass(frozen=True)
class Reply:
    """A model's answer to one request."""

    content: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    cost: float | None = None
    """What the call cost, where the provider's price is known."""


class Endpoint(Protocol):
    """Where calls go: a hosted model, a server, the embedded model, or anything that answers.

    Only the gateway calls it, once per attempt; retries, fallbacks, the cache and the
    budget are the gateway's, so an endpoint just sends one request and reports what failed.
    """

    @property
    def identity(self) -> str:
        """What the cache key names: changes whenever the answers could."""

    async def send(self, request: ModelRequest, timeout: float) -> Reply:
        """The model's reply to one request (not cached); raises what the transport raised."""

    async def close(self) -> None:
        """Release what sending started (an embedded model server)."""


class ViaLiteLLM:
    """An endpoint that sends through litellm to the model and api_base ``connect`` gives."""

    @property
    def json_object_schema(self) -> bool:
        """True where the server takes ``{"type": "json_object", "schema": ...}``."""
        return False

    async def connect(self) -> tuple[str, str | None]:
        """Make the model ready; return the litellm model string and api_base."""
        raise NotImplementedError

    async def acompletion(self, **call: Any) -> Any:
        """Send one call: litellm's ``acompletion`` (several deployments: their Router's)."""
        return await _litellm().acompletion(**call)

    async def send(self, request: ModelRequest, timeout: float) -> Reply:
        # connect may start a model server (in a thread): the first call imports litellm
        # (seconds) meanwhile, in this thread, as every other import
        connecting = asyncio.ensure_future(self.connect())
        await asyncio.sleep(0)  # let the server's start begin; one that cannot has failed here
        if connecting.done():
            connecting.result()  # raises the failure before anything is imported for nothing
        litellm = _litellm()
        model, api_base = await connecting
        response = await self.acompletion(
            model=model,
            api_base=api_base,
            messages=request.messages,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            response_format=_response_format(self.json_object_schema, request),
            num_retries=0,
            timeout=timeout,
        )
        return _reply(response, _cost(litellm, response))


@dataclass
class LiteLLMEndpoint(ViaLiteLLM):
    """Any litellm model string, with an optional api_base."""

    model: str
    api_base: str | None = None

    @property
    def identity(self) -> str:
        return f"{self.model}@{self.api_base or ''}"

    async def connect(self) -> tuple[str, str | None]:
        return self.model, self.api_base

    async def close(self) -> None:
        return None


@dataclass
class UsageMeter:
    """Adds up calls, cache hits, tokens and cost of a run."""

    usage: Usage = field(default_factory=Usage)

    def _stage(self, name: str) -> StageUsage:
        return self.usage.stages.setdefault(name, StageUsage())

    def hit(self, stage: str) -> None:
        self.usage.cache_hits += 1
        self._stage(stage).cache_hits += 1

    def call(self, stage: str, reply: Reply, seconds: float) -> None:
        for counter in (self.usage, self._stage(stage)):
            counter.calls += 1
            counter.prompt_tokens += reply.prompt_tokens
            counter.completion_tokens += reply.completion_tokens
        self._stage(stage).seconds += seconds
        if reply.cost is not None:
            self.usage.cost_usd = (self.usage.cost_usd or 0.0) + reply.cost


def _litellm() -> ModuleType:
    """Import litellm on first use, offline (bundled price map, no telemetry)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("DISABLE_AIOHTTP_TRANSPORT", "True")
    first = "litellm" not in sys.modules
    # litellm logs to stdout while it is imported, before its handlers can be dropped
    with contextlib.redirect_stdout(sys.stderr):
        litellm = importlib.import_module("litellm")
    if first:
        # its import leaves a large heap that lives as long as the process: frozen, a full
        # garbage collection no longer walks it (0.2 s, in the middle of a burst of calls)
        gc.freeze()
    # Module attributes are litellm's documented switches; setattr keeps mypy honest.
    setattr(litellm, "telemetry", False)  # noqa: B010
    setattr(litellm, "suppress_debug_info", True)  # noqa: B010
    _logs_to_stderr()
    return litellm


def _logs_to_stderr() -> None:
    """Drop litellm's own log handlers, which write debug and info records to stdout.

    Its records then go where ours do (the root logger: stderr under ``-v``), so stdout holds
    only the briefing and ``-f json`` stays valid JSON.
    """
    for name in list(logging.root.manager.loggerDict):
        if name.lower().startswith("litellm"):
            named = logging.getLogger(name)
            for handler in list(named.handlers):
                named.removeHandler(handler)
            named.propagate = True


_TRANSIENT = (
    "RateLimitError",
    "Timeout",
    "APIConnectionError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
)
"""litellm's exception types worth another try: the provider may answer the same request."""


def retry_after(error: BaseException | None) -> float | None:
    """Seconds the provider asked us to wait (``Retry-After``), if it said."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or getattr(error, "litellm_response_headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off


def _wait(cap: float) -> Callable[[RetryCallState], float]:
    """Honour ``Retry-After`` (capped); otherwise jittered exponential back-off."""
    backoff = wait_random_exponential(multiplier=0.5, max=cap)

    def wait(state: RetryCallState) -> float:
        asked = retry_after(state.outcome.exception() if state.outcome else None)
        return min(asked, cap) if asked is not None else backoff(state)

    return wait


def _is_transient(error: BaseException) -> bool:
    # By type (a subclass counts), looked up on the module so that importing the gateway
    # never imports litellm: only a litellm call raises them, and it imported litellm first.
    litellm = sys.modules.get("litellm")
    if litellm is None:
        return False
    return isinstance(error, tuple(getattr(litellm, name) for name in _TRANSIENT))


class Gateway:
    """Sends requests through the cache, the budget, the transport retry and the fallbacks.

    ``endpoints`` are tried in order: when one keeps failing (its transport retries are
    spent, or it refuses the request, e.g. structured output), the gateway moves to the
    next and stays there for the rest of the run. The re-ask budget above and the run's
    token budget are not reset by a fallback.
    """

    def __init__(
        self, endpoints: list[Endpoint], settings: Settings, cache: ResponseCache | None
    ) -> None:
        self.endpoints = endpoints
        self.settings = settings
        self.cache = cache
        self.meter = UsageMeter()
        self.budget = Budget(settings.max_tokens_per_run, settings.max_cost_per_run)
        self._active = 0
        self._limit = asyncio.Semaphore(settings.effective_concurrency())
        self._starting = asyncio.Lock()
        self._reserved = 0

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint calls go to now."""
        return self.endpoints[self._active]

    def _key(self, request: ModelRequest) -> str:
        params = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "attempt": request.attempt,
        }
        return cache_key(
            self.endpoint.identity,
            request.messages,
            request.schema,
            request.template_version,
            params,
        )

    async def complete(self, request: ModelRequest) -> Reply:
        """The reply to ``request``, from the cache or a model."""
        while True:
            key = self._key(request)
            stored = self.cache.get(key) if self.cache else None
            if stored is not None:
                self.meter.hit(request.schema_name)
                return Reply(**{**stored, "cached": True})
            tried = self._active
            try:
                reply, seconds = await self._limited_call(self.endpoints[tried], request)
            except TransportError as error:
                self._fall_back(tried, error)
                continue
            self.meter.call(request.schema_name, reply, seconds)
            if self.cache is not None and reply.finish_reason != "length":
                self.cache.put(key, _stored(reply))
            return reply

    def _fall_back(self, tried: int, error: TransportError) -> None:
        if tried < self._active:
            return  # a concurrent call already moved on: just go to the current one
        if tried + 1 >= len(self.endpoints):
            raise error
        failed = self.endpoint.identity
        self._active = tried + 1
        self.meter.usage.fallbacks += 1
        logger.warning(
            "model %s failed (%s); falling back to %s", failed, error, self.endpoint.identity
        )

    async def close(self) -> None:
        """Release every endpoint (stops an embedded model server)."""
        for endpoint in self.endpoints:
            await endpoint.close()

    async def _limited_call(self, endpoint: Endpoint, request: ModelRequest) -> tuple[Reply, float]:
        # At most ``concurrency`` calls at once for the whole run (every article and story
        # share it); the budget is checked once a slot is free, counting calls in flight.
        async with self._limit:
            worst = self.budget.check(self.meter.usage, request, self._reserved)
            self._reserved += worst
            started = time.monotonic()
            try:
                reply = await self._started(endpoint, request)
            finally:
                self._reserved -= worst
            return reply, time.monotonic() - started

    async def _started(self, endpoint: Endpoint, request: ModelRequest) -> Reply:
        """The call, begun once the calls before it have begun: each runs the synchronous
        start of its request (litellm builds it) in a turn of the event loop of its own, so
        the first requests of a burst leave at once, not after every other one is built."""
        await self._starting.acquire()
        # released in the next turn, once this call has run up to its first wait
        asyncio.get_running_loop().call_soon(self._starting.release)
        return await self._call_with_retry(endpoint, request)

    async def _call_with_retry(self, endpoint: Endpoint, request: ModelRequest) -> Reply:
        # One endpoint for all attempts: a fallback made meanwhile by a concurrent call
        # takes effect at this request's next turn of the loop in ``complete``.
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.transport_retries + 1),
            wait=_wait(self.settings.retry_wait_max),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await endpoint.send(request, self.settings.timeout)
        except BriefError:
            raise  # our own errors (a local model that cannot start) pass through as they are
        except Exception as error:
            raise _model_error(error) from error
        raise AssertionError("unreachable: tenacity either returns or raises")


def _response_format(json_object_schema: bool, request: ModelRequest) -> dict[str, Any]:
    if json_object_schema:
        return {"type": "json_object", "schema": request.schema}
    schema = {"name": request.schema_name, "schema": request.schema, "strict": False}
    return {"type": "json_schema", "json_schema": schema}


def _reply(response: Any, cost: float | None) -> Reply:
    choice = response.choices[0]
    usage = getattr(response, "usage", None)
    return Reply(
        content=choice.message.content or "",
        finish_reason=choice.finish_reason,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached=False,
        cost=cost,
    )


def _cost(litellm: ModuleType, response: Any) -> float | None:
    hidden = getattr(response, "_hidden_params", None) or {}
    if "response_cost" in hidden:  # litellm worked it out already (None: no known price)
        known = hidden["response_cost"]
        return float(known) if isinstance(known, int | float) else None
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:  # an unknown price is normal for local models
        return None


def _stored(reply: Reply) -> dict[str, Any]:
    return {
        "content": reply.content,
        "finish_reason": reply.finish_reason,
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
    }


def _model_error(error: Exception) -> ModelError:
    first_line = (str(error).strip().splitlines() or [""])[0][:300]
    return TransportError(f"{type(error).__name__}: {first_line}")
