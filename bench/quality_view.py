"""What the quality metrics read of a briefing: its lines, its "Where sources differ" rows and
its documents, each named ``D1``..``Dn`` as in the keys.

A :class:`View` is plain data, so the metric tests build one by hand; :func:`view_of` builds it
from a real :class:`schemas.Briefing` and the cluster's files. A briefing's article is mapped to
its document by the article's origin, the file it was read from.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from schemas import Article, Briefing, BriefSentence, Citation
from service.compose import FALLBACK_TITLE


@dataclass(frozen=True)
class Line:
    """One briefing sentence (lede, sections and the "Also reported" top-up alike)."""

    text: str
    docs: frozenset[str]
    """The documents its citations name."""
    cited: str = ""
    """The text of the source sentences it cites, joined."""
    resolves: bool = True
    """Every citation names a numbered source of the briefing and existing sentences."""


@dataclass(frozen=True)
class Shown:
    """One value of a "Where sources differ" row."""

    value: str
    docs: frozenset[str] = frozenset()
    attribution: str = ""


@dataclass(frozen=True)
class Row:
    """One "Where sources differ" row: what is counted or dated, and every value shown."""

    topic: str
    values: tuple[Shown, ...]

    @property
    def text(self) -> str:
        """The topic and the values, as the key's ``match`` reads them."""
        return " ".join([self.topic, *(v.value for v in self.values)])


@dataclass(frozen=True)
class Doc:
    """One input document of the cluster, as the briefing treated it."""

    name: str
    text: str
    read: bool = True
    """Among the briefing's articles (skipped or unused ones are not)."""
    set_aside: float = 0.0
    """Share of its sentences' characters that the clean-up set aside."""
    why_not_read: str = ""


@dataclass(frozen=True)
class View:
    """A briefing, as the metrics see it."""

    title: str
    lines: tuple[Line, ...]
    rows: tuple[Row, ...] = ()
    docs: Mapping[str, Doc] = field(default_factory=dict)
    source_sentences: tuple[str, ...] = ()
    """Every sentence of the articles it read: what a line may have been copied from."""

    @property
    def untitled(self) -> bool:
        """The briefing fell back to the generic title."""
        return self.title.strip() == FALLBACK_TITLE


def view_of(briefing: Briefing, files: Mapping[str, Path]) -> View:
    """The view of ``briefing``, whose inputs were ``files`` (document name -> path)."""
    name_of = {path.name: name for name, path in files.items()}
    doc_of = {a.id: name_of.get(Path(a.origin).name, a.origin) for a in briefing.articles}
    articles = {a.id: a for a in briefing.articles}
    lines = tuple(_line(s, briefing, articles, doc_of) for s in briefing.all_sentences())
    rows = tuple(
        Row(d.topic, tuple(_shown(v.value, v.attribution, v.citations, doc_of) for v in d.values))
        for d in briefing.disagreements
    )
    read = {doc_of[a.id]: a for a in briefing.articles}
    docs = {name: _doc(name, path, read.get(name), briefing) for name, path in files.items()}
    sentences = tuple(s.text for a in briefing.articles for s in a.sentences)
    return View(briefing.title, lines, rows, docs, sentences)


def _shown(
    value: str, attribution: list[str], cited: list[Citation], doc_of: Mapping[str, str]
) -> Shown:
    docs = frozenset(doc_of.get(c.article_id, c.article_id) for c in cited)
    return Shown(value, docs, "; ".join(attribution))


def _line(
    sentence: BriefSentence,
    briefing: Briefing,
    articles: Mapping[str, Article],
    doc_of: Mapping[str, str],
) -> Line:
    numbers = {s.number: s.article_id for s in briefing.sources}
    resolves = all(_resolves(c, numbers, articles) for c in sentence.citations)
    cited = [
        articles[c.article_id].sentence(i).text
        for c in sentence.citations
        if _resolves(c, numbers, articles)
        for i in c.sentence_ids
    ]
    docs = frozenset(doc_of.get(c.article_id, c.article_id) for c in sentence.citations)
    return Line(sentence.text, docs, " ".join(cited), resolves)


def _resolves(
    citation: Citation, numbers: Mapping[int, str], articles: Mapping[str, Article]
) -> bool:
    article = articles.get(citation.article_id)
    if article is None or numbers.get(citation.source) != citation.article_id:
        return False
    return all(1 <= i <= len(article.sentences) for i in citation.sentence_ids)


def _doc(name: str, path: Path, article: Article | None, briefing: Briefing) -> Doc:
    text = path.read_text(encoding="utf-8", errors="replace")
    if article is None:
        return Doc(name, text, read=False, set_aside=1.0, why_not_read=_why(path, briefing))
    total = sum(len(s.text) for s in article.sentences) or 1
    kept = sum(len(s.text) for s in article.kept)
    return Doc(name, text, set_aside=1 - kept / total)


def _why(path: Path, briefing: Briefing) -> str:
    reasons = [s.reason for s in briefing.skipped if Path(s.subject).name == path.name]
    return reasons[0] if reasons else "no claim of it was used"
