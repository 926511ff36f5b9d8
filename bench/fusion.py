"""Benchmark 9: does the model fuse two outlets' sentences on one fact into one sentence?

Issue 12 asks the composer to write one sentence per aligned group, the model fusing the
outlets' wording. Before the product relies on it, this measures whether the model does.

Method: for each fact of ``bench/keys/`` that two or more documents report, the first kept
sentence (ingested and cleaned as the product does) matching the fact's pattern in each of
its first two documents that have one makes a pair (skipped when the two are one text). Each
way of asking in ``bench/fusion.toml`` sends every pair once (through the product's gateway:
the reply cache, any ``--model``); the reply's ``text`` is judged in code, independently of
the product, in this order:

* **joined**: it is two sentences or more, or holds both nearly whole (90% of each one's
  words): stacked, not fused;
* **one only**: 90% of its words come from one of the two sentences alone (a copy, a cut or a
  garbled copy): the other outlet's wording is not in it;
* **invented**: it gives a number or a name neither gives (the quality benchmark's grounding
  rule, `quality_metrics.checkable`);
* **lost**: it no longer states the key's fact (its pattern);
* **fused**: none of these: one sentence from both, grounded, stating the fact. An upper
  bound: the code cannot tell a fused sentence that changes the meaning ("Kim, who was killed
  in combat, ..."); ``--samples`` prints every reply to read;
* **invalid**: no JSON object with a ``text``.

    python -m bench.fusion                     # the embedded model, every way of asking
    python -m bench.fusion --samples           # also print each pair and its replies
    python -m bench.fusion --per-cluster 4 --ways shared   # fewer pairs, one way of asking
    python -m bench.fusion --model openai/gpt-4o-mini
"""

import argparse
import asyncio
import json
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.alignment import KEYS, load
from bench.quality_match import matches, normalise, occurs
from bench.quality_metrics import checkable
from service.gateway import Gateway, ModelRequest
from service.pipeline import open_gateway
from service.settings import Settings

PROMPTS = Path(__file__).with_name("fusion.toml")
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "maxLength": 400}},
    "required": ["text"],
}
VERDICTS = ("fused", "joined", "one only", "invented", "lost", "invalid")
_WORD = re.compile(r"[\w'-]+")
_NEXT_SENTENCE = re.compile(r"[.!?][\"'\u201d\u2019)]?\s+[\"\u201c]?[A-Z]")


@dataclass(frozen=True)
class Pair:
    cluster: str
    fact: str
    pattern: list[list[str]]
    sentences: tuple[str, str]


def pairs(cluster_names: Sequence[str], per_cluster: int | None = None) -> list[Pair]:
    """One pair of sentences per fact that two documents state (see the module docstring),
    at most ``per_cluster`` from each cluster (its first facts)."""
    found: list[Pair] = []
    for name in cluster_names:
        cluster = load(name)
        by_doc: dict[str, list[str]] = {}
        for article in cluster.articles:
            by_doc.setdefault(cluster.doc_of[article.id], []).extend(s.text for s in article.kept)
        for fact in cluster.facts:
            if per_cluster is not None and sum(p.cluster == name for p in found) >= per_cluster:
                break
            pattern = fact["match"]
            stating = [
                next((s for s in by_doc.get(str(d), []) if matches(pattern, s)), None)  # type: ignore[arg-type]
                for d in fact["docs"]  # type: ignore[attr-defined]
            ]
            two = [s for s in stating if s][:2]
            if len(two) == 2 and normalise(two[0]) != normalise(two[1]):
                found.append(Pair(name, str(fact["id"]), pattern, (two[0], two[1])))  # type: ignore[arg-type]
    return found


def _words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def _share_in(words: list[str], within: set[str]) -> float:
    return sum(w in within for w in words) / len(words) if words else 0.0


def verdict(reply: str | None, pair: Pair) -> str:
    """What the model made of ``pair`` (the module docstring's verdicts, in that order)."""
    if not reply:
        return "invalid"
    mine = _words(reply)
    each = [_words(s) for s in pair.sentences]
    if _NEXT_SENTENCE.search(reply) or all(_share_in(w, set(mine)) >= 0.9 for w in each):
        return "joined"
    if any(_share_in(mine, set(words)) >= 0.9 for words in each):
        return "one only"
    given = " ".join(pair.sentences)
    if any(not occurs(found, given) for found in checkable(reply)):  # the grounding metric's
        return "invented"
    return "fused" if matches(pair.pattern, reply) else "lost"


def _request(variant: str, user: str, system: str, pair: Pair, version: str) -> ModelRequest:
    numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(pair.sentences, 1))
    return ModelRequest(
        messages=[
            {"role": "system", "content": system},
            {"role": "user", "content": user.format(sentences=numbered)},
        ],
        schema=SCHEMA,
        schema_name="Fused",
        template_version=f"{version}:{variant}",
        max_tokens=200,
    )


def _text(content: str) -> str | None:
    try:
        value = json.loads(content).get("text")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value.strip() else None


async def ask_all(
    gateway: Gateway, found: list[Pair], ways: Sequence[str] = ()
) -> dict[str, list[str | None]]:
    """The reply text of each way of asking (all, or ``ways``) to every pair (None: no usable
    reply)."""
    prompts = tomllib.loads(PROMPTS.read_text(encoding="utf-8"))
    replies: dict[str, list[str | None]] = {}
    for variant, spec in prompts["variants"].items():
        if ways and variant not in ways:
            continue
        requests = [
            _request(variant, spec["user"], prompts["system"], p, prompts["version"]) for p in found
        ]
        answers = await asyncio.gather(*(gateway.complete(r) for r in requests))
        replies[variant] = [_text(a.content) for a in answers]
        print(f"  {variant}: {len(found)} pairs asked", file=sys.stderr)
    return replies


def table(found: list[Pair], replies: dict[str, list[str | None]]) -> str:
    """One row per way of asking: how many pairs got each verdict."""
    lines = [f"{'way of asking':<14}" + "".join(f"{v:>10}" for v in VERDICTS)]
    for variant, texts in replies.items():
        counted = Counter(verdict(t, p) for t, p in zip(texts, found, strict=True))
        lines.append(f"{variant:<14}" + "".join(f"{counted[v]:>10}" for v in VERDICTS))
    return "\n".join(lines)


def samples(found: list[Pair], replies: dict[str, list[str | None]]) -> str:
    out = []
    for i, pair in enumerate(found):
        out.append(
            f"\n{pair.cluster} {pair.fact}\n  1. {pair.sentences[0]}\n  2. {pair.sentences[1]}"
        )
        for variant, texts in replies.items():
            out.append(f"  {variant} [{verdict(texts[i], pair)}]: {texts[i]}")
    return "\n".join(out)


async def run(
    settings: Settings, found: list[Pair], ways: Sequence[str]
) -> dict[str, list[str | None]]:
    async with open_gateway(settings) as gateway:
        replies = await ask_all(gateway, found, ways)
        usage = gateway.meter.usage
    print(f"  model calls {usage.calls}, cache hits {usage.cache_hits}", file=sys.stderr)
    return replies


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fusion", description=__doc__.split("\n")[0]
    )
    parser.add_argument("clusters", nargs="*", help="clusters of bench/keys/ (default: all)")
    parser.add_argument("--model", help="a litellm model string (default: the embedded model)")
    parser.add_argument("--samples", action="store_true", help="print each pair and its replies")
    parser.add_argument("--per-cluster", type=int, metavar="N", help="at most N pairs a cluster")
    parser.add_argument("--ways", nargs="+", default=[], help="ways of asking (default: all)")
    args = parser.parse_args(argv)
    names = args.clusters or sorted(p.stem for p in KEYS.glob("*.toml"))
    found = pairs(names, args.per_cluster)
    settings = Settings(model=args.model) if args.model else Settings()
    print(
        f"benchmark 9: fusing two outlets' sentences on one fact, {len(found)} pairs from "
        f"{len(names)} clusters, model {settings.model}"
    )
    replies = asyncio.run(run(settings, found, args.ways))
    print(table(found, replies))
    if args.samples:
        print(samples(found, replies))


if __name__ == "__main__":
    main()
