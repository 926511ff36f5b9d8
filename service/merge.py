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

from collections import Counter, defaultdict
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
from service.align import MIN_SHARED_WORDS, Aligner, agreeing, compatible_numbers
from service.embed import Embedder
from service.figures import attribution, by_sentence
from service.verify import numbers, overlap, stems

SIMILARITY = 85.0
"""Token-set ratio (0-100) above which two claims with the same numbers are one."""


Figures = dict[int, frozenset[str]]
"""The values a sentence gives, by the quantity they count (see ``figures.by_sentence``)."""
Table = dict[tuple[str, int], Figures]
"""The figures of each (article id, sentence id)."""


@dataclass(frozen=True)
class _Member:
    article_id: str
    text: str
    """What it states: the claim, or the source sentence added as support."""
    figures: Figures


@dataclass
class _Group:
    kind: ClaimKind
    text: str
    numbers: frozenset[str]
    figures: Figures
    support: list[Support] = field(default_factory=list)
    members: list[_Member] = field(default_factory=list)

    def score(self, claim: str, member: _Member, aligner: Aligner) -> float:
        """How well a claim joins this group: 0 when it does not."""
        if numbers(claim) == self.numbers and overlap(claim, self.text) >= SIMILARITY:
            # nearly the same wording, unless it names other people or another act
            return 2.0 if aligner.compatible(member.text, self.members[0].text) else 0.0
        if member.article_id in {m.article_id for m in self.members}:
            return 0.0  # an outlet states a fact once; its other sentences are other facts
        if same_figures(member.figures, self.figures):
            return 1.5  # the same values for the same counted quantities
        return self.aligned(member, aligner)

    def aligned(self, member: _Member, aligner: Aligner) -> float:
        """How alike ``member`` and this group's claim are, 0 if a guard fails."""
        if any(conflict(member.figures, m.figures) for m in self.members):
            return 0.0
        counts = aligner.of(member.text).numbers
        if not all(compatible_numbers(counts, aligner.of(m.text).numbers) for m in self.members):
            return 0.0
        # each statement is compared with the claim's own (its first): a group does not
        # drift, statement by statement, from what its claim says
        return aligner.affinity(member.text, self.members[0].text)


def same_figures(a: Figures, b: Figures) -> bool:
    """Whether two statements give the same values for every quantity both count (one at
    least): "about 600 killed and thousands wounded" = "approximately 600 killed, with
    thousands more injured", but not "... while more than 4,000 had been wounded"."""
    shared = a.keys() & b.keys()
    return bool(shared) and all(a[k] == b[k] for k in shared)


def conflict(a: Figures, b: Figures) -> bool:
    """Whether two statements give different values for a quantity both count: a
    disagreement (shown apart), never one fact. Values told at another precision are not
    different (``align.agreeing``)."""
    return any(not agreeing(a[k], b[k]) for k in a.keys() & b.keys())


def merge(
    claims: Sequence[ArticleClaims], articles: Sequence[Article], embedder: Embedder | None = None
) -> list[MergedClaim]:
    """Merged claims, in order of first appearance, ids ``c1``, ``c2``, ... With an
    ``embedder`` (``service.embed``), paraphrases align too."""
    by_id = {a.id: a for a in articles}
    source_of = {a.id: by_id.get(a.duplicate_of or a.id, a).source for a in articles}
    table = by_sentence(articles)
    aligner = Aligner([s.text for a in articles for s in a.kept], embedder)
    groups: list[_Group] = []
    for item in claims:
        article = by_id[item.article_id]
        for claim in item.extraction.claims:
            evidence = sorted(set(claim.evidence))
            member = _Member(article.id, claim.text, _stated(table, article.id, evidence))
            scored = [(g.score(claim.text, member, aligner), i) for i, g in enumerate(groups)]
            best, index = max(scored, default=(0.0, -1))
            if best <= 0:
                groups.append(_Group(claim.kind, claim.text, numbers(claim.text), member.figures))
                index = len(groups) - 1
            groups[index].support.append(_support(article, evidence, claim.text))
            groups[index].members.append(member)
    _corroborate(groups, articles, table, aligner)
    return [_merged(i, g, source_of) for i, g in enumerate(groups, 1)]


def _member(article: Article, sentence: Sentence, table: Table) -> _Member:
    return _Member(article.id, sentence.text, _stated(table, article.id, [sentence.id]))


MIN_UNPICKED = 0.225
"""Similarity (see ``align``) an outlet's sentence no claim was drawn from needs to a
claim to be added as its support."""
MIN_MUTUAL = 0.8
"""Share of each sentence's content words the other must hold for two sentences from
different articles to state the same thing (when they give no figures to compare)."""


@dataclass(frozen=True)
class _Sentences:
    """What is looked up about the articles' kept sentences while corroborating."""

    words: dict[tuple[str, int], set[str]]
    """The stems of each (article id, sentence id)."""
    numbers: dict[tuple[str, int], frozenset[str]]
    """The numbers each states (worked out once, not once per claim group)."""
    table: Table
    aligner: Aligner
    index: dict[str, set[tuple[str, int]]]
    """The sentences holding each content word (see ``align.features``)."""

    def near(self, text: str) -> set[tuple[str, int]]:
        """The sentences sharing enough content words with ``text`` to be compared."""
        shared = Counter(k for w in self.aligner.of(text).words for k in self.index.get(w, ()))
        return {k for k, n in shared.items() if n >= MIN_SHARED_WORDS}


def _corroborate(
    groups: list[_Group], articles: Sequence[Article], table: Table, aligner: Aligner
) -> None:
    # A claim is a source sentence the model picked; another outlet may state it in a
    # sentence the model did not pick. The sentence that states it best is added as support.
    index: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for article in articles:
        for sentence in article.kept:
            for word in aligner.of(sentence.text).words:
                index[word].add((article.id, sentence.id))
    words = {(a.id, s.id): stems(s.text) for a in articles for s in a.kept}
    said = {(a.id, s.id): numbers(s.text) for a in articles for s in a.kept}
    known = _Sentences(words, said, table, aligner, dict(index))
    for group in groups:
        cited = {s.article_id for s in group.support}
        near = known.near(group.members[0].text)
        mine = stems(group.text)
        for article in (a for a in articles if a.id not in cited):
            found = _best_statement(group, mine, article, known, near)
            if found is not None:
                group.support.append(_support(article, [found.id], found.text))
                group.members.append(_member(article, found, table))


def _best_statement(
    group: _Group, mine: set[str], article: Article, known: _Sentences, near: set[tuple[str, int]]
) -> Sentence | None:
    found = next((s for s in article.kept if _states(group, mine, s, article.id, known)), None)
    if found is not None:
        return found
    first = group.members[0].text
    candidates = [
        s
        for s in article.kept
        if (article.id, s.id) in near or known.aligner.paraphrase(first, s.text)
    ]
    scored = [
        (group.aligned(_member(article, s, known.table), known.aligner), s.id) for s in candidates
    ]
    best, sentence_id = max(scored, default=(0.0, 0))
    return article.sentence(sentence_id) if best >= MIN_UNPICKED else None


def _states(
    group: _Group, mine: set[str], sentence: Sentence, article_id: str, known: _Sentences
) -> bool:
    figures = _stated(known.table, article_id, [sentence.id])
    if group.figures or figures:
        return same_figures(group.figures, figures)
    theirs = known.words[(article_id, sentence.id)]
    if not mine or not theirs or known.numbers[(article_id, sentence.id)] != group.numbers:
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


def _stated(table: Table, article_id: str, ids: list[int]) -> Figures:
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
