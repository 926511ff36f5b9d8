"""Grammar-constrained sampling that checks one token, not the whole vocabulary, per step.

llama-cpp-python puts the JSON grammar first in its sampler chain, so every generated token
is checked against the grammar for all 151,936 tokens of the vocabulary before one is
picked: on 2 cores that took about as long as generating the token (a one-article
extraction: 11 s of model compute, 8 s of grammar). llama.cpp's own server samples the other
way round, and so does this sampler: pick a token without the grammar, check only that token,
and only if the grammar rejects it pick again from the whole vocabulary with the grammar
applied. With greedy sampling (temperature 0, every first ask) the token is the same either
way: the best token the grammar allows is the best token when the grammar allows it.

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


def _array(data: np.ndarray[Any, np.dtype[Any]]) -> llama_cpp.llama_token_data_array:
    pointer = data.ctypes.data_as(llama_cpp.llama_token_data_p)
    return llama_cpp.llama_token_data_array(data=pointer, size=len(data), selected=-1, sorted=False)


class LazyGrammarSampler(_internals.LlamaSampler):  # type: ignore[misc]
    """llama-cpp-python's sampler chain, with its grammar checked last and lazily."""

    grammar: Any = None
    data: np.ndarray[Any, np.dtype[Any]] = np.empty(0, dtype=TOKEN_DATA)
    ids: np.ndarray[Any, np.dtype[Any]] = np.empty(0, dtype=np.int32)

    def add_grammar(self, model: Any, grammar: Any) -> None:
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        size = llama_cpp.llama_vocab_n_tokens(model.vocab)
        self.data = np.zeros(size, dtype=TOKEN_DATA)  # reused: only the logits change per token
        self.ids = np.arange(size, dtype=np.int32)
        self._exit_stack.callback(llama_cpp.llama_sampler_free, self.grammar)

    def sample(self, ctx: Any, idx: int = -1) -> int:
        if self.grammar is None:
            return int(super().sample(ctx, idx))
        token = self._pick(ctx, idx, grammar=False)
        if not self._allowed(token):
            token = self._pick(ctx, idx, grammar=True)
        llama_cpp.llama_sampler_accept(self.grammar, token)
        llama_cpp.llama_sampler_accept(self.sampler, token)
        return token

    def _pick(self, ctx: Any, idx: int, grammar: bool) -> int:
        logits = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        data = self.data
        data["id"] = self.ids  # samplers may have reordered the array
        data["logit"] = np.ctypeslib.as_array(logits, shape=(len(data),))
        data["p"] = 0.0
        candidates = _array(data)
        if grammar:
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
        llama_cpp.llama_sampler_apply(self.sampler, ctypes.byref(candidates))
        return int(candidates.data[candidates.selected].id)

    def _allowed(self, token: int) -> bool:
        one = np.array([(token, 0.0, 0.0)], dtype=TOKEN_DATA)
        candidates = _array(one)
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
        return not math.isinf(float(candidates.data[0].logit))


def install() -> None:
    """Make llama-cpp-python build its samplers as :class:`LazyGrammarSampler`."""
    _internals.LlamaSampler = LazyGrammarSampler
