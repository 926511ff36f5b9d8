"""The key matcher of the quality benchmark: does a text state what a key pattern describes?

Deliberately simple and independent of the product (no import of ``service.merge``,
``service.figures`` or ``service.verify``): a metric that used the merger to judge the merger
could not fail. It implements the matching rules of the key format (QUALITY.md, "Keys"):

- *Normalisation*, applied to the text and to every alternative alike: Unicode NFKC; curly
  quotes folded to ``'`` and ``"``, dashes and the minus sign to ``-``; every run of
  whitespace to one space; lower case; thousands separators dropped from numbers
  (``15,000`` = ``15000``; ``1.5 million`` stays as written).
- *Occurrence*: an alternative occurs in a text when its normalised form appears there starting
  and ending at word boundaries: the characters just outside it are not letters, digits or
  ``_`` (``war`` does not occur in ``warn``), and a number is a whole number: ``3`` does not
  occur in ``3.2`` nor ``600`` in ``1,600``.
- *Pattern*: a list of groups, each a list of alternatives. A text matches it when every group
  has at least one alternative that occurs in the text. An empty pattern matches nothing.
- *Substring* (``must_not_appear``): case-insensitive and whitespace-folded containment, with
  the same normalisation but no word boundaries.
"""

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

Pattern = Sequence[Sequence[str]]
"""Groups of alternatives: every group must have one alternative in the text."""

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
_SPACE = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


@lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """``text`` folded for matching: quotes, dashes, whitespace, case and thousands separators."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return _THOUSANDS.sub("", _SPACE.sub(" ", folded).strip().lower())


@lru_cache(maxsize=4096)
def _compiled(alternative: str) -> re.Pattern[str]:
    # Word boundaries by hand, so alternatives that start or end with punctuation ("$3.2
    # billion", "U.S.") work too; a number's decimal point belongs to the number.
    return re.compile(
        r"(?<!\w)(?<!\d[.,])" + re.escape(normalise(alternative)) + r"(?!\w)(?![.,]\d)"
    )


def occurs(alternative: str, text: str) -> bool:
    """Whether ``alternative`` occurs in ``text`` at word boundaries, after normalisation."""
    if not normalise(alternative):
        return False
    return _compiled(alternative).search(normalise(text)) is not None


def matches(pattern: Pattern, text: str) -> bool:
    """Whether every group of ``pattern`` has an alternative occurring in ``text``."""
    return bool(pattern) and all(any(occurs(a, text) for a in group) for group in pattern)


def contains(needle: str, text: str) -> bool:
    """Case-insensitive, whitespace-folded containment (no word boundaries)."""
    wanted = normalise(needle)
    return bool(wanted) and wanted in normalise(text)
