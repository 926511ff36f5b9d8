"""Stage 1, ingest: files, folders, URLs, feeds and stdin into :class:`schemas.Article` objects.

:mod:`service.readers` turns each input into documents; here they get their sentences,
split with pysbd (a maintained rule-based splitter) paragraph by paragraph, each keeping
its character offsets so any citation can be traced to the exact source text. An input
that cannot be used becomes a :class:`schemas.Skipped` entry with a one-line reason; the
others go on.

Bounds: pysbd's work grows faster than the length of what it is given, so a paragraph
longer than :data:`MAX_CHUNK` is first cut at sentence ends (else at spaces, else anywhere)
into pieces no longer than that, and splitting stays linear in the input. Text in scripts
written without spaces (Chinese, Japanese) is split at its own sentence ends.
A run reads at most ``max_articles`` articles and a feed ``max_per_feed`` entries, the
newest; the cut is listed as skipped.
"""

import hashlib
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from schemas import Article, Sentence, Skipped
from service._exceptions import InputError
from service.readers import (
    SUFFIXES,
    Document,
    Item,
    keep_newest,
    read_file,
    read_stdin,
    read_url,
)
from service.settings import MAX_ARTICLES, MAX_ARTICLES_PER_FEED

if TYPE_CHECKING:
    import pysbd

STDIN = "-"


@dataclass
class Ingested:
    """What ingestion produced: usable articles, and what was skipped and why."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, subject: str, reason: str) -> None:
        self.skipped.append(Skipped(stage="ingest", subject=subject, reason=reason))


@dataclass(frozen=True)
class Options:
    """How inputs are found and fetched."""

    glob: str | None = None
    """Only files in folders whose name matches this pattern (default: every known type)."""
    allow_private_urls: bool = False
    """Fetch URLs on private, loopback and link-local addresses too."""
    max_articles: int | None = MAX_ARTICLES
    """Articles kept from all inputs together, the newest (None: no cap)."""
    max_per_feed: int | None = MAX_ARTICLES_PER_FEED
    """Entries read from one feed, the newest (None: no cap)."""
    split: Callable[[str], list[Sentence]] | None = None
    """How a text is split into sentences (None: :func:`split_sentences`)."""


def ingest(
    inputs: Sequence[str | Path],
    sources: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    options: Options | None = None,
) -> Ingested:
    """Read every input; ``sources`` maps a path, file name or URL to an outlet name."""
    result = Ingested()
    options = options or Options()
    seen: dict[str, str] = {}
    for doc in _documents(inputs, stdin or sys.stdin, options, result):
        article = article_from(doc, _source_name(doc, sources or {}), options.split)
        if article.id in seen:
            result.skip(doc.origin, f"same text as {seen[article.id]}; read once")
            continue
        seen[article.id] = doc.origin
        result.articles.append(article)
    _cap_run(result, options.max_articles)
    return result


def _cap_run(result: Ingested, cap: int | None) -> None:
    """Keep the ``cap`` newest articles (undated ones last), in their order; list the cut."""
    kept = keep_newest(result.articles, cap, lambda a: a.published)
    if len(kept) == len(result.articles):
        return
    cut = [a.origin for a in result.articles if a not in kept]
    result.articles = kept
    named = ", ".join(cut[:3]) + (f" and {len(cut) - 3:,} more" if len(cut) > 3 else "")
    result.skip(
        f"{len(cut):,} articles",
        f"older than the {cap:,} newest read per run (--max-articles or BRIEF_MAX_ARTICLES): "
        f"{named}",
    )


def _documents(
    inputs: Sequence[str | Path], stdin: TextIO, options: Options, result: Ingested
) -> Iterator[Document]:
    for given in inputs:
        for reader in _readers(str(given), stdin, options, result):
            try:
                items = reader()
            except InputError as error:
                items = [error]
            for item in items:
                if isinstance(item, InputError):
                    result.skip(item.subject, item.reason)
                else:
                    yield item


def _readers(
    item: str, stdin: TextIO, options: Options, result: Ingested
) -> list[Callable[[], list[Item]]]:
    if item == STDIN:
        return [partial(read_stdin, stdin)]
    cap = options.max_per_feed
    follow = partial(read_url, allow_private=options.allow_private_urls, feed_cap=cap)
    if item.startswith(("http://", "https://")):
        return [partial(follow, item)]
    return [partial(read_file, p, follow, cap) for p in _expand(Path(item), options, result)]


def _expand(path: Path, options: Options, result: Ingested) -> list[Path]:
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and _wanted(p, options.glob))
    if not files:
        what = f"files matching {options.glob}" if options.glob else "article files"
        result.skip(str(path), f"folder holds no {what} ({', '.join(SUFFIXES)})")
    return files


def _wanted(path: Path, glob: str | None) -> bool:
    return fnmatch(path.name, glob) if glob else path.suffix.lower() in SUFFIXES


def _source_name(doc: Document, sources: Mapping[str, str]) -> str:
    origin = doc.origin.split("#")[0]
    named = sources.get(origin) or sources.get(Path(origin).name)
    return named or doc.source or Path(origin).stem or origin


def make_article(text: str, origin: str, source: str) -> Article:
    """Build an article from plain text."""
    return article_from(Document(text=text, origin=origin), source)


def article_from(
    doc: Document, source: str, split: Callable[[str], list[Sentence]] | None = None
) -> Article:
    """Build an article from a document (an empty text raises no error: check ``sentences``)."""
    digest = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()[:12]
    return Article(
        id=digest,
        source=source,
        origin=doc.origin,
        title=doc.title or _title(doc.text, doc.origin),
        url=doc.url,
        published=doc.published,
        author=doc.author,
        text=doc.text,
        sentences=(split or split_sentences)(doc.text),
    )


def _title(text: str, origin: str) -> str | None:
    lines = [line.strip() for line in text.lstrip().splitlines()]
    if origin.endswith(".md") and lines and lines[0].startswith("# "):
        return lines[0][2:].strip()
    for i, line in enumerate(lines[:HEADER_LINES]):
        if not line:
            continue
        if len(line) > 150 or line[-1] in ".!?:":
            return None  # the story has begun: no headline above it
        if len(_WORD.findall(line)) >= 3:  # a headline, not a dateline, place or weather
            return line if i + 1 < len(lines) and not lines[i + 1] else None
    return None


HEADER_LINES = 8
"""Lines at the top of a text file searched for its headline, above which a page dump may
put a date, a city or the weather."""
_WORD = re.compile(r"[^\W\d_]{2,}")
"""A word of two letters or more: ``31.9 C`` and ``Saturday, August 30, 2025`` have fewer
than three, a headline has more."""


@cache
def _segmenter() -> "pysbd.Segmenter":
    import pysbd  # on first use: a run whose splits all come from the cache never loads it

    return pysbd.Segmenter(language="en", clean=False)


MAX_CHUNK = 2_000
"""Longest text given to pysbd at once (news paragraphs are shorter; a longer one is a page
dump run together, cut first). Also the longest "sentence" there can be."""
CUT_AT = (re.compile(r"[.!?][\"')\]\u201d\u2019]*\s+"), re.compile(r"\s+"))
"""Where a long paragraph is cut, in order of preference: after a sentence end, at a space."""
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
"""Hiragana, katakana and CJK ideographs: scripts written without spaces between words."""
CJK_END = re.compile(r"[\u3002\uff01\uff1f!?\uff0e]+[\u300d\u300f\u201d\u2019\uff09)\u3011]*")
"""A sentence end in those scripts: full stop, exclamation or question mark (full-width or
not), and the closing quotes or brackets after it."""
SENTENCE_MARK = re.compile(r"[.!?\u2026]")
"""Without any of these a chunk holds one sentence (menus, headings, widget lines)."""
CJK_SHARE = 0.3
"""Share of a paragraph's characters in those scripts from which it is split at CJK_END."""


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            yield offset, line
        offset += len(line)


def _cut(paragraph: str) -> Iterator[tuple[int, str]]:
    """``paragraph`` in pieces of at most :data:`MAX_CHUNK`, each with its offset."""
    start = 0
    while len(paragraph) - start > MAX_CHUNK:
        window = paragraph[start : start + MAX_CHUNK]
        end = next((e for e in map(partial(_last_end, window), CUT_AT) if e), MAX_CHUNK)
        yield start, window[:end]
        start += end
    yield start, paragraph[start:]


def _last_end(window: str, pattern: re.Pattern[str]) -> int:
    return max((m.end() for m in pattern.finditer(window)), default=0)


def _cjk_pieces(paragraph: str) -> Iterator[str]:
    start = 0
    for match in CJK_END.finditer(paragraph):
        yield paragraph[start : match.end()]
        start = match.end()
    yield paragraph[start:]


def _pieces(paragraph: str) -> Iterator[tuple[int, str]]:
    """Sentence candidates of one paragraph, each with the offset of the chunk it came from."""
    for base, chunk in _cut(paragraph):
        if len(CJK.findall(chunk)) >= CJK_SHARE * len(chunk.strip()):
            pieces: Iterator[str] = _cjk_pieces(chunk)
        elif not SENTENCE_MARK.search(chunk):  # one sentence at most: spare pysbd's overhead
            pieces = iter([chunk])
        else:
            # the processor's sentences, located below: Segmenter.segment would compile a
            # regex per sentence to find each one's span (and thrash re's pattern cache)
            pieces = iter(_segmenter().processor(chunk).process())
        yield from ((base, p) for p in pieces)


def split_sentences(text: str) -> list[Sentence]:
    """Split text into sentences with ids from 1 and exact character offsets.

    Offsets are found by locating each sentence in its chunk from where the previous one
    ended, so ``text[start:end] == sentence.text`` holds by construction.
    """
    sentences: list[Sentence] = []
    for offset, paragraph in _paragraphs(text):
        cursor, chunk_base = 0, 0
        for base, piece in _pieces(paragraph):
            if base != chunk_base:
                cursor, chunk_base = base, base
            stripped = piece.strip()
            found = paragraph.find(stripped, cursor, base + MAX_CHUNK) if stripped else -1
            if found < 0:
                continue
            cursor = found + len(stripped)
            start = offset + found
            sentence = Sentence(
                id=len(sentences) + 1, start=start, end=start + len(stripped), text=stripped
            )
            sentences.append(sentence)
    return sentences
