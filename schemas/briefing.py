"""The briefing returned to users: every sentence traceable to source sentences."""

from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import ConfigDict, Field

from schemas._docs import Documented
from schemas.article import Article, SetAside
from schemas.extraction import RejectedClaim
from schemas.merged import ClaimStatus, MergedClaim


class Citation(Documented):
    """A pointer from a briefing sentence to the source sentences that back it."""

    model_config = ConfigDict(frozen=True)

    source: int = Field(ge=1)
    """The source's number in ``Briefing.sources`` (shown as ``[n]``)."""
    article_id: str
    """The cited article."""
    sentence_ids: list[int] = Field(min_length=1)
    """The cited sentences of that article."""


class Check(Documented):
    """One check run on a briefing sentence before it was shown."""

    model_config = ConfigDict(frozen=True)

    name: str
    """What was checked: ``citations``, ``numbers``, ``names``, ``quotes`` or ``wording``."""
    passed: bool
    """Whether the sentence as first written passed it."""
    detail: str = ""
    """What failed, or what was checked against."""


def citations(cited: Iterable[tuple[str, int]], number_of: Mapping[str, int]) -> list[Citation]:
    """One citation per source for (article id, sentence id) pairs, in source order."""
    ids: dict[str, set[int]] = {}
    for article_id, sentence_id in cited:
        ids.setdefault(article_id, set()).add(sentence_id)
    found = (
        Citation(source=number_of[a], article_id=a, sentence_ids=sorted(s)) for a, s in ids.items()
    )
    return sorted(found, key=lambda c: c.source)


class BriefSentence(Documented):
    """One sentence of the briefing with its resolved citations."""

    model_config = ConfigDict(frozen=True)

    text: str
    """The sentence as written by the composer."""
    claim_ids: list[str] = Field(min_length=1)
    """The merged claims it states."""
    citations: list[Citation] = Field(min_length=1)
    """Where those claims come from, one entry per source."""
    status: ClaimStatus
    """contested when it states a figure the sources give differently, else corroborated
    when any of its claims has two or more sources, else single-source."""
    checks: list[Check] = []
    """The checks run on it before it was shown, with their outcomes."""
    outcome: str = "as written"
    """``as written``, ``repaired`` (reworded from its claims) or ``from claims`` (added by
    code in the claims' own wording)."""


class Section(Documented):
    """A headed part of the briefing."""

    model_config = ConfigDict(frozen=True)

    heading: str
    """The section heading."""
    sentences: list[BriefSentence]
    """Its sentences, in reading order."""
    from_claims: bool = False
    """True when code filled this section with claims in their own wording, because the
    composer's draft was too thin after its checks."""


class FigureValue(Documented):
    """One value that some sources give for a disputed figure."""

    model_config = ConfigDict(frozen=True)

    value: str
    """The value as the sources state it, such as ``about 600`` or ``April``."""
    attribution: list[str] = []
    """Who the sources say gave it, in their words, such as ``Seoul's spy agency``."""
    citations: list[Citation] = Field(min_length=1)
    """The source sentences that give it."""


class Disagreement(Documented):
    """A figure, count or date that the sources give differently."""

    model_config = ConfigDict(frozen=True)

    topic: str
    """What is counted or dated, such as ``killed (soldiers)``."""
    values: list[FigureValue] = Field(min_length=2)
    """Every value given, each with its sources; the most widely reported first."""
    revisions: list[str] = []
    """Changes over time that a source reports ("first X, later Y"): not contradictions."""
    claim_ids: list[str] = []
    """Merged claims that state one of the values (their status is ``contested``)."""


class Source(Documented):
    """A numbered source of the briefing."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    """The number citations use."""
    article_id: str
    """The article behind it."""
    name: str
    """The outlet or file name."""
    title: str | None = None
    """The article's headline, if known."""
    origin: str
    """Where the article was read from."""
    url: str | None = None
    """The article's URL, if known."""
    published: datetime | None = None
    """When it was published, if known."""
    duplicate_of: int | None = None
    """The number of the source whose text this one nearly repeats (counted once)."""


class Skipped(Documented):
    """An input, article or step that did not make it into the briefing."""

    model_config = ConfigDict(frozen=True)

    stage: str
    """Where it failed: ingest, extract or compose."""
    subject: str
    """What failed: a path, an article id or a sentence."""
    reason: str
    """The last error, in one line."""


class DroppedSentence(Documented):
    """A composed sentence that failed validation and was left out."""

    model_config = ConfigDict(frozen=True)

    text: str
    """The sentence the composer wrote."""
    reason: str
    """Why it was dropped."""


class RepairedSentence(Documented):
    """A composed sentence whose wording its claims did not back, replaced by theirs."""

    model_config = ConfigDict(frozen=True)

    text: str
    """The sentence the composer wrote."""
    reason: str
    """What the check found."""
    replacement: str
    """The claims' own wording, shown instead."""


class Counts(Documented):
    """Calls, cache hits and tokens."""

    calls: int = 0
    """Model calls made (cache misses), re-asks and retries included."""
    cache_hits: int = 0
    """Replies served from the cache, costing no tokens."""
    prompt_tokens: int = 0
    """Prompt tokens of the calls made."""
    completion_tokens: int = 0
    """Completion tokens of the calls made."""


class StageUsage(Counts):
    """What one stage's model calls cost."""

    seconds: float = 0.0
    """Time spent in this stage's calls, added up (calls may overlap)."""


class Usage(Counts):
    """What a run cost."""

    cost_usd: float | None = None
    """Cost where the provider's price is known, else None."""
    fallbacks: int = 0
    """Times the run moved on to a fallback model."""
    stages: dict[str, StageUsage] = {}
    """The same figures per reply schema: ``Extraction`` (per article) and ``Draft``."""


class Briefing(Documented):
    """One consolidated, cited briefing of several articles."""

    title: str
    """The headline."""
    lede: list[BriefSentence]
    """The opening sentences."""
    sections: list[Section]
    """The body."""
    sources: list[Source]
    """Numbered sources; citations refer to these numbers."""
    claims: list[MergedClaim]
    """The merged claims the sentences state."""
    articles: list[Article]
    """The ingested articles, with sentence ids and character offsets."""
    skipped: list[Skipped] = []
    """Inputs, articles and steps that were left out, and why."""
    dropped: list[DroppedSentence] = []
    """Composed sentences that failed validation and were left out."""
    repaired: list[RepairedSentence] = []
    """Composed sentences whose wording was replaced by their claims' wording."""
    disagreements: list[Disagreement] = []
    """Figures, counts and dates the sources give differently ("Where sources differ")."""
    suspected_injections: list[SetAside] = []
    """Lines of any input that read as instructions to the model, set aside unread."""
    set_aside: list[str] = []
    """Articles most of whose text the clean-up set aside, each with how much, what and why."""
    rejected_claims: list[RejectedClaim] = []
    """Extracted claims that their evidence sentences did not state."""
    as_of: datetime | None = None
    """Publication time of the newest source, when any source has one."""
    model: str
    """The model that wrote it."""
    generated_at: datetime
    """When it was produced (UTC)."""
    usage: Usage
    """Calls, cache hits and tokens of the run."""

    def all_sentences(self) -> list[BriefSentence]:
        """Every sentence, lede first."""
        return [*self.lede, *(s for sec in self.sections for s in sec.sentences)]
