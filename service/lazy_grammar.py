"""Grammar-constrained sampling that checks one token, not the whole vocabulary, per step.

llama-cpp-python puts the JSON grammar first in its sampler chain, so every generated token
is checked against the grammar for all 151,936 tokens of the vocabulary before one is
picked: on 2 cores that took about as long as generating the token (a one-article
extraction: 11 s of model compute, 8 s of grammar). llama.cpp's own server samples the other
way round, and so does this sampler: pick a token without the grammar, check only that token,
and only if the grammar rejects it pick again from the whole vocabulary with the grammar
applied. With greedy sampling (temperature 0, every first ask) the token is the same either
way: the best token the grammar allows is the best token when the grammar allows it.

A greedy pick goes through the same chain (repeat penalties, then greedy) over a shortlist
instead of the whole vocabulary (:func:`shortlist`): the penalties, which look every
candidate up in a hash map, change only tokens already generated, so the best token is one
of those or one of the best of the rest, 1-3 ms less per token on 2 cores. When the grammar
rejects that token, the next pick, with the grammar, is looked for among the generated and
the :data:`LEADERS` best other tokens before the whole vocabulary (20-30 ms a time here, a few
times per reply). Either way the token is the one the whole vocabulary gives.

Runs in the model server's process only (:mod:`service.local_server` installs it), for the
pinned llama-cpp-python version; nothing else imports it.
"""

import ctypes
import math
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import _internals

TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
"""``llama_token_data`` as numpy lays it out (the same 12 bytes as the C struct)."""
GREEDY_CHAIN = ("penalties", "greedy")
LEADERS = 64
"""The best tokens besides those generated among which a token the grammar allows is looked
for first, when it rejected the best one."""
"""The chain llama-cpp-python builds for temperature 0, the one :func:`shortlist` is exact for."""

Array = np.ndarray[Any, np.dtype[Any]]


def _array(data: Array) -> llama_cpp.llama_token_data_array:
    pointer = data.ctypes.data_as(llama_cpp.llama_token_data_p)
    return llama_cpp.llama_token_data_array(data=pointer, size=len(data), selected=-1, sorted=False)


def shortlist(logits: Array, generated: Array, leaders: int = 1) -> tuple[Array, float] | None:
    """Token ids (ascending) among which penalties-then-greedy picks what it would pick from
    all of ``logits``, and the floor that makes it so: every token ``generated`` so far (the
    only ones a penalty changes) and every other token whose logit is at least the floor, the
    ``leaders``-th best of theirs (ties all in). None when that floor is not finite (NaN or
    -inf logits): then only the whole vocabulary is safe.

    Greedy keeps the first best in id order. A token left out has a logit below the floor,
    which no penalty touches; so a pick from the shortlist (the grammar rejecting some) is
    the pick from the whole vocabulary when its own logit, penalised, is at least the floor.
    """
    rest = logits.copy()
    rest[generated] = -np.inf
    floor = float(np.partition(rest, -leaders)[-leaders])  # a NaN sorts last: it is the floor
    if not math.isfinite(floor) or np.isnan(logits[generated]).any():
        return None
    return np.union1d(generated, np.flatnonzero(rest >= floor)).astype(np.int32), floor


class LazyGrammarSampler(_internals.LlamaSampler):  # type: ignore[misc]
    """llama-cpp-python's sampler chain, with its grammar checked last and lazily."""

    grammar: Any = None
    data: Array = np.empty(0, dtype=TOKEN_DATA)
    ids: Array = np.empty(0, dtype=np.int32)

    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[str] = []
        """The samplers added through the methods that say which (others only count)."""
        self.generated: set[int] = set()

    def add_penalties(self, *args: Any, **kwargs: Any) -> None:
        super().add_penalties(*args, **kwargs)
        self.kinds.append("penalties")

    def add_greedy(self) -> None:
        super().add_greedy()
        self.kinds.append("greedy")

    def add_grammar(self, model: Any, grammar: Any) -> None:
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        size = llama_cpp.llama_vocab_n_tokens(model.vocab)
        self.data = np.zeros(size, dtype=TOKEN_DATA)  # reused: only the logits change per token
        self.ids = np.arange(size, dtype=np.int32)
        self._exit_stack.callback(llama_cpp.llama_sampler_free, self.grammar)

    @property
    def greedy(self) -> bool:
        """Whether the chain is exactly penalties then greedy (and nothing unnamed)."""
        chain = llama_cpp.llama_sampler_chain_n(self.sampler)
        return tuple(self.kinds) == GREEDY_CHAIN and chain == len(GREEDY_CHAIN)

    def sample(self, ctx: Any, idx: int = -1) -> int:
        if self.grammar is None:
            return int(super().sample(ctx, idx))
        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(ctx.ctx, idx), shape=(len(self.data),)
        )
        token = self.pick(logits)
        if not self._allowed(token):
            token = self.pick(logits, grammar=True)
        llama_cpp.llama_sampler_accept(self.grammar, token)
        self.accept(token)
        return token

    def accept(self, token: int) -> None:
        llama_cpp.llama_sampler_accept(self.sampler, token)
        self.generated.add(token)

    def pick(self, logits: Array, grammar: bool = False) -> int:
        """The chain's token for ``logits``, with or without the grammar: from a shortlist
        where the chain is greedy and the shortlist gives the same token, else from all."""
        if self.greedy:
            leaders = LEADERS if grammar else 1
            listed = shortlist(logits, np.fromiter(self.generated, np.int32), leaders)
            if listed is not None:
                ids, floor = listed
                few = np.zeros(len(ids), dtype=TOKEN_DATA)
                few["id"], few["logit"] = ids, logits[ids]
                token, logit = self._apply(few, grammar)
                if logit >= floor:
                    return token
        return self._pick_all(logits, grammar)

    def _pick_all(self, logits: Array, grammar: bool) -> int:
        data = self.data
        data["id"] = self.ids  # samplers may have reordered the array
        data["logit"] = logits
        data["p"] = 0.0
        return self._apply(data, grammar)[0]

    def _apply(self, data: Array, grammar: bool) -> tuple[int, float]:
        """The token the chain (after the grammar, if asked) selects, and its logit then."""
        candidates = _array(data)
        if grammar:
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
        llama_cpp.llama_sampler_apply(self.sampler, ctypes.byref(candidates))
        chosen = candidates.data[candidates.selected]
        return int(chosen.id), float(chosen.logit)

    def _allowed(self, token: int) -> bool:
        one = np.array([(token, 0.0, 0.0)], dtype=TOKEN_DATA)
        candidates = _array(one)
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
        return not math.isinf(float(candidates.data[0].logit))


def install() -> None:
    """Make llama-cpp-python build its samplers as :class:`LazyGrammarSampler`."""
    _internals.LlamaSampler = LazyGrammarSampler
