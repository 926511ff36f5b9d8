"""Claims grouped across articles, with the sources that support each."""

from enum import StrEnum

from pydantic import ConfigDict, Field

from schemas._docs import Documented
from schemas.extraction import ClaimKind


class ClaimStatus(StrEnum):
    """How well a merged claim is supported."""

    CORROBORATED = "corroborated"
    SINGLE_SOURCE = "single-source"
    CONTESTED = "contested"


class Support(Documented):
    """One article's statement of a merged claim."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    """The article that makes the claim."""
    sentence_ids: list[int] = Field(min_length=1)
    """The sentences of that article that state it."""
    text: str
    """The claim as extracted from that article."""
    attribution: str | None = None
    """Who that article says made the claim ("Seoul's spy agency", "state media"), in its
    words, when its sentence gives one: then it is not the outlet's own assertion."""


class MergedClaim(Documented):
    """A claim as stated by one or more articles."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^c\d+$")
    """Id the composer cites, such as ``c3``."""
    kind: ClaimKind
    """The kind of the first statement of the claim."""
    text: str
    """The claim's wording (from its first supporting article)."""
    support: list[Support] = Field(min_length=1)
    """Every article that states the claim."""
    sources: int = Field(ge=1)
    """How many distinct sources (outlets) state it."""
    status: ClaimStatus
    """corroborated (two or more sources), single-source, or contested (it states a figure
    that other sources give differently; see ``Briefing.disagreements``)."""
