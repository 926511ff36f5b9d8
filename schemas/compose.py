"""The composer's reply: a briefing whose sentences name the merged claims they state."""

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator


class DraftSentence(BaseModel):
    """One sentence of the draft briefing."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    claims: list[str] = Field(min_length=1, max_length=4)
    """Ids of the merged claims this sentence states, such as ``c2``."""
    text: str = Field(min_length=20, max_length=400)
    """The sentence, stating only what those claims say."""


class DraftSection(BaseModel):
    """A headed group of sentences."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    heading: str = Field(min_length=2, max_length=80)
    """A short heading."""
    sentences: list[DraftSentence] = Field(min_length=1, max_length=4)
    """The section's sentences, in reading order."""


class Draft(BaseModel):
    """The composer's briefing before citations are resolved.

    Validated with ``context={"claim_ids": ...}``: a sentence naming a claim that does
    not exist makes the reply invalid, so it is re-asked.
    """

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

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
