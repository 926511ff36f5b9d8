"""Several deployments of one model sharing its calls: litellm's Router, steered by a picker.

A model may name several *deployments* (``Settings.deployments``): servers (llama.cpp, vLLM)
or provider keys that serve the same model. Every call goes through one ``litellm.Router``
holding them (each deployment's model string, base URL, key and HTTP client), and the Router
asks :class:`Picker`, set as its routing strategy, which deployment takes each call:

- **least busy**: the deployment with the fewest calls in flight for its limit;
- **limits**: at most ``max_in_flight`` calls at once and ``rpm`` calls in any 60 s per
  deployment; a call that finds every deployment full waits for a slot, never refused;
- **cooldown**: a deployment whose call failed (5xx, 429, a timeout, a refused or dropped
  connection, a rejected key) is left out for ``Settings.deployment_cooldown`` seconds, then
  given one call at a time until one succeeds. When every deployment is cooling down, calls
  go to them anyway: a run never stalls, and the gateway's back-off paces the retries.

Why the Router's own least-busy, ``max_parallel_requests`` and cooldown are not used
(litellm 1.106.2; ``bench/router.py`` shows the effect): its in-flight count is raised only
when the HTTP call starts, after the pick, so calls started together pick the same
deployment; a full deployment answers with a 429 instead of waiting, and the Router then
cools that healthy deployment down; and it never cools down a deployment that refuses
connections. The picker counts a call in flight in the same step that picks it.

**Retries stay one layer.** The Router's retries are off (``num_retries=0``, passed by the
gateway on every call), so the gateway's transport retry is the only one: it re-sends a
failed call, and the picker gives that retry to another deployment, the failed one cooling
down. A call is sent at most ``transport_retries + 1`` times however many deployments there
are; then the gateway's fallback models take over, and the re-asks above are unchanged.

**The cache key names the model** (:attr:`RoutedEndpoint.identity`), never a deployment, so a
reply from any of them is reused by all, and adding or removing a server keeps the cache.
"""

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from service._exceptions import ModelError
from service.gateway import ViaLiteLLM, _litellm
from service.settings import Deployment

GROUP = "newsbrief"
"""The Router's name for the model every deployment serves."""
WINDOW = 60.0
"""Seconds over which ``rpm`` is counted."""
_NOT_THE_DEPLOYMENTS_FAULT = {"BadRequestError", "ContextWindowExceededError"}
_NOT_THE_DEPLOYMENTS_FAULT |= {"ContentPolicyViolationError", "UnsupportedParamsError"}
"""Errors about the request itself: every deployment would answer the same, so none cools."""


@dataclass
class Slot:
    """One deployment as the picker sees it: its limits, its calls, its health."""

    entry: dict[str, Any]
    """The Router's deployment (what the Router sends with)."""
    limit: int | None
    rpm: int | None
    in_flight: int = 0
    started: deque[float] = field(default_factory=deque)
    failures: int = 0
    cool_until: float = 0.0

    @property
    def name(self) -> str:
        return str(self.entry["litellm_params"].get("api_base") or self.entry["model_name"])

    def free(self, now: float) -> bool:
        """Whether one more call may go to it now."""
        limit = 1 if self.failures else self.limit  # after a failure, one call probes it
        if limit is not None and self.in_flight >= limit:
            return False
        while self.started and self.started[0] <= now - WINDOW:
            self.started.popleft()
        return self.rpm is None or len(self.started) < self.rpm

    def load(self) -> float:
        return self.in_flight / (self.limit or 1)


@dataclass
class Claim:
    """The slot one call holds, so that the call's end releases exactly that one."""

    slot: Slot | None = None


_CLAIM: ContextVar[Claim | None] = ContextVar("newsbrief_deployment_claim", default=None)


class Picker:
    """The Router's routing strategy: least busy, within limits, skipping failed deployments."""

    def __init__(
        self, entries: Sequence[dict[str, Any]], settings: Sequence[Deployment], cooldown: float
    ) -> None:
        pairs = zip(entries, settings, strict=True)
        self.slots = [Slot(entry, d.max_in_flight, d.rpm) for entry, d in pairs]
        self.cooldown = cooldown
        self._changed = asyncio.Event()

    async def async_get_available_deployment(
        self,
        model: str,
        messages: list[dict[str, str]] | None = None,
        input: str | list[str] | None = None,
        specific_deployment: bool | None = False,
        request_kwargs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The deployment for the Router's next send (its interface; only ``model`` is read)."""
        claim = _CLAIM.get()
        if claim is not None and claim.slot is not None:
            self.release(claim, ok=False)  # the Router re-picks only after a failed send
        slot = await self.take()
        if claim is not None:
            claim.slot = slot
        else:
            self._free(slot)  # a call we do not track (none today): count nothing
        return slot.entry

    def get_available_deployment(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The synchronous interface: the least busy deployment, not counted (unused)."""
        return min(self.slots, key=Slot.load).entry

    async def take(self) -> Slot:
        """The least busy usable deployment, counted in flight; waits while every one is full."""
        while True:
            now = time.monotonic()
            chosen = self._choose(now)
            if chosen is not None:
                chosen.in_flight += 1
                chosen.started.append(now)
                return chosen
            changed = self._changed  # set by the next release: no await between check and wait
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=self._next_change(now))

    def _choose(self, now: float) -> Slot | None:
        warm = [s for s in self.slots if s.cool_until <= now] or self.slots
        ready = [s for s in warm if s.free(now)]
        return min(ready, key=Slot.load) if ready else None

    def _next_change(self, now: float) -> float:
        # besides a call ending: the oldest call leaving a full rpm window, or a cooldown ending
        moments = [s.started[0] + WINDOW for s in self.slots if s.rpm and s.started]
        moments += [s.cool_until for s in self.slots if s.cool_until > now]
        return max(min(moments, default=now + 1.0) - now, 0.01)

    def release(self, claim: Claim, ok: bool) -> None:
        """The claimed call ended: free its slot, and cool the deployment down if it failed."""
        slot, claim.slot = claim.slot, None
        if slot is None:
            return
        if ok:
            slot.failures, slot.cool_until = 0, 0.0
        else:
            slot.failures += 1
            slot.cool_until = time.monotonic() + self.cooldown
        self._free(slot)

    def _free(self, slot: Slot) -> None:
        slot.in_flight -= 1
        self._changed.set()
        self._changed = asyncio.Event()


def _key(deployment: Deployment, index: int) -> str | None:
    if deployment.api_key_env is None:
        return None
    key = os.environ.get(deployment.api_key_env)
    if not key:
        where = deployment.api_base or deployment.model or f"deployment {index + 1}"
        raise ModelError(f"{where}: its key variable {deployment.api_key_env} is not set")
    return key


def router_entries(model: str, deployments: Sequence[Deployment]) -> list[dict[str, Any]]:
    """The Router's ``model_list``: one entry per deployment, ``model`` where it names none."""
    entries = []
    for index, deployment in enumerate(deployments):
        params = {"model": deployment.model or model, "api_base": deployment.api_base}
        params["api_key"] = _key(deployment, index)
        clean = {k: v for k, v in params.items() if v is not None}
        info = {"id": str(index)}
        entries.append({"model_name": GROUP, "litellm_params": clean, "model_info": info})
    return entries


class RoutedEndpoint(ViaLiteLLM):
    """The gateway endpoint for a model served by several deployments, through the Router.

    ``identity`` is the model's (the cache key's part), the same whichever deployment
    answers; ``json_object_schema`` says how the servers take a schema, as for one server.
    """

    def __init__(
        self,
        model: str,
        deployments: Sequence[Deployment],
        identity: str,
        cooldown: float,
        json_object_schema: bool = False,
    ) -> None:
        self.model = model
        self.deployments = list(deployments)
        self.entries = router_entries(model, deployments)  # a missing key fails at the start
        self._identity = identity
        self._json_object_schema = json_object_schema
        self.cooldown = cooldown
        self.picker: Picker | None = None
        self._router: Any = None

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def json_object_schema(self) -> bool:
        return self._json_object_schema

    async def connect(self) -> tuple[str, str | None]:
        return GROUP, None

    async def close(self) -> None:
        self._router = None

    def router(self) -> Any:
        """The Router, built on the first call (importing litellm only then)."""
        if self._router is None:
            router = _litellm().Router(model_list=self.entries, num_retries=0)
            picker = Picker(router.model_list, self.deployments, self.cooldown)
            router.set_custom_routing_strategy(picker)
            self._router, self.picker = router, picker
        return self._router

    async def acompletion(self, **kwargs: Any) -> Any:
        """Send one call through the Router (the gateway's ``litellm.acompletion`` for us)."""
        kwargs.pop("api_base", None)  # each deployment has its own
        router, claim = self.router(), Claim()
        token = _CLAIM.set(claim)
        ok = False
        try:
            response = await router.acompletion(**{**kwargs, "model": GROUP})
            ok = True
            return response
        except Exception as error:
            ok = type(error).__name__ in _NOT_THE_DEPLOYMENTS_FAULT
            raise
        finally:
            _CLAIM.reset(token)
            if self.picker is not None:
                self.picker.release(claim, ok)
