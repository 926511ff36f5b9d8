"""Readers: turn each kind of input into :class:`Document` records, with a one-line error when not.

Kinds: plain text and Markdown, HTML pages (main text and metadata by trafilatura), JSON and
JSONL records, RSS/Atom feeds (feedparser; a teaser entry is replaced by its linked page),
and URLs of any of these. Heavy parsers are imported only when an input of their kind is read.

Every item is checked on its own: a JSON record is validated by :class:`Record` (a title
that is a number is that record's error, not the file's), a bad JSONL line is that line's,
a feed entry with a malformed link is that entry's. Bytes that are UTF-8 but for a few
stray ones stay UTF-8 (the stray bytes replaced, with a warning naming the input); other
encodings are detected by charset-normalizer. Only regular files are read, and no more
than :data:`MAX_BYTES` of them or of stdin.
"""

import json
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from service._exceptions import InputError

log = logging.getLogger(__name__)

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


MOSTLY_UTF8 = 0.5
"""Share of non-ASCII sequences that must be valid UTF-8 for a text to be read as UTF-8
with its few stray bytes replaced: a text in another encoding (cp1251, Latin-1) has almost
none (their letters are not UTF-8 continuation bytes), a UTF-8 file with one bad byte
almost all."""


def decode(data: bytes, origin: str) -> str:
    """Bytes as text: UTF-8 when it is (or nearly is), else the encoding charset-normalizer
    detects."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(origin, "binary data, not text; pass an article file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data, origin)
    if mostly is not None:
        return mostly
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(origin, "not text in any known encoding; convert it to UTF-8")
    return str(best)


def _mostly_utf8(data: bytes, origin: str) -> str | None:
    """The text as UTF-8 with stray bytes replaced, when nearly all of it is UTF-8."""
    text = data.decode("utf-8-sig", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = sum(1 for c in text if c > "\x7f") - bad - data.count("\ufffd".encode())
    if not good or good < MOSTLY_UTF8 * (good + bad):
        return None
    log.warning("%s: read as UTF-8, %d invalid byte sequence(s) replaced by U+FFFD", origin, bad)
    return text


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
    """The host of a URL without ``www.`` (None for a URL too malformed to have one)."""
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:  # an unclosed "[" of an IPv6 host, a bad port, ...
        return None
    return host.removeprefix("www.") if host else None


def valid_url(url: Any) -> str | None:
    """``url`` if it is an http(s) URL that can be fetched, else None."""
    from service.fetch import checked_url  # httpx loads only when a URL is met

    if not isinstance(url, str):
        return None
    try:
        checked_url(url)
    except InputError:
        return None
    return url


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


class Record(BaseModel):
    """One JSON record as exported by a news tool: every field optional, each of its type."""

    model_config = ConfigDict(strict=True, extra="ignore")

    text: str | None = None
    html: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    author: str | None = None


def _record_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "record"
    return f"field {field!r}: {first['msg'].lower()}; fix or remove the record"


def from_record(raw: Any, origin: str) -> Document:
    """One JSON record ``{"text"|"html", "title", "source", "url", "published", "author"}``."""
    if not isinstance(raw, dict):
        raise InputError(origin, "a record must be a JSON object")
    try:
        record = Record.model_validate(raw)
    except ValidationError as error:
        raise InputError(origin, _record_problem(error)) from error
    url = valid_url(record.url)
    if record.text and record.text.strip():
        base = Document(text=record.text, origin=origin, url=url, source=domain(url))
    elif record.html is not None:
        base = from_html(record.html, origin, url)
    else:
        raise InputError(origin, 'the record has no "text" or "html"')
    return replace(
        base,
        title=record.title or base.title,
        source=record.source or base.source,
        published=parse_date(record.published) or base.published,
        author=record.author or base.author,
    )


def _json_lines(text: str, origin: str) -> list[tuple[str, Any]]:
    """Each non-blank line of JSONL, parsed, named by its line number; a bad line is its own
    error."""
    parsed: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name = f"{origin}#{number}"
        try:
            parsed.append((name, json.loads(line)))
        except json.JSONDecodeError as error:
            problem = f"not valid JSON (line {number}, column {error.colno}); fix or remove it"
            parsed.append((name, InputError(name, problem)))
        except RecursionError:
            parsed.append((name, InputError(name, "JSON nested too deeply")))
    return parsed


def _json_document(text: str, origin: str) -> list[tuple[str, Any]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            origin, f"not valid JSON (line {error.lineno}); fix or remove it"
        ) from error
    except RecursionError as error:
        raise InputError(origin, "JSON nested too deeply") from error
    records = items if isinstance(items, list) else [items]
    return [(f"{origin}#{i}", r) for i, r in enumerate(records, 1)]


def from_records(text: str, origin: str, lines: bool) -> list[Item]:
    """Every record of a JSON array/object, or of a JSONL file (named by line number)."""
    named = _json_lines(text, origin) if lines else _json_document(text, origin)
    return [
        r if isinstance(r, InputError) else _safe(partial(from_record, r, name))
        for name, r in named
    ]


Fetcher = Callable[[str], list[Item]]


def _entry_document(entry: Any, feed_title: str | None, origin: str, follow: Fetcher) -> Document:
    link = valid_url(entry.get("link"))
    html = (entry.get("content") or [{}])[0].get("value") or entry.get("summary") or ""
    try:
        doc = from_html(f"<html><body><article>{html}</article></body></html>", origin, link)
    except InputError:
        doc = Document(text="", origin=origin, url=link)
    if len(doc.text) < TEASER_CHARS and link:
        doc = _linked_page(link, origin, follow)
    elif len(doc.text) < TEASER_CHARS and entry.get("link"):
        raise InputError(origin, f"teaser only, and its link is malformed: {entry.get('link')!r}")
    published = parse_date(entry.get("published_parsed") or entry.get("updated_parsed"))
    return replace(
        doc,
        origin=origin,
        title=_text_or_none(entry.get("title")) or doc.title,
        source=feed_title or doc.source,
        published=published or doc.published,
    )


def _linked_page(link: str, origin: str, follow: Fetcher) -> Document:
    try:
        page = follow(link)[0]
    except InputError as error:
        page = error
    if isinstance(page, InputError):
        raise InputError(origin, f"teaser only, and its link failed: {page.reason}")
    return page


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


T = TypeVar("T")


def keep_newest(items: list[T], cap: int | None, when: Callable[[T], datetime | None]) -> list[T]:
    """The ``cap`` newest of ``items`` (undated ones count as oldest), in their own order."""
    if cap is None or len(items) <= cap:
        return items
    oldest = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(range(len(items)), key=lambda i: when(items[i]) or oldest, reverse=True)
    return [items[i] for i in sorted(ranked[:cap])]


def _entry_date(item: tuple[int, Any]) -> datetime | None:
    entry = item[1]
    return parse_date(entry.get("published_parsed") or entry.get("updated_parsed"))


def from_feed(data: bytes, origin: str, follow: Fetcher, cap: int | None = None) -> list[Item]:
    """One document per feed entry, the ``cap`` newest only; teaser entries are replaced by
    their linked page."""
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        raise InputError(origin, "not an RSS or Atom feed, or a feed with no entries")
    feed_title = _text_or_none(parsed.feed.get("title"))
    kept = keep_newest(list(enumerate(parsed.entries, 1)), cap, _entry_date)
    items: list[Item] = [
        _safe(partial(_entry_document, e, feed_title, f"{origin}#{i}", follow)) for i, e in kept
    ]
    if len(kept) < len(parsed.entries):
        cut = len(parsed.entries) - len(kept)
        note = (
            f"{cut:,} older entries not read: the feed has {len(parsed.entries):,}, over the cap "
            f"of {cap:,} per feed (--max-per-feed or BRIEF_MAX_ARTICLES_PER_FEED)"
        )
        items.append(InputError(origin, note))
    return items


def read_bytes(
    data: bytes, origin: str, suffix: str, follow: Fetcher, feed_cap: int | None = None
) -> list[Item]:
    """Documents from the bytes of a file of this suffix (a feed's ``feed_cap`` newest)."""
    if suffix in FEED_SUFFIXES:
        return from_feed(data, origin, follow, feed_cap)
    text = decode(data, origin)
    if suffix in HTML_SUFFIXES:
        return [from_html(text, origin)]
    if suffix in RECORD_SUFFIXES:
        return from_records(text, origin, lines=suffix == ".jsonl")
    return [Document(text=text, origin=origin)]


def _too_large(origin: str) -> InputError:
    return InputError(origin, f"larger than {MAX_BYTES // 1_000_000} MB; pass the article alone")


_NOT_REGULAR = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def _check_regular(mode: int, origin: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a file")
    raise InputError(origin, f"{kind}, not a regular file; pass an article file, or - for stdin")


def _read_regular(path: Path) -> bytes:
    """A regular file's bytes, up to the cap; anything else is refused before it is opened
    (and opened without blocking, should it be swapped for a pipe in between)."""
    found = os.stat(path)
    _check_regular(found.st_mode, str(path))
    if found.st_size > MAX_BYTES:
        raise _too_large(str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with open(fd, "rb") as file:
        _check_regular(os.fstat(fd).st_mode, str(path))
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _too_large(str(path))
    return data


def read_file(path: Path, follow: Fetcher, feed_cap: int | None = None) -> list[Item]:
    """Documents from a local file."""
    try:
        data = _read_regular(path)
    except FileNotFoundError as error:
        raise InputError(str(path), "no such file; check the path") from error
    except OSError as error:
        raise InputError(str(path), f"cannot read ({error.strerror or error})") from error
    return read_bytes(data, str(path), path.suffix.lower(), follow, feed_cap)


STDIN_ORIGIN = "<stdin>"


def read_stdin(stream: IO[Any]) -> list[Item]:
    """The article on ``stream``, read as a text file is: the same size cap and decoding."""
    raw = getattr(stream, "buffer", None)
    data = (raw or stream).read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _too_large(STDIN_ORIGIN)
    text = decode(data, STDIN_ORIGIN) if isinstance(data, bytes) else data
    return [Document(text=text, origin=STDIN_ORIGIN)]


_KINDS = {"text/html": ".html", "application/xhtml+xml": ".html", "application/json": ".json"}


def _suffix_for(content_type: str, body: bytes) -> str:
    if "rss" in content_type or "atom" in content_type or content_type.endswith("xml"):
        return ".xml"
    if content_type in _KINDS:
        return _KINDS[content_type]
    head = body[:512].lstrip().lower()
    return ".html" if head.startswith((b"<!doctype html", b"<html")) else ".txt"


def read_url(url: str, allow_private: bool, feed_cap: int | None = None) -> list[Item]:
    """Documents from a URL: a page, a feed (its ``feed_cap`` newest), a JSON export or text."""
    from service.fetch import fetch  # httpx and ssl load only when a URL is read

    follow = partial(read_url, allow_private=allow_private, feed_cap=feed_cap)
    fetched = fetch(url, allow_private)
    suffix = _suffix_for(fetched.content_type, fetched.body)
    docs = read_bytes(fetched.body, url, suffix, follow, feed_cap)
    return [_with_origin_url(d, fetched.url) for d in docs]


def _with_origin_url(item: Item, url: str) -> Item:
    if isinstance(item, InputError):
        return item
    return replace(item, url=item.url or url, source=item.source or domain(url))
