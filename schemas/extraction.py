"""The extraction reply: a summary and claims of one article, evidence cited by sentence id."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

MAX_CLAIMS = 5
CLAIM_TEXT_LIMIT = 220
"""Characters a claim's text may have: a short sentence (long ones cost output tokens)."""
"""Claims asked of each article: enough for a briefing, few enough to keep replies short."""


class ClaimKind(StrEnum):
    """What sort of statement a claim is."""

    FACT = "fact"
    FIGURE = "figure"
    QUOTE = "quote"
    OPINION = "opinion"
    ATTRIBUTION = "attribution"


class ExtractedClaim(BaseModel):
    """One checkable statement an article makes."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    text: str = Field(min_length=20, max_length=CLAIM_TEXT_LIMIT)
    """The claim in one short sentence, keeping the article's numbers, names and attribution."""
    evidence: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=4)
    """Ids of the article sentences that state this claim."""
    kind: ClaimKind
    """fact, figure (a number), quote, opinion or attribution (who said what)."""


class Extraction(BaseModel):
    """A model's reading of one article.

    Validated with ``context={"sentence_ids": ...}`` so that evidence citing a sentence
    the article does not have is rejected (and re-asked), never accepted.
    """

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    claims: list[ExtractedClaim] = Field(min_length=1, max_length=MAX_CLAIMS)
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


class RejectedClaim(BaseModel):
    """A claim the model gave that the grounding check did not accept."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    article_id: str
    """The article it was read from."""
    text: str
    """The claim as the model wrote it."""
    reason: str
    """Why it was left out."""


class ArticleClaims(BaseModel):
    """A validated, grounded extraction bound to the article it came from."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    article_id: str
    """Id of the article the claims were read from."""
    extraction: Extraction
    """The reply, keeping only claims its evidence sentences state."""
    rejected: list[RejectedClaim] = []
    """Claims left out, and why."""
    reanchored: int = 0
    """Claims whose evidence was moved to the sentence that states them."""
