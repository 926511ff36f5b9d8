"""An in-process model for tests: an ``Endpoint`` that answers from a script, with no HTTP.

By default every request gets a valid reply built from the request's *schema*, never from
its prompt wording: an extraction picks the first sentence ids the schema's enum allows, a
draft names the first claim ids it allows (its wording is the fake's own, so the composer's
checks reword it from the claims). A test scripts it with its own ``answer`` (a function of
the request), ``faults`` drawn per call (an exception to raise, or a content fault), and a
``latency`` per call; every request is recorded. The HTTP fault server
(:mod:`tests.fault_server`) stays for what only HTTP shows: timeouts, dropped connections,
status codes and ``Retry-After``.
"""

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import service.pipeline
from service.gateway import ModelRequest, Reply
from service.settings import Settings

CONTENT_FAULTS = ("malformed", "schema", "invented-ids", "truncated")
"""Faults a model's reply can have, whatever the transport."""


def _enum(schema: dict[str, Any], model: str, name: str) -> list[Any]:
    items = schema.get("$defs", {}).get(model, {}).get("properties", {}).get(name, {})
    return list(items.get("items", {}).get("enum", []))


def is_draft(schema: dict[str, Any]) -> bool:
    """True for the composer's schema (a draft), False for an extraction's."""
    return "DraftSentence" in schema.get("$defs", {})


def extraction_reply(schema: dict[str, Any]) -> dict[str, Any]:
    """A valid extraction: the first three sentence ids the schema allows, one claim each."""
    ids = _enum(schema, "ClaimPick", "evidence")[:3]
    claims = [{"evidence": [i], "kind": "fact"} for i in ids]
    return {"claims": claims, "summary": "A canned summary of the article's first sentences."}


def draft_reply(schema: dict[str, Any]) -> dict[str, Any]:
    """A valid draft naming the first four claim ids the schema allows, one per sentence."""
    ids = _enum(schema, "DraftSentence", "claims")[:4]
    sentences = [{"claims": [c], "text": f"The sources report what claim {c} says."} for c in ids]
    return {
        "title": "A canned briefing of the story",
        "lede": sentences[:1],
        "sections": [
            {"heading": "What the sources report", "sentences": sentences[1:] or sentences[:1]}
        ],
    }


def canned(schema: dict[str, Any]) -> dict[str, Any]:
    """A valid reply to a request with ``schema``."""
    return draft_reply(schema) if is_draft(schema) else extraction_reply(schema)


def faulty(fault: str, reply: dict[str, Any]) -> tuple[str, str]:
    """The content and finish reason of ``reply`` spoiled by a content ``fault``."""
    if fault == "malformed":
        return '{"claims": [{"text": "unterminated', "stop"
    if fault == "schema":
        return json.dumps({"answer": "not the schema at all"}), "stop"
    if fault == "truncated":
        return json.dumps(reply)[:40], "length"
    for claim in reply.get("claims", []):
        claim["evidence"] = [9999]
    for sentence in reply.get("lede", []):
        sentence["claims"] = ["c9999"]
    return json.dumps(reply), "stop"


def canned_answer(request: ModelRequest) -> str:
    """The default answer: a valid reply to ``request`` (see :func:`canned`)."""
    return json.dumps(canned(request.schema))


Fault = str | BaseException
"""A content fault's name, or an exception the transport raises."""


@dataclass
class FakeModel:
    """An ``Endpoint`` answering in-process: canned replies unless scripted otherwise."""

    answer: Callable[[ModelRequest], str] = canned_answer
    rate: float = 0.0
    """Share of calls that fail (0-1), with a fault drawn from ``faults``."""
    faults: tuple[Fault, ...] = CONTENT_FAULTS
    seed: int = 0
    latency: float = 0.0
    """Seconds each call takes."""
    identity: str = "fake"
    requests: list[ModelRequest] = field(default_factory=list)
    injected: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    async def send(self, request: ModelRequest, timeout: float) -> Reply:
        self.requests.append(request)
        await asyncio.sleep(self.latency)
        fault = self._draw()
        if isinstance(fault, BaseException):
            raise fault
        content, finish = self.answer(request), "stop"
        if fault is not None:
            content, finish = faulty(fault, json.loads(content))
        tokens = sum(len(m["content"]) for m in request.messages) // 4
        return Reply(content, finish, tokens, len(content) // 4, cached=False)

    async def close(self) -> None:
        return None

    def _draw(self) -> Fault | None:
        if self._random.random() >= self.rate:
            return None
        fault = self._random.choice(self.faults)
        self.injected.append(fault)
        return fault


def answer_with(monkeypatch: pytest.MonkeyPatch, *models: FakeModel) -> None:
    """Every model the pipeline opens is one of ``models``: the first answers for
    ``Settings.model``, the next ones for the fallbacks, in the order first asked for."""
    by_name: dict[str, FakeModel] = {}

    def endpoint(settings: Settings) -> FakeModel:
        if settings.model not in by_name:
            by_name[settings.model] = models[min(len(by_name), len(models) - 1)]
        return by_name[settings.model]

    monkeypatch.setattr(service.pipeline, "make_endpoint", endpoint)
