"""The composer's reply: a briefing whose sentences name the merged claims they state."""

import re
import unicodedata
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from schemas._docs import Documented

FILL_HEADING = "Also reported"
DIFFER_HEADING = "Where sources differ"
SOURCES_HEADING = "Sources"
SKIPPED_HEADING = "Skipped and set aside"
RESERVED_HEADINGS = (
    FILL_HEADING,
    DIFFER_HEADING,
    SOURCES_HEADING,
    SKIPPED_HEADING,
    "Left out",
    "In this email",
    "Since the last digest",
)
"""Headings the renderers write themselves (Markdown and email); a composed section may not
take one, however it is spelled."""
_NOT_PLAIN = re.compile(r"[<>\[\]{}*_`#|\\~]|://")
"""Markup a heading may not hold: it is plain text."""


def heading_key(text: str) -> str:
    """What two headings share when one poses as the other: letters and digits only, NFKC,
    case folded ("Where  sources  differ!" and "where sources differ" give one key)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


RESERVED_KEYS = frozenset(heading_key(h) for h in RESERVED_HEADINGS)


def plain_heading(text: str) -> str:
    """``text`` if it is one line of plain text and not a reserved heading; else ValueError."""
    if any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in text):
        raise ValueError("a heading is one line, without control characters")
    if _NOT_PLAIN.search(text):
        raise ValueError("a heading is plain text, without markup, links or brackets")
    if heading_key(text) in RESERVED_KEYS:
        raise ValueError(f"{text.strip()!r} is a heading the briefing writes itself")
    return text


class DraftSentence(Documented):
    """One sentence of the draft briefing."""

    model_config = ConfigDict(extra="forbid")

    claims: list[str] = Field(min_length=1, max_length=4)
    """Ids of the merged claims this sentence states, such as ``c2``."""
    text: str = Field(min_length=20, max_length=400)
    """The sentence, stating only what those claims say."""


class DraftSection(Documented):
    """A headed group of sentences."""

    model_config = ConfigDict(extra="forbid")

    heading: Annotated[str, AfterValidator(plain_heading)] = Field(min_length=2, max_length=80)
    """A short heading."""
    sentences: list[DraftSentence] = Field(min_length=1, max_length=4)
    """The section's sentences, in reading order."""


class Draft(Documented):
    """The composer's briefing before citations are resolved.

    Validated with ``context={"claim_ids": ...}``: a sentence naming a claim that does
    not exist makes the reply invalid, so it is re-asked.
    """

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=10, max_length=100)
    """A headline for the whole story, at most twelve words."""
    lede: list[DraftSentence] = Field(min_length=1, max_length=2)
    """One or two sentences with the most important, best-supported facts."""
    sections: list[DraftSection] = Field(min_length=1, max_length=3)
    """The body of the briefing."""

    def all_sentences(self) -> list[DraftSentence]:
        """Every sentence, lede first."""
        return [*self.lede, *(s for sec in self.sections for s in sec.sentences)]

    @model_validator(mode="after")
    def _claims_exist(self, info: ValidationInfo) -> Self:
        known = (info.context or {}).get("claim_ids")
        if known is None:
            return self
        unknown = sorted({c for s in self.all_sentences() for c in s.claims} - set(known))
        if unknown:
            raise ValueError(f"sentences cite claim ids {unknown} that do not exist")
        return self
