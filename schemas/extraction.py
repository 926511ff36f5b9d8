"""The extraction reply (claims of one article cited by sentence id, and a summary) and the
claims the pipeline builds from it, in the article's words."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from schemas._docs import Documented

MAX_CLAIMS = 5
"""Claims asked of each article: enough for a briefing, few enough to keep replies short."""
MAX_EVIDENCE = 1
"""Sentences one claim may rest on. One: a small model asked for "one or two" pairs
unrelated neighbours, and a claim in its source's words is one sentence."""


class ClaimKind(StrEnum):
    """What sort of statement a claim is."""

    FACT = "fact"
    FIGURE = "figure"
    QUOTE = "quote"
    OPINION = "opinion"
    ATTRIBUTION = "attribution"


class ClaimPick(Documented):
    """One claim as the model gives it: the sentences that state it, never their text.

    Citing ids instead of copying words keeps the reply small (a third of the tokens on the
    embedded model) and makes every claim the source's own wording.
    """

    model_config = ConfigDict(extra="forbid")

    evidence: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=MAX_EVIDENCE)
    """The id of the article sentence that states the claim (a list, for other models)."""
    kind: ClaimKind
    """fact, figure (a number), quote, opinion or attribution (who said what)."""


class ExtractionReply(Documented):
    """The model's reply for one article: its main claims, by sentence id, and a summary.

    Validated with ``context={"sentence_ids": ...}`` so that evidence citing a sentence
    the article does not have is rejected (and re-asked), never accepted.
    """

    model_config = ConfigDict(extra="forbid")

    claims: list[ClaimPick] = Field(min_length=1, max_length=MAX_CLAIMS)
    """The article's main claims, most important first."""
    summary: str = Field(min_length=20, max_length=300)
    """One sentence: what the article reports."""

    @model_validator(mode="after")
    def _evidence_exists(self, info: ValidationInfo) -> Self:
        known = (info.context or {}).get("sentence_ids")
        if known is None:
            return self
        for number, claim in enumerate(self.claims, 1):
            missing = sorted(set(claim.evidence) - set(known))
            if missing:
                raise ValueError(
                    f"claim {number} cites sentence ids {missing} that the article does not "
                    "show; cite only ids given in brackets"
                )
        return self


class ExtractedClaim(Documented):
    """One checkable statement an article makes, in the article's words."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    """The claim: the text of its evidence sentences."""
    evidence: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    """Ids of the article sentences that state this claim."""
    kind: ClaimKind
    """fact, figure (a number), quote, opinion or attribution (who said what)."""


class Extraction(Documented):
    """One article's claims and summary, as the pipeline carries them on."""

    model_config = ConfigDict(extra="forbid")

    claims: list[ExtractedClaim] = Field(min_length=1, max_length=MAX_CLAIMS)
    """The article's main claims, most important first."""
    summary: str = Field(min_length=20, max_length=300)
    """One sentence: what the article reports."""


class RejectedClaim(Documented):
    """A claim the model gave that the grounding check did not accept."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    """The article it was read from."""
    text: str
    """The claim as the model wrote it."""
    reason: str
    """Why it was left out."""


class ArticleClaims(Documented):
    """A validated, grounded extraction bound to the article it came from."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    """Id of the article the claims were read from."""
    extraction: Extraction
    """The reply, keeping only claims its evidence sentences state."""
    rejected: list[RejectedClaim] = []
    """Claims left out, and why."""
    reanchored: int = 0
    """Claims whose evidence was moved to the sentence that states them."""
