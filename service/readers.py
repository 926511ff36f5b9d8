"""Readers: turn each kind of input into :class:`Document` records, with a one-line error when not.

Kinds: plain text and Markdown, HTML pages (main text and metadata by trafilatura), JSON and
JSONL records, RSS/Atom feeds (feedparser; a teaser entry is replaced by its linked page),
and URLs of any of these. Bytes of unknown encoding are decoded with charset-normalizer.
Heavy parsers are imported only when an input of their kind is read.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service._exceptions import InputError

MAX_BYTES = 2_000_000
"""Largest local file read; no single news article or export is this long."""
MIN_PAGE_WORDS = 8
"""A page whose main text is shorter (a menu, a login wall) has no article."""
TEASER_CHARS = 600
"""A feed entry shorter than this is a teaser: its linked page is fetched instead."""
HTML_SUFFIXES = (".html", ".htm")
FEED_SUFFIXES = (".xml", ".rss", ".atom")
TEXT_SUFFIXES = (".txt", ".md")
RECORD_SUFFIXES = (".json", ".jsonl")
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + RECORD_SUFFIXES + FEED_SUFFIXES


@dataclass(frozen=True)
class Document:
    """One article as read, before sentence splitting."""

    text: str
    origin: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: datetime | None = None
    author: str | None = None


Item = Document | InputError
"""What a reader gives per article: the document, or why that one article failed."""


def _safe(make: Callable[[], Document]) -> Item:
    try:
        return make()
    except InputError as error:
        return error


def decode(data: bytes, origin: str) -> str:
    """Bytes as text: UTF-8 when it is, else the encoding charset-normalizer detects."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(origin, "binary data, not text; pass an article file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(origin, "not text in any known encoding; convert it to UTF-8")
    return str(best)


def parse_date(value: Any) -> datetime | None:
    """A publication date from an ISO string or a time tuple, or None."""
    if not value:
        return None
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        else:
            year, month, day, hour, minute, second = tuple(value)[:6]
            parsed = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def domain(url: str | None) -> str | None:
    """The host of a URL without ``www.``."""
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


def from_html(html: str, origin: str, url: str | None = None) -> Document:
    """The main text and metadata of a page."""
    import trafilatura

    found = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False
    )
    text = getattr(found, "text", None) if found is not None else None
    if not text or len(text.split()) < MIN_PAGE_WORDS:
        raise InputError(origin, "no article text found in the page")
    page_url = getattr(found, "url", None) or url
    return Document(
        text=text,
        origin=origin,
        title=getattr(found, "title", None),
        source=getattr(found, "sitename", None) or domain(page_url),
        url=page_url,
        published=parse_date(getattr(found, "date", None)),
        author=getattr(found, "author", None),
    )


def from_record(record: Any, origin: str) -> Document:
    """One JSON record ``{"text"|"html", "title", "source", "url", "published"}``."""
    if not isinstance(record, dict):
        raise InputError(origin, "a record must be a JSON object")
    url = record.get("url") if isinstance(record.get("url"), str) else None
    if isinstance(record.get("text"), str) and record["text"].strip():
        base = Document(text=record["text"], origin=origin, url=url, source=domain(url))
    elif isinstance(record.get("html"), str):
        base = from_html(record["html"], origin, url)
    else:
        raise InputError(origin, 'the record has no "text" or "html"')
    return replace(
        base,
        title=record.get("title") or base.title,
        source=record.get("source") or base.source,
        published=parse_date(record.get("published")) or base.published,
    )


def from_records(text: str, origin: str, lines: bool) -> list[Item]:
    """Every record of a JSON array/object, or of a JSONL file."""
    try:
        items = (
            [json.loads(x) for x in text.splitlines() if x.strip()] if lines else json.loads(text)
        )
    except json.JSONDecodeError as error:
        raise InputError(
            origin, f"not valid JSON (line {error.lineno}); fix or remove it"
        ) from error
    records = items if isinstance(items, list) else [items]
    return [_safe(partial(from_record, r, f"{origin}#{i}")) for i, r in enumerate(records, 1)]


Fetcher = Callable[[str], list[Item]]


def _entry_document(entry: Any, feed_title: str | None, origin: str, follow: Fetcher) -> Document:
    link = entry.get("link")
    html = (entry.get("content") or [{}])[0].get("value") or entry.get("summary") or ""
    try:
        doc = from_html(f"<html><body><article>{html}</article></body></html>", origin, link)
    except InputError:
        doc = Document(text="", origin=origin, url=link)
    if len(doc.text) < TEASER_CHARS and link:
        page = follow(link)[0]
        if isinstance(page, InputError):
            raise InputError(origin, f"teaser only, and its link failed: {page.reason}")
        doc = page
    published = parse_date(entry.get("published_parsed") or entry.get("updated_parsed"))
    return replace(
        doc,
        origin=origin,
        title=entry.get("title") or doc.title,
        source=feed_title or doc.source,
        published=published or doc.published,
    )


def from_feed(data: bytes, origin: str, follow: Fetcher) -> list[Item]:
    """One document per feed entry; teaser entries are replaced by their linked page."""
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        raise InputError(origin, "not an RSS or Atom feed, or a feed with no entries")
    feed_title = parsed.feed.get("title")
    return [
        _safe(partial(_entry_document, e, feed_title, f"{origin}#{i}", follow))
        for i, e in enumerate(parsed.entries, 1)
    ]


def read_bytes(data: bytes, origin: str, suffix: str, follow: Fetcher) -> list[Item]:
    """Documents from the bytes of a file of this suffix."""
    if suffix in FEED_SUFFIXES:
        return from_feed(data, origin, follow)
    text = decode(data, origin)
    if suffix in HTML_SUFFIXES:
        return [from_html(text, origin)]
    if suffix in RECORD_SUFFIXES:
        return from_records(text, origin, lines=suffix == ".jsonl")
    return [Document(text=text, origin=origin)]


def read_file(path: Path, follow: Fetcher) -> list[Item]:
    """Documents from a local file."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(
                str(path), f"larger than {MAX_BYTES // 1_000_000} MB; pass the article alone"
            )
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise InputError(str(path), "no such file; check the path") from error
    except OSError as error:
        raise InputError(str(path), f"cannot read ({error.strerror or error})") from error
    return read_bytes(data, str(path), path.suffix.lower(), follow)


_KINDS = {"text/html": ".html", "application/xhtml+xml": ".html", "application/json": ".json"}


def _suffix_for(content_type: str, body: bytes) -> str:
    if "rss" in content_type or "atom" in content_type or content_type.endswith("xml"):
        return ".xml"
    if content_type in _KINDS:
        return _KINDS[content_type]
    head = body[:512].lstrip().lower()
    return ".html" if head.startswith((b"<!doctype html", b"<html")) else ".txt"


def read_url(url: str, allow_private: bool) -> list[Item]:
    """Documents from a URL: a page, a feed, a JSON export or plain text."""
    from service.fetch import fetch  # httpx and ssl load only when a URL is read

    follow = partial(read_url, allow_private=allow_private)
    fetched = fetch(url, allow_private)
    docs = read_bytes(fetched.body, url, _suffix_for(fetched.content_type, fetched.body), follow)
    return [_with_origin_url(d, fetched.url) for d in docs]


def _with_origin_url(item: Item, url: str) -> Item:
    if isinstance(item, InputError):
        return item
    return replace(item, url=item.url or url, source=item.source or domain(url))
