"""The re-ask layer: a reply that fails validation is asked again, a bounded number of times.

A re-ask sends the original messages plus only the last invalid reply (its first
:data:`ECHO_LIMIT` characters) and its error, so the prompt does not grow with each attempt
or with the size of a bad reply. A reply cut short by the token limit
(``finish_reason == "length"``), one over :data:`MAX_REPLY_CHARS`, and one nested too deep to
parse are treated as invalid rather than parsed: never a traceback.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from service._exceptions import ReplyInvalidError
from service.gateway import Gateway, ModelRequest, Reply

T = TypeVar("T")

REASK_TEMPERATURE = 0.4
"""Sampling temperature of a re-ask (a first ask uses the request's own, 0 by default)."""
MAX_REPLY_CHARS = 100_000
"""A longer reply is invalid without parsing: every reply schema is far smaller."""
ECHO_LIMIT = 2_000
"""Characters of an invalid reply sent back to the model in a re-ask."""


@dataclass
class InvalidReplyError(Exception):
    """One reply that failed validation."""

    content: str
    error: str


def load_json(content: str) -> Any:
    """Parse a reply's JSON, tolerating raw control characters inside strings.

    Small models (and llama.cpp's grammar) sometimes put a literal newline inside a string;
    the meaning is clear, so that alone is not worth a re-ask.
    """
    if len(content) > MAX_REPLY_CHARS:
        raise ValueError(f"the reply is {len(content):,} characters; give a short JSON object")
    try:
        return json.loads(content, strict=False)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at line {error.lineno})") from error
    except RecursionError:
        raise ValueError("the JSON is nested too deeply; give a flat JSON object") from None


def describe(error: Exception) -> str:
    """A short, model-readable account of why a reply was rejected."""
    if isinstance(error, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}"
            for e in error.errors()[:5]
        ]
        return "; ".join(parts)
    return str(error)


def _check(reply: Reply, parse: Callable[[str], T]) -> T:
    if reply.finish_reason == "length":
        raise InvalidReplyError(reply.content, "the reply was cut off; give fewer, shorter items")
    try:
        return parse(reply.content)
    except (ValidationError, ValueError) as error:
        raise InvalidReplyError(reply.content, describe(error)) from error
    except RecursionError:  # a parser other than load_json, on a reply nested too deep
        raise InvalidReplyError(reply.content, "the JSON is nested too deeply") from None


def echoed(content: str) -> str:
    """The part of an invalid reply sent back in a re-ask: at most :data:`ECHO_LIMIT` characters."""
    if len(content) <= ECHO_LIMIT:
        return content
    return f"{content[:ECHO_LIMIT]}\n[... {len(content) - ECHO_LIMIT:,} more characters cut]"


def _reask(request: ModelRequest, failure: InvalidReplyError, attempt: int) -> ModelRequest:
    feedback = [
        {"role": "assistant", "content": echoed(failure.content)},
        {
            "role": "user",
            "content": f"That reply was invalid: {failure.error}. "
            "Reply again with the corrected JSON object only.",
        },
    ]
    # A deterministic model asked the same way answers the same way: vary the sampling.
    temperature = max(request.temperature, REASK_TEMPERATURE)
    messages = [*request.messages, *feedback]
    return replace(request, messages=messages, temperature=temperature, attempt=attempt)


async def ask(gateway: Gateway, request: ModelRequest, parse: Callable[[str], T], reasks: int) -> T:
    """Ask until ``parse`` accepts the reply, at most ``reasks`` extra times."""
    failure: InvalidReplyError | None = None
    retrying = AsyncRetrying(
        stop=stop_after_attempt(reasks + 1),
        retry=retry_if_exception_type(InvalidReplyError),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number - 1
                current = request if failure is None else _reask(request, failure, number)
                try:
                    return _check(await gateway.complete(current), parse)
                except InvalidReplyError as invalid:
                    failure = invalid
                    raise
    except InvalidReplyError as final:
        message = f"invalid reply after {reasks + 1} attempts: {final.error}"
        raise ReplyInvalidError(message, last_reply=final.content) from None
    raise AssertionError("unreachable: tenacity either returns or raises")
