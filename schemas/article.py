"""An ingested article: its text split into sentences with stable ids and offsets."""

from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from schemas._docs import Documented


class RemovedKind(StrEnum):
    """Why a span of an article was set aside before the model saw it."""

    BOILERPLATE = "boilerplate"
    CAPTION = "caption"
    COMMENTS = "comments"
    HEADLINE = "headline"
    REPEATED = "repeated"
    FRAGMENT = "fragment"
    OFF_TOPIC = "off-topic"
    SUSPECTED_INJECTION = "suspected-injection"
    MARKUP = "markup"
    TOO_LONG = "too-long"


class Removal(Documented):
    """A span of an article's text that the clean-up set aside."""

    model_config = ConfigDict(frozen=True)

    kind: RemovedKind
    """What the span was taken for."""
    start: int = Field(ge=0)
    """Offset of the span's first character in the article text."""
    end: int = Field(ge=0)
    """Offset just past the span's last character."""
    reason: str
    """The rule that matched, in a few words."""


def _covered(removed: Sequence[Removal]) -> tuple[list[int], list[int]]:
    """The union of the spans, as sorted starts and their ends (no two overlap)."""
    starts: list[int] = []
    ends: list[int] = []
    for r in sorted(removed, key=lambda r: r.start):
        if ends and r.start <= ends[-1]:
            ends[-1] = max(ends[-1], r.end)
        else:
            starts.append(r.start)
            ends.append(r.end)
    return starts, ends


def _inside(offset: int, starts: list[int], ends: list[int]) -> bool:
    """Whether ``offset`` falls in one of the spans (a binary search)."""
    index = bisect_right(starts, offset) - 1
    return index >= 0 and offset < ends[index]


def covered_by(removed: Sequence[Removal]) -> Callable[[int], bool]:
    """A test of whether an offset falls in one of ``removed``'s spans, each test a binary
    search (a test per line of a long article stays linear in all)."""
    starts, ends = _covered(removed)
    return lambda offset: _inside(offset, starts, ends)


class Sentence(Documented):
    """One sentence of an article, addressable by id and traceable to characters."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(ge=1)
    """Position of the sentence in the article, from 1; stable for the same text."""
    start: int = Field(ge=0)
    """Offset of the sentence's first character in the article text."""
    end: int = Field(ge=0)
    """Offset just past the sentence's last character in the article text."""
    text: str
    """The sentence itself, equal to ``article.text[start:end]``."""


class SetAside(Removal):
    """A removed span quoted with its article, for reports (suspected injections)."""

    origin: str
    """The article's input."""
    text: str
    """The text set aside."""


class Article(Documented):
    """One input article, as the pipeline sees it after ingestion."""

    model_config = ConfigDict(frozen=True)

    id: str
    """Content hash of the text (12 hex digits): the same text always has the same id."""
    source: str
    """Name of the outlet or file the article came from."""
    origin: str
    """Where it was read from: a path, or ``<stdin>``."""
    title: str | None = None
    """The headline, when the input has one."""
    url: str | None = None
    """The page's canonical URL, when known."""
    published: datetime | None = None
    """When it was published, when the input says."""
    author: str | None = None
    """Who wrote it, when the input says."""
    duplicate_of: str | None = None
    """The id of an earlier article with (nearly) the same text: they count as one source."""
    text: str
    """The full text the sentence offsets refer to."""
    sentences: list[Sentence]
    """The whole text split into sentences, in order (ids do not change with clean-up; a
    sentence opened by a dateline or label it set aside starts after it)."""
    removed: list[Removal] = []
    """Spans set aside by the clean-up (boilerplate, captions, comments, ...), with why."""

    def sentence(self, sentence_id: int) -> Sentence:
        """Return the sentence with this id (ids start at 1)."""
        return self.sentences[sentence_id - 1]

    @property
    def kept(self) -> list[Sentence]:
        """The sentences the clean-up kept: all the model ever sees."""
        removed = covered_by(self.removed)
        return [s for s in self.sentences if not removed(s.start)]

    @property
    def sentence_ids(self) -> frozenset[int]:
        """The ids of the kept sentences: the only ones a claim may cite."""
        return frozenset(s.id for s in self.kept)
