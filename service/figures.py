"""Stage 3, merge (figures): the counts and dates that the sources give differently.

Read from the kept source sentences themselves, not from the model's claims: which figures a
small model chose to extract is an accident, what the sources say is not. All in code:

1. **Mentions.** A figure is a number with its hedge ("about 600", "more than 10,000",
   "1.28 million") or a vague count ("thousands", "several thousand"); a date is a month.
2. **What it counts.** The *measure* is the event the clause reports, from a small lexicon of
   what news counts (killed, wounded, sent, arrested, ...), searched after the figure up to
   the next figure or clause break, outcomes before actions ("1,000 of the troops sent ...
   had been killed" counts the killed), else just before it ("sent some 15,000 troops"); the
   *counted noun* folds synonyms ("troops" = "soldiers"), and a missing one matches any. A
   date counts only as the day something happened *first* ("only acknowledged ... in April").
3. **Same quantity, different values.** Mentions with one measure and compatible nouns are
   one quantity; its values are grouped by number, ignoring the hedge ("about 600" =
   "around 600"). Two or more values from two or more outlets make a disagreement.
4. **Change over time is not contradiction.** One sentence giving two values with a word of
   time between them ("at least 1,000 in January ... more recent estimates ... closer to
   600") is reported as a revision.
5. **Who says so.** "according to X", or the subject of a verb of saying ("Seoul's spy agency
   estimates"), with the month it was said, copied word for word from the sentence.

No model call: every rule is checkable and every value and attribution is source text, so
nothing here can be invented. The lexicons are the limit, and what they miss is not shown.
"""

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from text_to_num import text2num  # type: ignore[import-untyped]

from schemas import Article, Disagreement, FigureValue, MergedClaim, Source
from schemas.briefing import citations
from service.accounts import Conveyed, conflicts, conveyed
from service.verify import STOPWORDS, normal, numbers

_HEDGE = (
    r"about|around|approximately|roughly|nearly|almost|some|over|more than|fewer than|"
    r"less than|at least|at most|as many as|as few as|up to|an estimated|close to|closer to|"
    r"estimated|just over|just under|well over|upwards of"
)
_FIGURE = re.compile(
    rf"(?:\b(?P<hedge>{_HEDGE})\s+)?(?P<value>"
    r"(?<![\w.,:\-])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:\s+(?:thousand|million|billion|trillion))?"
    r"|(?<![\w.,:\-])\d+(?:\.\d+)?(?:\s+(?:thousand|million|billion|trillion)|bn|m|tn)?(?![\w:])"
    r"|\b(?:several|a few|many|tens of|hundreds of)\s+(?:thousand|hundred|million)s?\b"
    r"|\b(?:thousands|hundreds|dozens|millions)\b)",
    re.IGNORECASE,
)
_UNITS_TEXT = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety"
)
_NUMBER_WORD = f"(?:{'|'.join(_UNITS_TEXT.split())})"
_SCALE_WORD = "(?:hundred|thousand|million|billion)"
_SPOKEN = re.compile(
    rf"(?:\b(?P<hedge>{_HEDGE})\s+)?(?P<value>(?<![\w-])(?:"
    rf"(?:an?|one)\s+(?:dozen|{_SCALE_WORD})|(?!one\b){_NUMBER_WORD})"
    rf"(?:(?:-|\s+|\s+and\s+){_NUMBER_WORD}|\s+{_SCALE_WORD})*(?:\s+dozen)?(?![\w-]))",
    re.IGNORECASE,
)
"""A count in words ("seven", "twenty-five", "two dozen", "a million"); a lone "one" is
not a count ("one of the soldiers")."""
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH = re.compile(rf"\b(?P<value>{'|'.join(MONTHS)})\b")
_BREAK = re.compile(r"[;:]|\b(?:while|whereas|but)\b|—")

OUTCOMES: dict[str, tuple[str, ...]] = {
    "killed": ("killed", "dead", "died", "deaths", "death toll", "fatalities", "lost their lives"),
    "wounded": ("wounded", "injured", "injuries", "hurt"),
    "missing": ("missing", "unaccounted for"),
    "captured": ("captured", "taken prisoner", "prisoners of war", "surrendered"),
    "arrested": ("arrested", "detained", "in custody"),
    "displaced": (
        "displaced",
        "evacuated",
        "evacuation",
        "fled",
        "homeless",
        "from their homes",
        "forced from",
    ),
    "rescued": ("rescued",),
    "affected": ("affected",),
}
ACTIONS: dict[str, tuple[str, ...]] = {
    "sent": ("sent", "send", "sending", "deployed", "deploy", "dispatched", "deployment"),
    "hired": ("hired", "employed", "employs"),
    "laid off": ("laid off", "cut", "cuts", "layoffs"),
    "voted": ("votes", "voted"),
    "paid": ("paid", "cost", "costs", "spent"),
    "took part": (
        "joined",
        "walked out",
        "strikers",
        "on strike",
        "stayed away",
        "took part",
        "protesters",
        "demonstrators",
        "marched",
        "rallied",
        "attended",
    ),
}
UNITS = (
    "acres", "hectares", "square", "kilometres", "kilometers", "km", "miles", "metres",
    "meters", "tonnes", "tons", "barrels", "gallons", "litres", "liters", "megawatts",
)  # fmt: skip
"""Counted nouns that are units: the unit is what is measured ("4,500 acres")."""
_PERCENT = re.compile(r"^\s*(?:%|(?:percent|per cent|percentage points?)\b)", re.I)
_CURRENCY_BEFORE = re.compile(
    rf"(?:\b(?P<hedge>{_HEDGE})\s+)?(?P<sign>[$€£¥]|\b(?:US|A|C|NZ|HK)\$)\s*$", re.IGNORECASE
)
_CURRENCY_AFTER = re.compile(
    r"^\s*(?:dollars|euros|pounds|yen|yuan|rupees|francs|crowns|kronor|krone|pesos|rubles)\b",
    re.I,
)
PERCENT, AMOUNT = "percent", "amount"
"""Shares and sums of money: what they measure is told by the words around them."""
COUNT = "number"
"""A count of a plural noun outside the lexicons ("50,000 pages", "30 arrests")."""
_NOT_COUNTED = frozenset(
    {"years", "months", "weeks", "days", "hours", "minutes", "seconds", "decades", "times",
     "centuries", "percent", "points", "others", "ones", "things", "ways", "terms", "items"}
)  # fmt: skip
_PHRASE_END = re.compile(r",|\band\b|\bor\b")
_OWN_PHRASE = re.compile(r",|\b(?:as part of|who|which|that|because)\b")
_NOT_CONTEXT = frozenset(
    {"percent", "per", "cent", "point", "points", "year", "monday", "tuesday", "wednesday",
     "thursday", "friday", "saturday", "sunday", "about", "around", "nearly", "some"}
)  # fmt: skip
MILESTONES: dict[str, tuple[str, ...]] = {
    "acknowledged": (
        "acknowledged", "acknowledge", "admitted", "admit", "confirmed", "referred openly",
        "openly", "publicly", "recognised", "recognized",
    ),
    "began": ("began", "started", "launched", "appeared", "arrived"),
    "ended": ("ended", "finished", "withdrew"),
}  # fmt: skip
_FIRST = re.compile(r"\b(?:first|only|initially|for the first time|not until)\b", re.I)
_NOUNS: dict[str, tuple[str, ...]] = {
    "soldiers": (
        "soldier", "troop", "fighter", "combatant", "personnel", "serviceman", "servicemen",
        "servicemembers", "forces", "recruit", "men",
    ),
    "civilians": ("civilian", "resident", "inhabitant"),
    "children": ("child", "children"),
    "workers": ("worker", "member", "staff", "employee", "striker", "dockworker"),
    "people": ("people", "person", "individual"),
}  # fmt: skip
_GENERIC = "people"
_LOWER = frozenset(w for h in _HEDGE.split("|") for w in h.split()[:1]) | {
    "several",
    "a",
    "many",
    "tens",
    "hundreds",
    "thousands",
    "dozens",
    "millions",
}
_MEASURE_WORDS = frozenset(
    p for lexicon in (OUTCOMES, ACTIONS) for ps in lexicon.values() for p in ps if " " not in p
)
_SKIP = frozenset({"more", "of", "the", "additional", "other", "than"})
_STOP = frozenset(
    {"who", "which", "whom", "that", "had", "have", "has", "were", "was", "been", "are", "is",
     "and", "or", "to", "in", "on", "at", "for", "with", "from", "by", "of", "as", "than",
     "into", "over", "after", "before", "during", "since", "until", "while", "per"}
)  # fmt: skip
_SAY = re.compile(
    r"\b(?:said|says|told|tells|believes|believe|believed|estimates|estimate|estimated|"
    r"reported|reports|claims|claimed|stated|announced|say|"
    r"put (?:the|its|their) [\w\- ]{1,30}? at)\b"
)
_PRONOUNS = frozenset({"it", "he", "she", "they", "we", "i"})
_TIME_WORDS = re.compile(
    r"\b(?:later|more recent|recently|since then|revised|updated|now|initially|at first|"
    r"first|previously|earlier)\b",
    re.I,
)


@dataclass(frozen=True)
class Mention:
    """One figure or date in one source sentence."""

    article_id: str
    sentence_id: int
    position: int
    wording: str
    measure: str
    noun: str | None
    attribution: str | None
    revises: bool = False
    """A word of time ("later", "more recent") stands between it and the figure before it."""
    context: tuple[str, ...] = ()
    """For a share or a sum of money: the content words around it, which tell what of."""
    scope: frozenset[str] = frozenset()
    """Where, when and of what the figure is given ("year:2014", "place:kursk province"):
    read only for disagreements (``mentions(..., scoped=True)``)."""
    subjects: frozenset[str] = frozenset()
    """Names the clause gives before the figure, its speaker aside (whose share, whose sum)."""


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'\u2019-]+", text)


def _spaced(text: str) -> str:
    # lower-case words between single spaces, so " phrase " finds whole words only
    return f" {' '.join(_words(text.lower()))} "


def _phrase_in(lexicon: dict[str, tuple[str, ...]], text: str) -> str | None:
    low = _spaced(text)
    hits = [(low.find(f" {p} "), k) for k, ps in lexicon.items() for p in ps if f" {p} " in low]
    return min(hits)[1] if hits else None


def _outcome(window: str) -> str | None:
    if re.search(r" (?:killed|dead) (?:or|and) (?:wounded|injured) | casualties ", _spaced(window)):
        return "killed or wounded"
    return _phrase_in(OUTCOMES, window)


def _measure(before: str, after: str, scoped: bool = False) -> str | None:
    # scoped, an outcome just before the figure counts too: "police arrested 55 protesters"
    told = _outcome(" ".join(_words(before)[-2:])) if scoped else None
    return _outcome(after) or told or _phrase_in(ACTIONS, after) or _phrase_in(ACTIONS, before)


def _noun(after: str) -> str | None:
    words = _words(after)
    while words and (words[0].lower() in _SKIP or words[0][0].isupper()):
        words = words[1:]  # "more", "of the", adjectives of nationality: not the noun
    run = []
    for word in words:
        if word.lower() in _STOP or word.lower() in _MEASURE_WORDS or word[0].isupper():
            break
        run.append(word.lower())
    return _noun_class(run[-1]) if run else None


def _noun_class(word: str) -> str:
    for name, forms in _NOUNS.items():
        if any(word.startswith(f) for f in forms):
            return name
    return word


@lru_cache(maxsize=16384)
def value_key(value: str) -> str:
    """Values that are the same number: "15,000" = "15000" = "15 thousand" = "fifteen
    thousand"; vague counts."""
    found = numbers(value)
    if found:
        return min(found)
    spoken = spoken_number(re.sub(rf"^(?:{_HEDGE})\s+", "", value.strip(), flags=re.I))
    if spoken is not None:
        return str(spoken)
    low = re.sub(r"\b(?:several|a few|many)\s+", "", value.lower())
    return re.sub(r"s\b", "", re.sub(rf"^(?:{_HEDGE})\s+", "", low))


def spoken_number(words: str) -> int | None:
    """The number that ``words`` spell ("seven", "twenty-five", "two dozen", "a million"),
    None if they spell none. text2num reads the number words; dozens and "a" are ours."""
    if not _SPOKEN.fullmatch(words.strip()):
        return None  # "thousands" is a vague count, not a thousand
    low = " ".join(words.lower().replace("-", " ").split())
    low = re.sub(r"^an? ", "one ", low)
    times = 12 if low.endswith("dozen") else 1
    low = low.removesuffix("dozen").strip() or "one"
    try:
        return int(text2num(low, "en")) * times
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def _rough(wording: str) -> bool:
    # "two dozen", "a hundred": round by nature, the same as any value near them
    return bool(re.search(r"\bdozen\b|^(?:\w+\s+)*an?\s+(?:hundred|thousand)\b", wording, re.I))


def rounds_to(exact: str, rough: str) -> bool:
    """Whether the value key ``rough`` is ``exact`` rounded or cut to fewer significant
    digits (two at least): "$43 million" and "nearly $44 million" are $43,885,310; "$1
    trillion" is not $1.2 trillion."""
    try:
        value, target = float(exact), float(rough)
    except ValueError:
        return False
    digits = _significant(rough)
    if value <= 0 or digits < 2 or digits >= _significant(exact):
        return False
    step = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return target in (round(value / step) * step, math.floor(value / step) * step)


def _significant(key: str) -> int:
    digits = key.replace(".", "").lstrip("0")
    return len(digits if "." in key else digits.rstrip("0"))


@lru_cache(maxsize=16384)
def attribution(sentence: str) -> str | None:
    """Who the sentence says gave its figures, in its own words, with the month if stated."""
    who = _according_to(sentence) or _speaker(sentence)
    # "The county fire service" opened its sentence; inside a list it is "the county ..."
    return re.sub(r"^The\b", "the", who) if who else None


def _according_to(sentence: str) -> str | None:
    match = re.search(r"\baccording to (.+?)(?=[.;]?$)", sentence.strip(), re.I)
    if match is None:
        return None
    text = match.group(1).strip(" ,")
    # at the head of a sentence it ends at the comma; at the tail it may hold a list
    return text.split(",")[0].strip() if match.start() == 0 or len(text.split()) > 8 else text


def _speaker(sentence: str) -> str | None:
    for verb in _SAY.finditer(sentence):
        head = sentence[: verb.start()]
        subject = re.split(r"[,“”\"]", head)[-1]
        subject = re.sub(r"^\s*(?:while|whereas|and|but|as)\s+", "", subject)
        subject = re.sub(r"\b(?:has|have|had|also|then|now)\s*$", "", subject.strip()).strip()
        if not subject or subject.split()[0].lower() in ("who", "which", "that"):
            subject = sentence.split(",")[0] if head.count(",") else ""
        if subject and subject.lower() not in _PRONOUNS and len(subject.split()) <= 8:
            return subject.strip() + _when_said(sentence, head, verb.end())
    return None


def _when_said(sentence: str, head: str, verb_end: int) -> str:
    # "In April, the NIS said" / "said in January": when the figure was given
    opening = re.match(rf"\s*(?:In|On) ({'|'.join(MONTHS)})\b", head)
    after = re.match(rf"\s+(?:in|on) ({'|'.join(MONTHS)})\b", sentence[verb_end:])
    month = opening or after
    return f" in {month.group(1)}" if month else ""


def _clause_attribution(text: str, position: int, said: str | None) -> str | None:
    # After "but"/"while", a new clause may name its own source, or none ("more recent
    # estimates"): the sentence's speaker is not carried into a revision.
    clauses = _BREAK.split(text[:position])
    if len(clauses) == 1:
        return said
    clause = clauses[-1]
    return None if _TIME_WORDS.search(clause) else attribution(clause) or said


def mentions(article: Article, *, scoped: bool = False) -> Iterator[Mention]:
    """Every figure and first-date in the article's kept sentences; ``scoped``, as read for
    disagreements: with each figure's scope, counts of any plural noun, and days of events."""
    for sentence in article.kept:
        for found in _read(sentence.text, scoped):
            yield replace(found, article_id=article.id, sentence_id=sentence.id)


@lru_cache(maxsize=16384)
def _read(text: str, scoped: bool) -> tuple[Mention, ...]:
    # once per sentence and way of reading: the merge, the disagreements and the composer's
    # checks each read the same sentences (ids are the caller's)
    said = attribution(text)
    found = list(_figures("", 0, text, said, scoped))
    if scoped:
        found = [_scoped(m, text) for m in found]
    found += _dates("", 0, text, said)
    if scoped:
        found += _days("", 0, text, said)
    return tuple(found)


def _figures(
    article_id: str, sentence_id: int, text: str, said: str | None, scoped: bool = False
) -> Iterator[Mention]:
    found = [m for m in _FIGURE.finditer(text) if not _is_date_or_year(m, text)]
    if scoped:  # counts in words ("two dozen"); a length of time ("seven years") is no count
        found = sorted([*found, *_spoken(text, found)], key=lambda m: m.start())
        found = [m for m in found if not _DURATION.match(text, m.end())]
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        after = _BREAK.split(text[match.end() : end])[0]
        start = max(0, match.start() - 40, found[i - 1].end() if i and scoped else 0)
        before = _BREAK.split(text[start : match.start()])[-1]
        measure, noun, context = _what(before, after, scoped)
        own = _OWN_PHRASE.split(after)[0] if scoped else after  # "..., which may have had"
        if measure is None or _hypothetical(before, own) or _object_of(before, after):
            continue
        wording = _unit_wording(match.group(0), measure, before, after)
        who = _clause_attribution(text, match.start(), said)
        between = text[found[i - 1].end() : match.start()] if i else ""
        revises = bool(_TIME_WORDS.search(between))
        yield Mention(
            article_id, sentence_id, match.start(), wording, measure, noun, who, revises, context
        )


_DURATION = re.compile(
    r"[\s-]*(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centur(?:y|ies))"
    r"\b",
    re.I,
)


def _spoken(text: str, digits: Sequence[re.Match[str]]) -> Iterator[re.Match[str]]:
    taken = [range(m.start(), m.end()) for m in digits]
    for match in _SPOKEN.finditer(text):
        overlaps = any(match.start() in r or match.end() - 1 in r for r in taken)
        if not overlaps and spoken_number(match.group("value")) is not None:
            yield match


def _what(
    before: str, after: str, scoped: bool = False
) -> tuple[str | None, str | None, tuple[str, ...]]:
    """What a figure counts: (measure, counted noun, context words of a share or amount);
    ``scoped``, a plural noun the lexicons do not know is counted too ("50,000 pages")."""
    for measure, unit in ((PERCENT, _PERCENT), (AMOUNT, _CURRENCY_AFTER)):
        if unit.match(after) or (measure == AMOUNT and _CURRENCY_BEFORE.search(before)):
            # scoped: the figure's own phrase ("earned $141 million and paid ..." is not paid)
            rest = _PHRASE_END.split(unit.sub("", after))[0] if scoped else unit.sub("", after)
            context = _context(before, rest, scoped)
            return (measure, None, context) if context else (None, None, ())
    noun = _noun(after)
    if noun in UNITS:  # scoped: "30 km from the capital" is not "a radius of 20 km"
        return noun, None, _context(before, after.split(maxsplit=1)[-1]) if scoped else ()
    if not scoped:
        return _measure(before, after), noun, ()
    counted = _measure(before, after, scoped)
    plural = _plural(after)
    if counted is None and plural is not None:
        return COUNT, plural, ()
    return counted, noun, ()


def _plural(after: str) -> str | None:
    """The plural noun a figure counts, within its next three words ("30 new arrests")."""
    words = [w.lower() for w in _words(after)[:3] if not w[0].isupper()]
    return next((w for w in words if w not in _SKIP and _countable(w)), None)


def _context(before: str, after: str, scoped: bool = True) -> tuple[str, ...]:
    """The content words around a figure, which tell what it measures."""
    words = [*_words(before)[-(6 if scoped else 4) :], *_words(after)[:3]]
    return tuple(w.lower() for w in words if _content(w) and _measured(w, scoped))


def _countable(noun: str | None) -> bool:
    # a plural noun, not a length of time: "pages", "arrests", "voters"; not "years"
    return bool(
        noun
        and noun.isalpha()
        and len(noun) > 3
        and noun.endswith("s")
        and not noun.endswith(("ss", "us", "is"))
        and noun not in _NOT_COUNTED
    )


def _unit_wording(wording: str, measure: str, before: str, after: str) -> str:
    # "10 percent" reads "10%"; an amount keeps its currency ("$4.2 billion", "40 crowns")
    if measure == PERCENT:  # "10%"; in words, "five percent"
        return f"{wording}%" if wording[-1:].isdigit() else f"{wording} percent"
    if measure != AMOUNT:
        return wording
    sign = _CURRENCY_BEFORE.search(before)
    if sign:
        hedge = f"{sign.group('hedge')} " if sign.group("hedge") else ""
        return f"{hedge}{sign.group('sign')}{wording}"
    name = _CURRENCY_AFTER.match(after)
    return f"{wording} {name.group(0).strip()}" if name else wording


def _measured(word: str, scoped: bool) -> bool:
    # scoped, a name ("Clinton", "Biden's") tells whose figure it is, not what it measures
    return not (scoped and word[0].isupper())


def _content(word: str) -> bool:
    low = word.lower()
    return not (low in STOPWORDS or low in _NOT_CONTEXT or low in UNITS or low[0].isdigit())


def _is_date_or_year(match: re.Match[str], text: str) -> bool:
    value = match.group("value")
    if re.fullmatch(r"(?:1[89]|20)\d\d", value):
        return True
    before = text[: match.start()].split()
    return bool(before) and before[-1].strip(",") in MONTHS


def _hypothetical(before: str, after: str) -> bool:
    # "may be preparing to send thousands more troops": a plan, not a count
    text = f"{before} {after}".lower()
    return bool(re.search(r"\b(?:may|might|could|would|will|plans? to|preparing to)\b", text))


def _object_of(before: str, after: str) -> bool:
    # "paid tribute to dozens of soldiers who died": counts whom the tribute was paid to
    preposition = re.search(r"\b(?:to|for|with|by)\s+(?:the\s+)?$", before)
    return bool(preposition and re.search(r"\b(?:who|which|that|whom)\b", after))


_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_RANGE = re.compile(
    r"\b((?:19|20)\d\d)\s*(?:-|\u2013|to|through|until|and)\s*((?:19|20)\d\d)\b", re.I
)
_YEAR = re.compile(r"(?<!since )\b(?:19|20)\d\d\b")
_RELATIVE_YEAR = re.compile(r"\b(last|this|next|previous) year\b", re.I)
_RATE = re.compile(
    r"\b(?:average|averaged|a year|per year|annual|annually|each year|a day|per day|daily|"
    r"a month|per month|monthly|a week|per week|weekly)\b",
    re.I,
)
_DAY = re.compile(rf"\b({_WEEKDAYS}|yesterday|today)\b", re.I)
_CUMULATIVE = re.compile(
    r"\b(?:since|so far|in total|overall|to date|altogether|cumulative|in all)\b", re.I
)
_PLACE = re.compile(
    r"\b(?:in|at|from)\s+(?:(?:the|a|one|a single)\s+)?((?:[\w'\u2019-]+\s+){0,3}?"
    r"(?:province|region|state|county|city|district|oblast|prefecture|municipality|"
    r"township|town|village|hospital|school|camp|prison|neighbou?rhood)"
    r"(?:\s+of\s+[A-Z][\w'\u2019-]+)?)\b",
    re.I,
)
_SAID_ON = re.compile(
    rf"{_SAY.pattern}(?:\s+[\w.]+){{0,3}}?\s+(?:on\s+|late\s+|early\s+)?(?:{_WEEKDAYS}|"
    r"yesterday|today)\b"
)
_NEAR = 60
"""Characters on either side of a figure in which a place, a day or a window is its scope."""
_STRICT = (PERCENT, AMOUNT, COUNT)
"""Measures told by their words alone: compared only when their scopes are the same."""


def _scoped(mention: Mention, text: str) -> Mention:
    """The mention with where, when and of whom its clause says it is given."""
    clause, at = _clause(text, mention.position)
    said = set(normal(mention.attribution or "").split())
    subjects = _named(clause[:at]) - said - _CALENDAR if _strict(mention.measure) else set()
    return replace(mention, scope=_scope(clause, at, mention.measure), subjects=frozenset(subjects))


def _named(text: str) -> set[str]:
    # names, the one opening the sentence included ("Nokia's share"), common words aside
    found = re.findall(r"\b[A-Z][\w'\u2019-]*", text)
    return {
        w for m in found for w in normal(m.split("'")[0].split("\u2019")[0]).split()
    } - STOPWORDS


def _clause(text: str, position: int) -> tuple[str, int]:
    """The clause of ``text`` holding ``position``, and the position in it."""
    start = max((b.end() for b in _BREAK.finditer(text) if b.end() <= position), default=0)
    end = min((b.start() for b in _BREAK.finditer(text) if b.start() > position), default=len(text))
    return text[start:end], position - start


def _scope(clause: str, at: int, measure: str) -> frozenset[str]:
    found = {f"years:{a}-{b}" for a, b in _RANGE.findall(clause)}
    if not found:
        found = {f"year:{y}" for y in _YEAR.findall(clause)}
    found |= {f"year:{r.lower()}" for r in _RELATIVE_YEAR.findall(clause)}
    found |= {f"rate:{r.lower()}" for r in _RATE.findall(clause)}
    near = clause[max(0, at - _NEAR) : at + _NEAR]
    found |= {f"place:{' '.join(p.lower().split())}" for p in _PLACE.findall(near)}
    if measure not in (PERCENT, AMOUNT) and measure not in UNITS:
        events = _SAID_ON.sub("", near)  # "said late Monday": when it was said
        found |= {f"when:{d.lower()}" for d in _DAY.findall(events)}
        found |= {"when:since" for _ in _CUMULATIVE.findall(events)}
    return frozenset(found)


_CALENDAR = frozenset(w.lower() for w in [*MONTHS, *_WEEKDAYS.split("|")])


def _strict(measure: str) -> bool:
    return measure in _STRICT or measure in UNITS


def _compatible(a: Mention, b: Mention) -> bool:
    """Whether two figures of one quantity are given for the same scope. Shares, sums,
    units and counts of any noun need the same scope; the lexicon's counts conflict only
    where both name a different year, day or window, or one gives a place the other does not."""
    if a.subjects and b.subjects and not a.subjects & b.subjects:
        return False  # Nokia's share is not Apple's
    if (a.measure in _BY_CONTEXT or a.measure in UNITS) and not _telling(a) & _telling(b):
        return False  # "a combined rate" is not "the federal tax rate"
    if _strict(a.measure):
        return a.scope == b.scope
    if _kind(a, "place") != _kind(b, "place"):
        return False  # one province is not the whole country
    return all(
        not (_kind(a, k) and _kind(b, k)) or _kind(a, k) == _kind(b, k) for k in ("when", "rate")
    ) and not (
        _explicit_years(a) and _explicit_years(b) and _explicit_years(a) != _explicit_years(b)
    )


_GENERIC_CONTEXT = frozenset(
    {"rate", "share", "price", "cost", "value", "total", "worth", "amount", "sum", "figure",
     "level", "more", "than", "just", "over", "under", "nearly", "roughly", "approximately",
     "also", "all", "additional", "million", "billion", "trillion", "thousand", "some"}
)  # fmt: skip
"""Words around a share or a sum that say what kind of figure, not what of."""


def _telling(mention: Mention) -> set[str]:
    telling = {w[:5] for w in mention.context if w not in _GENERIC_CONTEXT}
    return telling or {w[:5] for w in mention.context}  # "the rate was 5%": rate it is


def _kind(mention: Mention, kind: str) -> frozenset[str]:
    return frozenset(k for k in mention.scope if k.startswith(f"{kind}:"))


def _explicit_years(mention: Mention) -> frozenset[str]:
    # "last year" and "in 2024" may be the same year: only two named years can differ
    return frozenset(k for k in mention.scope if k[k.index(":") + 1 :][:1].isdigit())


EVENTS: dict[str, tuple[str, ...]] = {
    "ordered": ("ordered", "mandated", "directed"),
    "announced": ("announced", "unveiled"),
    "released": ("released", "made public", "published"),
    "voted": ("voted", "passed", "approved"),
    "signed": ("signed",),
    "launched": ("launched",),
}
"""Events whose day the sources may give differently ("ordered Tuesday")."""
_EVENT_WORDS = "|".join(p for ps in EVENTS.values() for p in ps)
EVENT_NOUNS = (
    "deal", "agreement", "accord", "merger", "acquisition", "takeover", "announcement",
    "vote", "election", "referendum", "attack", "raid", "shooting", "bombing", "explosion",
    "blast", "crash", "collision", "earthquake", "meeting", "summit", "ruling", "verdict",
    "decision", "speech", "ceremony", "parade", "resignation", "protest", "rally", "debate",
    "hearing",
)  # fmt: skip
"""Nouns naming one event, whose day the sources may give differently ("Sunday's deal")."""
_MADE_KNOWN = frozenset(
    {"deal", "agreement", "accord", "merger", "acquisition", "takeover", "announcement",
     "ruling", "verdict", "decision"}
)  # fmt: skip
"""Events that happen by being announced: "Sunday's deal" is the deal announced Sunday."""
_EVENT_NOUN = "|".join(EVENT_NOUNS)
_ON_DAY = rf"\s+(?:on\s+|late\s+|early\s+)?(?P<day{{n}}>{_WEEKDAYS})\b"
_DAY_OF_EVENT = re.compile(
    # the deal, announced on Monday / Sunday's deal / ordered Tuesday / on Tuesday ordered
    rf"\b(?P<noun1>{_EVENT_NOUN}),?\s+(?:(?:which|that)\s+)?(?:(?:was|were)\s+)?"
    rf"(?P<verb1>{_EVENT_WORDS}){_ON_DAY.format(n=1)}|"
    rf"(?<!\bnext )\b(?P<day2>{_WEEKDAYS})['\u2019]s\s+(?:[a-z]+\s+)?(?P<noun2>{_EVENT_NOUN})\b|"
    rf"\b(?:on\s+)?(?P<day3>{_WEEKDAYS})\s+(?P<verb3>{_EVENT_WORDS})\b|"
    rf"\b(?P<verb4>{_EVENT_WORDS}){_ON_DAY.format(n=4)}"
)


def _days(article_id: str, sentence_id: int, text: str, said: str | None) -> Iterator[Mention]:
    """The day an event happened, where the verb stands next to it ("ordered Tuesday") or
    the day names the event ("Sunday's deal", "the deal, announced on Monday")."""
    for match in _DAY_OF_EVENT.finditer(text):
        found = {k[:-1]: v for k, v in match.groupdict().items() if v is not None}
        verb = found.get("verb")
        event = next((k for k, ps in EVENTS.items() if verb in ps), None)
        noun = found.get("noun")
        measure = f"day of the {noun}" if noun else f"day {event}"
        if noun and event is None and noun not in _MADE_KNOWN:
            event = "took place"  # "Sunday's vote" was held Sunday, whenever announced
        yield Mention(
            article_id, sentence_id, match.start(), found["day"], measure, noun and event, said
        )


def _dates(article_id: str, sentence_id: int, text: str, said: str | None) -> Iterator[Mention]:
    if not _FIRST.search(text):
        return
    milestone = _phrase_in(MILESTONES, text)
    for match in _MONTH.finditer(text):
        spoken = re.search(rf"{_SAY.pattern}\s+(?:in|on)\s+$", text[: match.start()])
        if milestone is None or spoken or _said_in(text, match):
            continue
        month = match.group(0)
        yield Mention(
            article_id, sentence_id, match.start(), month, f"first {milestone}", None, said
        )


def _said_in(text: str, match: re.Match[str]) -> bool:
    # "In April, the NIS said ...": the month the figure was given, not of the event. The
    # spaces before a comma and after it are read apart: "\s*,?\s*" read a run of spaces
    # in as many ways as it is long, which took seconds after a month in a long sentence
    return bool(re.match(rf"\s*(?:,\s*)?[^,]{{0,40}}?{_SAY.pattern}", text[match.end() :]))


@dataclass
class _Quantity:
    measure: str
    noun: str | None
    mentions: list[Mention]


def quantities(found: Sequence[Mention]) -> list[_Quantity]:
    """Mentions grouped by what they count: one measure, compatible counted nouns;
    percentages by the words around them ("10 percent contained" = "containment at 5%")."""
    groups: dict[tuple[str, str | None], _Quantity] = {}
    for measure in dict.fromkeys(m.measure for m in found if m.measure not in _BY_CONTEXT):
        same = [m for m in found if m.measure == measure]
        nouns = [m.noun for m in same if m.noun not in (None, _GENERIC)]
        main = max(set(nouns), key=nouns.count) if nouns else None
        for mention in same:
            noun = mention.noun if mention.noun in nouns else _joined(mention.noun, main)
            groups.setdefault((measure, noun), _Quantity(measure, noun, [])).mentions.append(
                mention
            )
    by_context = (_by_context([m for m in found if m.measure == k]) for k in _BY_CONTEXT)
    return [*groups.values(), *(q for qs in by_context for q in qs)]


_BY_CONTEXT = (PERCENT, AMOUNT)


def _by_context(found: Sequence[Mention]) -> list[_Quantity]:
    # one quantity for the mentions whose neighbouring words share a stem
    groups: list[tuple[set[str], _Quantity]] = []
    for mention in found:
        stems = {w[:5] for w in mention.context}
        group = next((g for g in groups if g[0] & stems), None)
        if group is None:
            group = (set(), _Quantity(mention.measure, None, []))
            groups.append(group)
        group[0].update(stems)
        group[1].mentions.append(mention)
    return [_labelled(q) for _, q in groups]


def _labelled(quantity: _Quantity) -> _Quantity:
    # named by the word its mentions share most ("containment", "contained": "contained")
    words = [w for m in quantity.mentions for w in m.context]
    shared = [w for w in words if sum(v[:5] == w[:5] for v in words) > 1]
    quantity.noun = max(shared, key=shared.count) if shared else words[0]
    return quantity


def _joined(noun: str | None, main: str | None) -> str | None:
    # No noun ("600 had been killed") counts what the others count; "people" only what
    # civilians are: "12 people killed" is not "3 officers killed".
    if noun is None or (noun == _GENERIC and main in (None, "civilians")):
        return main
    return noun


def _by_scope(quantity: _Quantity) -> list[_Quantity]:
    """The quantity split into groups of mentions given for compatible scopes."""
    groups: list[list[Mention]] = []
    kinds: list[dict[tuple[object, ...], Mention]] = []
    """Each group's mentions, one of each kind ``_compatible`` tells apart: a mention is
    compared with each kind once, not with each mention (quadratic in the outlets)."""
    for mention in quantity.mentions:
        home = next((i for i, k in enumerate(kinds) if _fits(mention, k.values())), None)
        if home is None:
            groups.append([mention])
            kinds.append({_kind_of(mention): mention})
        else:
            groups[home].append(mention)
            kinds[home].setdefault(_kind_of(mention), mention)
    return [_Quantity(quantity.measure, quantity.noun, g) for g in groups]


def _fits(mention: Mention, group: Iterable[Mention]) -> bool:
    return all(_compatible(mention, m) for m in group)


def _kind_of(mention: Mention) -> tuple[object, ...]:
    # all ``_compatible`` reads of a mention: two alike in these fit with the same mentions
    return (mention.subjects, mention.measure, mention.context, mention.scope)


def by_sentence(articles: Sequence[Article]) -> dict[tuple[str, int], dict[int, frozenset[str]]]:
    """For each (article id, sentence id), the values it gives, by quantity (an index)."""
    found = [m for a in articles for m in mentions(a)]
    table: dict[tuple[str, int], dict[int, frozenset[str]]] = {}
    for index, quantity in enumerate(quantities(found)):
        for mention in quantity.mentions:
            given = table.setdefault((mention.article_id, mention.sentence_id), {})
            given[index] = given.get(index, frozenset()) | {value_key(mention.wording)}
    return table


@dataclass
class _Context:
    sources: dict[str, Source]
    """Source of each article id."""
    outlet: dict[str, str]
    """Outlet of each article id, a near-duplicate counted as the one it copies."""


def disagreements(
    articles: Sequence[Article], sources: Sequence[Source], claims: Sequence[MergedClaim]
) -> list[Disagreement]:
    """Every quantity the sources give two or more values for, most reported first."""
    by_number = {s.number: s for s in sources}
    context = _Context(
        sources={s.article_id: s for s in sources},
        outlet={s.article_id: by_number[s.duplicate_of or s.number].name for s in sources},
    )
    found = [m for a in articles for m in mentions(a, scoped=True) if a.id in context.sources]
    scoped = [part for q in quantities(found) for part in _by_scope(q)]
    found_all = [_disagreement(q, context, claims) for q in scoped]
    kept = [d for d in found_all if d is not None] + _accounts(articles, context, claims)
    return sorted(kept, key=lambda d: -sum(len(v.citations) for v in d.values))


def _accounts(
    articles: Sequence[Article], context: _Context, claims: Sequence[MergedClaim]
) -> list[Disagreement]:
    """How a message was conveyed, where outlets tell it differently (``service.accounts``)."""
    text = {(a.id, s.id): s.text for a in articles for s in a.kept}
    found = [c for a in articles if a.id in context.sources for c in conveyed(a)]
    differ = []
    for group in conflicts(found, context.outlet):
        by_kind: dict[str, list[Mention]] = {}
        for account in group:
            said = attribution(text[(account.article_id, account.sentence_id)])
            mention = Mention(
                account.article_id, account.sentence_id, account.position, account.wording,
                account.kind, None, said,
            )  # fmt: skip
            by_kind.setdefault(account.kind, []).append(mention)
        ordered = sorted(by_kind.values(), key=lambda ms: (-len(ms), _first(ms, context)))
        differ.append(
            Disagreement(
                topic=f"how {_shortest(a.by for a in group)} conveyed it to "
                f"{_shortest(a.to for a in group)}",
                values=[_value(ms, context) for ms in ordered],
                claim_ids=_told(group, by_kind, claims),
            )
        )
    return differ


def _shortest(names: Iterable[str]) -> str:
    # "Putin", of "Russian President Vladimir Putin" and "Putin"
    return min(names, key=len)


def _told(
    group: Sequence[Conveyed], by_kind: dict[str, list[Mention]], claims: Sequence[MergedClaim]
) -> list[str]:
    """The claims citing an account's sentence that name its channel: contested."""
    where = {(a.article_id, a.sentence_id): a.wording.split()[-1] for a in group}
    told = []
    for claim in claims:
        cited = [(s.article_id, i) for s in claim.support for i in s.sentence_ids]
        if any(k in where and where[k] in claim.text.lower() for k in cited):
            told.append(claim.id)
    return told


def _disagreement(
    quantity: _Quantity, context: _Context, claims: Sequence[MergedClaim]
) -> Disagreement | None:
    values: dict[str, list[Mention]] = {}
    near = _Near()
    for mention in quantity.mentions:
        key = value_key(mention.wording)
        same = next((k for k in near.values(key) if _same_value(k, values[k], mention)), key)
        if same not in values:
            near.add(same)
        values.setdefault(same, []).append(mention)
    outlets = {context.outlet[m.article_id] for m in quantity.mentions}
    if len(values) < 2 or len(outlets) < 2 or _two_events(quantity, context):
        return None
    ordered = sorted(values.values(), key=lambda ms: (-len(ms), _first(ms, context)))
    return Disagreement(
        topic=_topic(quantity),
        values=[_value(ms, context) for ms in ordered],
        revisions=_revisions(quantity.mentions, context),
        claim_ids=_contested(quantity.mentions, claims),
    )


class _Near:
    """The value keys of one quantity, in the order they were first given, found by what
    ``_same_value`` can take for one: a value within ``ROUGH`` of it (a rounded one is
    nearer), so each figure is not compared with every other (quadratic in the outlets)."""

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._numbers: list[float | None] = []

    def add(self, key: str) -> None:
        self._keys.append(key)
        self._numbers.append(_number(key))

    def values(self, key: str) -> Iterator[str]:
        """The keys that may be ``key``'s value, in their order: only numbers are (any number
        when ``key``'s is not a finite positive one)."""
        number = _number(key)
        if number is None:
            return
        for other, value in zip(self._keys, self._numbers, strict=True):
            if value is not None and not _apart(number, value):
                yield other


def _number(key: str) -> float | None:
    try:
        return float(key)
    except ValueError:
        return None  # neither rounds to another value nor is near one (``_same_value``)


def _apart(a: float, b: float) -> bool:
    # further apart than any rounding or value round by nature can take (see ``rounds_to``:
    # its step is at most a tenth of the value); a value not positive and finite is compared
    return 0 < a < math.inf and 0 < b < math.inf and abs(a - b) > 1.5 * ROUGH * max(a, b)


def _same_value(key: str, given: list[Mention], mention: Mention) -> bool:
    """Whether ``mention`` gives the value ``key`` that ``given`` give: the same number
    rounded, or near a value round by nature ("two dozen" is 25, not 40)."""
    other = value_key(mention.wording)
    if rounds_to(key, other) or rounds_to(other, key):
        return True
    if not any(_rough(m.wording) for m in [*given, mention]):
        return False
    try:
        a, b = float(key), float(other)
    except ValueError:
        return False
    return abs(a - b) <= ROUGH * max(a, b)


ROUGH = 0.2
"""How far from a value round by nature ("two dozen", "a hundred") another is the same."""


def _two_events(quantity: _Quantity, context: _Context) -> bool:
    """Whether one outlet gives two days for one event: then the sources tell of two
    ("Monday's meeting ... Tuesday's meeting"), not of one dated differently."""
    if not quantity.measure.startswith("day "):
        return False
    days: dict[str, set[str]] = {}
    for mention in quantity.mentions:
        days.setdefault(context.outlet[mention.article_id], set()).add(mention.wording.lower())
    return any(len(given) > 1 for given in days.values())


def _first(found: list[Mention], context: _Context) -> int:
    return min(context.sources[m.article_id].number for m in found)


def _topic(quantity: _Quantity) -> str:
    if quantity.measure in _BY_CONTEXT:
        return f"{quantity.noun} ({quantity.measure})"
    if quantity.measure == COUNT:
        return f"number of {quantity.noun}"
    if quantity.measure.startswith("first "):
        return f"when {quantity.measure}"
    if quantity.measure.startswith("day of the "):
        return f"{quantity.measure} ({quantity.noun})" if quantity.noun else quantity.measure
    return f"{quantity.noun} {quantity.measure}" if quantity.noun else quantity.measure


def _value(found: list[Mention], context: _Context) -> FigureValue:
    first = min(found, key=lambda m: context.sources[m.article_id].number)
    said = [m.attribution for m in found if m.attribution]
    return FigureValue(
        value=_lower_hedge(first.wording),
        attribution=list(dict.fromkeys(said)),
        citations=citations(
            ((m.article_id, m.sentence_id) for m in found),
            {a: s.number for a, s in context.sources.items()},
        ),
    )


def _lower_hedge(wording: str) -> str:
    # "About 600" opens its sentence; inside a list of values it reads "about 600"
    head, _, rest = wording.partition(" ")
    return f"{head.lower()} {rest}".strip() if head.lower() in _LOWER else wording


def _revisions(found: Sequence[Mention], context: _Context) -> list[str]:
    by_sentence: dict[tuple[str, int], list[Mention]] = {}
    for mention in found:
        by_sentence.setdefault((mention.article_id, mention.sentence_id), []).append(mention)
    notes = []
    for (article_id, _), same in by_sentence.items():
        later = next((m for m in same[1:] if m.revises), None)
        if later and value_key(later.wording) != value_key(same[0].wording):
            source = context.sources[article_id]
            first, last = same[0].wording, later.wording
            notes.append(
                f"{source.name} [{source.number}] reports a change over time: first "
                f"{_lower_hedge(first)}, later {_lower_hedge(last)}"
            )
    return notes


def _contested(found: Sequence[Mention], claims: Sequence[MergedClaim]) -> list[str]:
    where = {(m.article_id, m.sentence_id) for m in found}
    keys = {value_key(m.wording) for m in found}
    contested = []
    for claim in claims:
        cited = {(s.article_id, i) for s in claim.support for i in s.sentence_ids}
        states = numbers(claim.text) & keys or {k for k in keys if k in claim.text.lower()}
        if cited & where and states:
            contested.append(claim.id)
    return contested
