"""The pydantic models every model reply and every output of newsbrief must satisfy.

Model replies (validated, re-asked when invalid):
    ExtractionReply -- one article's claims as sentence ids, and a summary (``extract``)
    Draft          -- the composer's sentences, each naming merged claims (``compose`` stage)

Data passed between stages and returned to users:
    Article, Sentence          -- ingested input with sentence ids and character offsets
    Extraction, ArticleClaims  -- a reply's claims in the article's words, bound to it
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
    ClaimPick,
    ExtractedClaim,
    Extraction,
    ExtractionReply,
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
    "ClaimPick",
    "ClaimStatus",
    "Disagreement",
    "Draft",
    "DraftSection",
    "DraftSentence",
    "DroppedSentence",
    "ExtractedClaim",
    "Extraction",
    "ExtractionReply",
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
