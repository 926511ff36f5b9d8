"""An ingested article: its text split into sentences with stable ids and offsets."""

from pydantic import BaseModel, ConfigDict, Field


class Sentence(BaseModel):
    """One sentence of an article, addressable by id and traceable to characters."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    id: int = Field(ge=1)
    """Position of the sentence in the article, from 1; stable for the same text."""
    start: int = Field(ge=0)
    """Offset of the sentence's first character in the article text."""
    end: int = Field(ge=0)
    """Offset just past the sentence's last character in the article text."""
    text: str
    """The sentence itself, equal to ``article.text[start:end]``."""


class Article(BaseModel):
    """One input article, as the pipeline sees it after ingestion."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    id: str
    """Content hash of the text (12 hex digits): the same text always has the same id."""
    source: str
    """Name of the outlet or file the article came from."""
    origin: str
    """Where it was read from: a path, or ``<stdin>``."""
    title: str | None = None
    """The headline, when the input has one."""
    text: str
    """The full text the sentence offsets refer to."""
    sentences: list[Sentence]
    """The text split into sentences, in order."""

    def sentence(self, sentence_id: int) -> Sentence:
        """Return the sentence with this id (ids start at 1)."""
        return self.sentences[sentence_id - 1]

    @property
    def sentence_ids(self) -> frozenset[int]:
        """Every valid sentence id of this article."""
        return frozenset(s.id for s in self.sentences)
