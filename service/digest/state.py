"""The digest's memory, in one SQLite file: runs, articles and their stories, the outbox.

Only this module touches the database. Every write is one transaction, so a run killed at any
moment leaves the state as it was before or after a step, never between. The outbox holds each
built email (keyed by its Message-ID) with one delivery row per recipient: ``pending``, then
``sent`` (or ``refused`` when the server rejects that address for good). What each story's row
was before an email marked it sent is kept (``held``), so that when every recipient refuses
the email, its stories go back to unsent in the same transaction as the last refusal.

A state that cannot be opened, read or written raises :class:`StateError` (one line).
"""

import fcntl
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from service._exceptions import BusyError, StateError
from service.digest.stories import Item

STATE_FILE = "digest.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, digest TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    status TEXT NOT NULL DEFAULT 'running', stories INTEGER NOT NULL DEFAULT 0,
    message_id TEXT, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS failures (
    run_id INTEGER NOT NULL, digest TEXT NOT NULL, at TEXT NOT NULL,
    subject TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    digest TEXT NOT NULL, article_id TEXT NOT NULL, story_id TEXT NOT NULL,
    first_seen TEXT NOT NULL, published TEXT NOT NULL, keys TEXT NOT NULL,
    PRIMARY KEY (digest, article_id));
CREATE TABLE IF NOT EXISTS stories (
    digest TEXT NOT NULL, story_id TEXT NOT NULL, title TEXT NOT NULL,
    sent_articles TEXT NOT NULL, first_sent TEXT NOT NULL, last_sent TEXT NOT NULL,
    PRIMARY KEY (digest, story_id));
CREATE TABLE IF NOT EXISTS outbox (
    message_id TEXT PRIMARY KEY, digest TEXT NOT NULL, day TEXT NOT NULL, built TEXT NOT NULL,
    sender TEXT NOT NULL, subject TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    message_id TEXT NOT NULL REFERENCES outbox, recipient TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', at TEXT, error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (message_id, recipient));
CREATE TABLE IF NOT EXISTS held (
    message_id TEXT NOT NULL, digest TEXT NOT NULL, story_id TEXT NOT NULL, before TEXT,
    PRIMARY KEY (message_id, story_id));
"""


@dataclass(frozen=True)
class Sent:
    """What a story's last email held."""

    articles: frozenset[str]
    last_sent: datetime


@dataclass(frozen=True)
class Built:
    """An email ready for the outbox, and the stories it sends (id, title, article ids)."""

    message_id: str
    digest: str
    day: date
    sender: str
    subject: str
    raw: bytes
    recipients: list[str]
    stories: list[tuple[str, str, list[str]]]


@dataclass(frozen=True)
class Outgoing:
    """An outbox email and the recipients it has not reached yet."""

    message_id: str
    sender: str
    raw: bytes
    recipients: list[str]
    sent_before: int = 0
    """Copies of it that earlier runs sent."""


def _unusable(path: Path, doing: str, error: BaseException) -> StateError:
    why = getattr(error, "strerror", None) or " ".join(str(error).split()) or type(error).__name__
    return StateError(f"{path}: cannot {doing} the digest state: {why}")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the state's lock, or raise :class:`BusyError` when another run holds it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(f"{path}.lock", "w")  # noqa: SIM115 - held for the whole block
    except OSError as error:
        raise _unusable(path.parent, "create the folder of", error) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(f"another digest run holds {path}.lock; try again later") from None
        yield


class State:
    """The state database at ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path)
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise _unusable(path, "open", error) from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a failure to write it is a :class:`StateError`."""
        try:
            with self.db:
                yield self.db
        except sqlite3.Error as error:
            raise _unusable(self.path, "write", error) from None

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        try:
            return list(self.db.execute(sql, args))
        except sqlite3.Error as error:
            raise _unusable(self.path, "read", error) from None

    # runs and failures

    def start_run(self, digest: str, now: datetime) -> int:
        with self._writing():
            cursor = self.db.execute(
                "INSERT INTO runs (digest, started) VALUES (?, ?)", (digest, now.isoformat())
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, now: datetime, status: str, detail: str = "") -> None:
        with self._writing():
            self.db.execute(
                "UPDATE runs SET finished = ?, status = ?, detail = ? WHERE id = ?",
                (now.isoformat(), status, detail, run_id),
            )

    def note_email(self, run_id: int, message_id: str, stories: int) -> None:
        with self._writing():
            self.db.execute(
                "UPDATE runs SET message_id = ?, stories = ? WHERE id = ?",
                (message_id, stories, run_id),
            )

    def record_failures(
        self, run_id: int, digest: str, now: datetime, failures: list[tuple[str, str]]
    ) -> None:
        rows = [(run_id, digest, now.isoformat(), subject, why) for subject, why in failures]
        with self._writing():
            self.db.executemany("INSERT INTO failures VALUES (?, ?, ?, ?, ?)", rows)

    # articles and stories

    def first_seen(self, digest: str) -> dict[str, datetime]:
        rows = self._rows("SELECT article_id, first_seen FROM articles WHERE digest = ?", digest)
        return {a: datetime.fromisoformat(t) for a, t in rows}

    def known_items(self, digest: str) -> list[Item]:
        """Every article placed in a story, with its keys, time and story."""
        rows = self._rows(
            "SELECT article_id, keys, published, story_id FROM articles WHERE digest = ?", digest
        )
        return [
            Item(a, frozenset(json.loads(k)), datetime.fromisoformat(p), s) for a, k, p, s in rows
        ]

    def remember(self, digest: str, items: list[Item], now: datetime) -> None:
        """Place new articles in their stories; articles already placed keep theirs."""
        rows = [
            (digest, i.article_id, i.story_id, now.isoformat(), i.when.isoformat(), _keys(i))
            for i in items
        ]
        with self._writing():
            self.db.executemany("INSERT OR IGNORE INTO articles VALUES (?, ?, ?, ?, ?, ?)", rows)

    def sent(self, digest: str) -> dict[str, Sent]:
        rows = self._rows(
            "SELECT story_id, sent_articles, last_sent FROM stories WHERE digest = ?", digest
        )
        return {s: Sent(frozenset(json.loads(a)), datetime.fromisoformat(t)) for s, a, t in rows}

    # the outbox

    def editions(self, digest: str, day: date) -> int:
        """How many emails this digest has built on ``day``."""
        rows = self._rows(
            "SELECT count(*) FROM outbox WHERE digest = ? AND day = ?", digest, day.isoformat()
        )
        return int(rows[0][0])

    def store(self, built: Built, now: datetime) -> None:
        """Put ``built`` in the outbox and mark its stories as sent, in one transaction."""
        at = now.isoformat()
        outbox = (built.message_id, built.digest, built.day.isoformat(), at, built.sender)
        before = self._story_rows(built.digest, [s for s, _, _ in built.stories])
        with self._writing():
            self.db.executemany(
                "INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?)",
                [(built.message_id, built.digest, s, before.get(s)) for s, _, _ in built.stories],
            )
            self.db.execute(
                "INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*outbox, built.subject, built.raw),
            )
            self.db.executemany(
                "INSERT INTO deliveries (message_id, recipient) VALUES (?, ?)",
                [(built.message_id, r) for r in dict.fromkeys(built.recipients)],
            )
            self.db.executemany(
                "INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "title = excluded.title, sent_articles = excluded.sent_articles, "
                "last_sent = excluded.last_sent",
                [(built.digest, s, t, json.dumps(sorted(a)), at, at) for s, t, a in built.stories],
            )

    def pending(self, digest: str) -> list[Outgoing]:
        """Emails of ``digest`` with recipients not reached yet, oldest first."""
        rows = self._rows(
            "SELECT o.message_id, o.sender, o.raw, d.recipient, "
            "(SELECT count(*) FROM deliveries s WHERE s.message_id = o.message_id "
            "AND s.status = 'sent') "
            "FROM outbox o JOIN deliveries d USING (message_id) "
            "WHERE o.digest = ? AND d.status = 'pending' ORDER BY o.built, d.recipient",
            digest,
        )
        # grouped here, not by SQL's group_concat: a recipient stored with a line break by an
        # older version must stay one recipient (to be refused), never split into two
        emails: dict[str, Outgoing] = {}
        for message_id, sender, raw, recipient, sent in rows:
            email = emails.setdefault(
                message_id, Outgoing(message_id, sender, bytes(raw), [], sent)
            )
            email.recipients.append(recipient)
        return list(emails.values())

    def _story_rows(self, digest: str, story_ids: list[str]) -> dict[str, str]:
        """Each of these stories' rows as they are now, as JSON (absent: never sent)."""
        rows = self._rows(
            "SELECT story_id, title, sent_articles, first_sent, last_sent FROM stories "
            f"WHERE digest = ? AND story_id IN ({', '.join('?' * len(story_ids))})",
            digest,
            *story_ids,
        )
        return {row[0]: json.dumps(row[1:]) for row in rows}

    def mark(
        self, message_id: str, recipient: str, status: str, now: datetime, error: str = ""
    ) -> None:
        """Record what became of one recipient's copy; when that leaves the email refused by
        every recipient, its stories go back to what they were before it (unsent)."""
        with self._writing():
            self.db.execute(
                "UPDATE deliveries SET status = ?, at = ?, error = ? "
                "WHERE message_id = ? AND recipient = ?",
                (status, now.isoformat(), error, message_id, recipient),
            )
            if status == "refused" and self._refused_by_all(message_id):
                self._release(message_id)

    def _refused_by_all(self, message_id: str) -> bool:
        rows = self.db.execute(
            "SELECT count(*) FROM deliveries WHERE message_id = ? AND status != 'refused'",
            (message_id,),
        )
        return int(rows.fetchone()[0]) == 0

    def _release(self, message_id: str) -> None:
        held = self.db.execute(
            "SELECT digest, story_id, before FROM held WHERE message_id = ?", (message_id,)
        ).fetchall()
        for digest, story_id, before in held:
            self.db.execute(
                "DELETE FROM stories WHERE digest = ? AND story_id = ?", (digest, story_id)
            )
            if before is not None:
                self.db.execute(
                    "INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?)",
                    (digest, story_id, *json.loads(before)),
                )

    # reports for ``brief digest status``

    def last_runs(self, limit: int) -> list[tuple[Any, ...]]:
        return self._rows(
            "SELECT digest, started, finished, status, stories, message_id, detail "
            "FROM runs ORDER BY id DESC LIMIT ?",
            limit,
        )

    def outbox(self, limit: int) -> list[tuple[Any, ...]]:
        return self._rows(
            "SELECT o.digest, o.day, o.message_id, o.subject, d.recipient, d.status, d.at, "
            "d.error FROM outbox o JOIN deliveries d USING (message_id) "
            "ORDER BY o.built DESC, d.recipient LIMIT ?",
            limit,
        )

    def last_failures(self, limit: int) -> list[tuple[Any, ...]]:
        return self._rows(
            "SELECT digest, at, subject, reason FROM failures ORDER BY rowid DESC LIMIT ?", limit
        )


def _keys(item: Item) -> str:
    return json.dumps(sorted(item.keys))
