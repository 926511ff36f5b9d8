"""The email: its parts and headers, escaping of hostile article text, links only http(s), and
snapshots of the HTML and text (``UPDATE_SNAPSHOTS=1 pytest tests/test_digest_email.py``
rewrites them after a deliberate change of layout)."""

import os
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from schemas import (
    Briefing,
    BriefSentence,
    Citation,
    ClaimStatus,
    Disagreement,
    FigureValue,
    Section,
    Source,
    Usage,
)
from service.digest.edition import NEW, UPDATED, Edition, LeftOut, StoryBrief
from service.digest.layout import render_html, render_text
from service.digest.mail import addressed, build, message_id, one_line, subject
from service.render import safe_url
from tests.conftest import ROOT

SNAPSHOTS = ROOT / "tests" / "snapshots"
MADE = datetime(2024, 5, 7, 6, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def said(text: str, *sources: int, status: ClaimStatus = ClaimStatus.CORROBORATED) -> BriefSentence:
    citations = [Citation(source=n, article_id=f"a{n}", sentence_ids=[1]) for n in sources]
    return BriefSentence(text=text, claim_ids=["c1"], citations=citations, status=status)


def source(number: int, name: str, title: str, url: str | None) -> Source:
    return Source(
        number=number,
        article_id=f"a{number}",
        name=name,
        title=title,
        origin=f"/home/someone/news/{name.lower().replace(' ', '-')}.txt",
        url=url,
        published=datetime(2024, 5, 6, 9, 30, tzinfo=UTC),
    )


def disagreement() -> Disagreement:
    union = FigureValue(
        value="2,400", attribution=["the union"], citations=[said("x", 1).citations[0]]
    )
    port = FigureValue(
        value="fewer than 1,800",
        attribution=["the port authority"],
        citations=[said("x", 2).citations[0]],
    )
    return Disagreement(
        topic="strikers", values=[union, port], revisions=["first 2,100, later 2,400"]
    )


def briefing(title: str, sources: list[Source], with_differ: bool = False) -> Briefing:
    return Briefing(
        title=title,
        lede=[said("Dockworkers at the Port of Halden walked off the job on Monday.", 1, 2)],
        sections=[
            Section(
                heading="What happened",
                sentences=[
                    said("Talks resume on Wednesday under a state mediator.", 2),
                    said("Six ships were diverted.", 1, status=ClaimStatus.SINGLE_SOURCE),
                ],
            )
        ],
        sources=sources,
        claims=[],
        articles=[],
        disagreements=[disagreement()] if with_differ else [],
        as_of=datetime(2024, 5, 6, 9, 30, tzinfo=UTC),
        model="test",
        generated_at=MADE,
        usage=Usage(),
    )


def edition(
    title: str = "Halden port strike",
    name: str = "Harbor Times",
    url: str = "https://harbortimes.example/strike",
) -> Edition:
    strike = StoryBrief(
        story_id="s1",
        status=NEW,
        briefing=briefing(
            title,
            [source(1, name, title, url), source(2, "Coastal Wire", "Crane talks fail", None)],
            True,
        ),
        outlets=2,
    )
    fire = StoryBrief(
        story_id="s2",
        status=UPDATED,
        briefing=briefing(
            "Carson Valley wildfire",
            [source(1, "Valley Courier", "Fire spreads", "http://valleycourier.example/fire")],
        ),
        outlets=1,
        since=["Valley Courier: Pine Bluff residents evacuate"],
        last_sent=datetime(2024, 5, 6, 6, 0, tzinfo=UTC),
    )
    left = [LeftOut("Norland rate rise (2 articles)", "could not be briefed: the model failed")]
    return Edition("world", MADE, 1, [strike, fire], left)


def check_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to write it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot"


def test_html_snapshot() -> None:
    check_snapshot("digest.html", render_html(edition()))


def test_text_snapshot() -> None:
    check_snapshot("digest.txt", render_text(edition()))


def parsed(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=SMTP)


def test_the_message_is_multipart_alternative_with_safe_headers() -> None:
    sender = "News Brief <brief@example.org>"
    msg_id = message_id(edition(), sender, "s1:a1")
    assert msg_id == message_id(edition(), sender, "s1:a1")  # the idempotency key is stable
    assert msg_id.endswith("@example.org>")
    assert msg_id != message_id(edition(), sender, "s1:a2")
    message = parsed(addressed(build(edition(), sender, msg_id).as_bytes(), "ana@example.org"))
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert (message["To"], message["Message-ID"]) == ("ana@example.org", msg_id)
    assert str(message["Subject"]) == "world — 2024-05-07: Halden port strike (and 1 more)"


def test_newlines_in_titles_and_names_cannot_add_headers() -> None:
    sneaky = edition(title="Strike\r\nBcc: victim@example.org\nX-Evil: 1")
    raw = build(sneaky, "brief@example.org", "<id@example.org>").as_bytes()
    message = parsed(raw)
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert "Strike Bcc: victim@example.org X-Evil: 1" in str(message["Subject"])
    assert one_line("a\u2028b\x00c\td") == "a b c d"
    with pytest.raises(ValueError, match="linefeed"):
        build(edition(), "brief@example.org", "<id@example.org>\r\nBcc: x@example.org")


def test_article_text_and_titles_are_escaped_and_only_http_links_made() -> None:
    hostile = edition(title=HOSTILE, name=f"Evil {HOSTILE}", url="javascript:alert(1)")
    html = render_html(hostile)
    assert "<script" not in html
    assert "<img" not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;" in html
    assert "/home/someone" not in html
    assert "harbor-times.txt" not in html
    assert "(coastal-wire.txt)" in html  # a local source shows only its file name
    text = render_text(hostile)
    assert "/home/someone" not in text
    for bad in (
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://example.org/x",
        "http://a b",
        "//x",
    ):
        assert safe_url(bad) is None
    assert safe_url("HTTPS://example.org/a?b=1") == "HTTPS://example.org/a?b=1"


def test_subject_without_stories_and_long_titles() -> None:
    long = edition(title="word " * 100)
    assert len(subject(long)) <= 200
    assert subject(Edition("world", MADE, 2, [])) == "world — 2024-05-07 (2): nothing new"
