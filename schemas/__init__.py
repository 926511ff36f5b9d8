"""The pydantic models every model reply and every output of newsbrief must satisfy.

Model replies (validated, re-asked when invalid):
    Extraction     -- one article's summary and claims (``extract`` stage)
    Draft          -- the composer's sentences, each naming merged claims (``compose`` stage)

Data passed between stages and returned to users:
    Article, Sentence          -- ingested input with sentence ids and character offsets
    ArticleClaims              -- a validated Extraction bound to its article
    MergedClaim, Support       -- claims grouped across articles
    Briefing and its parts     -- the final, cited output
"""

from schemas.article import Article, Removal, RemovedKind, Sentence, SetAside
from schemas.briefing import (
    Briefing,
    BriefSentence,
    Check,
    Citation,
    Disagreement,
    DroppedSentence,
    FigureValue,
    RepairedSentence,
    Section,
    Skipped,
    Source,
    StageUsage,
    Usage,
)
from schemas.compose import Draft, DraftSection, DraftSentence
from schemas.extraction import (
    ArticleClaims,
    ClaimKind,
    ExtractedClaim,
    Extraction,
    RejectedClaim,
)
from schemas.merged import ClaimStatus, MergedClaim, Support

__all__ = [
    "Article",
    "ArticleClaims",
    "BriefSentence",
    "Briefing",
    "Check",
    "Citation",
    "ClaimKind",
    "ClaimStatus",
    "Disagreement",
    "Draft",
    "DraftSection",
    "DraftSentence",
    "DroppedSentence",
    "ExtractedClaim",
    "Extraction",
    "FigureValue",
    "MergedClaim",
    "RejectedClaim",
    "Removal",
    "RemovedKind",
    "RepairedSentence",
    "Section",
    "Sentence",
    "SetAside",
    "Skipped",
    "Source",
    "StageUsage",
    "Support",
    "Usage",
]
