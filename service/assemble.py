"""Stage 6, assemble: the results of every stage in, the finished :class:`Briefing` out.

The only place a briefing is built, in one call, complete: sources numbered in input order,
each sentence's claim ids resolved into citations by code, the headline chosen, and what was
skipped, rejected, set aside and spent on the way recorded. No stage changes it afterwards.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas import (
    Article,
    Briefing,
    BriefSentence,
    Check,
    ClaimStatus,
    Disagreement,
    DraftSentence,
    MergedClaim,
    RejectedClaim,
    Section,
    Skipped,
    Source,
    Usage,
)
from schemas.article import SetAside
from schemas.briefing import citations
from schemas.compose import FILL_HEADING
from service.compose import FALLBACK_TITLE, Composed, fit_title


@dataclass(frozen=True)
class StageResults:
    """What the stages produced for one briefing, before it is assembled."""

    composed: Composed
    claims: Sequence[MergedClaim]
    """The merged claims (contested ones marked)."""
    articles: Sequence[Article]
    """The articles the model read: the briefing's sources, in input order."""
    model: str
    """The model's name as shown to users."""
    disagreements: Sequence[Disagreement] = ()
    skipped: Sequence[Skipped] = ()
    """Inputs, articles and steps left out, in the order the stages met them."""
    rejected: Sequence[RejectedClaim] = ()
    injections: Sequence[SetAside] = ()
    set_aside: Sequence[str] = ()
    """One warning per article most of whose text the clean-up set aside."""
    usage: Usage | None = None
    """What the run cost up to now; None: nothing was spent."""


def assemble(results: StageResults) -> Briefing:
    """The finished briefing, every sentence's citations resolved by code."""
    composed, articles = results.composed, results.articles
    sources = number_sources(articles)
    resolve = _Resolver({c.id: c for c in results.claims}, sources, composed)
    return Briefing(
        title=headline(composed.draft.title, articles),
        lede=resolve.all(composed.draft.lede),
        sections=_sections(composed, resolve),
        sources=sources,
        claims=list(results.claims),
        articles=list(articles),
        skipped=list(results.skipped),
        dropped=composed.dropped,
        repaired=composed.repaired,
        disagreements=list(results.disagreements),
        suspected_injections=list(results.injections),
        set_aside=list(results.set_aside),
        rejected_claims=list(results.rejected),
        as_of=max((a.published for a in articles if a.published), default=None),
        model=results.model,
        generated_at=datetime.now(UTC),
        usage=results.usage or Usage(),
    )


def _sections(composed: Composed, resolve: "_Resolver") -> list[Section]:
    sections = [
        Section(heading=s.heading, sentences=resolve.all(s.sentences))
        for s in composed.draft.sections
    ]
    filled = [resolve.one(s, _FROM_CLAIMS, "from claims") for s in composed.filled]
    if filled:
        sections.append(Section(heading=FILL_HEADING, sentences=filled, from_claims=True))
    return sections


_FROM_CLAIMS = [
    Check(name="wording", passed=True, detail="the claim's own wording, grounded at extraction")
]


class _Resolver:
    """Turns draft sentences into cited briefing sentences, with their checks and outcome."""

    def __init__(
        self, claims: dict[str, MergedClaim], sources: list[Source], composed: Composed
    ) -> None:
        self.claims = claims
        self.sources = sources
        self.checks = composed.checks
        self.repaired = {r.replacement for r in composed.repaired}

    def all(self, sentences: Sequence[DraftSentence]) -> list[BriefSentence]:
        return [self.one(s, self.checks.get(s.text), self._outcome(s.text)) for s in sentences]

    def one(
        self, sentence: DraftSentence, record: list[Check] | None, outcome: str
    ) -> BriefSentence:
        return cite(sentence, self.claims, self.sources, record, outcome)

    def _outcome(self, text: str) -> str:
        return "repaired" if text in self.repaired else "as written"


def headline(title: str, articles: Sequence[Article]) -> str:
    """A source's own headline when there is one, else ``title`` (checked, or the fallback).

    A composed title passing the word checks can still relate the words wrongly ("North
    Korea's war with Ukraine"): a headline a source wrote is its own, checkable words. A
    headline that is a suspected injection is passed over for the next, or the fallback.
    """
    found = next((a.title for a in articles if fit_title(a.title)), None)
    return found or (title if fit_title(title) else FALLBACK_TITLE)


def number_sources(articles: Sequence[Article]) -> list[Source]:
    """One numbered source per article, in input order."""
    number_of = {a.id: i for i, a in enumerate(articles, 1)}
    return [
        Source(
            number=i,
            article_id=a.id,
            name=a.source,
            title=a.title,
            origin=a.origin,
            url=a.url,
            published=a.published,
            duplicate_of=number_of.get(a.duplicate_of or ""),
        )
        for i, a in enumerate(articles, 1)
    ]


def cite(
    sentence: DraftSentence,
    claims: dict[str, MergedClaim],
    sources: list[Source],
    record: list[Check] | None = None,
    outcome: str = "as written",
) -> BriefSentence:
    """Resolve a draft sentence's claim ids into source citations."""
    number_of = {s.article_id: s.number for s in sources}
    cited = [
        (support.article_id, i)
        for claim_id in sentence.claims
        for support in claims[claim_id].support
        for i in support.sentence_ids
    ]
    return BriefSentence(
        text=sentence.text,
        claim_ids=list(sentence.claims),
        citations=citations(cited, number_of),
        status=_status({claims[c].status for c in sentence.claims}),
        checks=record or [],
        outcome=outcome,
    )


def _status(statuses: set[ClaimStatus]) -> ClaimStatus:
    # contested wins: a sentence stating a disputed figure must never read as settled
    for status in (ClaimStatus.CONTESTED, ClaimStatus.SINGLE_SOURCE):
        if status in statuses:
            return status
    return ClaimStatus.CORROBORATED
