"""Stage 1, ingest: files, folders, URLs, feeds and stdin into :class:`schemas.Article` objects.

:mod:`service.readers` turns each input into documents; here they get their sentences,
split with pysbd (a maintained rule-based splitter) paragraph by paragraph, each keeping
its character offsets so any citation can be traced to the exact source text. An input
that cannot be used becomes a :class:`schemas.Skipped` entry with a one-line reason; the
others go on.
"""

import hashlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache, partial
from pathlib import Path
from typing import TextIO

import pysbd

from schemas import Article, Sentence, Skipped
from service._exceptions import InputError
from service.readers import SUFFIXES, Document, Item, read_file, read_url

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


def ingest(
    inputs: Sequence[str | Path],
    sources: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    options: Options | None = None,
) -> Ingested:
    """Read every input; ``sources`` maps a path, file name or URL to an outlet name."""
    result = Ingested()
    seen: dict[str, str] = {}
    for doc in _documents(inputs, stdin or sys.stdin, options or Options(), result):
        article = article_from(doc, _source_name(doc, sources or {}))
        if article.id in seen:
            result.skip(doc.origin, f"same text as {seen[article.id]}; read once")
            continue
        seen[article.id] = doc.origin
        result.articles.append(article)
    return result


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
        return [lambda: [Document(text=stdin.read(), origin="<stdin>")]]
    follow = partial(read_url, allow_private=options.allow_private_urls)
    if item.startswith(("http://", "https://")):
        return [partial(follow, item)]
    return [partial(read_file, p, follow) for p in _expand(Path(item), options, result)]


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


def article_from(doc: Document, source: str) -> Article:
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
        sentences=split_sentences(doc.text),
    )


def _title(text: str, origin: str) -> str | None:
    lines = text.lstrip().splitlines()
    if not lines:
        return None
    first = lines[0].strip()
    if origin.endswith(".md") and first.startswith("# "):
        return first[2:].strip()
    has_break = len(lines) > 1 and not lines[1].strip()
    looks_like_headline = len(first.split()) >= 4 and len(first) <= 150
    if has_break and looks_like_headline and first[-1] not in ".!?:":
        return first
    return None


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            yield offset, line
        offset += len(line)


def split_sentences(text: str) -> list[Sentence]:
    """Split text into sentences with ids from 1 and exact character offsets.

    Offsets are found by locating each sentence in its paragraph from where the previous
    one ended, so ``text[start:end] == sentence.text`` holds by construction.
    """
    sentences: list[Sentence] = []
    for base, paragraph in _paragraphs(text):
        cursor = 0
        for piece in _segmenter().segment(paragraph):
            stripped = str(piece).strip()
            found = paragraph.find(stripped, cursor) if stripped else -1
            if found < 0:
                continue
            cursor = found + len(stripped)
            start = base + found
            sentence = Sentence(
                id=len(sentences) + 1, start=start, end=start + len(stripped), text=stripped
            )
            sentences.append(sentence)
    return sentences
