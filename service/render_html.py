"""A briefing as one self-contained HTML page in which every line can be checked in one click.

Each sentence shows its status and citations; a citation opens the cited sentences in their
paragraph of the source article, highlighted by their character offsets. The page loads
nothing: its CSS and script are inline, allowed by their hashes in a Content-Security-Policy
that forbids every other load, so markup that slipped into a source could neither run nor
fetch. Every string from a source reaches the page through Jinja2's autoescape, set up by
:func:`templates` for these pages and the email alike, with one rule for which URLs become
links (:func:`safe_url`); this module only prepares plain data for the templates.
Without JavaScript, citations are anchors whose panels CSS ``:target`` shows, and the rest
is native ``<details>``.
"""

import base64
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from schemas import (
    Article,
    Briefing,
    BriefSentence,
    Citation,
    ClaimStatus,
    Disagreement,
    FigureValue,
    Section,
    Source,
)
from schemas.compose import DIFFER_HEADING, SKIPPED_HEADING, SOURCES_HEADING
from service.render import check_line, safe_url, shown

TEMPLATES = Path(__file__).parent / "templates"
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Link:
    """A link made by code (never from a source): what it says and where it goes."""

    label: str
    href: str


@dataclass(frozen=True)
class PageNotes:
    """What a page of the digest archive adds around the briefing."""

    nav: list[Link] = field(default_factory=list)
    """Links back to the archive's indexes."""
    status: str = ""
    """``new`` or ``updated``."""
    since: list[str] = field(default_factory=list)
    """For an updated story: the articles added since the last digest."""
    last_sent: datetime | None = None
    """When the story was last in a digest."""
    history: list[Link] = field(default_factory=list)
    """Each digest the story was in, linked to the page as it was then."""
    fresh: frozenset[str] = frozenset()
    """Sentences not in the story's previous version (marked *new*)."""
    gone: list[str] = field(default_factory=list)
    """Sentences of the previous version that this one no longer has."""


@dataclass(frozen=True)
class Piece:
    """A run of article text with one look: plain, cited (highlighted) or set aside."""

    text: str
    cited: bool = False
    aside: str | None = None
    """Why the clean-up set it aside, when it did."""
    anchor: str | None = None
    """The id of a cited sentence's first piece, for links into the full text."""


@dataclass(frozen=True)
class Evidence:
    """One citation opened: a source's cited sentences in their paragraphs."""

    anchor: str
    owner: str
    """The anchor of what cites it (a sentence or a disputed value), where Close goes."""
    source: Source
    paragraphs: list[list[Piece]]
    full_text: str
    """The anchor of the first cited sentence in the article's full text."""


@dataclass(frozen=True)
class SentenceView:
    """A briefing sentence with its status, its opened citations and its checks."""

    anchor: str
    sentence: BriefSentence
    status: str
    evidence: list[Evidence]
    first_written: tuple[str, str] | None
    """What the composer wrote and why it was reworded, when it was."""


@dataclass(frozen=True)
class ValueView:
    """A disputed value with its opened citations."""

    anchor: str
    value: FigureValue
    evidence: list[Evidence]


@dataclass(frozen=True)
class ArticleView:
    """A source with its full text, cited sentences marked, and what was set aside."""

    anchor: str
    source: Source
    article: Article | None
    paragraphs: list[list[Piece]]
    set_aside: list[tuple[str, str, str]]
    """(kind, reason, text) of each span the clean-up set aside."""
    cited: int


@dataclass(frozen=True)
class Span:
    """A range of article text to mark."""

    start: int
    end: int
    cited: bool = False
    aside: str | None = None
    anchor: str | None = None


class Page:
    """The data the template needs, derived once from a briefing (no HTML here)."""

    def __init__(self, briefing: Briefing) -> None:
        self.briefing = briefing
        self.articles = {a.id: a for a in briefing.articles}
        self.by_number = {s.number: s for s in briefing.sources}
        self.repaired = {r.replacement.strip(): (r.text, r.reason) for r in briefing.repaired}
        self.cited = _cited_ids(briefing)

    def source_anchor(self, number: int) -> str:
        return f"src-{number}"

    def sentence_anchor(self, number: int, sentence_id: int) -> str:
        return f"src-{number}-s{sentence_id}"

    def sentences(self, sentences: list[BriefSentence], first: int) -> list[SentenceView]:
        """Views of ``sentences``, numbered on from ``first`` (their anchors)."""
        return [self._sentence(s, f"s{n}") for n, s in enumerate(sentences, first)]

    def _sentence(self, sentence: BriefSentence, anchor: str) -> SentenceView:
        return SentenceView(
            anchor=anchor,
            sentence=sentence,
            status=self.status(sentence),
            evidence=self.evidence(anchor, sentence.citations),
            first_written=self.repaired.get(sentence.text.strip()),
        )

    def status(self, sentence: BriefSentence) -> str:
        """How far the sources back a sentence, in words."""
        if sentence.status is ClaimStatus.CONTESTED:
            return "contested: sources differ"
        outlets = len({self._outlet(c.source) for c in sentence.citations})
        if sentence.status is ClaimStatus.SINGLE_SOURCE:
            return "one outlet" if outlets == 1 else "one outlet each"
        return f"corroborated by {outlets} outlets" if outlets > 1 else "corroborated"

    def _outlet(self, number: int) -> str:
        source = self.by_number.get(number)
        while source is not None and source.duplicate_of in self.by_number:
            source = self.by_number[source.duplicate_of]
        return source.name if source is not None else str(number)

    def evidence(self, anchor: str, citations: list[Citation]) -> list[Evidence]:
        """Each citation that resolves, opened: its sentences in their paragraphs."""
        return [e for c in citations if (e := self._evidence(anchor, c)) is not None]

    def _evidence(self, anchor: str, citation: Citation) -> Evidence | None:
        source, article = (
            self.by_number.get(citation.source),
            self.articles.get(citation.article_id),
        )
        if source is None or article is None:
            return None
        chosen = [
            article.sentence(i) for i in citation.sentence_ids if 0 < i <= len(article.sentences)
        ]
        spans = [Span(s.start, s.end, cited=True) for s in chosen]
        paragraphs = [
            pieces(article.text, lo, hi, spans) for lo, hi in paragraphs_of(article.text, spans)
        ]
        first = (
            self.sentence_anchor(source.number, chosen[0].id)
            if chosen
            else self.source_anchor(source.number)
        )
        return Evidence(f"{anchor}-ev-{source.number}", anchor, source, paragraphs, first)

    def article_views(self) -> list[ArticleView]:
        return [self._article(s) for s in self.briefing.sources]

    def _article(self, source: Source) -> ArticleView:
        anchor = self.source_anchor(source.number)
        article = self.articles.get(source.article_id)
        if article is None:
            return ArticleView(anchor, source, None, [], [], 0)
        ids = self.cited.get(article.id, set())
        spans = [
            Span(s.start, s.end, cited=True, anchor=self.sentence_anchor(source.number, s.id))
            for s in article.sentences
            if s.id in ids
        ]
        spans += [Span(r.start, r.end, aside=f"{r.kind}: {r.reason}") for r in article.removed]
        paragraphs = [
            pieces(article.text, m.start(), m.end(), spans) for m in _LINE.finditer(article.text)
        ]
        aside = [(str(r.kind), r.reason, article.text[r.start : r.end]) for r in article.removed]
        return ArticleView(anchor, source, article, paragraphs, aside, len(ids))


def _cited_ids(briefing: Briefing) -> dict[str, set[int]]:
    """Every sentence id cited anywhere in the briefing, per article."""
    cited: dict[str, set[int]] = {}
    values = (v for d in briefing.disagreements for v in d.values)
    citations = [c for s in briefing.all_sentences() for c in s.citations]
    for citation in [*citations, *(c for v in values for c in v.citations)]:
        cited.setdefault(citation.article_id, set()).update(citation.sentence_ids)
    return cited


def paragraphs_of(text: str, spans: list[Span]) -> list[tuple[int, int]]:
    """The lines of ``text`` (its paragraphs) that the spans touch, merged where they run on."""
    touched = [
        (m.start(), m.end())
        for m in _LINE.finditer(text)
        if any(s.start < m.end() and m.start() < s.end for s in spans)
    ]
    merged: list[tuple[int, int]] = []
    for lo, hi in touched:
        if merged and any(s.start < merged[-1][1] and lo < s.end for s in spans):
            merged[-1] = (merged[-1][0], hi)  # a sentence that runs across a line break
        else:
            merged.append((lo, hi))
    return merged


def pieces(text: str, lo: int, hi: int, spans: Iterable[Span]) -> list[Piece]:
    """``text[lo:hi]`` cut where any span starts or ends, each piece with its spans' look."""
    inside = [s for s in spans if s.start < hi and lo < s.end]
    cuts = sorted({lo, hi, *(max(lo, min(hi, x)) for s in inside for x in (s.start, s.end))})
    return [_piece(text, a, b, inside) for a, b in pairwise(cuts) if a < b]


def _piece(text: str, start: int, end: int, spans: list[Span]) -> Piece:
    over = [s for s in spans if s.start <= start and end <= s.end]
    return Piece(
        text=text[start:end],
        cited=any(s.cited for s in over),
        aside=next((s.aside for s in over if s.aside), None),
        anchor=next((s.anchor for s in over if s.anchor and s.start == start), None),
    )


def where(source: Source) -> str:
    """Where a source was read, as shown: its URL (:func:`service.render.safe_url`) or the
    file's name on one line, never a local path."""
    url = safe_url(source.url)
    return url or shown(Path(source.origin.split("#")[0]).name or source.origin)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@dataclass(frozen=True)
class Assets:
    """The page's inline CSS and script, and the policy that allows exactly them."""

    style: Markup
    script: Markup

    @property
    def policy(self) -> str:
        return (
            f"default-src 'none'; style-src {_hash(self.style)}; script-src {_hash(self.script)}; "
            "img-src 'none'; base-uri 'none'; form-action 'none'"
        )


@cache
def assets() -> Assets:
    """Our own static files, inlined as they are (they hold no source text)."""
    style = (TEMPLATES / "page.css").read_text(encoding="utf-8")
    script = (TEMPLATES / "page.js").read_text(encoding="utf-8")
    return Assets(Markup(style), Markup(script))


def templates(
    folder: Path,
    helpers: Mapping[str, Callable[..., Any]],
    finalize: Callable[[Any], Any] | None = None,
) -> jinja2.Environment:
    """Templates under ``folder`` as every page and email of ours has them: autoescape on,
    an undefined name an error, ``helpers`` callable from the templates, and ``finalize``
    (when given) applied to every value a template prints."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
    )
    env.globals.update(helpers)
    return env


@cache
def environment() -> jinja2.Environment:
    """The page templates."""
    return templates(TEMPLATES, {"safe_url": safe_url, "where": where})


def html(briefing: Briefing, notes: PageNotes | None = None) -> str:
    """The briefing as one self-contained HTML page; ``notes`` for a page of the archive."""
    page = Page(briefing)
    return render_page(
        "briefing.html",
        title=briefing.title,
        briefing=briefing,
        notes=notes or PageNotes(),
        nav=notes.nav if notes else [],
        lede=page.sentences(briefing.lede, 1),
        sections=list(_sections(page)),
        differ=[_differ(page, n, d) for n, d in enumerate(briefing.disagreements, 1)],
        articles=page.article_views(),
        check_line=check_line(briefing),
        headings={"differ": DIFFER_HEADING, "sources": SOURCES_HEADING, "skipped": SKIPPED_HEADING},
    )


def render_page(template: str, **context: Any) -> str:
    """Any page of ours (a briefing, an archive index): ``template`` with the inline assets."""
    return environment().get_template(template).render(assets=assets(), **context)


def _sections(page: Page) -> Iterator[tuple[Section, list[SentenceView]]]:
    first = len(page.briefing.lede) + 1
    for section in page.briefing.sections:
        yield section, page.sentences(section.sentences, first)
        first += len(section.sentences)


def _differ(page: Page, number: int, item: Disagreement) -> tuple[Disagreement, list[ValueView]]:
    anchors = [f"d{number}-v{i}" for i in range(1, len(item.values) + 1)]
    return item, [
        ValueView(a, v, page.evidence(a, v.citations))
        for a, v in zip(anchors, item.values, strict=True)
    ]
