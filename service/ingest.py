"""Stage 1, ingest: read files, directories and stdin into :class:`schemas.Article` objects.

Text is split into sentences with pysbd (a maintained rule-based splitter), paragraph by
paragraph, and each sentence keeps its character offsets, so any citation can be traced
to the exact source text. An input that cannot be used becomes a :class:`schemas.Skipped`
entry with a one-line reason; the others go on.
"""

import hashlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TextIO

import pysbd

from schemas import Article, Sentence, Skipped

SUFFIXES = (".txt", ".md")
"""File types read from directories."""
MAX_BYTES = 2_000_000
"""Larger files are refused: no news article is this long."""
STDIN = "-"


@dataclass
class Ingested:
    """What ingestion produced: usable articles, and what was skipped and why."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, subject: str, reason: str) -> None:
        self.skipped.append(Skipped(stage="ingest", subject=subject, reason=reason))


def ingest(
    inputs: Sequence[str | Path],
    sources: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
) -> Ingested:
    """Read every input; ``sources`` maps a path or file name to an outlet name."""
    result = Ingested()
    seen: dict[str, str] = {}
    for origin, text, error in _read_all(inputs, stdin or sys.stdin, result):
        if error:
            result.skip(origin, error)
            continue
        article = make_article(text, origin, _source_name(origin, sources or {}))
        if article.id in seen:
            result.skip(origin, f"same text as {seen[article.id]}; read once")
            continue
        seen[article.id] = origin
        result.articles.append(article)
    return result


def _read_all(
    inputs: Sequence[str | Path], stdin: TextIO, result: Ingested
) -> Iterator[tuple[str, str, str | None]]:
    for item in inputs:
        if str(item) == STDIN:
            yield "<stdin>", stdin.read(), None
            continue
        for path in _expand(Path(item), result):
            text, error = _read_file(path)
            yield str(path), text, error


def _expand(path: Path, result: Ingested) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            result.skip(str(path), "directory holds no .txt or .md files")
        return files
    return [path]


def _read_file(path: Path) -> tuple[str, str | None]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "", "no such file; check the path"
    except OSError as error:
        return "", f"cannot read: {error.strerror or error}"
    if len(data) > MAX_BYTES:
        return "", f"larger than {MAX_BYTES // 1_000_000} MB; split it or pass the article alone"
    if b"\x00" in data:
        return "", "binary data, not text; pass a .txt or .md article"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return "", "not UTF-8 text; convert it with iconv -t UTF-8"


def _source_name(origin: str, sources: Mapping[str, str]) -> str:
    name = Path(origin).name
    return sources.get(origin) or sources.get(name) or (Path(origin).stem or origin)


def make_article(text: str, origin: str, source: str) -> Article:
    """Build an article from raw text (an empty text raises no error: check ``sentences``)."""
    title = _title(text, origin)
    sentences = split_sentences(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Article(
        id=digest, source=source, origin=origin, title=title, text=text, sentences=sentences
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
