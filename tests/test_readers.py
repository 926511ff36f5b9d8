"""Every input kind, through a local HTTP server on 127.0.0.1 where a URL is needed."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from service import fetch as fetch_module
from service.clean import clean
from service.ingest import Options, ingest
from service.merge import merge
from tests.helpers import QuietHandler, claims, serve

PAGE = """<html><head><title>Mayor quits | The Daily</title>
<meta property="og:site_name" content="The Daily"><meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2025-08-29T10:00:00Z">
<link rel="canonical" href="https://daily.example/mayor"></head>
<body><nav>Home | News | Sport</nav><article><h1>Mayor quits after vote</h1>
<p>The mayor of the city resigned on Friday after a vote of no confidence in the council.</p>
<p>She had led the city for six years and faced criticism over the budget.</p>
<p>Elections will be held in November, the council said in a statement on its website.</p>
</article><footer>Cookie policy. All rights reserved.</footer></body></html>"""

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>City Wire</title>
<item><title>Mayor quits</title><link>{base}/page.html</link>
<description>The mayor resigned.</description>
<pubDate>Fri, 29 Aug 2025 10:00:00 GMT</pubDate></item>
<item><title>Budget passes</title><link>{base}/none</link><description>{long}</description></item>
</channel></rss>"""
LONG = "The council passed the budget for next year by a wide margin on Thursday evening. " * 10


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    pages: dict[str, tuple[str, bytes]] = {}

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server names it
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/page.html")
                self.end_headers()
                return
            kind, body = pages.get(self.path, ("text/plain", b"gone"))
            self.reply(200 if self.path in pages else 404, kind, body)

    with serve(Handler) as base:
        pages["/page.html"] = ("text/html; charset=utf-8", PAGE.encode())
        pages["/feed.xml"] = ("application/rss+xml", FEED.format(base=base, long=LONG).encode())
        pages["/notfeed.xml"] = ("application/xml", b"<html><p>not a feed</p></html>")
        yield base


ALLOW = Options(allow_private_urls=True)


def test_html_file_gives_main_text_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE)
    (article,) = ingest([path]).articles
    assert article.title == "Mayor quits after vote"
    assert article.source == "The Daily"
    assert article.author == "Jane Roe"
    assert article.url == "https://daily.example/mayor"
    assert article.published is not None
    assert article.published.date().isoformat() == "2025-08-29"
    assert "resigned on Friday" in article.text
    assert "Home | News" not in article.text
    assert "Cookie policy" not in article.text


def test_json_and_jsonl_records(tmp_path: Path) -> None:
    records = [
        {
            "text": "The bridge reopened on Monday after repairs.",
            "title": "Bridge",
            "source": "Wire",
        },
        {"html": PAGE, "url": "https://daily.example/mayor", "published": "2025-08-30"},
        {"title": "no body"},
    ]
    (tmp_path / "a.json").write_text(json.dumps(records))
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"text": "A second export line.", "source": "Line"})
    )
    result = ingest([tmp_path / "a.json", tmp_path / "b.jsonl"])
    assert [(a.source, a.title) for a in result.articles] == [
        ("Wire", "Bridge"),
        ("The Daily", "Mayor quits after vote"),
        ("Line", None),
    ]
    assert result.articles[1].published is not None
    assert [(s.subject, s.reason) for s in result.skipped] == [
        (f"{tmp_path / 'a.json'}#3", 'the record has no "text" or "html"')
    ]


def test_bad_json_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{oops")
    (skipped,) = ingest([tmp_path / "bad.json"]).skipped
    assert skipped.reason.startswith("not valid JSON (line 1)")


def test_url_of_a_page(site: str) -> None:
    (article,) = ingest([f"{site}/moved"], options=ALLOW).articles
    assert article.source == "The Daily"
    assert "resigned on Friday" in article.text


def test_private_addresses_are_refused_by_default(site: str) -> None:
    (skipped,) = ingest([f"{site}/page.html"]).skipped
    assert skipped.subject == f"{site}/page.html"
    assert (
        skipped.reason
        == "127.0.0.1 is a private or local address; pass --allow-private-urls to fetch it"
    )


def test_dead_links_and_non_feeds_are_skipped_with_a_reason(site: str, tmp_path: Path) -> None:
    (tmp_path / "junk.rss").write_text("this is not xml")
    result = ingest(
        [f"{site}/missing", f"{site}/notfeed.xml", tmp_path / "junk.rss"], options=ALLOW
    )
    reasons = [s.reason for s in result.skipped]
    assert reasons[0] == "the server answered 404"
    assert reasons[1].startswith("not an RSS or Atom feed")
    assert reasons[2].startswith("not an RSS or Atom feed")


def test_feed_entries_become_articles_and_teasers_are_fetched(site: str) -> None:
    result = ingest([f"{site}/feed.xml"], options=ALLOW)
    teaser, full = result.articles
    assert teaser.source == "City Wire"
    assert teaser.title == "Mayor quits"
    assert "six years" in teaser.text  # from the linked page, not the one-line teaser
    assert teaser.published is not None
    assert full.title == "Budget passes"
    assert "passed the budget" in full.text


def test_size_cap_on_fetches(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module, "MAX_BYTES", 100)
    (skipped,) = ingest([f"{site}/page.html"], options=ALLOW).skipped
    assert skipped.reason == "larger than 0 MB; not fetched"


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(Exception, match="only http and https"):
        fetch_module.fetch("ftp://example.org/file")


def test_glob_filters_folders(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text article about the vote.")
    (tmp_path / "b.html").write_text(PAGE)
    result = ingest([tmp_path], options=Options(glob="*.html"))
    assert [Path(a.origin).name for a in result.articles] == ["b.html"]


def test_near_duplicates_count_as_one_source(tmp_path: Path) -> None:
    story = "The mayor resigned on Friday after a vote of no confidence in the city council."
    (tmp_path / "a.txt").write_text(story + "\nMore details later today from the council.")
    (tmp_path / "b.txt").write_text(
        story + "\nMore details later today from the council!\nShare this"
    )
    first, second = clean(ingest([tmp_path], sources={"a.txt": "Wire", "b.txt": "Site"}).articles)
    assert second.duplicate_of == first.id
    (merged,) = merge(
        [
            claims(first, ("The mayor resigned on Friday.", [1])),
            claims(second, ("The mayor resigned on Friday.", [1])),
        ],
        [first, second],
    )
    assert merged.sources == 1
