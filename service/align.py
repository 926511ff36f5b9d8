"""Stage 3, merge (alignment): which sentences of different outlets state the same fact.

Model-free and deterministic. Each sentence becomes a set of *features*: the names it gives
(capitalised words, folded: "Kim Jong-un" = "Kim Jong Un"), the numbers it states
(normalised: "15,000" = "15 thousand") and its content words, stemmed (Snowball: "honoured"
= "honouring"). Each feature weighs by how rare it is among the sentences being merged (its
inverse document frequency within the cluster), names and numbers more than words: what
every sentence of a story says ("Kim", "soldiers") tells two facts apart less than what few
say ("knelt", "portraits"). Two sentences *align* when the cosine of their weighted features
reaches :data:`MIN_SIMILARITY` and the guards let them:

* **figures**: two sentences giving different values for one counted quantity (or different
  numbers, with none in common) are never one fact: the disagreement is shown apart. Values
  that can be one figure told at another precision are not different (:func:`same_value`:
  "nearly $44 million" is $43,885,310, "thousands" holds "more than 4,000"), so a fact
  stated with a side detail rounded differently still aligns;
* **the event**: they must share distinctive content words, not only names ("Kim hugged
  the soldiers" and "Kim knelt before the portraits" share Kim and soldiers, not the act);
* **the people**: when both name someone (or somewhere), they must name someone in
  common; who said it ("Seoul said", "according to the NIS"), days and months do not count.

The thresholds were chosen by measurement on the quality keys (``python -m bench.alignment``;
QUALITY.md or the change's report gives the sweep).
"""

import math
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from typing import Any, Generic, TypeVar

import snowballstemmer  # type: ignore[import-untyped]

from service.embed import Embedder
from service.figures import MONTHS, attribution, rounds_to
from service.verify import STOPWORDS, names, normal, numbers

MIN_SIMILARITY = 0.225
"""Weighted cosine (0-1) of two sentences' features from which they state one fact."""
MIN_EVENT = 0.1
"""Share of the smaller sentence's content-word weight (names and numbers aside) the two
must share: the act or event, not only who took part."""
MIN_SHARED_WORDS = 2
"""Distinct content words (names and numbers aside) two sentences must share."""
MIN_COSINE = 0.75
"""Cosine of two sentences' embeddings (:mod:`service.embed`) from which they state one
fact in other words, when the lexical features do not tell (the guards still apply)."""
NAME_WEIGHT = 1.5
NUMBER_WEIGHT = 1.5
"""How much more a name or a number tells than a content word of the same rarity."""

_FUNCTION_WORDS_TEXT = (
    "about after again against all also am any because before being between both can "
    "could did do does doing down during each even ever every few first further get got "
    "here how i if into just last later like made make many may me more most much must "
    "my new no nor not now off once one only other out over own same should so some "
    "such than then there these those through too two under until up upon us very we "
    "what when where while whom why would you your yet told tell according reported "
    "report reports say saying week year years day days time people still well "
    "back already around among since however although though whether shall might "
    "another others several including include includes included"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())
_CALENDAR = frozenset(
    m.lower() for m in [*MONTHS, "Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
) | {"saturday", "sunday"}
"""Capitalised, but not who or what a sentence is about."""
_TITLES_TEXT = (
    "mr mrs ms dr sen senator rep representative gov governor president prime minister "
    "leader chairman secretary justice judge general gen king queen prince pope"
)
_TITLES = frozenset(_TITLES_TEXT.split())
"""Capitalised before a name, but not who it is."""
_WORD = re.compile(r"[a-z][a-z'-]+")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # once per word: a story's sentences repeat its words, and the stemmer is pure Python
    return str(_stemmer().stemWord(word))


@dataclass(frozen=True)
class Features:
    """What one sentence states, as comparable features."""

    names: frozenset[str]
    numbers: frozenset[str]
    words: frozenset[str]
    """Content-word stems, names aside."""
    people: frozenset[str] = frozenset()
    """The names of who or what it is about: not who said it, nor a day or month."""

    @cached_property
    def someone(self) -> frozenset[str]:
        """The names that count as someone two sentences have in common (the speaker too;
        not a day, a month or a title)."""
        return self.names - _CALENDAR - _TITLES

    def all(self) -> Iterable[tuple[str, str]]:
        yield from (("name", n) for n in self.names)
        yield from (("number", n) for n in self.numbers)
        yield from (("word", w) for w in self.words)


@lru_cache(maxsize=16384)
def features(text: str) -> Features:
    """The features of one sentence (worked out once: the merge, the top-up and the fold each
    build an aligner over the same sentences)."""
    named = frozenset(names(text) | _leading_name(text))
    words = [w.strip("'-") for w in _WORD.findall(normal(text))]
    content = [w for w in words if _content(w) and w not in named]
    stems = frozenset(_stem(w) for w in content)
    said_by = names(attribution(text) or "")
    return Features(named, numbers(text), stems, named - said_by - _CALENDAR - _TITLES)


_LEADING_NAME = re.compile(r"^\W*([A-Z][\w'\u2019-]+)\s+[A-Z]")


def _leading_name(text: str) -> set[str]:
    # "Kim Jong Un said ...": a capitalised first word is a name when a name follows it
    found = _LEADING_NAME.match(text)
    return names(f"x {found.group(1)}") - _FUNCTION_WORDS - STOPWORDS if found else set()


def _content(word: str) -> bool:
    return len(word) > 2 and word not in STOPWORDS and word not in _FUNCTION_WORDS


_KIND_WEIGHT = {"name": NAME_WEIGHT, "number": NUMBER_WEIGHT, "word": 1.0}


class Aligner:
    """Compares sentences of one cluster, each feature weighed by its rarity in the cluster."""

    def __init__(self, texts: Sequence[str], embedder: Embedder | None = None) -> None:
        self._features: dict[str, Features] = {t: features(t) for t in texts}
        self._embedder = embedder
        self._texts = list(dict.fromkeys(texts))
        self._matrix: Any = embedder(self._texts) if embedder is not None and texts else None
        self._vectors: dict[str, Any] = {}
        if self._matrix is not None:
            self._vectors = dict(zip(self._texts, self._matrix, strict=True))
        self._close: dict[str, frozenset[str]] = {}
        counts: Counter[tuple[str, str]] = Counter()
        for found in self._features.values():
            counts.update(set(found.all()))
        total = max(len(self._features), 1)
        self._idf = {f: math.log((total + 1) / (n + 0.5)) for f, n in counts.items()}
        self._floor = math.log((total + 1) / (total + 0.5))
        self._weights: dict[str, tuple[dict[tuple[str, str], float], float]] = {}
        self._words_weights: dict[tuple[str, int], float] = {}

    def of(self, text: str) -> Features:
        """The features of ``text`` (computed once)."""
        if text not in self._features:
            self._features[text] = features(text)
        return self._features[text]

    def knows(self, text: str) -> bool:
        """Whether ``text`` has been given to the aligner or to ``of``: each text first seen
        weighs a feature no sentence has a little more (see ``weight``)."""
        return text in self._features

    def weight(self, feature: tuple[str, str]) -> float:
        """What one shared feature tells: rarer in the cluster, more."""
        idf = self._idf.get(feature, math.log(len(self._features) + 1))
        return max(idf, self._floor) * _KIND_WEIGHT[feature[0]]

    def _weighed(self, text: str) -> tuple[dict[tuple[str, str], float], float]:
        # each feature's squared weight, and their sum (computed once per text)
        if text not in self._weights:
            squares = {f: self.weight(f) ** 2 for f in self.of(text).all()}
            self._weights[text] = (squares, sum(squares.values()))
        return self._weights[text]

    def similarity(self, a: str, b: str) -> float:
        """Weighted cosine of two sentences' features (0-1)."""
        (wa, na), (wb, nb) = self._weighed(a), self._weighed(b)
        shared = sum(w for f, w in wa.items() if f in wb)
        return shared / math.sqrt(na * nb) if na and nb else 0.0

    def same_event(self, a: str, b: str) -> bool:
        """Whether two sentences share enough distinctive content words (names aside)."""
        wa, wb = self.of(a).words, self.of(b).words
        common = wa & wb
        if len(common) < MIN_SHARED_WORDS:
            return False
        smaller = min(self._text_words_weight(a), self._text_words_weight(b))
        return self._words_weight(common) >= MIN_EVENT * smaller

    def _words_weight(self, words: Iterable[str]) -> float:
        return sum(self.weight(("word", w)) for w in words)

    def _text_words_weight(self, text: str) -> float:
        # once per text and number of texts seen (on which a word no sentence has depends)
        key = (text, len(self._features))
        if key not in self._words_weights:
            self._words_weights[key] = self._words_weight(self.of(text).words)
        return self._words_weights[key]

    def compatible(self, a: str, b: str, *, figures: bool = True) -> bool:
        """Whether two sentences pass the guards: no count apart (unless ``figures`` is
        False), someone in common, the same act or event. Necessary for one fact, however
        alike the wording."""
        fa, fb = self.of(a), self.of(b)
        if len(fa.words & fb.words) < MIN_SHARED_WORDS:
            return False  # the cheapest test first: most pairs fail it
        if figures and not compatible_numbers(fa.numbers, fb.numbers):
            return False
        return _someone_in_common(fa, fb) and self.same_event(a, b)

    def aligned(self, a: str, b: str) -> bool:
        """Whether two sentences state the same fact (figures aside: see ``merge``)."""
        lexical = self.compatible(a, b) and self.similarity(a, b) >= MIN_SIMILARITY
        return lexical or self.paraphrase(a, b)

    def affinity(self, a: str, b: str) -> float:
        """How alike two sentences stating one fact are, 0 when they do not: their lexical
        similarity, or for a paraphrase the lexical threshold itself (a lexical match ranks
        first), the closer paraphrase a little above."""
        if self.compatible(a, b) and (similarity := self.similarity(a, b)) >= MIN_SIMILARITY:
            return similarity
        if self.paraphrase(a, b):
            return MIN_SIMILARITY + (self.cosine(a, b) - MIN_COSINE) / 100
        return 0.0

    def cosine(self, a: str, b: str) -> float:
        """Cosine of two sentences' embeddings; 0 without an embedder."""
        if self._embedder is None:
            return 0.0
        return float(self._vector(a) @ self._vector(b))

    def _vector(self, text: str) -> Any:
        if text not in self._vectors and self._embedder is not None:
            self._vectors[text] = self._embedder([text])[0]
        return self._vectors[text]

    def close(self, text: str) -> frozenset[str]:
        """The texts the aligner was built with whose embeddings are within
        :data:`MIN_COSINE` of ``text``'s (none without an embedder): the only ones
        :meth:`paraphrase` may join with it that :class:`Index` does not find."""
        if self._matrix is None:
            return frozenset()
        if text not in self._close:
            cosines = self._matrix @ self._vector(text)
            self._close[text] = frozenset(
                t for t, c in zip(self._texts, cosines.tolist(), strict=True) if c >= MIN_COSINE
            )
        return self._close[text]

    def paraphrase(self, a: str, b: str) -> bool:
        """Whether two sentences state one fact in other words: their embeddings close, no
        count apart, someone in common where both name someone. (Their features are read
        without showing the texts to the aligner: its weights do not change.)"""
        if self._embedder is None or self.cosine(a, b) < MIN_COSINE:
            return False
        fa, fb = features(a), features(b)
        if not compatible_numbers(fa.numbers, fb.numbers):
            return False
        return _someone_in_common(fa, fb)


def _someone_in_common(a: Features, b: Features) -> bool:
    """False when both name people or places and share none (the speaker counts too)."""
    return not (a.people and b.people and not a.someone & b.someone)


K = TypeVar("K", bound=Hashable)


class Index(Generic[K]):
    """Texts indexed by what :meth:`Aligner.compatible` requires two texts to share: content
    words (``MIN_SHARED_WORDS``) and, when both name someone, a name. A text need only be
    compared with the texts :meth:`near` it; every other pair fails the guards, whatever the
    weights.

    Each text is a bit; each word and name the set of texts holding it, as an integer's bits,
    so a look-up is a few operations on integers per word, not one per text holding it."""

    def __init__(self) -> None:
        self._keys: list[K] = []
        self._bits: dict[K, int] = {}
        self._by_word: dict[str, int] = defaultdict(int)
        self._by_someone: dict[str, int] = defaultdict(int)
        self._no_one = 0
        """The texts that name no one (``Features.people``)."""

    def add(self, key: K, found: Features) -> None:
        bit = self._bits.get(key, 0)
        if not bit:
            bit = self._bits[key] = 1 << len(self._keys)
            self._keys.append(key)
        for word in found.words:
            self._by_word[word] |= bit
        for name in found.someone:
            self._by_someone[name] |= bit
        if not found.people:
            self._no_one |= bit

    def _sharing(self, found: Features) -> int:
        # at_least[n]: the texts holding n or more of ``found``'s words (a counter in bits)
        at_least = [0] * (MIN_SHARED_WORDS + 1)
        for word in found.words:
            holding = self._by_word.get(word, 0)
            for n in range(MIN_SHARED_WORDS, 0, -1):
                at_least[n] |= at_least[n - 1] & holding if n > 1 else holding
        return at_least[MIN_SHARED_WORDS]

    def _keys_of(self, bits: int) -> set[K]:
        found = set()
        while bits:
            lowest = bits & -bits
            found.add(self._keys[lowest.bit_length() - 1])
            bits ^= lowest
        return found

    def sharing(self, found: Features) -> set[K]:
        """The keys of the texts sharing enough content words with ``found``."""
        return self._keys_of(self._sharing(found))

    def near(self, found: Features) -> set[K]:
        """The keys of the texts that may pass :meth:`Aligner.compatible` with ``found``."""
        near = self._sharing(found)
        if found.people:  # those naming no one, or someone it names
            named = self._no_one
            for name in found.someone:
                named |= self._by_someone.get(name, 0)
            near &= named
        return self._keys_of(near)


@lru_cache(maxsize=65536)
def compatible_numbers(a: frozenset[str], b: frozenset[str]) -> bool:
    """False when both sentences state counts (years aside) and share none of them (up to
    rounding: see :func:`same_value`). Remembered: a merge asks it of the same few sets of
    numbers for every pair of sentences."""
    counts_a = {n for n in a if not _YEAR.match(n)}
    counts_b = {n for n in b if not _YEAR.match(n)}
    if not (counts_a and counts_b):
        return True
    return any(same_value(x, y) for x in counts_a for y in counts_b)


VAGUE = {"dozen": 12, "hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
"""Vague counts (value keys, see ``figures.value_key``: "thousands" -> "thousand") and the
smallest number each holds; each holds numbers up to a thousand times that."""


def same_value(a: str, b: str) -> bool:
    """Whether two value keys can be one figure: equal, one the other rounded or cut to
    fewer significant digits ("$44 million", "$43,885,310"), or a vague count holding the
    other ("thousands", "4000"). "600" and "1000", or "thousands" and "600", cannot."""
    if a == b or rounds_to(a, b) or rounds_to(b, a):
        return True
    return _holds(a, b) or _holds(b, a)


def _holds(vague: str, value: str) -> bool:
    unit = VAGUE.get(vague)
    try:
        number = float(value)
    except ValueError:
        return False
    return unit is not None and unit <= number < unit * 1000


def agreeing(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two statements' values for one quantity can be the same figures: every value
    of one of them is one of the other's (:func:`same_value`). "600 killed, at least 1,000
    in January" agrees with "about 600 killed"; "10,000 troops" and "15,000" do not."""

    def within(x: frozenset[str], y: frozenset[str]) -> bool:
        return all(any(same_value(v, w) for w in y) for v in x)

    return within(a, b) or within(b, a)
