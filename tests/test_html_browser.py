"""The HTML briefing in a real browser: headless Chromium (Debian's package, driven by
Playwright pointed at it; no browser is downloaded). A click or the keyboard opens exactly the
cited sentences, highlighted; without JavaScript the anchors do the same; the page requests
nothing; a hostile article stays inert even against markup written into the page itself.
Screenshots of the seed page are kept under ``tmp/artefacts/`` (``ARTEFACTS_DIR``).

Skipped only off CI where ``chromium`` is missing (``.ci/run`` installs it)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright

from schemas import Briefing
from service.render_html import html
from service.settings import Settings
from tests.conftest import ROOT
from tests.helpers import QuietHandler, serve
from tests.html_pages import hostile_briefing
from tests.test_digest_chromium import png_facts
from tests.test_e2e import seed_run

__all__ = ["seed_run"]  # the replayed seed briefing, a module fixture

CHROMIUM = shutil.which("chromium")
ARTEFACTS = Path(os.environ.get("ARTEFACTS_DIR") or ROOT / "tmp" / "artefacts")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed (CI has it)"
)


@pytest.fixture(scope="module")
def browser(seed_file: Path) -> Iterator[Browser]:
    # seed_file first: the replayed run uses asyncio.run, which cannot run inside the
    # event loop that Playwright's sync API keeps while the browser is open
    assert CHROMIUM is not None, "chromium must be on PATH under CI (.ci/run installs it)"
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def seed_file(
    seed_run: tuple[Briefing, Settings], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("page") / "seeds.html"
    path.write_text(html(seed_run[0]), encoding="utf-8")
    return path


class Watched:
    """A browser context whose every request and console error is recorded."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.requests: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def open(self, path: Path) -> Page:
        page = self.context.new_page()
        page.goto(path.as_uri())
        return page

    def network(self, path: Path) -> list[str]:
        """Requests other than the page's own file."""
        return [url for url in self.requests if url.split("#")[0] != path.as_uri()]


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    yield Watched(context)
    context.close()


def cited(briefing: Briefing, article_id: str, ids: list[int]) -> list[str]:
    article = next(a for a in briefing.articles if a.id == article_id)
    return [article.sentence(i).text for i in ids]


def shown_marks(page: Page) -> list[str]:
    """The highlighted text the reader can see (in any open evidence panel)."""
    marks = page.locator(".evidence mark")
    return [marks.nth(i).inner_text() for i in range(marks.count()) if marks.nth(i).is_visible()]


def panel_of(page: Page, link: Locator) -> Locator:
    return page.locator(f"[id='{link.get_attribute('aria-controls')}']")


def test_clicking_each_citation_shows_exactly_its_sentences_highlighted(
    watched: Watched, seed_file: Path, seed_run: tuple[Briefing, Settings]
) -> None:
    briefing = seed_run[0]
    page = watched.open(seed_file)
    assert shown_marks(page) == []
    for number, sentence in enumerate(briefing.all_sentences(), 1):
        for citation in sentence.citations:
            link = page.locator(f"#s{number} a.cite[href='#s{number}-ev-{citation.source}']")
            link.click()
            assert panel_of(page, link).is_visible()
            assert link.get_attribute("aria-expanded") == "true"
            assert page.locator(".evidence:visible").count() == 1
            expected = cited(briefing, citation.article_id, citation.sentence_ids)
            assert shown_marks(page) == expected
            source = briefing.sources[citation.source - 1]
            assert source.name in panel_of(page, link).inner_text()
    assert watched.errors == []


def test_a_citation_opens_from_the_keyboard(watched: Watched, seed_file: Path) -> None:
    page = watched.open(seed_file)
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    focused = page.locator(":focus")
    assert "cite" in (focused.get_attribute("class") or "")
    page.keyboard.press("Enter")
    panel = panel_of(page, focused)
    assert panel.is_visible()
    assert panel.locator("mark").count() >= 1
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    assert "cite" in (page.locator(":focus").get_attribute("class") or "")


def test_without_javascript_a_citation_is_an_anchor_that_shows_its_evidence(
    browser: Browser, seed_file: Path, seed_run: tuple[Briefing, Settings]
) -> None:
    citation = seed_run[0].lede[0].citations[0]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(seed_file.as_uri())
        link = page.locator(f"#s1 a.cite[href='#s1-ev-{citation.source}']")
        assert not panel_of(page, link).is_visible()
        link.click()
        assert panel_of(page, link).is_visible()
        assert shown_marks(page) == cited(seed_run[0], citation.article_id, citation.sentence_ids)
        page.locator("details.checks summary").first.click()
        assert page.locator("details.checks li").first.is_visible()
    finally:
        context.close()


def test_the_page_requests_nothing_and_follows_the_colour_scheme(
    browser: Browser, seed_file: Path
) -> None:
    backgrounds = []
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        watched = Watched(context)
        page = watched.open(seed_file)
        for summary in page.locator("summary").all():
            summary.click()
        page.locator("a.cite").last.click()
        backgrounds.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert watched.network(seed_file) == []
        assert watched.errors == []
        context.close()
    assert backgrounds[0] != backgrounds[1]


class Counting(QuietHandler):
    """Counts every request: anything the page asks of 127.0.0.1 is a failure."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        self.hits.append(self.path)
        self.reply(200, "image/png", b"")


def test_a_hostile_article_renders_inert(watched: Watched, tmp_path: Path) -> None:
    page_file = tmp_path / "hostile.html"
    page_file.write_text(html(hostile_briefing()), encoding="utf-8")
    page = watched.open(page_file)
    for link in page.locator("a.cite").all():
        link.click()
    for summary in page.locator("summary").all():
        summary.click()
    page.mouse.move(10, 10)
    assert page.evaluate("window.pwned") is None
    assert page.locator("img, iframe, svg, link, [onerror], [onload]").count() == 0
    assert watched.network(page_file) == []


def test_the_policy_blocks_markup_even_if_it_got_into_the_page(
    watched: Watched, tmp_path: Path
) -> None:
    """Defence in depth: had escaping failed, the CSP would still stop scripts and loads."""
    Counting.hits = []
    with serve(Counting) as base:
        injected = (
            f'<script>window.pwned = 1</script><img src="{base}/img">'
            f'<link rel="stylesheet" href="{base}/css"><iframe src="{base}/frame"></iframe>'
        )
        page_file = tmp_path / "injected.html"
        text = html(hostile_briefing()).replace("<main", injected + "<main", 1)
        page_file.write_text(text, encoding="utf-8")
        page = watched.open(page_file)
        page.wait_for_load_state("load")
        assert page.evaluate("window.pwned") is None
    assert Counting.hits == []


@pytest.mark.parametrize(("name", "width"), [("desktop", 1100), ("phone", 390)])
def test_a_screenshot_of_the_seed_page_is_kept(
    browser: Browser, seed_file: Path, name: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 1400})
    try:
        page = context.new_page()
        page.goto(seed_file.as_uri())
        page.locator("a.cite").nth(1).click()
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTEFACTS / f"seed-briefing-{name}.png"
        page.screenshot(path=shot)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    finally:
        context.close()
    got_width, height, distinct = png_facts(shot.read_bytes())
    assert (got_width, height) == (width, 1400)
    assert distinct > 32, "the screenshot is blank"
    assert not overflow, f"the page is wider than a {width}px screen"
