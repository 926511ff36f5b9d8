"""The merge's indexes only save work: the aligner's index never leaves out a pair its guards
let through, and merging with the indexes gives what scoring every claim group and every
sentence in turn gives (the merge before the indexes)."""

from pathlib import Path

import pytest

import service.merge as merging
from schemas import Article, ArticleClaims, MergedClaim
from service.align import Aligner, Index, features
from service.clean import clean
from service.ingest import ingest
from tests.helpers import claims


def _articles(seeds: Path) -> list[Article]:
    return [a for a in clean(ingest([seeds]).articles) if a.kept]


def _claims(articles: list[Article], cut: int) -> list[ArticleClaims]:
    # every other sentence a claim; ``cut`` words short of it, as a model's claim is not
    # always its sentence word for word (the aligner has then not seen the claim's text)
    def text(sentence: str) -> str:
        words = sentence.split()
        return " ".join(words[: len(words) - cut]) if len(words) > cut + 5 else sentence

    return [claims(a, *[(text(s.text), [s.id]) for s in a.kept[::2]][:5]) for a in articles]


def _every_group_and_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    """The merge without its indexes: each claim scored against every group, each group
    against every sentence sharing words with it, as before the indexes."""

    def best(self: merging._Grouping, member: merging._Member) -> tuple[float, int]:
        scored = [(g.score(member, self.aligner), i) for i, g in enumerate(self.groups)]
        return max(scored, default=(0.0, -1))

    def near(self: merging._Sentences, group: merging._Group) -> dict[str, list[int]]:
        return merging._by_article(self.comparable.sharing(self.aligner.of(group.text)))

    def stating(self: merging._Sentences, *_: object) -> dict[str, list[int]]:
        return merging._by_article(self.sentences)

    monkeypatch.setattr(merging._Grouping, "_best", best)
    monkeypatch.setattr(merging._Sentences, "near", near)
    monkeypatch.setattr(merging._Sentences, "stating", stating)


def _dumped(merged: list[MergedClaim]) -> list[dict[str, object]]:
    return [m.model_dump() for m in merged]


@pytest.mark.parametrize("cut", [0, 2])
def test_merging_with_the_indexes_is_merging_without_them(
    seeds: Path, monkeypatch: pytest.MonkeyPatch, cut: int
) -> None:
    articles = _articles(seeds)
    extracted = _claims(articles, cut)
    indexed = merging.merge(extracted, articles)
    _every_group_and_sentence(monkeypatch)
    assert _dumped(indexed) == _dumped(merging.merge(extracted, articles))
    assert any(m.sources > 1 for m in indexed)  # something was corroborated


def test_the_index_leaves_out_no_pair_the_guards_let_through(seeds: Path) -> None:
    texts = [s.text for a in _articles(seeds) for s in a.kept]
    aligner = Aligner(texts)
    index: Index[int] = Index()
    for key, text in enumerate(texts):
        index.add(key, features(text))
    passing = [
        (i, j)
        for i, a in enumerate(texts)
        for j, b in enumerate(texts)
        if i != j and aligner.compatible(a, b)
    ]
    assert passing
    assert all(j in index.near(features(texts[i])) for i, j in passing)
