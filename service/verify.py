"""Grounding checks, in code: nothing the model writes is trusted as it is.

Two places use them:

* extraction: a claim must be stated by its evidence sentences. Its numbers must all be
  in them, and most of its content words too (coverage, below). A claim whose
  evidence does not back it is re-anchored to the one sentence of the article that
  clearly states it, or else rejected; a claim repeating an earlier one is dropped;
* composition: a composed sentence must say what its claims say, by the same two tests.
  One that fails is reworded from its claims; one repeating an earlier sentence is dropped.
"""

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from functools import cache

from rapidfuzz import fuzz

from schemas import Check

MIN_COVERAGE = 0.7
"""Share of a text's content words its backing must hold for the text to count as stated."""
MIN_ANCHOR = 0.85
"""Coverage a claim needs by one sentence to be re-anchored to it."""
_STOPWORDS_TEXT = (
    "a an and are as at be been but by for from had has have he her his in is it its of on or "
    "our said says she that the their them they this to was were which who will with"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
"""Words that say nothing about what a text states."""

_NUMBER = re.compile(r"(\d[\d,.]*)(?:\s+(thousand|million|billion)\b|(bn|m)\b)?", re.IGNORECASE)
_SCALE = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SCALE |= {"m": 1_000_000, "bn": 1_000_000_000}


def numbers(text: str) -> frozenset[str]:
    """The numbers a text states, normalised: "15,000" = "15000" = "15 thousand";
    "$4.2bn" = "4.2 billion"."""
    return frozenset(
        _number(digits, word or short) for digits, word, short in _NUMBER.findall(text)
    )


def _number(digits: str, scale: str) -> str:
    plain = digits.replace(",", "").rstrip(".")
    if not scale:
        return plain
    try:
        value = float(plain) * _SCALE[scale.lower()]
    except ValueError:
        return plain
    return f"{value:.0f}" if value == int(value) else str(value)


def normal(text: str) -> str:
    """Lower case, punctuation folded to single spaces."""
    return re.sub(r"\W+", " ", text.lower()).strip()


def overlap(text: str, backing: str) -> float:
    """How alike two texts are in wording, either way round (0-100, rapidfuzz token-set)."""
    return float(fuzz.token_set_ratio(normal(text), normal(backing)))


def stems(text: str) -> set[str]:
    # A five-letter prefix folds most inflections ("killed"/"killing") without a stemmer.
    return {w[:5] for w in normal(text).split() if w not in STOPWORDS}


def coverage(text: str, backing: str) -> float:
    """The share of ``text``'s content words that ``backing`` holds (0-1), one way only.

    Unlike a similarity ratio, this does not forgive a text for saying more than its
    backing: a claim stitched from three sentences is not covered by one of them.
    """
    words = stems(text)
    return len(words & stems(backing)) / len(words) if words else 1.0


_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[^\W\d_a-z][\w'\u2019-]+")
"""A word not opening a sentence that starts with a capital (A-Z, or a letter of another
alphabet, whose case :func:`names` checks)."""


def names(text: str) -> set[str]:
    """Capitalised words not opening a sentence: names of people, places, organisations.

    Folded to lower case without hyphens or apostrophes, so "Kim Jong-un" and "Kim Jong Un"
    give the same words.
    """
    return _capitalised(_CAPITALISED, text)


def _capitalised(pattern: re.Pattern[str], text: str) -> set[str]:
    """The words of ``pattern``'s capitalised matches in ``text``, each folded: lower case,
    hyphens to spaces, nothing from an apostrophe on ("Kim Jong-un's" -> kim, jong, un)."""
    found = (m for m in pattern.findall(text.strip()) if m[0].isupper())
    return {w for m in found for w in normal(m.replace("\u2019", "'").split("'")[0]).split()}


_OPENING = re.compile(
    r"(?:^|[.!?]\s+)(?:[\"'\u201c\u2018\u201e\u00ab(\[]\s*)*([^\W\d_][\w'\u2019-]*)(?![\w'\u2019.-])"
)
"""The first word of each sentence (after any opening quotes or brackets, each maybe followed
by spaces: never two ways to read a run of spaces, which would take quadratic time), unless it
is an abbreviation ("Mrs.", "Dr.", "U.S."), whose next word opens the next match."""
_ENDINGS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"))
"""Inflections undone to find a word's dictionary form ("officials", "reported", "rising")."""


@cache
def _dictionary() -> frozenset[str]:
    """The English words a dictionary lists in small letters (Webster's Second, through
    ``english-words``): its proper nouns are listed capitalised, and left out. Loaded on the
    first word that needs it (about 0.15 s): not for a claim that is its source's sentence."""
    from english_words import get_english_words_set

    listed = get_english_words_set(["web2"], lower=False, alpha=True)
    return frozenset(w for w in listed if w.islower())


def _english(word: str) -> bool:
    forms = [word] + [word[: -len(end)] + base for end, base in _ENDINGS if word.endswith(end)]
    return any(form in _dictionary() for form in forms if len(form) > 1)


def _openers(text: str) -> set[str]:
    """The words opening its sentences, capitalised (folded as :func:`names` folds them)."""
    words = _capitalised(_OPENING, text)
    return {w for w in words if w not in STOPWORDS and not w.isdigit()}


def opening_names(text: str, known: AbstractSet[str] = frozenset()) -> set[str]:
    """Words opening a sentence that no dictionary lists as a common word: a name said alone
    ("Putin, meanwhile, said ..."), which :func:`names` cannot tell from "Meanwhile". A name
    that is also a word ("Rose", "Trump") is not found this way. Words in ``known`` are left
    out first: the dictionary is loaded only for a word that is not."""
    return {w for w in _openers(text) - known if not _english(w)}


def checks(text: str, backing_texts: Sequence[str]) -> list[Check]:
    """The grounding checks of ``text`` against ``backing_texts``, passed or not."""
    backing = " ".join(backing_texts)
    extra = sorted(numbers(text) - numbers(backing))
    known = set(normal(backing).split())
    unknown = sorted(names(text) - known | opening_names(text, known))
    share = coverage(text, backing)
    return [
        _check("numbers", extra, f"states {', '.join(extra)}, which its sources do not"),
        _check("names", unknown, f"names {', '.join(unknown)}, which its sources do not"),
        Check(
            name="wording",
            passed=share >= MIN_COVERAGE,
            detail=f"{share:.0%} of its content words are in its sources",
        ),
    ]


def _check(name: str, missing: list[str], failure: str) -> Check:
    return Check(name=name, passed=not missing, detail=failure if missing else "")


def ungrounded(text: str, backing_texts: Sequence[str]) -> str | None:
    """Why ``text`` is not backed by ``backing_texts``, or None when it is."""
    failed = next((c for c in checks(text, backing_texts) if not c.passed), None)
    if failed is None:
        return None
    return failed.detail if failed.name != "wording" else "says something its sources do not"


def best_anchor(text: str, sentences: Sequence[tuple[int, str]]) -> int | None:
    """The id of the one sentence that clearly states ``text``, if there is one."""
    scored = [(coverage(text, s), i) for i, s in sentences if not ungrounded(text, [s])]
    if not scored:
        return None
    score, sentence_id = max(scored)
    return sentence_id if score >= MIN_ANCHOR else None


_QUOTED = re.compile(
    r"[\"\u201c\u201e]([^\"\u201c\u201d]{3,})[\"\u201c\u201d]"
    r"|\u2018([^\u2019]{3}[^\u2019\s]*\s[^\u2019]*)\u2019"
    r"|\u00ab\s*(?![^\u00bb\s]{1,2}\s*\u00bb)([^\u00bb\s](?:\s*[^\u00bb\s])*)\s*\u00bb"
    r"|\u00ab(?=\s*(?:[^\u00bb\s]{1,2}\s*)?\u00bb)\s*([^\u00bb]{3,}?)\s*\u00bb"
)
"""A quotation: in straight or curly double quotes (English), German low-high quotes, curly
single quotes around words with a space (not an apostrophe), or guillemets (the words
inside, or, when they are under three characters, three characters with spaces).

Each reads a run of spaces one way: the first space after three characters in single quotes,
and in guillemets the spaces around the words apart from those inside (read lazily, a run of
spaces was read in as many ways as it is long, from each of its spaces: cubic time)."""


def _quotation(match: re.Match[str]) -> str:
    return match.group(1) or match.group(2) or match.group(3) or match.group(4)


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


def unbacked_quotes(text: str, backing_texts: Sequence[str]) -> tuple[str, int]:
    """``text`` with every quotation not found word for word in the backing unquoted.

    A quote the sources do not contain is shown as a paraphrase, without quotation marks.
    Returns the text and how many quotes were unquoted.
    """
    backing = _plain(" ".join(backing_texts))
    count = 0

    def check(match: re.Match[str]) -> str:
        nonlocal count
        quoted = _quotation(match)
        if _plain(quoted) in backing:
            return match.group(0)
        count += 1
        return quoted

    return _QUOTED.sub(check, text), count


QUOTE_RUN = 6
"""Words in a row of a source's quotation that, outside quotation marks in a briefing's
sentence, give someone's words as the briefing's own."""


def unmarked_quote(text: str, backing_texts: Sequence[str]) -> bool:
    """Whether ``text`` gives :data:`QUOTE_RUN` words of a quotation in its sources outside
    quotation marks (a first-person "I have determined ..." read as the briefing's voice)."""
    own = _spaced(_QUOTED.sub(" | ", text))
    for backing in backing_texts:
        for match in _QUOTED.finditer(backing):
            words = _WORDS.findall(_quotation(match).lower())
            runs = (words[i : i + QUOTE_RUN] for i in range(len(words) - QUOTE_RUN + 1))
            if any(f" {' '.join(run)} " in own for run in runs):
                return True
    return False


_WORDS = re.compile(r"\w+")


def _spaced(text: str) -> str:
    # the words of ``text``, lower case, one space apart and around: " a b c "
    return f" {' '.join(_WORDS.findall(text.lower()))} "


def same_sentence(text: str, seen: set[str]) -> bool:
    """True when ``text`` (normalised) is already in ``seen``; adds it otherwise."""
    key = normal(text)
    if key in seen:
        return True
    seen.add(key)
    return False
