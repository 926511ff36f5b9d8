"""The digest archive: a run writes each story's HTML briefing at a stable address and index
pages; the email's titles link there; an updated story keeps its page and shows what changed;
re-runs update pages in place and lose nothing; a broken archive never stops the email."""

import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from service._exceptions import ConfigError
from service.cli import EXIT_OK, EXIT_PARTIAL, main
from service.digest.archive import (
    RECORD,
    ArchivedEdition,
    ArchivedStory,
    Record,
    load,
    slug,
)
from service.digest.config import load_config
from tests.digest_helpers import NOW, RECIPIENTS, Setup, make_setup, parts
from tests.html_pages import Page

BASE = "https://news.example.org/briefs/"
LINK = re.compile(re.escape(BASE) + r"world/stories/([\w.-]+)\.html")


@pytest.fixture
def digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    with ExitStack() as stack:
        setup = make_setup(tmp_path, monkeypatch, stack)
        text = setup.config.read_text(encoding="utf-8")
        archive = f'[archive]\ndir = "site"\nbase_url = "{BASE}"\n\n'
        setup.config.write_text(text.replace("[[digest]]", archive + "[[digest]]"), "utf-8")
        yield setup


def site(digest: Setup) -> Path:
    return digest.folder / "site"


def story_ids(digest: Setup) -> list[str]:
    """The stories the first recipient's latest email links to, in its order."""
    _, html = parts(digest.box.to(RECIPIENTS[0])[-1])
    return list(dict.fromkeys(LINK.findall(html)))


def heading(path: Path) -> str:
    page = Page(path.read_text(encoding="utf-8"))
    return "".join(next(e for e in page.elements if e.tag == "h1").text).strip()


def test_a_run_writes_each_story_page_and_the_indexes_and_the_email_links_them(
    digest: Setup,
) -> None:
    (outcome,) = digest.run()
    assert outcome.status == "sent"
    ids = story_ids(digest)
    assert len(ids) == outcome.stories == 3
    text, html = parts(digest.box.to(RECIPIENTS[0])[0])
    titles = re.findall(r'<a href="' + re.escape(BASE) + r'[^"]+"[^>]*>([^<]+)</a>', html)
    for story_id, title in zip(ids, titles, strict=True):
        page = site(digest) / "world" / "stories" / f"{story_id}.html"
        assert heading(page).startswith(title.strip())
        assert (page.parent / story_id / "2024-05-07-1.html").is_file()
        assert f"{BASE}world/stories/{story_id}.html" in text
    edition = Page((site(digest) / "world" / "2024-05-07-1.html").read_text(encoding="utf-8"))
    links = {e.attrs["href"] for e in edition.elements if e.tag == "a"}
    assert {f"stories/{i}.html" for i in ids} <= links
    assert (site(digest) / "index.html").read_text(encoding="utf-8").count(
        "world/2024-05-07-1"
    ) == 1


def test_an_updated_story_keeps_its_page_and_shows_what_changed(digest: Setup) -> None:
    digest.run()
    first = story_ids(digest)
    pages = {i: site(digest) / "world" / "stories" / f"{i}.html" for i in first}
    before = {i: p.read_text(encoding="utf-8") for i, p in pages.items()}
    digest.add_day_two()
    (update,) = digest.run(now=NOW + timedelta(days=1))
    assert update.stories == 1
    (updated,) = story_ids(digest)
    assert updated in first  # the same story id: the same page
    page = Page(pages[updated].read_text(encoding="utf-8"))
    shown = "".join(page.by_id["main"].text)
    assert "Since the last digest (2024-05-07)" in shown
    assert "fjord-times: Halden dockworkers end strike" in shown
    fresh = [e for e in page.elements if e.attrs.get("class") == "badge badge-new"]
    assert re.search(rf"{len(fresh) - 1} sentences? new since then", shown)  # one in the note
    assert len(fresh) > 1
    versions = {e.attrs["href"] for e in page.elements if e.tag == "a"}
    assert {f"{updated}/2024-05-07-1.html", f"{updated}/2024-05-08-1.html"} <= versions
    kept = pages[updated].parent / updated / "2024-05-07-1.html"
    assert "Since the last digest" not in kept.read_text(encoding="utf-8")
    for story_id in set(first) - {updated}:
        assert pages[story_id].read_text(encoding="utf-8") == before[story_id]
    index = (site(digest) / "world" / "index.html").read_text(encoding="utf-8")
    assert "2024-05-07" in index
    assert "2024-05-08" in index


def test_a_rerun_of_an_edition_replaces_its_pages_in_place_and_loses_nothing(
    digest: Setup,
) -> None:
    keep = site(digest) / "notes.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("mine", encoding="utf-8")
    runner = CliRunner(env={"BRIEF_CACHE_DIR": str(digest.folder / "cache")})
    args = ["digest", "run", "--config", str(digest.config), "--dry-run", "--out"]
    for _ in range(2):
        result = runner.invoke(main, [*args, str(digest.folder / "preview")])
        assert result.exit_code in (EXIT_OK, EXIT_PARTIAL), result.output
    assert not site(digest).joinpath("world").exists()  # a dry run leaves the archive alone
    preview = digest.folder / "preview-site"
    for _ in range(2):
        result = runner.invoke(
            main, [*args, str(digest.folder / "preview"), "--archive", str(preview)]
        )
        assert result.exit_code in (EXIT_OK, EXIT_PARTIAL), result.output
    record = load(preview / "world" / RECORD, "world")
    assert len(record.editions) == 1
    assert len(list((preview / "world" / "stories").glob("*.html"))) == 3
    assert not list(preview.rglob(".*"))  # no temporary file left behind
    digest.run()
    digest.add_day_two()
    digest.run(now=NOW + timedelta(days=1))
    record = load(site(digest) / "world" / RECORD, "world")
    assert [e.day.isoformat() for e in record.editions] == ["2024-05-08", "2024-05-07"]
    assert keep.read_text(encoding="utf-8") == "mine"


def test_an_archive_that_cannot_be_written_never_stops_the_email(digest: Setup) -> None:
    site(digest).write_text("a file where the folder should be", encoding="utf-8")
    said: list[str] = []
    (outcome,) = digest.run(say=said.append)
    assert (outcome.status, outcome.delivered) == ("sent", 2)
    assert any("archive" in line and "not written" in line for line in said)
    _, html = parts(digest.box.to(RECIPIENTS[0])[0])
    assert BASE not in html  # no link to a page that was not written


def test_the_config_gives_each_digest_the_archive_unless_it_has_its_own(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text(
        '[archive]\ndir = "site"\n\n'
        '[[digest]]\nname = "a"\nsources = ["n"]\nrecipients = ["x@example.org"]\n\n'
        '[[digest]]\nname = "b"\nsources = ["n"]\nrecipients = ["x@example.org"]\n'
        '[digest.archive]\ndir = "/srv/b"\nbase_url = "https://b.example.org"\n',
        encoding="utf-8",
    )
    a, b = load_config(path).digest
    assert a.archive is not None
    assert (a.archive.dir, a.archive.base_url) == (tmp_path / "site", None)
    assert b.archive is not None
    assert (b.archive.dir, b.archive.base_url) == (Path("/srv/b"), "https://b.example.org/")
    moved = load_config(path).with_archive(tmp_path / "elsewhere").digest[1].archive
    assert moved is not None
    assert (moved.dir, moved.base_url) == (tmp_path / "elsewhere", "https://b.example.org/")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://example.org/", "https://x.org/a b", "https://x.org/?q=1"]
)
def test_a_base_url_that_is_not_a_plain_web_address_is_refused(tmp_path: Path, url: str) -> None:
    path = tmp_path / "digest.toml"
    path.write_text(
        f'[archive]\ndir = "site"\nbase_url = "{url}"\n\n'
        '[[digest]]\nname = "a"\nsources = ["n"]\nrecipients = ["x@example.org"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"digest.toml:3: archive.base_url: "):
        load_config(path)


@pytest.mark.parametrize(
    "name", ["../../etc", "..", "/abs/path", "a/b\\c", " ", "x\x00y", ".hidden"]
)
def test_a_name_becomes_one_file_name_inside_the_archive(tmp_path: Path, name: str) -> None:
    made = slug(name)
    assert made
    assert not made.startswith(".")
    assert (tmp_path / made).resolve().parent == tmp_path.resolve()


def test_editions_are_ordered_by_day_then_number_not_by_name() -> None:
    def edition(day: int, number: int, sentence: str) -> ArchivedEdition:
        story = ArchivedStory(
            story_id="s1", title="t", status="new", outlets=1, sources=1, sentences=[sentence]
        )
        made = datetime(2024, 5, day, tzinfo=UTC)
        return ArchivedEdition(
            key=f"2024-05-{day:02}-{number}", day=made.date(), number=number, made=made,
            stories=[story],
        )  # fmt: skip

    record = Record(digest="world")
    for day, number in [(7, 2), (7, 10), (6, 1), (7, 9)]:
        record.put(edition(day, number, f"{day}/{number}"))
    assert [(e.day.day, e.number) for e in record.editions] == [(7, 10), (7, 9), (7, 2), (6, 1)]
    assert record.before("s1", edition(7, 10, "")) == ["7/9"]
    assert record.before("s1", edition(6, 1, "")) == []
    record.put(edition(7, 10, "again"))
    assert len(record.editions) == 4
