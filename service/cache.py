"""The reply cache: content-addressed, on disk (diskcache), shared by API, CLI and digest.

A key is the sha256 of everything that can change a reply: the model's identity, the
rendered messages, the output schema, the prompt template's version and the sampling
parameters. Nothing else goes in (no API key, no headers, no server port), so the same
question costs tokens once, whichever way a user asks it.

The same cache keeps the results of the stages that need no model (sentence splitting,
clean-up, merging; :class:`StageCache`), keyed by their input *and* a fingerprint of the code
(:func:`code_fingerprint`), so a re-run over the same articles with the same code does not
redo them, and any change to either is a miss.

The cache is an optimisation: one that cannot be opened, read or written (a read-only
folder, a corrupt database, a full disk) gives one warning and the run goes on without it.
"""

import hashlib
import json
import logging
import pickle
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

import diskcache

logger = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_ERRORS = (OSError, sqlite3.Error, pickle.UnpicklingError, EOFError, ValueError, TypeError)
"""What a broken cache raises: file and SQLite errors, and a stored value that will not load."""

CACHE_FORMAT = 1
"""Bumped when the stored value's shape changes, so old entries are ignored."""


def cache_key(
    model: str,
    messages: list[dict[str, str]],
    schema: dict[str, Any],
    template_version: str,
    params: dict[str, Any],
) -> str:
    """The content address of one model call."""
    payload = {
        "format": CACHE_FORMAT,
        "model": model,
        "messages": messages,
        "schema": schema,
        "template": template_version,
        "params": params,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Model replies on disk, keyed by :func:`cache_key`; off, after one warning, if broken."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "replies"
        self._cache: diskcache.Cache | None = None
        try:
            self._cache = diskcache.Cache(str(self.directory))
        except CACHE_ERRORS as error:
            self._broken(error)

    def _broken(self, error: BaseException) -> None:
        logger.warning(
            "the reply cache at %s cannot be used (%s); going on without it",
            self.directory,
            " ".join(str(error).split()) or type(error).__name__,
        )
        self.close()

    def _use(self, action: Callable[[diskcache.Cache], T]) -> T | None:
        if self._cache is None:
            return None
        try:
            return action(self._cache)
        except CACHE_ERRORS as error:
            self._broken(error)
            return None

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply for this key, or None."""
        value = self._use(lambda cache: cache.get(key))
        return value if isinstance(value, dict) else None

    def put(self, key: str, reply: dict[str, Any]) -> None:
        """Store a reply."""
        self._use(lambda cache: cache.set(key, reply))

    def recall(self, key: str) -> object:
        """Whatever is stored under ``key`` (a stage's result), or None."""
        return self._use(lambda cache: cache.get(key))

    def keep(self, key: str, value: object) -> None:
        """Store any picklable value under ``key``."""
        self._use(lambda cache: cache.set(key, value))

    def close(self) -> None:
        """Release the cache's files."""
        cache, self._cache = self._cache, None
        if cache is not None:
            with suppress(*CACHE_ERRORS):  # closing a broken cache: nothing left to save
                cache.close()


def _packages(path: Iterable[str]) -> list[str]:
    """The installed distributions' ``name-version.dist-info`` folders on ``path``."""
    found: list[str] = []
    for entry in path:
        with suppress(OSError):  # a missing or unreadable entry holds no packages
            found += [p.name for p in Path(entry or ".").iterdir() if p.suffix == ".dist-info"]
    return sorted(found)


def code_fingerprint(roots: Sequence[Path]) -> str:
    """A hash of what a stage's result depends on besides its input: every file of the
    packages at ``roots`` (names and bytes), the Python, and each installed package's version."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}\n{sys.version}\n".encode())
    digest.update("\n".join(_packages(sys.path)).encode())
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc"):
            digest.update(f"\n{path.relative_to(root.parent)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class StageCache:
    """Results of the stages that need no model, kept in the reply cache.

    A key is the sha256 of the stage's name, the code's fingerprint and the stage's input
    (text the caller writes: an article's bytes, the JSON of what the stage is given), so a
    result is only reused for the same input to the same code. With no cache (``--no-cache``,
    or one that broke) every result is computed.
    """

    def __init__(self, cache: ResponseCache | None, fingerprint: str) -> None:
        self.cache = cache
        self.fingerprint = fingerprint

    def key(self, stage: str, given: str) -> str:
        """The content address of one stage's result for ``given``."""
        digest = hashlib.sha256(f"{stage}\n{self.fingerprint}\n".encode())
        digest.update(given.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def memo(self, stage: str, given: str, compute: Callable[[], T], kind: type[T]) -> T:
        """``compute()``'s result, stored under ``given``'s key the first time, then reused."""
        stored = self.recall(stage, given, kind)
        if stored is not None:
            return stored
        result = compute()
        self.keep(stage, given, result)
        return result

    def recall(self, stage: str, given: str, kind: type[T]) -> T | None:
        """The result stored for ``given``, if it is a ``kind``; else None."""
        if self.cache is None:
            return None
        stored = self.cache.recall(self.key(stage, given))
        return stored if isinstance(stored, kind) else None

    def keep(self, stage: str, given: str, result: object) -> None:
        """Store ``result`` for ``given``."""
        if self.cache is not None:
            self.cache.keep(self.key(stage, given), result)
