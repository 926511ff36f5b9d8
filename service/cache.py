"""The reply cache: content-addressed, on disk (diskcache), shared by API, CLI and digest.

A key is the sha256 of everything that can change a reply: the model's identity, the
rendered messages, the output schema, the prompt template's version and the sampling
parameters. Nothing else goes in (no API key, no headers, no server port), so the same
question costs tokens once, whichever way a user asks it.

The cache is an optimisation: one that cannot be opened, read or written (a read-only
folder, a corrupt database, a full disk) gives one warning and the run goes on without it.
"""

import hashlib
import json
import logging
import pickle
import sqlite3
from collections.abc import Callable
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

    def close(self) -> None:
        """Release the cache's files."""
        cache, self._cache = self._cache, None
        if cache is not None:
            with suppress(*CACHE_ERRORS):  # closing a broken cache: nothing left to save
                cache.close()
