"""The run's budget: a cap on tokens (and on cost, where the price is known) across all calls.

The token cap is never exceeded: before each call, its worst case is added to what the run
has used, and a call that could cross the cap is not made. The worst case is an upper
bound, not an estimate: a token is at least one byte, so a prompt has at most as many
tokens as bytes (plus a chat template's few per message), and a reply at most
``max_tokens``. The cost cap stops new calls once reached (a call's price is only known
after it). Retries, re-asks and fallbacks all draw on the same budget.
"""

import json
from dataclasses import dataclass
from typing import Any, Protocol

from schemas import Usage
from service._exceptions import BudgetExceededError

TEMPLATE_TOKENS_PER_MESSAGE = 16
"""Generous allowance for the chat template's role markers around each message."""


def worst_case_tokens(messages: list[dict[str, str]], schema: object, max_tokens: int) -> int:
    """An upper bound on the tokens one call can use."""
    prompt = sum(len(m["content"].encode()) + TEMPLATE_TOKENS_PER_MESSAGE for m in messages)
    return prompt + len(json.dumps(schema).encode()) + max_tokens


@dataclass(frozen=True)
class Budget:
    """Caps for one run; None means no cap."""

    max_tokens: int | None = None
    max_cost: float | None = None

    def check(self, used: Usage, request: "_Request", reserved: int = 0) -> int:
        """Raise BudgetExceededError when ``request`` could take the run past a cap, counting
        the worst case of the calls still in flight (``reserved``); else the worst case of
        this one, to reserve while it runs."""
        if self.max_cost is not None and (used.cost_usd or 0.0) >= self.max_cost:
            raise BudgetExceededError(f"run budget reached: ${self.max_cost:.4f} spent")
        if self.max_tokens is None:
            return 0
        spent = used.prompt_tokens + used.completion_tokens + reserved
        worst = worst_case_tokens(request.messages, request.schema, request.max_tokens)
        if spent + worst > self.max_tokens:
            raise BudgetExceededError(
                f"run budget reached: {spent:,} of {self.max_tokens:,} tokens used, "
                f"the next call could need {worst:,}"
            )
        return worst


class _Request(Protocol):  # the part of ModelRequest the budget reads (no import cycle)
    @property
    def messages(self) -> list[dict[str, str]]: ...

    @property
    def schema(self) -> dict[str, Any]: ...

    @property
    def max_tokens(self) -> int: ...
