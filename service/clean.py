"""Clean-up, between ingest and extract: set aside what is not the story, and record why.

Real pages carry advertisements, navigation, share prompts, photo captions and credits,
repeated headlines, reader comments, and sometimes whole other stories glued on after
the main one. None of it may reach the model. The clean-up works paragraph by paragraph
(a line of the input) and never edits the text: it records spans as
:class:`schemas.Removal` with a kind and the rule that matched, so the sentences left
keep their ids and offsets, and ``brief --show-cleaning`` can show what was set aside.

Rules, in order, each general rather than tuned to any one site:

* hostile lines (:mod:`service.guard`): text that reads as instructions to the model, fake
  roles, replies or sentence ids, our own prompt delimiters, and script markup;
* after a comments marker ("4 Comments", "Leave a reply") everything is comments;
* boilerplate lines: ad markers, "Source link", share and subscribe prompts, cookie notices;
* captions: a paragraph ending in a photo credit ("Photo by X/Y", "(... photo via AP)");
* the first line, when taken as the title, is the headline; any line repeating an earlier
  one is repeated;
* fragments: lines of fewer than five words that end without punctuation (weather
  widgets, datelines, commenter names, menu items); in scripts written without spaces
  (Chinese, Japanese) two characters count as a word, and their full stop, exclamation
  and question marks end a sentence;
* off-topic: with three or more articles, a paragraph of twelve words or more whose
  content words mostly appear in no other article of the set is about another story (under
  40% shared, with four other articles or more; a lower bar with fewer, as fewer articles
  share fewer words: 28% with two others).

A dateline or newsletter label opening a kept sentence ("WASHINGTON (AP) —", "Why it
matters:", :mod:`service.openers`) is set aside as boilerplate and the rest of the sentence
kept: the sentence keeps its id and its end, and starts after the cut (its text is still
``text[start:end]``, so citations and highlighting by offsets cover only the words kept).

Last, sentences over 1,500 characters, and whatever exceeds 12,000 characters of kept text
per article (one span, from the first sentence past the limit to the end), are set aside as
too long (the model's context is small).

Near-duplicates (the same wire story on two sites: kept text at least 90% alike by
rapidfuzz's ratio) are marked ``duplicate_of`` the earlier one; they count as one source,
and only the original is sent to the model: a copy is given the original's claims,
anchored in its own sentences (:func:`originals`, :func:`claims_of_copies`).

:class:`Cleaner` does the same one article at a time, and releases each as soon as no
article still to come can change it, so the pipeline sends it to the model while it cleans
the others; :func:`clean` gives it every article, then takes them all.
"""

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from schemas import Article, Removal, RemovedKind, Sentence, SetAside
from schemas.article import covered_by
from service.guard import hostile_lines
from service.ingest import CJK
from service.openers import opener
from service.verify import names, normal, stems

COMMENTS_START = re.compile(
    r"^\s*(\d+\s+comments?|comments?\s*\(\d+\)|leave a (reply|comment)|reader comments|"
    r"join the (conversation|discussion))\s*$",
    re.IGNORECASE,
)
# Each rule reads a line one way, in time linear in its length: a run of spaces is read once
# (not before and after an optional "-" or "("), a bracket only if it closes the line, and
# only the first "cookie" (else each one was a new start for the rest of the line).
BOILERPLATE = re.compile(
    r"^\s*((?:-\s*)?advertisement\b.*|source( link)?|share( this( article| story)?)?( on \w+)?|"
    r"(sign up|subscribe)\b.{0,80}|read more\b.{0,80}|related( articles| stories)?:?|"
    r"(highlights|latest news|trending( now)?|most read|popular)|"
    r"(?:(?!\bcookies?\b).)*\bcookies?\b.*\b(accept|consent|policy|settings)\b.*|"
    r"your email address will not be published.*|all rights reserved.*)\s*$",
    re.IGNORECASE,
)
CAPTION = re.compile(
    r"(\b(photo|image|picture)s?\s*(by|:|credit:?)\s*[^.!?]{0,80}$)|"
    r"(\((?=[^()]*\)\s*$)[^()]*\b(photo|getty|pool|file|images?)\b[^()]*\)\s*$)",
    re.IGNORECASE,
)
MIN_WORDS_SENTENCE = 5
SENTENCE_END = ".!?\"'\u201d\u2019\u3002\uff01\uff1f\u300d\u300f"
"""Characters a sentence may end with (closing quotes, and the CJK ones, included)."""
OFF_TOPIC_MIN_WORDS = 12
OFF_TOPIC_SHARE = 0.4
"""Below this share of content words found in other articles, a long paragraph is off-topic."""
OFF_TOPIC_MIN_ARTICLES = 3
OFF_TOPIC_FULL_SET = 4
"""Other articles from which on: the bar is ``OFF_TOPIC_SHARE`` itself."""
OFF_TOPIC_MIN_NAMES = 2
"""Names (capitalised words) a paragraph must give to be judged another story."""
OFF_TOPIC_NAMES_SHARE = 0.5
"""At or above this share of its names known to the story, a paragraph is on the story."""
OFF_TOPIC_MIN_BODY = 5
"""Sentences an article must keep before a closing run of paragraphs is judged another story
glued on: in a short excerpt, a paragraph that shares little is the outlet's own angle."""
OFF_TOPIC_WHOLE = 0.75
"""An article sharing under this share of the bar of its words, and under half of its names,
with the other articles is, as a whole, about another story."""
LEAD_SENTENCES = 3
"""Sentences of an article, after its headline, that say what its story is."""


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            start = offset + len(line) - len(line.lstrip())
            yield start, start + len(line.strip()), line.strip()
        offset += len(line)


def _line_key(line: str) -> str:
    """What two lines share when one repeats the other (wording, not punctuation or case)."""
    return " ".join(stems(line)) or line.lower()


def _with_removed(article: Article, extra: list[Removal]) -> Article:
    """The article with ``extra`` spans added to its removals, in text order."""
    if not extra:
        return article
    removed = sorted([*article.removed, *extra], key=lambda r: r.start)
    return article.model_copy(update={"removed": removed})


def _kind(
    line: str, seen: set[str], in_comments: bool, danger: tuple[str, str] | None
) -> tuple[RemovedKind, str] | None:
    if danger:
        return RemovedKind(danger[0]), danger[1]
    if in_comments:
        return RemovedKind.COMMENTS, "after a comments marker"
    if BOILERPLATE.match(line):
        return RemovedKind.BOILERPLATE, "ad, navigation or footer line"
    if CAPTION.search(line):
        return RemovedKind.CAPTION, "ends with a photo credit"
    key = _line_key(line)
    if key in seen:
        return RemovedKind.REPEATED, "repeats an earlier line"
    seen.add(key)
    if _words(line) < MIN_WORDS_SENTENCE and line[-1] not in SENTENCE_END:
        return RemovedKind.FRAGMENT, "a few words, not a sentence"
    return None


def _words(line: str) -> int:
    """About how many words ``line`` has, in any script (a CJK word: about 2 characters)."""
    cjk = len(CJK.findall(line))
    return len(CJK.sub(" ", line).split()) + cjk // 2 if cjk else len(line.split())


def _line_removals(article: Article) -> list[Removal]:
    removals: list[Removal] = []
    seen: set[str] = set()
    in_comments = False
    lines = list(_lines(article.text))
    dangers = hostile_lines([line for _, _, line in lines])
    for index, (start, end, line) in enumerate(lines):
        in_comments = in_comments or bool(COMMENTS_START.match(line))
        if index == 0 and article.title and line == article.title and not dangers[0]:
            seen.add(_line_key(line))
            found: tuple[RemovedKind, str] | None = (RemovedKind.HEADLINE, "the title line")
        else:
            found = _kind(line, seen, in_comments, dangers[index])
        if found:
            removals.append(Removal(kind=found[0], start=start, end=end, reason=found[1]))
    return removals


def off_topic_share(other_articles: int) -> float:
    """The bar for a set with this many other articles: the fewer there are to share words
    with, the lower an on-topic paragraph scores, so the bar is lowered (0.4 x sqrt(n/4))."""
    return OFF_TOPIC_SHARE * min(1.0, math.sqrt(other_articles / OFF_TOPIC_FULL_SET))


@dataclass(frozen=True)
class _Others:
    """The words (or names) of the other articles of the set: those some article besides this
    one has, counted over the articles given so far, and ``extra`` (the lead's)."""

    counts: Mapping[str, int]
    """In how many of the articles given so far each appears (this one included)."""
    own: frozenset[str]
    """This article's."""
    extra: frozenset[str] = frozenset()

    def __contains__(self, word: str) -> bool:
        return word in self.extra or self.counts.get(word, 0) > (word in self.own)

    def plus(self, words: AbstractSet[str]) -> "_Others":
        return _Others(self.counts, self.own, self.extra | words)


@dataclass(frozen=True)
class _Story:
    """What the set says the story is: the words and names of the other articles and of
    this article's headline and lead."""

    words: _Others
    names: _Others
    lead: tuple[str, ...]

    @classmethod
    def of(
        cls, words: Counter[str], names: Counter[str], said: "_Said", article: Article
    ) -> "_Story":
        """The story of ``article`` (whose words and names are ``said``), told by the other
        articles given so far (``words`` and ``names`` count the articles that have each)."""
        lead = (article.title or "", *(s.text for s in article.kept[:LEAD_SENTENCES]))
        return cls(_Others(words, said.words), _Others(names, said.names), lead)

    def excluding(self, line: str) -> "_Story":
        """The story with the lead, less the paragraph judged (a short article is all lead)."""
        lead = [t for t in self.lead if t not in line]
        words = self.words.plus(set().union(*map(stems, lead)))
        return _Story(words, self.names.plus(_names(lead)), ())


@dataclass(frozen=True)
class _Said:
    """The words and names of one article's kept sentences: worked out once per article,
    not once for each other article of the set (which made the clean-up quadratic)."""

    words: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, article: Article) -> "_Said":
        texts = [s.text for s in article.kept]
        return cls(frozenset().union(*map(stems, texts)), _names(texts))


def _names(texts: Sequence[str]) -> frozenset[str]:
    # every word, folded as names() folds them: a name may open a sentence elsewhere
    return frozenset(normal(" ".join(texts)).split())


def _off_topic(article: Article, story: _Story, bar: float) -> list[Removal]:
    whole = _whole_other_story(article, story, bar)
    if whole is not None:
        return [_off_topic_span(start, end, whole) for start, end, _ in _kept_lines(article)]
    # Only the run of paragraphs that closes the article, and only after a body of its own:
    # pages glue other stories on after the main one, while a paragraph in the middle, or
    # in a short excerpt, is the outlet's own angle on the story.
    tail: list[Removal] = []
    for start, end, line in reversed(_paragraphs(article)):
        why = _other_story(line, story.excluding(line), bar)
        if why is None:
            break
        tail.insert(0, _off_topic_span(start, end, why))
    body = [s for s in article.kept if not any(r.start <= s.start < r.end for r in tail)]
    return tail if len(body) >= OFF_TOPIC_MIN_BODY else []


def _off_topic_span(start: int, end: int, reason: str) -> Removal:
    return Removal(kind=RemovedKind.OFF_TOPIC, start=start, end=end, reason=reason)


def _whole_other_story(article: Article, story: _Story, bar: float) -> str | None:
    """Why the whole article tells another story (a page about something else), or None."""
    text = " ".join(s.text for s in article.kept)
    found = _unlike(text, story, OFF_TOPIC_WHOLE * bar)
    return _why("the whole article is another story", found) if found else None


def _kept_lines(article: Article) -> list[tuple[int, int, str]]:
    kept = [s.start for s in article.kept]
    return [line for line in _lines(article.text) if any(line[0] <= k < line[1] for k in kept)]


def _paragraphs(article: Article) -> list[tuple[int, int, str]]:
    """The kept lines long enough to judge (``OFF_TOPIC_MIN_WORDS``), in order."""
    return [line for line in _kept_lines(article) if len(line[2].split()) >= OFF_TOPIC_MIN_WORDS]


def _other_story(line: str, story: _Story, bar: float) -> str | None:
    """Why ``line`` tells another story, or None."""
    found = _unlike(line, story, bar)
    return _why("another story", found) if found else None


def _unlike(text: str, story: _Story, bar: float) -> tuple[float, float] | None:
    """The shares of ``text``'s words and names found in the story, when both are low: under
    ``bar`` and under ``OFF_TOPIC_NAMES_SHARE`` of the people, places and organisations it
    names (two at least: a text that names nobody shows no other story); else None."""
    words, named = stems(text), names(text)
    if not words or len(named) < OFF_TOPIC_MIN_NAMES:
        return None
    share = _within(words, story.words) / len(words)
    known = _within(named, story.names) / len(named)
    return (share, known) if share < bar and known < OFF_TOPIC_NAMES_SHARE else None


def _within(found: set[str], others: _Others) -> int:
    return sum(word in others for word in found)


def _why(what: str, shares: tuple[float, float]) -> str:
    return (
        f"{what}: only {shares[0]:.0%} of its words and {shares[1]:.0%} of the names it gives "
        "appear in the other articles"
    )


NEAR_DUPLICATE = 90.0
"""rapidfuzz ratio (0-100) of kept text above which two articles are one story copied."""


def _kept_text(article: Article) -> str:
    return normal(" ".join(s.text for s in article.kept))


@dataclass
class _Twins:
    """The articles marked so far, and their kept texts: each next one is compared with them."""

    marked: list[Article] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def mark(self, article: Article) -> Article:
        """``article``, marked as the duplicate of the first earlier one it nearly repeats."""
        text = _kept_text(article)
        pairs = zip(self.marked, self.texts, strict=True)
        twin = next((m for m, t in pairs if _alike(text, t)), None)
        if twin is not None:
            article = article.model_copy(update={"duplicate_of": twin.duplicate_of or twin.id})
        self.marked.append(article)
        self.texts.append(text)
        return article


def _alike(a: str, b: str) -> bool:
    return bool(a) and fuzz.ratio(a, b, score_cutoff=NEAR_DUPLICATE) > 0


MAX_SENTENCE_CHARS = 1_500
"""A longer "sentence" is a run-on page dump, not a sentence: set aside."""
MAX_ARTICLE_CHARS = 12_000
"""Kept text sent to the model per article (about 3,000 tokens); the rest is set aside."""


def _too_long(article: Article) -> list[Removal]:
    removals, total = [], 0
    kept = article.kept
    for sentence in kept:
        if len(sentence.text) > MAX_SENTENCE_CHARS:
            reason = f"a sentence over {MAX_SENTENCE_CHARS:,} characters"
            removals.append(_too_long_span(sentence.start, sentence.end, reason))
            continue
        total += len(sentence.text)
        if total > MAX_ARTICLE_CHARS:  # one span for the rest: a huge text is not 10^5 spans
            reason = f"beyond the {MAX_ARTICLE_CHARS:,} characters sent per article"
            removals.append(_too_long_span(sentence.start, kept[-1].end, reason))
            break
    return removals


def _too_long_span(start: int, end: int, reason: str) -> Removal:
    return Removal(kind=RemovedKind.TOO_LONG, start=start, end=end, reason=reason)


def originals(articles: Sequence[Article]) -> list[Article]:
    """The articles that are not a copy of another: the only ones the model reads."""
    return [a for a in articles if a.duplicate_of is None]


MOSTLY = 0.5
"""Share of an article's text above which setting it aside is worth a warning."""


def set_aside_warnings(articles: Sequence[Article]) -> list[str]:
    """One line for each article most of whose text was set aside, with what and why: a
    reader must know when an outlet's article barely reached the briefing."""
    return [w for w in map(_set_aside_warning, articles) if w is not None]


def _set_aside_warning(article: Article) -> str | None:
    total = sum(len(s.text) for s in article.sentences)
    share = 1 - sum(len(s.text) for s in article.kept) / total if total else 0.0
    if share <= MOSTLY:
        return None
    kinds = Counter(_short(r) for r in article.removed)
    what = ", ".join(f"{kind}: {n}" for kind, n in kinds.most_common())
    return f"{article.origin}: {share:.0%} of its text set aside ({what})"


def _short(removal: Removal) -> str:
    # "another story: only 20% of ..." reads "another story" in a list of reasons
    return removal.reason.split(":")[0] if removal.kind is RemovedKind.OFF_TOPIC else removal.kind


def suspected_injections(articles: Sequence[Article]) -> list[SetAside]:
    """Every span set aside as a suspected prompt injection, with its text."""
    return [
        SetAside(**r.model_dump(), origin=a.origin, text=a.text[r.start : r.end])
        for a in articles
        for r in a.removed
        if r.kind is RemovedKind.SUSPECTED_INJECTION
    ]


def clean(articles: Sequence[Article]) -> list[Article]:
    """The articles with removals and duplicates recorded; text and ids unchanged (a sentence
    opened by a dateline or label set aside starts after it)."""
    cleaner = Cleaner(len(articles))
    for article in articles:
        cleaner.add(article)
    return cleaner.finish()


# Page furniture that the line rules above do not know: photo credits and wire-photo
# captions, site navigation and widgets, lists, and sentences cut off by an excerpt. Each
# is written for the class (several phrasings), and is kept apart from the rules above.

CREDIT = re.compile(
    r"^\s*(?:\(\s*)?(?:photo(?:graph)?s?|pictures?|images?|credit|photo credit|image credit|"
    r"illustration|video)\s*(?:by|:)\s*[^.!?]{0,100}\)?\s*$"
    r"|\((?=[^()]*\)\s*$)(?:[^()]*\b(?:credit|photograph|AP Photo|Reuters|AFP|EPA|Getty|"
    r"Shutterstock)\b[^()]*)\)\s*$"
    r"|\b[\w.\- ]{2,40}/(?:AFP|AP|EPA|Getty Images|Reuters|Bloomberg|Shutterstock|"
    r"Anadolu|Xinhua|Sipa|Alamy|PA|Zuma)\b[^.!?]{0,60}$",
    re.IGNORECASE,
)
"""A line that is a photo credit, or ends with one ("Photograph: X/AFP/Getty Images"). A
bracket is read only if it closes the line: else each credit word in an unclosed one was a
new start, in time growing with the line's square (as in :data:`CAPTION`)."""
WIRE_CAPTION = re.compile(
    r"^\s*(?:ALTERNATE CROP|FILE(?: PHOTO)?\s*[-:\u2013\u2014]|"
    r"(?:In this|This) (?:undated |handout |file |photo |image |frame |still )*"
    r"(?:photo|image|picture|frame grab|video grab|screenshot|handout)\b|"
    r"(?:In an? |This )?(?:undated )?(?:handout )?(?:photo|image) (?:released|provided|taken|"
    r"made available|distributed) by\b)",
    re.IGNORECASE,
)
"""A wire-photo caption: "ALTERNATE CROP OF ...", "FILE - In this ... photo", "In this
image released by ...", "This undated photo provided by ..."."""
NAVIGATION = re.compile(
    r"^\s*(?:play\s+pause\b|skip to (?:main )?content\b|(?:home|news)\s*[>\u203a\u00bb|/]|"
    r"you may (?:also )?(?:be interested in|like)\b|more (?:from|on) (?:this|our)\b|"
    r"(?:story|article) continues? below\b|continue reading\b|newsletter sign[- ]up\b|"
    r"(?:related|recommended|more) (?:stories|coverage|articles|reading)\b|"
    r"all coverage of\b|further reading\b|watch:\s|listen:\s)"
    r"|\[[~\w\s.-]{2,12}\]\s*$"
    r"|\b\d{1,2}:\d{2}\s*(?:[AP]M|GMT|UTC|[ECMP][SD]?T|BST|CET)\s*$",
    re.IGNORECASE,
)
"""Navigation, players and widgets: "play pause ...", "You May Also Be Interested In These
Stories", "Story continues below", "Newsletter Sign Up ...", a link tagged "[TLD]", a
headline or byline closed by its time stamp ("... October 15, 2013 5:39 PM")."""
CONTRIBUTORS = re.compile(
    r"^\s*(?:[\w.'\-]+\s+){1,4}contributed (?:reporting )?to this (?:report|story|article)\b"
    r"|^\s*(?:additional )?(?:reporting|writing|editing) by\b"
    r"|^\s*(?:\(?(?:reporting|editing) by [^)]*\)?\s*)+$",
    re.IGNORECASE,
)
"""A credit line for the reporters and editors: "Jane Doe contributed to this report"."""
LIST_SEPARATORS = re.compile(r"\s[|\u2022\u00b7]\s")
"""Separators of items on one line ("A | B | C", "A \u2022 B \u2022 C")."""
MIN_LIST_ITEMS = 3
"""Items (separated on one line, or lines in a run) that make a list."""
MAX_ITEM_WORDS = 8
"""Words at most of a list item on a line of its own (a name, not a sentence)."""
_CUT_OFF = re.compile(
    r"(?<![\w'\u2019-])(?:[\d_'\u2019-]*[^\W\d_])+[\d_'\u2019-]*\s*(?:\.{3}|\u2026)\s*$"
)
"""An excerpt cut mid-sentence: a word in lower case, then "...". The word is read from its
start, letter by letter (each letter after any digits or marks): read from each of its letters
to its end, a long word with no "..." took time growing with its square."""


def _without_furniture(article: Article) -> Article:
    """The article with its page furniture set aside (beyond the line rules)."""
    every = list(_lines(article.text))
    removed = covered_by(article.removed)
    lines = [line for line in every if not removed(line[0])]
    found = [
        *(_furniture_line(start, end, line) for start, end, line in lines),
        *(r for r in _list_runs(every) if not removed(r.start)),
        *_cut_off(article, lines),
    ]
    return _with_removed(article, _distinct([r for r in found if r is not None]))


def _furniture_line(start: int, end: int, line: str) -> Removal | None:
    found = _furniture_kind(line)
    return Removal(kind=found[0], start=start, end=end, reason=found[1]) if found else None


def _furniture_kind(line: str) -> tuple[RemovedKind, str] | None:
    if CREDIT.search(line):
        return RemovedKind.CAPTION, "a photo credit"
    if WIRE_CAPTION.match(line):
        return RemovedKind.CAPTION, "a wire-photo caption"
    if NAVIGATION.search(line):
        return RemovedKind.BOILERPLATE, "site navigation or a widget"
    if CONTRIBUTORS.search(line):
        return RemovedKind.BOILERPLATE, "a credit for the reporters"
    if len(LIST_SEPARATORS.findall(line)) >= MIN_LIST_ITEMS - 1:
        return RemovedKind.BOILERPLATE, "a list of items, not a claim"
    if line.rstrip().endswith(":"):
        return RemovedKind.BOILERPLATE, "introduces a list or a quote, states nothing itself"
    return None


def _list_runs(lines: Sequence[tuple[int, int, str]]) -> Iterator[Removal]:
    """Runs of ``MIN_LIST_ITEMS`` or more lines that are items (a few words, no verb-like
    end): business or product names are not claims, and never the lede."""
    run: list[tuple[int, int, str]] = []
    for line in [*lines, (0, 0, "")]:
        if _item(line[2]):
            run.append(line)
            continue
        if len(run) >= MIN_LIST_ITEMS:
            for start, end, _ in run:
                yield Removal(
                    kind=RemovedKind.BOILERPLATE, start=start, end=end, reason="an item of a list"
                )
        run = []


def _item(line: str) -> bool:
    # "Joe's Diner, 12 Main St" or "- Acme Tools": a few words, mostly capitalised, with no
    # end of a sentence; a bullet mark or number may open it
    words = re.sub(r"^\s*(?:[-*\u2022\u00b7]|\d+[.)])\s+", "", line).split()
    if not words or len(words) > MAX_ITEM_WORDS or line.rstrip()[-1] in SENTENCE_END:
        return False
    capitalised = sum(w[0].isupper() or w[0].isdigit() for w in words)
    return capitalised * 2 > len(words)


def _cut_off(article: Article, lines: Sequence[tuple[int, int, str]]) -> Iterator[Removal]:
    """The last sentence of a line, when an excerpt cut it mid-clause ("... found the...")."""
    ends = {end for _, end, _ in lines}
    for sentence in article.sentences:
        if sentence.end in ends and _CUT_OFF.search(sentence.text) and _mid_clause(sentence.text):
            yield Removal(
                kind=RemovedKind.FRAGMENT,
                start=sentence.start,
                end=sentence.end,
                reason="cut off mid-sentence",
            )


def _mid_clause(text: str) -> bool:
    last = re.sub(r"(?:\.{3}|\u2026)\s*$", "", text).split()[-1]
    return last[0].islower()


def _distinct(removals: list[Removal]) -> list[Removal]:
    # one removal per span, the first rule's
    seen: set[int] = set()
    kept = []
    for removal in removals:
        if removal.start not in seen:
            seen.add(removal.start)
            kept.append(removal)
    return kept


def _without_openers(article: Article) -> Article:
    """The article with the dateline or label opening a kept sentence set aside, and the
    sentence starting after it: its id stays, and its text is still ``text[start:end]``."""
    removed = covered_by(article.removed)
    paragraphs = {start for start, _, _ in _lines(article.text)}
    sentences, cuts = [], []
    for sentence in article.sentences:
        found = None if removed(sentence.start) else _opener(sentence, paragraphs)
        if found is not None:
            sentence, cut = found
            cuts.append(cut)
        sentences.append(sentence)
    if not cuts:
        return article
    return _with_removed(article.model_copy(update={"sentences": sentences}), cuts)


def _opener(sentence: Sentence, paragraphs: set[int]) -> tuple[Sentence, Removal] | None:
    """The sentence less the dateline or label opening it, and that span; None if none."""
    found = opener(sentence.text, sentence.start in paragraphs)
    if found is None:
        return None
    length, reason = found
    start = sentence.start + length
    rest = sentence.model_copy(update={"start": start, "text": sentence.text[length:]})
    cut = Removal(kind=RemovedKind.BOILERPLATE, start=sentence.start, end=start, reason=reason)
    return rest, cut


def _first_pass(article: Article) -> Article:
    """The article with what its own lines show set aside (all but the off-topic rule)."""
    lined = article.model_copy(update={"removed": _line_removals(article)})
    return _without_openers(_without_furniture(lined))


class Cleaner:
    """The clean-up of a set of ``total`` articles given one at a time, each released as soon
    as no article still to come can change it, so that it can be read while the others are
    cleaned; the same articles as :func:`clean` gives, in the same order.

    Only the off-topic rule and the duplicates look at other articles. A paragraph is off-topic
    when too few of its words and names appear in the other articles, so more articles only
    make it less so: an article none of whose paragraphs the rule would set aside, judged
    against the articles given so far, keeps them all whatever comes. Duplicates are marked in
    order: an article is released once every article before it is.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.judged = total >= OFF_TOPIC_MIN_ARTICLES
        self.bar = off_topic_share(total - 1) if self.judged else 0.0
        self.given: list[Article] = []
        """Each article given, its own lines cleaned."""
        self.said: list[_Said] = []
        self.words: Counter[str] = Counter()
        """In how many articles given each word appears."""
        self.names: Counter[str] = Counter()
        self.cleaned: list[Article] = []
        """The articles released, in order."""
        self.twins = _Twins()
        self.judge_at = 0
        """Articles to be given before the next article not released is judged again: twice
        as many as when it last was not settled (judged after every one, an article held to
        the end would be judged once per article of the set)."""

    def add(self, article: Article) -> None:
        """Clean what ``article``'s own lines show; the rest waits for :meth:`ready`."""
        first = _first_pass(article)
        self.given.append(first)
        if self.judged:
            said = _Said.of(first)
            self.said.append(said)
            self.words.update(said.words)
            self.names.update(said.names)

    def ready(self) -> list[Article]:
        """The next articles, in order, that no article still to come can change."""
        released = []
        while max(self.judge_at, len(self.cleaned) + 1) <= len(self.given):
            if not self._settled(len(self.cleaned)):
                self.judge_at = 2 * len(self.given)
                break
            released.append(self._release([]))
        return released

    def finish(self) -> list[Article]:
        """The articles not released yet, once all ``total`` are given."""
        if len(self.given) != self.total:
            raise ValueError(f"{len(self.given)} of {self.total} articles given")
        released = []
        while len(self.cleaned) < self.total:
            index = len(self.cleaned)
            found = (
                _off_topic(self.given[index], self._story(index), self.bar) if self.judged else []
            )
            released.append(self._release(found))
        return released

    def _story(self, index: int) -> _Story:
        return _Story.of(self.words, self.names, self.said[index], self.given[index])

    def _settled(self, index: int) -> bool:
        """Whether the off-topic rule leaves the article alone whatever articles come: it
        sets aside neither the whole nor its last paragraph (a closing run of paragraphs
        begins there), judged against the articles given so far."""
        if not self.judged:
            return True
        article, story = self.given[index], self._story(index)
        if _whole_other_story(article, story, self.bar) is not None:
            return False
        last = _paragraphs(article)[-1:]
        return not last or _other_story(last[0][2], story.excluding(last[0][2]), self.bar) is None

    def _release(self, off_topic: list[Removal]) -> Article:
        article = _with_removed(self.given[len(self.cleaned)], off_topic)
        article = self.twins.mark(_with_removed(article, _too_long(article)))
        self.cleaned.append(article)
        return article
