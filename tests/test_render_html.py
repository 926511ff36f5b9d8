"""The HTML briefing, read back as elements: every citation opens exactly the sentences it
cites, in their paragraph; statuses, checks and set-aside spans are shown; the page allows
only its own inline CSS and script; nothing from a source becomes markup."""

import base64
import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas import Briefing, BriefSentence, ClaimStatus
from service import render
from service.cli import EXIT_OK, EXIT_PARTIAL, main
from service.ingest import make_article
from service.render_html import Span, html, paragraphs_of, pieces
from service.settings import Settings
from tests.conftest import SEEDS
from tests.html_pages import PAYLOADS, Page, hostile_briefing
from tests.test_e2e import seed_run

__all__ = ["seed_run"]  # the replayed seed briefing, a module fixture

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "a", "nav", "main", "header", "h1", "h2",
    "h3", "p", "span", "ul", "ol", "li", "section", "article", "div", "details", "summary",
    "blockquote", "mark", "strong", "q", "footer", "script",
}  # fmt: skip


def cited_texts(briefing: Briefing, article_id: str, ids: list[int]) -> list[str]:
    article = next(a for a in briefing.articles if a.id == article_id)
    return [article.text[article.sentence(i).start : article.sentence(i).end] for i in ids]


@pytest.fixture(scope="module")
def seed(seed_run: tuple[Briefing, Settings]) -> tuple[Briefing, Page]:
    briefing, _ = seed_run
    return briefing, Page(html(briefing))


def test_every_citation_opens_exactly_its_cited_sentences(seed: tuple[Briefing, Page]) -> None:
    briefing, page = seed
    opened = 0
    for number, sentence in enumerate(briefing.all_sentences(), 1):
        for citation in sentence.citations:
            panel = page.by_id[f"s{number}-ev-{citation.source}"]
            expected = cited_texts(briefing, citation.article_id, citation.sentence_ids)
            assert panel.marks == expected, sentence.text
            opened += 1
    assert opened >= len(briefing.all_sentences())


def test_a_citation_shows_its_whole_paragraph_around_the_highlight(
    seed: tuple[Briefing, Page],
) -> None:
    briefing, page = seed
    citation = briefing.lede[0].citations[0]
    article = next(a for a in briefing.articles if a.id == citation.article_id)
    sentence = article.sentence(citation.sentence_ids[0])
    line_start = article.text.rfind("\n", 0, sentence.start) + 1
    line_end = article.text.find("\n", sentence.end)
    paragraph = article.text[line_start : line_end if line_end >= 0 else None]
    assert paragraph in page.text_of(f"s1-ev-{citation.source}")


def test_every_disputed_value_opens_its_evidence(seed: tuple[Briefing, Page]) -> None:
    briefing, page = seed
    assert briefing.disagreements
    for d, item in enumerate(briefing.disagreements, 1):
        for v, value in enumerate(item.values, 1):
            assert value.value in page.text_of(f"d{d}-v{v}")
            for citation in value.citations:
                panel = page.by_id[f"d{d}-v{v}-ev-{citation.source}"]
                assert panel.marks == cited_texts(
                    briefing, citation.article_id, citation.sentence_ids
                )


def expected_status(sentence: BriefSentence) -> str:
    return {
        ClaimStatus.CONTESTED: "contested",
        ClaimStatus.SINGLE_SOURCE: "one outlet",
        ClaimStatus.CORROBORATED: "corroborated",
    }[sentence.status]


def test_each_sentence_shows_its_status_and_its_checks(seed: tuple[Briefing, Page]) -> None:
    briefing, page = seed
    for number, sentence in enumerate(briefing.all_sentences(), 1):
        block = page.by_id[f"s{number}"]
        assert f"status-{sentence.status}" in block.attrs["class"]
        text = page.text_of(f"s{number}")
        assert expected_status(sentence) in text
        passed = sum(c.passed for c in sentence.checks)
        assert f"Checks: {passed} of {len(sentence.checks)} passed" in text
        assert all(check.name in text for check in sentence.checks)


def test_each_source_shows_its_text_with_every_cited_sentence_marked(
    seed: tuple[Briefing, Page],
) -> None:
    briefing, page = seed
    values = [v for d in briefing.disagreements for v in d.values]
    citations = [c for s in briefing.all_sentences() for c in s.citations]
    citations += [c for v in values for c in v.citations]
    for source in briefing.sources:
        ids = sorted(
            {i for c in citations if c.article_id == source.article_id for i in c.sentence_ids}
        )
        section = page.by_id[f"src-{source.number}"]
        assert section.marks == cited_texts(briefing, source.article_id, ids)
        article = next(a for a in briefing.articles if a.id == source.article_id)
        if article.removed:
            assert f"Set aside by the clean-up: {len(article.removed)} span" in "".join(
                section.text
            )


def policy_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_policy_allows_only_the_inline_css_and_script(seed: tuple[Briefing, Page]) -> None:
    _, page = seed
    (meta,) = [e for e in page.elements if e.attrs.get("http-equiv") == "Content-Security-Policy"]
    policy = dict(part.strip().split(" ", 1) for part in meta.attrs["content"].split(";"))
    assert policy["default-src"] == "'none'"
    (style,) = [e for e in page.elements if e.tag == "style"]
    (script,) = [e for e in page.elements if e.tag == "script"]
    assert policy["style-src"] == policy_hash("".join(style.text))
    assert policy["script-src"] == policy_hash("".join(script.text))
    assert not [e for e in page.elements if "src" in e.attrs or e.tag in ("link", "img")]


@pytest.fixture(scope="module")
def hostile() -> tuple[str, Page]:
    text = html(hostile_briefing())
    return text, Page(text)


def test_nothing_from_a_source_becomes_markup(hostile: tuple[str, Page]) -> None:
    _, page = hostile
    assert {e.tag for e in page.elements} <= ALLOWED_TAGS
    handlers = [(e.tag, k) for e in page.elements for k in e.attrs if k.startswith("on")]
    assert handlers == []
    links = [e.attrs["href"] for e in page.elements if "href" in e.attrs]
    assert all(re.match(r"^(#[\w-]+|https?://)", href) for href in links), links
    assert len([e for e in page.elements if e.tag in ("script", "style")]) == 2


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_is_shown_as_text(hostile: tuple[str, Page], payload: str) -> None:
    _, page = hostile
    shown = "".join(page.by_id["main"].text)
    assert payload in shown


def test_render_and_the_cli_give_the_page(
    seed_run: tuple[Briefing, Settings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    briefing, settings = seed_run
    assert render(briefing, "html") == html(briefing)
    monkeypatch.setenv("BRIEF_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.setenv("BRIEF_LOCAL_URL", str(settings.local_url))
    out = tmp_path / "seeds.html"
    result = CliRunner().invoke(main, [str(SEEDS), "-f", "html", "-o", str(out)])
    assert result.exit_code == (EXIT_PARTIAL if briefing.skipped else EXIT_OK), result.output
    page = Page(out.read_text(encoding="utf-8"))
    assert "".join(next(e for e in page.elements if e.tag == "h1").text).startswith(briefing.title)


def test_a_sentence_across_a_line_break_is_shown_with_both_lines() -> None:
    article = make_article("First line here.\nA sentence that\nruns on. Last one.", "a.txt", "A")
    text = article.text
    spans = [Span(text.index("A sentence"), text.index("runs on.") + 8, cited=True)]
    (paragraph,) = paragraphs_of(text, spans)
    assert text[paragraph[0] : paragraph[1]] == "A sentence that\nruns on. Last one."
    cut = pieces(text, *paragraph, spans)
    assert [p.text for p in cut if p.cited] == ["A sentence that\nruns on."]
    assert "".join(p.text for p in cut) == text[paragraph[0] : paragraph[1]]
