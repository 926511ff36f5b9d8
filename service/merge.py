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

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

from rapidfuzz import fuzz, process

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
from service.align import Aligner, Index, agreeing, compatible_numbers, features
from service.embed import Embedder
from service.figures import attribution, by_sentence, mentions
from service.verify import normal, numbers, stems

SIMILARITY = 85.0
"""Token-set ratio (0-100) above which two claims with the same numbers are one."""


T = TypeVar("T")

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
    numbers: frozenset[str]
    """The numbers ``text`` states (``verify.numbers``), worked out once."""


@dataclass
class _Group:
    kind: ClaimKind
    text: str
    numbers: frozenset[str]
    figures: Figures
    support: list[Support] = field(default_factory=list)
    members: list[_Member] = field(default_factory=list)
    articles: set[str] = field(default_factory=set)
    """The article ids of ``members``."""

    def add(self, member: _Member, support: Support) -> None:
        self.support.append(support)
        self.members.append(member)
        self.articles.add(member.article_id)

    def score(self, member: _Member, aligner: Aligner) -> float:
        """How well a claim joins this group: 0 when it does not."""
        if self.reworded(member):
            # nearly the same wording, unless it names other people or another act
            return 2.0 if aligner.compatible(member.text, self.members[0].text) else 0.0
        if member.article_id in self.articles:
            return 0.0  # an outlet states a fact once; its other sentences are other facts
        if same_figures(member.figures, self.figures):
            return 1.5  # the same values for the same counted quantities
        return self.aligned(member, aligner)

    def reworded(self, member: _Member) -> bool:
        """Whether ``member`` has this group's numbers and nearly its claim's wording."""
        if member.numbers != self.numbers:
            return False
        # verify.overlap, each text normalised once: a claim is compared with many groups
        return fuzz.token_set_ratio(_wording(member.text), _wording(self.text)) >= SIMILARITY

    def compares(self, member: _Member) -> bool:
        """Whether ``score`` shows ``member``'s text to the aligner (unless a test of
        figures or outlets decides first)."""
        if self.reworded(member):
            return True
        if member.article_id in self.articles or same_figures(member.figures, self.figures):
            return False
        return not self.conflicts(member)

    def conflicts(self, member: _Member) -> bool:
        """Whether ``member`` gives another value for a quantity a statement here counts."""
        return bool(member.figures) and any(
            conflict(member.figures, m.figures) for m in self.members
        )

    def aligned(self, member: _Member, aligner: Aligner) -> float:
        """How alike ``member`` and this group's claim are, 0 if a guard fails."""
        if self.conflicts(member):
            return 0.0
        counts = aligner.of(member.text).numbers
        if not all(compatible_numbers(counts, aligner.of(m.text).numbers) for m in self.members):
            return 0.0
        # each statement is compared with the claim's own (its first): a group does not
        # drift, statement by statement, from what its claim says
        return aligner.affinity(member.text, self.members[0].text)


@lru_cache(maxsize=8192)
def _wording(text: str) -> str:
    return normal(text)


def _alike(text: str, wordings: list[str]) -> Iterable[int]:
    """The positions of the ``wordings`` that may be nearly ``text``'s (``_Group.reworded``
    decides): one loop in rapidfuzz's C code leaves out those well below the threshold."""
    cutoff = SIMILARITY - 5  # a margin: never one that reworded would take
    found = process.extract(
        _wording(text),
        wordings,
        scorer=fuzz.token_set_ratio,
        processor=None,
        score_cutoff=cutoff,
        limit=None,
    )
    return (index for _, _, index in found)


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


class _Grouping:
    """The claim groups so far, indexed by what a claim must share with a group's claim to
    score above 0 (see ``_Group.score``): its numbers, a quantity it counts, or
    ``MIN_SHARED_WORDS`` content words (``Aligner.compatible``). A claim is scored against
    those groups only.

    The aligner weighs a feature no sentence has by how many texts it has been shown, so when
    it is first shown a claim is part of the result. A claim is shown to it before the groups
    are scored when scoring every group in turn would show it (nothing before that depends on
    it), and every group is scored in turn, as without the index, while a group holds a text
    the aligner has not been shown.
    """

    def __init__(self, aligner: Aligner) -> None:
        self.aligner = aligner
        self.groups: list[_Group] = []
        self._by_numbers: dict[frozenset[str], list[int]] = defaultdict(list)
        self._wordings: dict[frozenset[str], list[str]] = defaultdict(list)
        """The wording of the groups of ``_by_numbers``, in its order."""
        self._by_quantity: dict[int, list[int]] = defaultdict(list)
        self._near: Index[int] = Index()
        self._by_first: dict[str, int] = {}
        """The first group whose claim is each text."""
        self._unseen: list[str] = []
        """Texts of the groups' statements the aligner has not been shown."""

    def join(self, member: _Member, kind: ClaimKind, support: Support) -> None:
        """Add ``member`` to the group it scores best with, or to a new group."""
        best, index = self._best(member)
        if best <= 0:
            index = self._found(member, kind)
        self.groups[index].add(member, support)
        if not self.aligner.knows(member.text):
            self._unseen.append(member.text)

    def _best(self, member: _Member) -> tuple[float, int]:
        self._unseen = [t for t in self._unseen if not self.aligner.knows(t)]
        if self._unseen:
            candidates: Iterable[int] = range(len(self.groups))
        else:
            unseen = not self.aligner.knows(member.text)  # a claim is mostly its sentence
            if unseen and any(g.compares(member) for g in self.groups):
                self.aligner.of(member.text)
            candidates = sorted(self._candidates(member))
        scored = [(self.groups[i].score(member, self.aligner), i) for i in candidates]
        return max(scored, default=(0.0, -1))

    def _candidates(self, member: _Member) -> set[int]:
        found = self._near.near(features(member.text))
        found.update(self._by_first.get(t, -1) for t in self.aligner.close(member.text))
        found.discard(-1)
        same = self._by_numbers.get(member.numbers, [])
        found.update(same[i] for i in _alike(member.text, self._wordings[member.numbers]))
        found.update(i for q in member.figures for i in self._by_quantity.get(q, ()))
        return found

    def _found(self, member: _Member, kind: ClaimKind) -> int:
        index = len(self.groups)
        self.groups.append(_Group(kind, member.text, member.numbers, member.figures))
        self._by_numbers[member.numbers].append(index)
        self._wordings[member.numbers].append(_wording(member.text))
        for quantity in member.figures:
            self._by_quantity[quantity].append(index)
        self._near.add(index, features(member.text))
        self._by_first.setdefault(member.text, index)  # a paraphrase's way in (embeddings)
        return index


def read_ahead(article: Article) -> None:
    """Work out what merging ``article`` needs of its sentences that no claim changes: their
    figures, both ways ``figures`` reads them, and their features (each remembered by its
    function: ``figures.mentions``, ``align.features``), so that it is ready when the claims
    come. The merge's result is the same with or without it."""
    for sentence in article.kept:
        features(sentence.text)
    for scoped in (False, True):
        deque(mentions(article, scoped=scoped), maxlen=0)


def merge(
    claims: Sequence[ArticleClaims], articles: Sequence[Article], embedder: Embedder | None = None
) -> list[MergedClaim]:
    """Merged claims, in order of first appearance, ids ``c1``, ``c2``, ... With an
    ``embedder`` (``service.embed``), paraphrases align too."""
    by_id = {a.id: a for a in articles}
    source_of = {a.id: by_id.get(a.duplicate_of or a.id, a).source for a in articles}
    table = by_sentence(articles)
    aligner = Aligner([s.text for a in articles for s in a.kept], embedder)
    grouping = _Grouping(aligner)
    for item in claims:
        article = by_id[item.article_id]
        for claim in item.extraction.claims:
            evidence = sorted(set(claim.evidence))
            figures = _stated(table, article.id, evidence)
            member = _Member(article.id, claim.text, figures, numbers(claim.text))
            grouping.join(member, claim.kind, _support(article, evidence, claim.text))
    groups = grouping.groups
    _corroborate(groups, articles, table, aligner)
    return [_merged(i, g, source_of) for i, g in enumerate(groups, 1)]


Key = tuple[str, int]
"""A sentence: (article id, sentence id)."""


MIN_UNPICKED = 0.225
"""Similarity (see ``align``) an outlet's sentence no claim was drawn from needs to a
claim to be added as its support."""
MIN_MUTUAL = 0.8
"""Share of each sentence's content words the other must hold for two sentences from
different articles to state the same thing (when they give no figures to compare)."""


@dataclass(frozen=True)
class _Sentences:
    """The articles' kept sentences, worked out once, and indexes of what they hold: a claim
    is compared only with the sentences that have something in common with it."""

    sentences: dict[Key, Sentence]
    members: dict[Key, _Member]
    """Each sentence as a statement (its figures and numbers)."""
    words: dict[Key, set[str]]
    """The stems of each (``verify.stems``)."""
    aligner: Aligner
    comparable: Index[Key]
    by_stem: dict[str, set[Key]]
    by_value: dict[tuple[int, frozenset[str]], set[Key]]
    """The sentences giving each value of each quantity (``figures.by_sentence``)."""
    by_text: dict[str, set[Key]]
    """The sentences of each text (for the aligner's paraphrases, found by text)."""

    @classmethod
    def index(cls, articles: Sequence[Article], table: Table, aligner: Aligner) -> "_Sentences":
        sentences = {(a.id, s.id): s for a in articles for s in a.kept}
        members = {
            k: _Member(k[0], s.text, _stated(table, k[0], [k[1]]), numbers(s.text))
            for k, s in sentences.items()
        }
        words = {k: stems(s.text) for k, s in sentences.items()}
        comparable: Index[Key] = Index()
        for key, sentence in sentences.items():
            comparable.add(key, aligner.of(sentence.text))
        by_value = _inverted({k: m.figures.items() for k, m in members.items()})
        by_text = _inverted({k: [s.text] for k, s in sentences.items()})
        return cls(
            sentences, members, words, aligner, comparable, _inverted(words), by_value, by_text
        )

    def near(self, group: _Group) -> dict[str, list[int]]:
        """The sentences that may align with ``group``'s claim (``_Group.aligned``), by
        article: those whose numbers can be its numbers and that may pass the aligner's
        guards with it. While the aligner has not been shown all of the group's statements,
        all those sharing enough words with it: ``aligned`` shows it them before it compares
        who is named, and what it has been shown is part of the result."""
        first = self.aligner.of(group.members[0].text)
        seen = all(self.aligner.knows(m.text) for m in group.members)
        near = self.comparable.near(first) if seen else self.comparable.sharing(first)
        close = self.aligner.close(group.members[0].text)  # paraphrases (embeddings)
        near |= {k for t in close for k in self.by_text.get(t, ())}
        counts = group.numbers
        return _by_article(k for k in near if compatible_numbers(self.members[k].numbers, counts))

    def stating(self, group: _Group, mine: set[str]) -> dict[str, list[int]]:
        """The sentences that may state ``group``'s claim as ``_states`` tests it, by article:
        those giving one of its values for a quantity it counts, or, when it counts none,
        those holding enough of its words."""
        if group.figures:
            return _by_article(k for q in group.figures.items() for k in self.by_value.get(q, ()))
        least = MIN_MUTUAL * len(mine)
        # a sentence holding ``least`` of the words misses at most the others: it holds one
        # of any ``len(mine) - ceil(least) + 1`` of them, so the rarest are looked up
        rarest = sorted(mine, key=lambda w: (len(self.by_stem.get(w, ())), w))
        looked_up = rarest[: len(mine) - math.ceil(least) + 1]
        found = {k for w in looked_up for k in self.by_stem.get(w, ())}
        return _by_article(k for k in found if len(mine & self.words[k]) >= least)


def _inverted(features: Mapping[Key, Iterable[T]]) -> dict[T, set[Key]]:
    index: dict[T, set[Key]] = defaultdict(set)
    for key, found in features.items():
        for feature in found:
            index[feature].add(key)
    return dict(index)


def _by_article(keys: Iterable[Key]) -> dict[str, list[int]]:
    # in each article, in the order of its sentences: what the first or best is taken from
    found: dict[str, list[int]] = defaultdict(list)
    for article_id, sentence_id in sorted(set(keys)):
        found[article_id].append(sentence_id)
    return found


def _corroborate(
    groups: list[_Group], articles: Sequence[Article], table: Table, aligner: Aligner
) -> None:
    # A claim is a source sentence the model picked; another outlet may state it in a
    # sentence the model did not pick. The sentence that states it best is added as support.
    known = _Sentences.index(articles, table, aligner)
    for group in groups:
        cited = {s.article_id for s in group.support}
        near = known.near(group)
        mine = stems(group.text)
        stating = known.stating(group, mine)
        for article in articles:
            if article.id in cited or not (article.id in near or article.id in stating):
                continue  # none of its sentences has anything in common with the claim
            found = _best_statement(group, mine, article.id, known, stating, near)
            if found is not None:
                key = (article.id, found)
                group.add(known.members[key], _support(article, [found], known.sentences[key].text))


def _best_statement(
    group: _Group,
    mine: set[str],
    article_id: str,
    known: _Sentences,
    stating: dict[str, list[int]],
    near: dict[str, list[int]],
) -> int | None:
    may_state = stating.get(article_id, [])
    found = next((i for i in may_state if _states(group, mine, (article_id, i), known)), None)
    if found is not None:
        return found
    candidates = near.get(article_id, [])
    scored = [(group.aligned(known.members[(article_id, i)], known.aligner), i) for i in candidates]
    best, sentence_id = max(scored, default=(0.0, 0))
    return sentence_id if best >= MIN_UNPICKED else None


def _states(group: _Group, mine: set[str], key: Key, known: _Sentences) -> bool:
    statement = known.members[key]
    if group.figures or statement.figures:
        return same_figures(group.figures, statement.figures)
    theirs = known.words[key]
    if not mine or not theirs or statement.numbers != group.numbers:
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
