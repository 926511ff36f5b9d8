"""Stage 3, merge: group near-identical claims across articles, keeping who supports each.

Deterministic, in two ways: two claims are one when their normalised wording is nearly
the same (rapidfuzz's token-set ratio) *and* they state the same numbers, so "600 killed"
and "1,000 killed" never merge; or when, from different articles, their sentences give the
same values for every quantity both count (the figures of ``service.figures``: what is
counted, and the value, hedges aside), so "About 600 soldiers have been killed, Seoul has
said" and "South Korea's spy agency estimates that approximately 600 soldiers have been
killed" corroborate each other in different words. Another outlet's sentence stating a
claim that way is added as support even when the model did not pick it. The model is not
asked: these signals decide, and what they cannot decide stays apart (shown as
single-source, never merged wrongly). Sources are counted by outlet name, not by article,
and a near-duplicate article counts as the outlet it copies. Each statement keeps who its
sentence says made it ("according to Seoul's spy agency"), so the briefing can keep the
attribution (checked in ``compose``).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from schemas import (
    Article,
    ArticleClaims,
    ClaimKind,
    ClaimStatus,
    Disagreement,
    MergedClaim,
    Sentence,
    Support,
)
from service.figures import attribution, by_sentence
from service.verify import numbers, overlap, stems

SIMILARITY = 85.0
"""Token-set ratio (0-100) above which two claims with the same numbers are one."""


Figures = dict[int, frozenset[str]]
"""The values a sentence gives, by the quantity they count (see ``figures.by_sentence``)."""


@dataclass
class _Group:
    kind: ClaimKind
    text: str
    numbers: frozenset[str]
    figures: Figures
    support: list[Support] = field(default_factory=list)

    def matches(self, text: str, figures: Figures, article_id: str) -> bool:
        if numbers(text) == self.numbers and overlap(text, self.text) >= SIMILARITY:
            return True
        others = {s.article_id for s in self.support}
        return article_id not in others and same_figures(figures, self.figures)


def same_figures(a: Figures, b: Figures) -> bool:
    """Whether two statements give the same values for every quantity both count (one at
    least): "about 600 killed and thousands wounded" = "approximately 600 killed, with
    thousands more injured", but not "... while more than 4,000 had been wounded"."""
    shared = a.keys() & b.keys()
    return bool(shared) and all(a[k] == b[k] for k in shared)


def merge(claims: Sequence[ArticleClaims], articles: Sequence[Article]) -> list[MergedClaim]:
    """Merged claims, in order of first appearance, ids ``c1``, ``c2``, ..."""
    by_id = {a.id: a for a in articles}
    source_of = {a.id: by_id.get(a.duplicate_of or a.id, a).source for a in articles}
    table = by_sentence(articles)
    groups: list[_Group] = []
    for item in claims:
        for claim in item.extraction.claims:
            evidence = sorted(set(claim.evidence))
            support = _support(by_id[item.article_id], evidence, claim.text)
            stated = _stated(table, item.article_id, evidence)
            group = next(
                (g for g in groups if g.matches(claim.text, stated, item.article_id)), None
            )
            if group is None:
                group = _Group(claim.kind, claim.text, numbers(claim.text), stated)
                groups.append(group)
            group.support.append(support)
    _corroborate(groups, articles, table)
    return [_merged(i, g, source_of) for i, g in enumerate(groups, 1)]


MIN_MUTUAL = 0.8
"""Share of each sentence's content words the other must hold for two sentences from
different articles to state the same thing (when they give no figures to compare)."""


@dataclass(frozen=True)
class _Said:
    """What one kept sentence states, worked out once for every group it is checked against."""

    figures: Figures
    numbers: frozenset[str]
    words: set[str]


def _corroborate(
    groups: list[_Group], articles: Sequence[Article], table: dict[tuple[str, int], Figures]
) -> None:
    # A claim is a source sentence the model picked; another outlet may state it in a
    # sentence the model did not pick. Each such sentence is added as support.
    said: dict[tuple[str, int], _Said] = {}  # worked out when first needed, then reused

    def saying(article_id: str, sentence: Sentence) -> _Said:
        key = (article_id, sentence.id)
        if key not in said:
            stated = _stated(table, article_id, [sentence.id])
            said[key] = _Said(stated, numbers(sentence.text), stems(sentence.text))
        return said[key]

    for group in groups:
        mine = stems(group.text)
        cited = {s.article_id for s in group.support}
        for article in (a for a in articles if a.id not in cited):
            found = next(
                (s for s in article.kept if _states(group, mine, saying(article.id, s))), None
            )
            if found is not None:
                group.support.append(_support(article, [found.id], found.text))


def _states(group: _Group, mine: set[str], sentence: _Said) -> bool:
    if group.figures or sentence.figures:
        return same_figures(group.figures, sentence.figures)
    theirs = sentence.words
    if not mine or not theirs or sentence.numbers != group.numbers:
        return False
    shared = len(mine & theirs)
    return shared >= MIN_MUTUAL * len(mine) and shared >= MIN_MUTUAL * len(theirs)


def _support(article: Article, evidence: list[int], text: str) -> Support:
    return Support(
        article_id=article.id,
        sentence_ids=evidence,
        text=text,
        attribution=_said_by(article, evidence),
    )


def _stated(table: dict[tuple[str, int], Figures], article_id: str, ids: list[int]) -> Figures:
    stated: dict[int, frozenset[str]] = {}
    for i in ids:
        for quantity, values in table.get((article_id, i), {}).items():
            stated[quantity] = stated.get(quantity, frozenset()) | values
    return stated


def _said_by(article: Article, evidence: list[int]) -> str | None:
    return next(filter(None, (attribution(article.sentence(i).text) for i in evidence)), None)


def _merged(number: int, group: _Group, source_of: dict[str, str]) -> MergedClaim:
    sources = len({source_of[s.article_id] for s in group.support})
    status = ClaimStatus.CORROBORATED if sources > 1 else ClaimStatus.SINGLE_SOURCE
    return MergedClaim(
        id=f"c{number}",
        kind=group.kind,
        text=group.text,
        support=group.support,
        sources=sources,
        status=status,
    )


def contest(
    claims: Sequence[MergedClaim], disagreements: Sequence[Disagreement]
) -> list[MergedClaim]:
    """The claims, those stating a figure the sources give differently marked contested."""
    disputed = {c for d in disagreements for c in d.claim_ids}
    contested = {"status": ClaimStatus.CONTESTED}
    return [c.model_copy(update=contested) if c.id in disputed else c for c in claims]
