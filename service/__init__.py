"""newsbrief: several news articles about one story in, one cited briefing out.

    >>> from service import brief
    >>> briefing = brief(["../shared/seeds/"])          # doctest: +SKIP
    >>> print(render(briefing))                         # doctest: +SKIP

``brief`` is synchronous; ``abrief`` is the same coroutine for async callers. Both
return a :class:`schemas.Briefing`. Importing this package never imports litellm.
The nightly email digest (``brief digest run``) lives in :mod:`service.digest`;
``python -m service`` is the ``brief`` command.
"""

from schemas import Article, Briefing, BriefSentence, Citation, MergedClaim, Source
from service._exceptions import (
    BriefError,
    BriefingError,
    BusyError,
    ConfigError,
    DeliveryError,
    DigestError,
    InputError,
    LocalModelError,
    LocalModelMissingError,
    ModelError,
    NoUsableInputError,
    ReplyInvalidError,
    TransportError,
    WeightsMismatchError,
)
from service.pipeline import abrief, brief
from service.render import render
from service.settings import Settings


def __getattr__(name: str) -> str:
    # the version is read from the installed metadata when asked for: importing
    # importlib.metadata costs a run that never asks (a tenth of a cached re-run)
    if name != "__version__":
        raise AttributeError(f"module 'service' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsbrief")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


__all__ = [
    "Article",
    "BriefError",
    "BriefSentence",
    "Briefing",
    "BriefingError",
    "BusyError",
    "Citation",
    "ConfigError",
    "DeliveryError",
    "DigestError",
    "InputError",
    "LocalModelError",
    "LocalModelMissingError",
    "MergedClaim",
    "ModelError",
    "NoUsableInputError",
    "ReplyInvalidError",
    "Settings",
    "Source",
    "TransportError",
    "WeightsMismatchError",
    "abrief",
    "brief",
    "render",
]
