# ruff: noqa: RUF001 - Chinese and Japanese test text uses full-width punctuation on purpose
"""A hostile-input corpus for the reading side, by class, each case with its expected outcome.

Classes (issue 14): 3, one bad record, entry, line or link is skipped and listed, the rest
goes on; 4, bounds (splitting in pieces of bounded size, per-feed and per-run caps, stdin's
cap, one deadline per fetch, non-regular files refused); 5, SSRF (every form of a private
address refused, the checked address is the one connected to); 8, encodings and scripts
(mostly-UTF-8 stays UTF-8, CJK split at its own sentence ends); 9, every import declared.

Servers run on 127.0.0.1 only, each with its own bound: a server that trickles stops by
itself after ``SERVER_BOUND`` seconds and then answers in full, so a fetch that was not cut
off reads an article instead of failing with the expected reason.
"""

import json
import os
import socket
import ssl
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import httpcore
import pytest
import trustme
from click.testing import CliRunner

from schemas import Article, Skipped
from service import fetch as fetch_module
from service._exceptions import InputError
from service.clean import clean
from service.cli import EXIT_NO_INPUT, EXIT_USAGE, main
from service.ingest import MAX_CHUNK, Options, ingest
from service.pipeline import unusable
from service.readers import MAX_BYTES
from tests.conftest import ROOT
from tests.helpers import QuietHandler, serve

SERVER_BOUND = 8.0
"""Seconds a slow test server keeps stalling before it answers in full."""
DEADLINE = 1.0
"""The fetch deadline the fetch cases run under (patched over the 20 s default)."""

GOOD = "The council approved the city budget on Monday after a long debate in the hall."
OTHER = "The mayor said the new budget would fund two schools and a library next year."


# ---- expected outcomes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Skip:
    """One item listed as skipped (its subject ends with ``subject``, its reason holds
    ``reason``) while ``kept`` articles are still read; ``keeps``/``drops`` are texts that must
    (not) be in a kept article."""

    subject: str
    reason: str
    kept: int = 0
    keeps: str | None = None
    drops: str | None = None


@dataclass(frozen=True)
class Kept:
    """Read as one article holding ``contains``, nothing skipped; optional checks on it."""

    contains: str
    sentences: int | None = None
    longest: int | None = None
    not_removed: str | None = None
    no_url: bool = False


Expected = Skip | Kept


def check(articles: list[Article], skipped: list[Skipped], expected: Expected) -> None:
    """Assert ``expected`` of what ingest and clean-up made of a case."""
    assert all("\n" not in s.reason and "Traceback" not in s.reason for s in skipped)
    if isinstance(expected, Skip):
        matching = [s for s in skipped if s.subject.endswith(expected.subject)]
        assert len(matching) == 1, skipped
        assert expected.reason in matching[0].reason, matching[0].reason
        assert len(articles) == expected.kept, [a.origin for a in articles]
        texts = " ".join(a.text for a in articles)
        assert expected.keeps is None or expected.keeps in texts
        assert expected.drops is None or expected.drops not in texts
        return
    assert skipped == []
    (article,) = articles
    assert expected.contains in article.text
    kept = article.kept
    assert expected.sentences is None or len(kept) == expected.sentences, [s.text for s in kept]
    assert expected.longest is None or max(len(s.text) for s in article.sentences) <= (
        expected.longest
    )
    kinds = {r.kind.value for r in article.removed}
    assert expected.not_removed is None or expected.not_removed not in kinds, article.removed
    assert not expected.no_url or article.url is None


def outcome(
    inputs: list[str | Path], options: Options | None = None, stdin: Any = None
) -> tuple[list[Article], list[Skipped]]:
    """Ingest and clean ``inputs`` as a run does, up to the model."""
    ingested = ingest(inputs, stdin=stdin, options=options)
    cleaned = clean(ingested.articles)
    return [a for a in cleaned if a.kept], [*ingested.skipped, *unusable(cleaned)]


# ---- content builders ----------------------------------------------------------------------


def records(*items: Any) -> str:
    return json.dumps(list(items))


def lines(*items: Any) -> str:
    return "\n".join(i if isinstance(i, str) else json.dumps(i) for i in items) + "\n"


def record(n: int = 1, **fields: Any) -> dict[str, Any]:
    return {"text": f"Record {n}: {GOOD} {OTHER}", **fields}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def feed(*entries: tuple[str, str, str | None]) -> str:
    """An RSS feed of (title, link, date) entries; a dated entry has its full text."""
    items = []
    for n, (title, link, date) in enumerate(entries, 1):
        body = f"Entry {n:03d} reports. {GOOD} {OTHER} " * (8 if date else 0) or "A teaser."
        when = f"<pubDate>{date}</pubDate>" if date else ""
        items.append(
            f"<item><title>{title}</title><link>{link}</link>"
            f"<description>{body}</description>{when}</item>"
        )
    channel = f"<channel><title>Wire</title>{''.join(items)}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


FULL = ("A full story", "https://news.example/full", "Mon, 01 Sep 2025 10:00:00 GMT")


def teaser(link: str) -> tuple[str, str, str | None]:
    return ("A teaser", link, None)


def dated_feed(count: int) -> str:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    dates = [
        (start + timedelta(days=n)).strftime("%a, %d %b %Y %H:%M:%S GMT") for n in range(count)
    ]
    return feed(*((f"Story {n}", f"https://news.example/{n}", d) for n, d in enumerate(dates)))


def dated_records(count: int) -> str:
    return lines(*(record(n, published=f"2025-01-{n:02d}T08:00:00Z") for n in range(1, count + 1)))


CHINESE = (
    "北京市政府周一宣布，新的地铁线路将于明年开通。\n"
    "这条线路全长四十公里，共设二十个车站。\n"
    "市长表示：「这将大大缓解城市交通压力！」\n"
    "有市民问道，票价会不会上涨？官员说票价保持不变。\n"
)
JAPANESE = (
    "東京都は月曜日、新しい地下鉄の路線を来年開業すると発表した。\n"
    "路線の全長は四十キロで、駅は二十ある。\n"
    "知事は「交通の混雑が大きく和らぐだろう」と述べた。\n"
)
RUSSIAN = "Совет города утвердил бюджет в понедельник после долгих споров в зале заседаний."


# ---- the corpus: files (name, class, file name, content, options, expected) ----------------

LABEL_64 = "a" * 64
Content = str | bytes
FILES: list[tuple[str, int, str, Content, Options | None, Expected]] = [
    # 3: a record, line or entry of the wrong shape is that item's error only
    (
        "record title is a number",
        3,
        "a.json",
        records(record(1), record(2, title=42), record(3)),
        None,
        Skip("#2", "field 'title'", kept=2),
    ),
    (
        "record title is a list",
        3,
        "a.json",
        records(record(1, title=["a", "b"]), record(2)),
        None,
        Skip("#1", "field 'title'", kept=1),
    ),
    (
        "record title is an object in JSONL",
        3,
        "a.jsonl",
        lines(record(1), record(2, title={"en": "t"})),
        None,
        Skip("#2", "field 'title'", kept=1),
    ),
    (
        "record text is a number",
        3,
        "a.json",
        records({"text": 12345}, record(2)),
        None,
        Skip("#1", "field 'text'", kept=1),
    ),
    (
        "record date is a number",
        3,
        "a.json",
        records(record(1, published=1756720000), record(2)),
        None,
        Skip("#1", "field 'published'", kept=1),
    ),
    (
        "record source is a boolean",
        3,
        "a.jsonl",
        lines(record(1, source=True), record(2)),
        None,
        Skip("#1", "field 'source'", kept=1),
    ),
    (
        "record null title is no title",
        3,
        "a.json",
        records(record(1, title=None)),
        None,
        Kept(GOOD),
    ),
    (
        "record malformed url is dropped",
        3,
        "a.json",
        records(record(1, url="http://[::1")),
        None,
        Kept(GOOD, no_url=True),
    ),
    (
        "bad JSONL line 10",
        3,
        "a.jsonl",
        lines(*(record(n) for n in range(1, 10)), '{"text": "cut short', record(11)),
        None,
        Skip("#10", "line 10", kept=10),
    ),
    (
        "JSONL line that is a string",
        3,
        "a.jsonl",
        lines(record(1), record(2), '"only a string"'),
        None,
        Skip("#3", "a record must be a JSON object", kept=2),
    ),
    (
        "JSONL blank lines and CRLF keep line numbers",
        3,
        "a.jsonl",
        f"{json.dumps(record(1))}\r\n\r\n{{oops\r\n",
        None,
        Skip("#3", "line 3", kept=1),
    ),
    (
        "JSONL line nested 100,000 deep",
        3,
        "a.jsonl",
        lines(record(1), nested(100_000)),
        None,
        Skip("#2", "nested too deeply", kept=1),
    ),
    (
        "JSON file nested 100,000 deep",
        3,
        "a.json",
        nested(100_000),
        None,
        Skip("a.json", "nested too deeply"),
    ),
    (
        "feed link with a 64-character host label",
        3,
        "a.rss",
        feed(teaser(f"https://{LABEL_64}.example/story"), FULL),
        None,
        Skip("#1", "link is malformed", kept=1),
    ),
    (
        "feed link with an unclosed IPv6 bracket",
        3,
        "a.rss",
        feed(teaser("http://[::1/story"), FULL),
        None,
        Skip("#1", "link is malformed", kept=1),
    ),
    (
        "feed link with an empty host label",
        3,
        "a.rss",
        feed(teaser("https://news..example/story"), FULL),
        None,
        Skip("#1", "link is malformed", kept=1),
    ),
    (
        "feed link with a port out of range",
        3,
        "a.rss",
        feed(teaser("https://news.example:99999/story"), FULL),
        None,
        Skip("#1", "link is malformed", kept=1),
    ),
    (
        "feed link to javascript",
        3,
        "a.rss",
        feed(teaser("javascript:alert(1)"), FULL),
        None,
        Skip("#1", "link is malformed", kept=1),
    ),
    (
        "full feed entry with a malformed link is kept without it",
        3,
        "a.rss",
        feed((FULL[0], f"https://{LABEL_64}.example/", FULL[2])),
        None,
        Kept(GOOD, no_url=True),
    ),
    # 4: bounds
    (
        "1.9 MB single line of sentences",
        4,
        "a.txt",
        f"{GOOD} " * 24_000,
        None,
        Kept(GOOD, longest=MAX_CHUNK),
    ),
    (
        "1.9 MB single line of words without punctuation",
        4,
        "a.txt",
        GOOD + "\n" + "word " * 380_000,
        None,
        Kept(GOOD, longest=MAX_CHUNK),
    ),
    (
        "1.9 MB single token",
        4,
        "a.txt",
        "x" * 1_900_000,
        None,
        Skip("a.txt", "nothing left"),
    ),
    (
        "1.9 MB of menu lines",
        4,
        "a.txt",
        "".join(f"Menu item {n}\n" for n in range(120_000)),
        None,
        Skip("a.txt", "nothing left"),
    ),
    (
        "feed over its cap keeps the newest",
        4,
        "a.rss",
        dated_feed(30),
        Options(max_per_feed=5),
        Skip("a.rss", "25 older entries not read", kept=5, keeps="Entry 030", drops="Entry 001"),
    ),
    (
        "run over its cap keeps the newest",
        4,
        "a.jsonl",
        dated_records(12),
        Options(max_articles=5),
        Skip("7 articles", "older than the 5 newest", kept=5, keeps="Record 12", drops="Record 1:"),
    ),
    # 8: encodings and scripts
    (
        "UTF-8 with one stray byte stays UTF-8",
        8,
        "a.txt",
        f"\u201cThe budget\u201d passed, the council said \u2014 {GOOD}".encode() + b"\xff\n",
        None,
        Kept("\u201cThe budget\u201d passed"),
    ),
    (
        "UTF-8 record file with a stray byte",
        8,
        "a.json",
        records(record(1, title="Caf\u00e9 \u00e0 la gare")).encode()[:-3] + b'\x92"}]',
        None,
        Kept("Record 1"),
    ),
    (
        "cp1251 is not read as UTF-8",
        8,
        "a.txt",
        (RUSSIAN + "\n").encode("cp1251"),
        None,
        Kept("города утвердил бюджет"),
    ),
    (
        "Latin-1 is not read as UTF-8",
        8,
        "a.txt",
        "Le caf\u00e9 de la gare a rouvert apr\u00e8s deux ann\u00e9es de travaux.".encode(
            "latin-1"
        ),
        None,
        Kept("caf\u00e9 de la gare"),
    ),
    (
        "UTF-16 with its byte order mark",
        8,
        "a.txt",
        (GOOD + "\n" + OTHER).encode("utf-16"),
        None,
        Kept(GOOD),
    ),
    (
        "Chinese split at its own sentence ends",
        8,
        "a.txt",
        CHINESE,
        None,
        Kept("地铁线路", sentences=5, not_removed="fragment"),
    ),
    (
        "Japanese split at its own sentence ends",
        8,
        "a.txt",
        JAPANESE,
        None,
        Kept("地下鉄", sentences=3, not_removed="fragment"),
    ),
    (
        "Chinese menu words are still fragments",
        8,
        "a.txt",
        "首页 新闻 体育\n" + CHINESE,
        None,
        Kept("地铁线路", sentences=5),
    ),
]


@pytest.mark.parametrize(
    ("name", "cls", "filename", "content", "options", "expected"),
    FILES,
    ids=[f"class{c[1]}-{c[0]}" for c in FILES],
)
def test_file_corpus(
    name: str,
    cls: int,
    filename: str,
    content: Content,
    options: Options | None,
    expected: Expected,
    tmp_path: Path,
) -> None:
    path = tmp_path / filename
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    articles, skipped = outcome([path], options)
    check(articles, skipped, expected)


def test_a_mostly_utf8_file_is_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "stray.txt"
    path.write_bytes(f"\u201cQuoted\u201d {GOOD}".encode() + b"\xff")
    (article,) = ingest([path]).articles
    assert article.text.endswith("\ufffd")
    assert any(str(path) in r.getMessage() and "UTF-8" in r.getMessage() for r in caplog.records)


# ---- things that are not regular files (class 4), made by a maker ---------------------------


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    return path


def unix_socket(tmp_path: Path) -> Path:
    path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))  # the socket's file stays after it is closed
    return path


def link_to_fifo(tmp_path: Path) -> Path:
    target = fifo(tmp_path)
    path = tmp_path / "link.txt"
    path.symlink_to(target)
    return path


def device(name: str) -> Callable[[Path], Path]:
    return lambda tmp_path: Path("/dev") / name


SPECIAL: list[tuple[str, Callable[[Path], Path], Expected]] = [
    ("named pipe", fifo, Skip("pipe.txt", "a named pipe, not a regular file")),
    ("unix socket", unix_socket, Skip("s.txt", "a socket, not a regular file")),
    ("symlink to a named pipe", link_to_fifo, Skip("link.txt", "a named pipe")),
    ("/dev/zero", device("zero"), Skip("/dev/zero", "a device, not a regular file")),
    ("/dev/null", device("null"), Skip("/dev/null", "a device")),
]


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes and sockets are POSIX")
@pytest.mark.parametrize(
    ("name", "make", "expected"), SPECIAL, ids=[f"class4-{s[0]}" for s in SPECIAL]
)
def test_non_regular_files_are_refused_unopened(
    name: str, make: Callable[[Path], Path], expected: Expected, tmp_path: Path
) -> None:
    path = make(tmp_path)
    # a pipe with no writer blocks whoever opens it for reading: run ingest where a hang
    # shows as a failure, not as a stuck test run
    found: list[tuple[list[Article], list[Skipped]]] = []
    reader = threading.Thread(target=lambda: found.append(outcome([path])), daemon=True)
    reader.start()
    reader.join(SERVER_BOUND * 4)
    assert found, f"reading {path} did not return"
    check(*found[0], expected)


# ---- stdin (classes 4 and 8) ---------------------------------------------------------------


class Stdin:
    """A stand-in for ``sys.stdin``: text on top, bytes in ``buffer``."""

    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> str:
        raise AssertionError("stdin is read as bytes, like a file")


STDIN: list[tuple[str, int, bytes, Expected]] = [
    (
        "stdin over the size cap",
        4,
        b"word " * (MAX_BYTES // 5 + 1),
        Skip("<stdin>", "larger than 2 MB"),
    ),
    ("stdin binary", 4, b"\x00\x01\x02" * 100, Skip("<stdin>", "binary data")),
    (
        "stdin with one stray byte",
        8,
        f"\u201cQuoted\u201d {GOOD}".encode() + b"\x81",
        Kept("\u201cQuoted\u201d"),
    ),
    ("stdin in cp1251", 8, RUSSIAN.encode("cp1251"), Kept("утвердил бюджет")),
]


@pytest.mark.parametrize(("name", "cls", "data", "expected"), STDIN, ids=[s[0] for s in STDIN])
def test_stdin_corpus(name: str, cls: int, data: bytes, expected: Expected) -> None:
    check(*outcome(["-"], stdin=Stdin(data)), expected)


# ---- fetching: one deadline (class 4) -------------------------------------------------------


class SlowHandler(QuietHandler):
    """Stalls in the way the path names, for at most SERVER_BOUND seconds, then answers."""

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        body = f"<html><body><article><p>{GOOD}</p><p>{OTHER}</p></article></body></html>"
        raw = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
        ).encode()
        split = raw.index(b"\r\n\r\n") + 4
        stall = {"/trickle-body": split, "/trickle-headers": 0, "/silent": None}[self.path]
        try:
            self._stall(raw, stall)
        except OSError:  # the client gave up, as it should
            return

    def _stall(self, raw: bytes, at: int | None) -> None:
        ends = time.monotonic() + SERVER_BOUND
        if at is None:
            time.sleep(SERVER_BOUND)
            at = 0
        self.wfile.write(raw[:at])
        for byte in raw[at:]:
            if time.monotonic() < ends:
                time.sleep(0.05)
            self.wfile.write(bytes([byte]))
            self.wfile.flush()


@pytest.fixture(scope="module")
def slow_site() -> Iterator[str]:
    with serve(SlowHandler) as base:
        yield base


FETCH_DEADLINE = [
    ("server trickles the body a byte at a time", "/trickle-body"),
    ("server trickles the headers a byte at a time", "/trickle-headers"),
    ("server accepts and says nothing", "/silent"),
]


@pytest.mark.parametrize(
    ("name", "path"), FETCH_DEADLINE, ids=[f"class4-{c[0]}" for c in FETCH_DEADLINE]
)
def test_a_fetch_ends_at_its_deadline(
    name: str, path: str, slow_site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "TIMEOUT", DEADLINE)
    url = slow_site + path
    articles, skipped = outcome([url], Options(allow_private_urls=True))
    check(articles, skipped, Skip(url, f"took longer than {DEADLINE:g} s"))


# ---- SSRF (class 5): every spelling of a private address, and no rebinding ------------------

PRIVATE = [
    ("IPv4-compatible loopback", "http://[::127.0.0.1]/"),
    ("IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/"),
    ("IPv4-mapped loopback in hex", "http://[::ffff:7f00:1]/"),
    ("NAT64 of loopback", "http://[64:ff9b::7f00:1]/"),
    ("local-use NAT64 of a private address", "http://[64:ff9b:1::a00:1]/"),
    ("6to4 of a private address", "http://[2002:a00:1::1]/"),
    ("6to4 of loopback", "http://[2002:7f00:1::1]/"),
    ("Teredo with a private client", "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/"),
    ("decimal loopback", "http://2130706433/"),
    ("hex loopback", "http://0x7f.0.0.1/"),
    ("short loopback", "http://127.1/"),
    ("unspecified IPv6", "http://[::]/"),
    ("multicast", "http://224.0.0.1/"),
    ("cloud metadata", "http://169.254.169.254/latest/meta-data/"),
    ("shared address space", "http://100.64.0.1/"),
]


@pytest.mark.parametrize(("name", "url"), PRIVATE, ids=[f"class5-{p[0]}" for p in PRIVATE])
def test_private_addresses_in_any_form_are_refused(name: str, url: str) -> None:
    check(*outcome([url]), Skip(url, "is a private or local address"))


MALFORMED = [
    ("host label of 64 characters", f"https://{LABEL_64}.example/story"),
    ("host name over 253 characters", "https://" + ("a" * 60 + ".") * 5 + "example/"),
    ("empty host label", "https://news..example/"),
    ("unclosed IPv6 bracket", "http://[::1/story"),
    ("port out of range", "https://news.example:99999/"),
    ("IPv6 literal that is not one", "http://[::ffff:999.0.0.1]/"),
]


@pytest.mark.parametrize(("name", "url"), MALFORMED, ids=[f"class3-{m[0]}" for m in MALFORMED])
def test_a_malformed_url_is_skipped_before_any_lookup(name: str, url: str) -> None:
    resolver = Resolver(["127.0.0.1"])
    with pytest.raises(InputError, match="malformed URL") as raised:
        fetch_module.fetch(url, resolver=resolver, network=Network())
    assert resolver.asked == []
    check(*outcome([url]), Skip(url, str(raised.value.reason)))


def test_class3_a_redirect_to_a_malformed_url_is_that_input_skipped() -> None:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server names it
            self.send_response(302)
            self.send_header("Location", f"http://{LABEL_64}.example/")
            self.end_headers()

    with serve(Handler) as base:
        articles, skipped = outcome([f"{base}/a", f"{base}/b"], Options(allow_private_urls=True))
    assert articles == []
    assert [s.reason.split(" (")[0] for s in skipped] == ["malformed URL", "malformed URL"]


PUBLIC = "93.184.215.14"
"""A global address no test ever connects to (the network is the recording fake below)."""


class Resolver:
    """A fake DNS: answers ``answers[i]`` to the i-th question (the last one from then on)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


class Network(httpcore.NetworkBackend):
    """Records where connections go; connects only to 127.0.0.1, refuses the rest."""

    def __init__(self) -> None:
        self.connected: list[str] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        self.connected.append(host)
        if host != "127.0.0.1":
            raise httpcore.ConnectError(f"the test network does not reach {host}")
        return httpcore.SyncBackend().connect_tcp(host, port, timeout)


@pytest.fixture(scope="module")
def page_site() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server names it
            hits.append(self.headers.get("Host", ""))
            body = f"<html><body><article><p>{GOOD}</p></article></body></html>".encode()
            self.reply(200, "text/html", body)

    with serve(Handler) as base:
        yield base, hits


def test_class5_dns_rebinding_connects_to_the_checked_address(
    page_site: tuple[str, list[str]],
) -> None:
    base, hits = page_site
    port = base.rsplit(":", 1)[1]
    resolver, network = Resolver([PUBLIC], ["127.0.0.1"]), Network()
    before = len(hits)
    with pytest.raises(InputError, match="cannot fetch"):
        fetch_module.fetch(f"http://rebind.test:{port}/", resolver=resolver, network=network)
    assert resolver.asked == ["rebind.test"]  # resolved once, for the check and the connection
    assert network.connected == [PUBLIC]  # the checked address, never the rebound one
    assert len(hits) == before


def test_class5_a_name_with_one_private_address_among_public_ones_is_refused(
    page_site: tuple[str, list[str]],
) -> None:
    network = Network()
    with pytest.raises(InputError, match="private or local address"):
        fetch_module.fetch(
            "http://mixed.test/", resolver=Resolver([PUBLIC, "127.0.0.1"]), network=network
        )
    assert network.connected == []


def test_class5_a_pinned_connection_keeps_the_host_name(
    page_site: tuple[str, list[str]],
) -> None:
    base, hits = page_site
    port = base.rsplit(":", 1)[1]
    fetched = fetch_module.fetch(
        f"http://news.test:{port}/a", True, resolver=Resolver(["127.0.0.1"]), network=Network()
    )
    assert GOOD.encode() in fetched.body
    assert hits[-1] == f"news.test:{port}"


@contextmanager
def serve_tls(handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> Iterator[int]:
    """Serve ``handler`` over TLS on a free port of 127.0.0.1; yield the port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_class5_a_pinned_tls_connection_verifies_the_host_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("news.test").configure_cert(context)
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server names it
            self.reply(200, "text/plain", f"{GOOD} Host: {self.headers['Host']}".encode())

    with serve_tls(Handler, context) as port:
        fetched = fetch_module.fetch(
            f"https://news.test:{port}/", True, resolver=Resolver(["127.0.0.1"])
        )
    assert names == ["news.test"]
    assert fetched.body.endswith(f"Host: news.test:{port}".encode())


# ---- near-duplicates (class 4): a copy is not sent to the model -----------------------------


def test_class4_a_near_duplicate_is_not_sent_to_the_model(tmp_path: Path) -> None:
    from service import brief
    from service.settings import Settings
    from tests.conftest import SEEDS
    from tests.fault_server import Plan, fault_server

    seed = sorted(SEEDS.glob("*.txt"))[0]
    copy_only = "A reader's note added by the copying site on Tuesday."
    (tmp_path / "copy.txt").write_text(seed.read_text() + "\n" + copy_only + "\n")
    plan = Plan()
    with fault_server(plan) as url:
        settings = Settings(model="hosted_vllm/fault", api_base=url, cache_dir=tmp_path / "c")
        briefing = brief([SEEDS, tmp_path / "copy.txt"], settings=settings)
    extractions = [r for r in plan.requests if "lede" not in json.dumps(r["body"])]
    assert len(extractions) == len(list(SEEDS.glob("*.txt")))
    assert not any(copy_only in json.dumps(r["body"]) for r in plan.requests)
    (copy,) = [s for s in briefing.sources if s.origin.endswith("copy.txt")]
    assert copy.duplicate_of is not None


# ---- the command line: one line and a documented exit code ---------------------------------


def test_class4_the_cli_refuses_a_named_pipe_in_one_line(tmp_path: Path) -> None:
    path = fifo(tmp_path)
    result = CliRunner().invoke(main, [str(path), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == EXIT_NO_INPUT
    (line,) = result.output.strip().splitlines()
    assert line.startswith("brief: error: no usable article")
    assert f"{path}: a named pipe, not a regular file" in line


def test_class4_the_cli_caps_stdin_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["-", "--cache-dir", str(tmp_path)], input=b"word " * (MAX_BYTES // 5 + 1)
    )
    assert result.exit_code == EXIT_NO_INPUT
    (line,) = result.output.strip().splitlines()
    assert "<stdin>: larger than 2 MB" in line


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--max-articles", "0"], {}, "--max-articles"),
        (["--max-per-feed", "-3"], {}, "--max-per-feed"),
        ([], {"BRIEF_MAX_ARTICLES_PER_FEED": "many"}, "BRIEF_MAX_ARTICLES_PER_FEED"),
    ],
)
def test_class4_a_bad_cap_is_a_usage_error(
    args: list[str], env: dict[str, str], named: str, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text(GOOD)
    result = CliRunner().invoke(main, [str(tmp_path / "a.txt"), *args], env=env)
    assert result.exit_code == EXIT_USAGE
    assert named in result.output


# ---- packaging (class 9): every import is declared -----------------------------------------

STDLIB = set(sys.stdlib_module_names)
FIRST_PARTY = {"service", "schemas", "prompts", "tests", "bench"}


def _imports(folder: Path) -> set[str]:
    import ast

    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found - STDLIB - FIRST_PARTY


def _declared(*groups: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for group in groups:
        specs += project["optional-dependencies"][group]
    return {s.split("[")[0].split("=")[0].strip().lower().replace("_", "-") for s in specs}


@cache
def _installed() -> Mapping[str, list[str]]:
    return packages_distributions()  # slow: it reads every installed distribution


def _distribution(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in _installed().get(module, [])}


OPTIONAL_IMPORTS = {"llama_cpp": "llama-cpp-python", "numpy": "numpy", "uvicorn": "uvicorn"}
"""Imported only in the embedded model's server, which the ``local`` extra installs: each must
be declared there (by its distribution's name, as it may not be installed to look it up)."""
EMBED_IMPORTS = {"numpy": "numpy", "safetensors": "safetensors", "tokenizers": "tokenizers"}
"""Imported only by the sentence embedder (``service/embed.py``): the ``embed`` extra."""


@pytest.mark.parametrize(
    ("folders", "groups"),
    [(("service", "schemas", "prompts"), ()), (("tests", "bench"), ("dev",))],
    ids=["class9-product", "class9-tests"],
)
def test_every_imported_package_is_declared(
    folders: tuple[str, ...], groups: tuple[str, ...]
) -> None:
    declared = _declared(*groups)
    optional = set(OPTIONAL_IMPORTS) | set(EMBED_IMPORTS)
    imported = set().union(*(_imports(ROOT / f) for f in folders)) - optional
    undeclared = {m for m in imported if not _distribution(m) & declared}
    assert undeclared == set()


def test_class9_what_only_the_model_server_imports_is_declared_in_the_local_extra() -> None:
    assert set(OPTIONAL_IMPORTS.values()) <= _declared("local")


def test_class9_what_only_the_sentence_embedder_imports_is_declared_in_the_embed_extra() -> None:
    assert set(EMBED_IMPORTS.values()) <= _declared("embed")


def test_class9_the_html_cleaner_trafilatura_needs_is_declared() -> None:
    import importlib

    importlib.import_module("lxml.html.clean")  # what trafilatura's extraction imports
    assert "lxml-html-clean" in _declared()
