"""Benchmark 7: how well merge aligns the same fact across outlets, model-free, on the keys.

Method: for each cluster of ``bench/keys/`` (texts in ``../shared/eval-dev/`` and
``../shared/seeds/``), ingest and clean the articles as the product does, treat every kept
sentence as a claim of its own article (as ``tests/helpers.py`` builds claims), run
``merge`` and score the merged claims against the key's facts (those two or more documents
report). A merged claim *matches* a fact when one of its supporting sentences matches the
fact's pattern (the key format's rule):

* **recall**: share of facts for which ONE merged claim matches and is supported by every
  document the key lists for it;
* **coverage**: for each fact, the largest share of its documents one matching claim has
  (mean over facts; partial credit);
* **false merges**: merged claims holding two sentences (of different documents) that each
  match some fact but no fact in common;
* **redundant**: facts whose documents are split over two or more matching claims (a
  document in another matching claim that the best one lacks).

    python -m bench.alignment            # per cluster, and the totals
    python -m bench.alignment --samples  # also print the merged groups of 2+ documents
    python -m bench.alignment --embed minilm  # with sentence embeddings (``make embedder``)
    python -m bench.alignment --embed minilm --sweep 0.8,0.75,0.7  # totals at each cosine
    python -m bench.alignment --embed qwen --sweep 0.95,0.9  # the embedded model's embeddings
    python -m bench.alignment --picked 5  # each article's first five sentences as claims
    python -m bench.alignment --embed qwen --separation seeds  # cosines of fact pairs alone
"""

import argparse
import bisect
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.quality_match import matches
from schemas import Article, ArticleClaims, ClaimKind, ExtractedClaim, Extraction, MergedClaim
from service import align, embed
from service.clean import clean
from service.ingest import ingest
from service.merge import merge
from service.settings import default_cache_dir

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
KEYS = ROOT / "bench" / "keys"


@dataclass
class Cluster:
    name: str
    articles: list[Article]
    doc_of: dict[str, str]
    """Document name (D1, ...) of each article id."""
    facts: list[dict[str, object]]


def load(name: str) -> Cluster:
    key = tomllib.loads((KEYS / f"{name}.toml").read_text())
    folder = SHARED / "seeds" if name == "seeds" else SHARED / "eval-dev" / name
    paths = sorted(folder.glob("*.txt" if name == "seeds" else "D*.txt"))
    ingested = ingest(paths).articles
    doc_of = {a.id: f"D{paths.index(Path(a.origin)) + 1}" for a in ingested}
    articles = [a for a in clean(ingested) if a.kept]
    facts = [f for f in key.get("facts", []) if len(f["docs"]) >= 2]
    return Cluster(name, articles, doc_of, facts)


PICKED: int | None = None
"""Claims per article (its first kept sentences), as an extractor picks a few; None: all."""


def every_sentence(articles: Sequence[Article]) -> list[ArticleClaims]:
    """Each kept sentence as a claim of its own article (built as ``tests.helpers.claims``
    does, past the extraction's cap on claims per article)."""
    return [
        ArticleClaims(
            article_id=a.id,
            extraction=Extraction.model_construct(
                summary="",
                claims=[
                    ExtractedClaim(evidence=[s.id], kind=ClaimKind.FACT, text=s.text)
                    for s in a.kept[:PICKED]
                ],
            ),
        )
        for a in articles
    ]


@dataclass
class Score:
    facts: int = 0
    recalled: int = 0
    coverage: float = 0.0
    false_merges: int = 0
    redundant: int = 0
    merged: int = 0
    """Merged claims of two or more documents."""
    pairs_right: int = 0
    pairs_wrong: int = 0
    """Pairs of merged sentences (of different documents, each matching some fact) that
    share a fact, and that do not."""


def _sentences(claim: MergedClaim, cluster: Cluster) -> list[tuple[str, str]]:
    by_id = {a.id: a for a in cluster.articles}
    return [
        (cluster.doc_of[s.article_id], by_id[s.article_id].sentence(i).text)
        for s in claim.support
        for i in s.sentence_ids
    ]


def _fact_ids(text: str, facts: list[dict[str, object]]) -> set[str]:
    return {str(f["id"]) for f in facts if matches(f["match"], text)}  # type: ignore[arg-type]


def score(cluster: Cluster, merged: Sequence[MergedClaim]) -> tuple[Score, list[str]]:
    """The scores of ``merged`` against the cluster's key, and the false merges found."""
    result = Score(facts=len(cluster.facts))
    wrong: list[str] = []
    docs_of = [{d for d, _ in _sentences(c, cluster)} for c in merged]
    tagged = [
        [(d, t, _fact_ids(t, cluster.facts)) for d, t in _sentences(c, cluster)] for c in merged
    ]
    for sentences in tagged:
        result.merged += len({d for d, _, _ in sentences}) > 1
        for i, a in enumerate(sentences):
            for b in sentences[i + 1 :]:
                if a[0] != b[0] and a[2] and b[2]:
                    result.pairs_right += bool(a[2] & b[2])
                    result.pairs_wrong += not a[2] & b[2]
        if any(
            a[0] != b[0] and a[2] and b[2] and not a[2] & b[2] for a in sentences for b in sentences
        ):
            result.false_merges += 1
            wrong.append(" || ".join(f"{d}: {t}" for d, t, _ in sentences))
    for fact in cluster.facts:
        wanted = set(fact["docs"])  # type: ignore[call-overload]
        fid = str(fact["id"])
        hits = [
            docs & wanted
            for docs, sentences in zip(docs_of, tagged, strict=True)
            if any(fid in ids for _, _, ids in sentences)
        ]
        best: set[str] = max(hits, key=len, default=set())
        result.recalled += best == wanted
        result.coverage += len(best) / len(wanted)
        result.redundant += any(h - best for h in hits)
    return result, wrong


_COUNTS = ("facts", "recalled", "false_merges", "redundant", "merged", "pairs_right", "pairs_wrong")


def _row(name: str, found: Score) -> str:
    coverage = found.coverage / max(found.facts, 1)
    pairs = f"{found.pairs_right}+{found.pairs_wrong}"
    return (
        f"{name:24} {found.facts:5} {found.recalled:6} {coverage:8.0%} {found.false_merges:12}"
        f" {found.redundant:9} {found.merged:6} {pairs:>9}"
    )


MergeFn = Callable[[Sequence[ArticleClaims], Sequence[Article]], list[MergedClaim]]


def run(clusters: list[Cluster], merger: MergeFn = merge, samples: bool = False) -> Score:
    """Score ``merger`` on every cluster; print a row per cluster and the totals."""
    print(f"{'cluster':24} facts recall coverage false-merges redundant merged {'pairs':>9}")
    total = measure(clusters, merger, samples, show=True)
    print(_row("total", total))
    return total


def measure(
    clusters: list[Cluster], merger: MergeFn, samples: bool = False, show: bool = False
) -> Score:
    """The total scores of ``merger`` on every cluster (each printed when ``show``)."""
    total = Score()
    for cluster in clusters:
        merged = merger(every_sentence(cluster.articles), cluster.articles)
        found, wrong = score(cluster, merged)
        if show:
            print(_row(cluster.name, found))
        for name in _COUNTS:
            setattr(total, name, getattr(total, name) + getattr(found, name))
        total.coverage += found.coverage
        if samples:
            _print_samples(cluster, merged, wrong)
    return total


def _print_samples(cluster: Cluster, merged: Sequence[MergedClaim], wrong: list[str]) -> None:
    for line in wrong:
        print("   FALSE:", line[:400])
    for claim in merged:
        sentences = _sentences(claim, cluster)
        if len({d for d, _ in sentences}) > 1:
            print("   GROUP:", " || ".join(f"{d}: {t[:90]}" for d, t in sentences))


def remembering(embedder: embed.Embedder) -> embed.Embedder:
    """``embedder``, each text embedded once (a sweep merges the same sentences again)."""
    known: dict[str, Any] = {}

    def embedded(texts: Sequence[str]) -> embed.Matrix:
        import numpy as np

        new = [t for t in dict.fromkeys(texts) if t not in known]
        if new:
            known.update(zip(new, embedder(new), strict=True))
        return np.stack([known[t] for t in texts])

    return embedded


def qwen(cache_dir: Path) -> embed.Embedder:
    """The embedded model's own embeddings (llama.cpp, mean-pooled, normalised): a decoder
    model, measured against the sentence embedder."""
    import numpy as np
    from llama_cpp import Llama

    from service.local_model import ensure_weights

    model = Llama(
        model_path=str(ensure_weights(cache_dir)),
        embedding=True,
        pooling_type=1,  # mean
        n_ctx=512,
        n_threads=2,
        verbose=False,
    )

    def embedded(texts: Sequence[str]) -> embed.Matrix:
        rows = np.array([model.embed(t, truncate=True) for t in texts], dtype=np.float32)
        unit: embed.Matrix = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return unit

    return embedded


def embedder_named(name: str) -> embed.Embedder:
    """``minilm`` (``service.embed``, after ``make embedder``) or ``qwen``, remembering."""
    if name == "qwen":
        return remembering(qwen(default_cache_dir()))
    found = embed.load(default_cache_dir())
    if found is None:
        sys.exit("no embedder: fetch its weights with `make embedder` (see service/embed.py)")
    return remembering(found)


def embedding(embedder: embed.Embedder) -> MergeFn:
    """``merge`` with ``embedder``."""

    def merged(claims: Sequence[ArticleClaims], articles: Sequence[Article]) -> list[MergedClaim]:
        return merge(claims, articles, embedder)

    return merged


def sweep(clusters: list[Cluster], embedder: embed.Embedder, cosines: Sequence[float]) -> None:
    """The totals, lexical alone and with embeddings from each of ``cosines``."""
    print(f"{'cosine':24} facts recall coverage false-merges redundant merged {'pairs':>9}")
    print(_row("lexical alone", measure(clusters, merge)))
    for cosine in cosines:
        align.MIN_COSINE = cosine
        print(_row(f"embeddings >= {cosine}", measure(clusters, embedding(embedder))), flush=True)


def separation(clusters: list[Cluster], embedder: embed.Embedder) -> None:
    """How well a score alone tells apart pairs of sentences (of different documents, each
    matching some fact) that share a fact from pairs that do not, for the embeddings' cosine and
    the lexical similarity: the chance that a random same-fact pair scores above a random other
    pair (ROC AUC), and the share of same-fact pairs above the score 95% and 99% of the other
    pairs stay under."""
    scores: dict[str, tuple[list[float], list[float]]] = {
        "embeddings": ([], []),
        "lexical": ([], []),
    }
    for cluster in clusters:
        texts = [s.text for a in cluster.articles for s in a.kept]
        aligner = align.Aligner(texts)
        tagged = [
            (cluster.doc_of[a.id], s.text, _fact_ids(s.text, cluster.facts))
            for a in cluster.articles
            for s in a.kept
        ]
        tagged = [t for t in tagged if t[2]]
        vectors = embedder([t for _, t, _ in tagged])
        for i, (doc, text, facts) in enumerate(tagged):
            for j in range(i + 1, len(tagged)):
                if doc != tagged[j][0]:
                    shared = bool(facts & tagged[j][2])
                    scores["embeddings"][not shared].append(float(vectors[i] @ vectors[j]))
                    scores["lexical"][not shared].append(aligner.similarity(text, tagged[j][1]))
    for name, (same, other) in scores.items():
        print(f"{name:11} {_separated(same, sorted(other))}")


def _separated(same: list[float], other: list[float]) -> str:
    auc = sum(bisect.bisect_left(other, x) for x in same) / max(len(same) * len(other), 1)
    line = f"pairs {len(same)} same-fact, {len(other)} other; AUC {auc:.3f}"
    for share in (0.95, 0.99):
        bar = other[min(int(share * len(other)), len(other) - 1)]
        caught = sum(x > bar for x in same) / max(len(same), 1)
        line += f"; above {share:.0%} of the others ({bar:.3f}): {caught:.0%}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alignment", description=__doc__)
    parser.add_argument("--samples", action="store_true", help="print merged groups")
    parser.add_argument("--embed", choices=["minilm", "qwen"], help="align with embeddings")
    parser.add_argument("--sweep", type=str, help="cosines to sweep, e.g. 0.8,0.75,0.7")
    parser.add_argument("--picked", type=int, help="claims per article (default: all)")
    parser.add_argument("--separation", action="store_true", help="cosines of fact pairs")
    parser.add_argument("clusters", nargs="*", help="default: every key")
    given = parser.parse_args()
    global PICKED
    PICKED = given.picked
    names = given.clusters or [p.stem for p in sorted(KEYS.glob("*.toml"))]
    clusters = [load(name) for name in names]
    if given.embed is not None and given.separation:
        separation(clusters, embedder_named(given.embed))
    elif given.embed is None:
        run(clusters, samples=given.samples)
    elif given.sweep:
        cosines = [float(c) for c in given.sweep.split(",")]
        sweep(clusters, embedder_named(given.embed), cosines)
    else:
        run(clusters, embedding(embedder_named(given.embed)), samples=given.samples)


if __name__ == "__main__":
    main()
