"""The quality metrics of one briefing against its key (QUALITY.md defines each for readers).

A *line* is a briefing sentence (lede, sections, "Also reported"); a line *states* a key
entry when its text matches the entry's pattern (:mod:`bench.quality_match`); a line's
*documents* are those its citations name. A *row* is one "Where sources differ" entry.

1. Grounding: ``resolving`` = lines whose every citation names a numbered source and existing
   sentences of its article; ``grounded`` = lines whose every number (digits with any letters
   joined to them, ``18th``; thousands separators dropped) and every name (a capitalised word
   other than the line's first) occurs, by the matcher's rules, in the text of the source
   sentences the line cites.
2. Consolidation: a key fact is *stated* when at least one line states it; *corroborated* when
   exactly one line states it and that line cites every document of the fact's ``docs``.
   ``redundant`` counts the pairs of lines that state the same key fact (a pair stating several
   facts counts once). ``fact_doc_recall`` (JSON only): over the stated facts, the mean share
   of the fact's documents cited by the lines stating it.
3. Disagreements: a key value is *shown* in a row's value when one of its alternatives occurs
   in that value, or in that value followed by the row's topic (the row shows the unit or
   scale in its topic: ``$1.2`` under ``trillion (amount)``); a row *shows* a key
   disagreement when the row's text (topic and values) matches the disagreement's pattern and
   at least two of its key values are shown in two different values of the row. Recall = key
   disagreements shown by some row / key disagreements. A row is *true* when it shows a key
   disagreement; *known false* when it shows none but at least two values of one
   ``not_disagreements`` entry are shown in two different values of it; else *unmatched*.
   Precision = true rows / rows (none when no row is shown). ``stray`` (JSON): values of
   true rows that show no value of the disagreement they show.
4. Clean-up and fairness: ``must_not_appear`` entries whose text occurs (containment, no word
   boundaries) in the briefing's title, lines or rows; documents *lost*: not read by the
   briefing (skipped, or none of its claims used), or with more than half of their sentences'
   characters set aside; ``must_keep`` angles *kept*: some line citing that document states
   the angle. ``uncited`` (JSON): read documents no line cites; ``untitled``: the briefing fell
   back to the generic title.
5. Coverage: where the cluster has SPARK ``reference_units``, a unit is *matched* when a
   single line holds at least half of the unit's content words (:func:`content_words`);
   where it has a ``reference_summary``, ROUGE-1/2/L F1 (``rouge-score``, Porter stemming) of
   the briefing's title and lines against it.
6. Brevity and writing: words of the briefing (title, lines, rows) / words of the cluster's
   documents; a line is *copied* when its normalised text is at least 90% similar
   (``rapidfuzz`` ratio) to one sentence of the articles read, else *composed*.

Cost (7) comes from the briefing's usage and the stories (8) from :mod:`bench.quality_stories`.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from rapidfuzz import fuzz, process
from rouge_score import rouge_scorer

from bench.quality_keys import Disagreement, Key, Value
from bench.quality_match import contains, matches, normalise, occurs
from bench.quality_view import Row, View

COPIED = 90.0
"""Least rapidfuzz ratio (0-100) between a line and a source sentence for it to count as copied."""
UNIT_SHARE = 0.5
"""Least share of a reference unit's content words a line must hold for the unit to be matched."""
MOSTLY_SET_ASIDE = 0.5
"""A document with more than this share of its text set aside counts as lost."""

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*[A-Za-z]*")  # with "18th", "1980s", "5pm" whole
_WORD = re.compile(r"[A-Za-z0-9][\w'\u2019.-]*")
_NAME = re.compile(r"^[A-Z][\w'\u2019.-]*[A-Za-z0-9]$")
_STOP_WORDS = """
    a an the and or but nor of to in on at by for from with as into onto over under about
    after before between during since until than then that this these those there here it its
    is are was were be been being has have had do does did will would shall should can could
    may might must not no so such very also just only more most much many some any each every
    all both either neither other another own same too he she they we you i him her them us
    his hers their our your my me who whom whose which what when where why how said says say
    told according while because if though although whether up down out off again further
    once s t"""
_STOP = frozenset(_STOP_WORDS.split())


@dataclass
class Grounding:
    """Metric 1: lines resolving, and lines whose numbers and names are in their sources."""

    lines: int = 0
    resolving: int = 0
    grounded: int = 0
    ungrounded: list[str] = field(default_factory=list)
    """Each line that failed, with the numbers and names not found in its cited sentences."""


@dataclass
class FactResult:
    """One key fact: the lines stating it and the documents they cite."""

    id: str
    stated_by: list[int]
    """Indexes of the lines that state it."""
    cited_docs: list[str]
    key_docs: list[str]
    corroborated: bool


@dataclass
class Consolidation:
    """Metric 2: key facts stated, stated once with all their documents, and repeats."""

    facts: int = 0
    stated: int = 0
    corroborated: int = 0
    redundant: int = 0
    fact_doc_recall: float | None = None
    details: list[FactResult] = field(default_factory=list)


@dataclass
class RowResult:
    """One "Where sources differ" row and its verdict."""

    topic: str
    values: list[str]
    verdict: str
    """``true``, ``known false`` or ``unmatched``."""
    key_id: str | None = None
    stray: list[str] = field(default_factory=list)


@dataclass
class Disagreements:
    """Metric 3: key disagreements shown (recall) and rows that are real (precision)."""

    key: int = 0
    shown: int = 0
    rows: int = 0
    true: int = 0
    known_false: int = 0
    unmatched: int = 0
    missed: list[str] = field(default_factory=list)
    details: list[RowResult] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.true / self.rows if self.rows else None


@dataclass
class Cleanup:
    """Metric 4: rubbish shown, documents lost, angles kept."""

    must_not_appear: int = 0
    hits: list[str] = field(default_factory=list)
    docs: int = 0
    lost: list[str] = field(default_factory=list)
    """Each lost document with why."""
    angles: int = 0
    kept: int = 0
    dropped_angles: list[str] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)
    untitled: bool = False


@dataclass
class Coverage:
    """Metric 5: reference units matched and ROUGE against the reference summary."""

    units: int = 0
    units_matched: int = 0
    rouge1: float | None = None
    rouge2: float | None = None
    rougeL: float | None = None  # noqa: N815 (the metric's own name)


@dataclass
class Brevity:
    """Metric 6: length against the articles, and lines copied whole."""

    briefing_words: int = 0
    article_words: int = 0
    copied: int = 0
    composed: int = 0

    @property
    def ratio(self) -> float | None:
        return self.briefing_words / self.article_words if self.article_words else None


# 1. Grounding


def grounding(view: View) -> Grounding:
    result = Grounding(lines=len(view.lines))
    for line in view.lines:
        result.resolving += line.resolves
        missing = [t for t in checkable(line.text) if not occurs(t, line.cited)]
        result.grounded += not missing
        if missing:
            result.ungrounded.append(f"{line.text} -- not in cited: {', '.join(missing)}")
    return result


def checkable(text: str) -> list[str]:
    """The numbers and names of a line: what must be found in the sentences it cites."""
    numbers = [normalise(n) for n in _NUMBER.findall(text)]
    words = [w.rstrip(".") for w in _WORD.findall(text)[1:]]
    names = [w for w in words if _NAME.match(w) and w.lower() not in _STOP]
    return list(dict.fromkeys([*numbers, *names]))


# 2. Consolidation


def consolidation(view: View, key: Key) -> Consolidation:
    result = Consolidation(facts=len(key.facts))
    pairs: set[tuple[int, int]] = set()
    recalls = []
    for fact in key.facts:
        stating = [i for i, line in enumerate(view.lines) if matches(fact.match, line.text)]
        cited = sorted(set().union(*(view.lines[i].docs for i in stating)))
        whole = len(stating) == 1 and set(fact.docs) <= view.lines[stating[0]].docs
        result.details.append(FactResult(fact.id, stating, cited, fact.docs, whole))
        pairs.update(combinations(stating, 2))
        if stating:
            recalls.append(len(set(fact.docs) & set(cited)) / len(fact.docs))
        result.stated += bool(stating)
        result.corroborated += whole
    result.redundant = len(pairs)
    result.fact_doc_recall = sum(recalls) / len(recalls) if recalls else None
    return result


# 3. Disagreements


def shown_values(values: Sequence[Value], row: Row) -> dict[int, set[int]]:
    """For each key value shown in ``row``, the indexes of the row's values that show it."""
    found = {}
    for k, value in enumerate(values):
        where = {i for i in range(len(row.values)) if _found(value, row, i)}
        if where:
            found[k] = where
    return found


def _found(value: Value, row: Row, index: int) -> bool:
    # Read as a reader reads the row: "$1.2" under "trillion (amount)" is $1.2 trillion.
    shown = row.values[index].value
    return any(occurs(a, shown) or occurs(a, f"{shown} {row.topic}") for a in value.match)


def _two_apart(found: dict[int, set[int]]) -> bool:
    """At least two key values shown in two different values of the row."""
    return any(a != b for x, y in combinations(found.values(), 2) for a in x for b in y)


def shows(row: Row, disagreement: Disagreement) -> bool:
    """Whether ``row`` shows ``disagreement`` (its pattern, and two of its values apart)."""
    return matches(disagreement.match, row.text) and _two_apart(
        shown_values(disagreement.values, row)
    )


def disagreements(view: View, key: Key) -> Disagreements:
    result = Disagreements(key=len(key.disagreements), rows=len(view.rows))
    for d in key.disagreements:
        if any(shows(row, d) for row in view.rows):
            result.shown += 1
        else:
            result.missed.append(f"{d.id}: {d.what}")
    for row in view.rows:
        verdict = _judge(row, key)
        result.details.append(verdict)
        result.true += verdict.verdict == "true"
        result.known_false += verdict.verdict == "known false"
        result.unmatched += verdict.verdict == "unmatched"
    return result


def _judge(row: Row, key: Key) -> RowResult:
    values = [v.value for v in row.values]
    for d in key.disagreements:
        if shows(row, d):
            used = set().union(*shown_values(d.values, row).values())
            stray = [v.value for i, v in enumerate(row.values) if i not in used]
            return RowResult(row.topic, values, "true", d.id, stray)
    for n in key.not_disagreements:
        if _two_apart(shown_values(n.values, row)):
            return RowResult(row.topic, values, "known false", n.id)
    return RowResult(row.topic, values, "unmatched")


# 4. Clean-up and fairness


def cleanup(view: View, key: Key | None) -> Cleanup:
    result = Cleanup(docs=len(view.docs), untitled=view.untitled)
    result.lost = [
        f"{d.name}: {_lost(d.read, d.set_aside, d.why_not_read)}"
        for d in view.docs.values()
        if not d.read or d.set_aside > MOSTLY_SET_ASIDE
    ]
    cited = set().union(*(line.docs for line in view.lines))
    result.uncited = sorted(d.name for d in view.docs.values() if d.read and d.name not in cited)
    if key is None:
        return result
    text = "\n".join(_shown_text(view))
    result.must_not_appear = len(key.must_not_appear)
    result.hits = [m.text for m in key.must_not_appear if contains(m.text, text)]
    result.angles = len(key.must_keep)
    for angle in key.must_keep:
        kept = any(
            angle.doc in line.docs and matches(angle.match, line.text) for line in view.lines
        )
        result.kept += kept
        if not kept:
            result.dropped_angles.append(f"{angle.doc}: {angle.angle}")
    return result


def _lost(read: bool, set_aside: float, why: str) -> str:
    return f"not read ({why})" if not read else f"{set_aside:.0%} set aside"


def _shown_text(view: View) -> Iterable[str]:
    yield view.title
    yield from (line.text for line in view.lines)
    for row in view.rows:
        yield row.topic
        yield from (f"{v.value} {v.attribution}" for v in row.values)


# 5. Coverage


def content_words(text: str) -> set[str]:
    """Lower-cased words of three or more characters, stop words out, a plural ``s`` dropped."""
    words = re.findall(r"[a-z0-9][a-z0-9'-]*", normalise(text))
    stems = (w.removesuffix("'s").strip("'-") for w in words)
    return {_singular(w) for w in stems if len(w) >= 3 and w not in _STOP}


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def coverage(view: View, units: Sequence[str], summary: str | None) -> Coverage:
    result = Coverage(units=len(units))
    lines = [content_words(line.text) for line in view.lines]
    for unit in units:
        wanted = content_words(unit)
        best = max((len(wanted & words) for words in lines), default=0)
        result.units_matched += bool(wanted) and best / len(wanted) >= UNIT_SHARE
    if summary:
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
        briefing = "\n".join([view.title, *(line.text for line in view.lines)])
        scores = scorer.score(summary, briefing)
        result.rouge1 = scores["rouge1"].fmeasure
        result.rouge2 = scores["rouge2"].fmeasure
        result.rougeL = scores["rougeL"].fmeasure
    return result


# 6. Brevity and writing


def words(text: str) -> int:
    return len(text.split())


def brevity(view: View) -> Brevity:
    shown = sum(words(t) for t in _shown_text(view))
    result = Brevity(shown, sum(words(d.text) for d in view.docs.values()))
    choices = [normalise(s) for s in view.source_sentences]
    for line in view.lines:
        best = process.extractOne(
            normalise(line.text), choices, scorer=fuzz.ratio, score_cutoff=COPIED
        )
        result.copied += best is not None
    result.composed = len(view.lines) - result.copied
    return result
