"""The digest archive: every story's checkable HTML briefing at a stable address, and indexes.

Laid out under the archive folder (``--archive DIR`` or the config's ``[archive]``)::

    index.html                               every digest, its editions newest first
    <digest>/index.html                      one digest's editions by day, with their stories
    <digest>/<day>-<n>.html                  one edition (one email): its stories
    <digest>/stories/<story id>.html         the story's latest briefing: its stable page
    <digest>/stories/<story id>/<day>-<n>.html  the story as that edition sent it (kept)
    <digest>/archive.json                    the record the indexes are built from

A story keeps its page across digests; an updated one shows what was added since the last
digest and links every earlier version. A re-run of an edition replaces its pages in place;
nothing else is removed. Each file is written whole (a temporary file, then renamed), so a
killed run leaves the previous page, never half of one. The archive is a by-product: a
failure to write it is reported and the email goes out all the same.
"""

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

from service.digest.config import ArchiveRef
from service.digest.edition import Edition, StoryBrief
from service.render_html import Link, PageNotes, html, render_page

RECORD = "archive.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ArchivedStory(BaseModel):
    """A story as one edition sent it."""

    model_config = ConfigDict(frozen=True)

    story_id: str
    title: str
    status: str
    outlets: int
    sources: int
    sentences: list[str] = []
    """The briefing's sentences, to show what the next version changed."""


class ArchivedEdition(BaseModel):
    """One edition (one email) of a digest."""

    model_config = ConfigDict(frozen=True)

    key: str
    day: date
    number: int
    made: datetime
    stories: list[ArchivedStory]
    left_out: list[str] = []


class Record(BaseModel):
    """What the archive holds for one digest, newest edition first."""

    digest: str
    editions: list[ArchivedEdition] = []

    def put(self, edition: ArchivedEdition) -> None:
        """Add ``edition``, replacing an earlier run of the same one."""
        kept = [e for e in self.editions if e.key != edition.key]
        self.editions = sorted([*kept, edition], key=lambda e: (e.day, e.number), reverse=True)

    def versions(self, story_id: str) -> list[ArchivedEdition]:
        """The editions that sent ``story_id``, oldest first."""
        return [
            e for e in reversed(self.editions) if any(s.story_id == story_id for s in e.stories)
        ]

    def before(self, story_id: str, edition: "ArchivedEdition") -> list[str]:
        """The story's sentences in the last edition before ``edition`` that sent it."""
        now = (edition.day, edition.number)
        earlier = [e for e in self.versions(story_id) if (e.day, e.number) < now]
        stories = earlier[-1].stories if earlier else []
        return next((s.sentences for s in stories if s.story_id == story_id), [])


def slug(name: str) -> str:
    """A file name for a digest or story: letters, digits, ``_.-`` (never ``..`` alone)."""
    return _UNSAFE.sub("-", name).strip(".-") or "digest"


def key_of(edition: Edition) -> str:
    """An edition's name in the archive: its day and number, such as ``2024-05-07-1``."""
    return f"{edition.made:%Y-%m-%d}-{edition.number}"


def story_path(digest: str, story_id: str) -> str:
    """The story's stable page, relative to the archive folder."""
    return f"{slug(digest)}/stories/{slug(story_id)}.html"


def public_pages(archive: ArchiveRef, edition: Edition) -> dict[str, str]:
    """Each story's public URL, where the archive has a base URL."""
    if archive.base_url is None:
        return {}
    return {
        s.story_id: archive.base_url + quote(story_path(edition.digest, s.story_id))
        for s in edition.stories
    }


def archived(archive: ArchiveRef | None, edition: Edition, say: Callable[[str], None]) -> Edition:
    """Write ``edition`` into the archive; return it with its stories' public URLs.

    Without an archive, or when it cannot be written (reported through ``say``), the
    edition comes back as it was: the email never depends on the archive.
    """
    if archive is None:
        return edition
    try:
        write(archive.dir, edition)
    except (OSError, ValueError) as error:
        say(f"{edition.digest}: the archive in {archive.dir} was not written: {error}")
        return edition
    return replace(edition, pages=public_pages(archive, edition))


def write(root: Path, edition: Edition) -> Record:
    """Write the edition's story pages, its index page and the indexes above it."""
    folder = root / slug(edition.digest)
    record = load(folder / RECORD, edition.digest)
    entry = _entry(edition)
    record.put(entry)
    for story in edition.stories:
        _write_story(folder, record, edition, story, record.before(story.story_id, entry))
    _save(folder / f"{key_of(edition)}.html", _edition_page(record, key_of(edition)))
    _save(folder / "index.html", _digest_page(record))
    _save(folder / RECORD, record.model_dump_json(indent=1))
    _save(root / "index.html", _archive_page(root))
    return record


def load(path: Path, digest: str) -> Record:
    """The digest's record, or a new one; an unreadable record is an error, never replaced."""
    if not path.exists():
        return Record(digest=digest)
    try:
        return Record.model_validate_json(path.read_bytes())
    except ValidationError as error:
        raise ValueError(
            f"{path} is not an archive record ({error.error_count()} errors)"
        ) from None


def _entry(edition: Edition) -> ArchivedEdition:
    stories = [
        ArchivedStory(
            story_id=s.story_id,
            title=s.briefing.title,
            status=s.status,
            outlets=s.outlets,
            sources=len(s.briefing.sources),
            sentences=[x.text.strip() for x in s.briefing.all_sentences()],
        )
        for s in edition.stories
    ]
    return ArchivedEdition(
        key=key_of(edition),
        day=edition.made.date(),
        number=edition.number,
        made=edition.made,
        stories=stories,
        left_out=[f"{i.subject}: {i.reason}" for i in edition.left_out],
    )


def _write_story(
    folder: Path, record: Record, edition: Edition, story: StoryBrief, before: list[str]
) -> None:
    name, key = slug(story.story_id), key_of(edition)
    versions = [e.key for e in record.versions(story.story_id)]
    changes = _changes(before, story)
    stable = _notes(story, edition, versions, up="../", own=f"{name}/")
    _save(folder / "stories" / f"{name}.html", html(story.briefing, replace(stable, **changes)))
    kept = _notes(story, edition, versions, up="../../", own="")
    _save(folder / "stories" / name / f"{key}.html", html(story.briefing, replace(kept, **changes)))


def _changes(before: list[str], story: StoryBrief) -> dict[str, Any]:
    """Which sentences are new since the story's last version, and which are gone."""
    if not before:
        return {}
    now = [s.text.strip() for s in story.briefing.all_sentences()]
    return {"fresh": frozenset(now) - set(before), "gone": [s for s in before if s not in now]}


def _notes(
    story: StoryBrief, edition: Edition, versions: list[str], up: str, own: str
) -> PageNotes:
    """The page's links, relative to where it lies (``up`` to the digest folder)."""
    nav = [
        Link("Archive", f"{up}../index.html"),
        Link(edition.digest, f"{up}index.html"),
        Link(f"{edition.made:%Y-%m-%d} ({edition.number})", f"{up}{key_of(edition)}.html"),
    ]
    return PageNotes(
        nav=nav,
        status=story.status,
        since=story.since,
        last_sent=story.last_sent,
        history=[Link(v, f"{own}{v}.html") for v in versions],
    )


def _edition_page(record: Record, key: str) -> str:
    edition = next(e for e in record.editions if e.key == key)
    nav = [Link("Archive", "../index.html"), Link(record.digest, "index.html")]
    title = f"{record.digest} — {edition.day:%Y-%m-%d}" + (
        f" ({edition.number})" if edition.number > 1 else ""
    )
    return render_page("archive_edition.html", title=title, nav=nav, edition=edition, slug=slug)


def _digest_page(record: Record) -> str:
    days: dict[date, list[ArchivedEdition]] = {}
    for edition in record.editions:
        days.setdefault(edition.day, []).append(edition)
    nav = [Link("Archive", "../index.html")]
    return render_page(
        "archive_digest.html", title=record.digest, nav=nav, days=days, record=record, slug=slug
    )


def _archive_page(root: Path) -> str:
    records = [r for path in sorted(root.glob(f"*/{RECORD}")) if (r := _readable(path))]
    return render_page(
        "archive_index.html", title="newsbrief archive", nav=[], records=records, slug=slug
    )


def _readable(path: Path) -> Record | None:
    try:
        return load(path, path.parent.name)
    except (OSError, ValueError):
        return None  # another digest's broken record: its own run reports it


def _save(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # a page to publish, not mkstemp's private 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
