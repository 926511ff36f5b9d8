"""The reply cache: content-addressed, on disk (diskcache), shared by API, CLI and digest.

A key is the sha256 of everything that can change a reply: the model's identity, the
rendered messages, the output schema, the prompt template's version and the sampling
parameters. Nothing else goes in (no API key, no headers, no server port), so the same
question costs tokens once, whichever way a user asks it.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import diskcache

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
    """Model replies on disk, keyed by :func:`cache_key`."""

    def __init__(self, directory: Path) -> None:
        self._cache = diskcache.Cache(str(directory / "replies"))

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply for this key, or None."""
        value = self._cache.get(key)
        return value if isinstance(value, dict) else None

    def put(self, key: str, reply: dict[str, Any]) -> None:
        """Store a reply."""
        self._cache.set(key, reply)

    def close(self) -> None:
        """Release the cache's files."""
        self._cache.close()
