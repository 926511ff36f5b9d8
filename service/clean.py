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

Last, sentences over 1,500 characters, and whatever exceeds 12,000 characters of kept text
per article (one span, from the first sentence past the limit to the end), are set aside as
too long (the model's context is small).

Near-duplicates (the same wire story on two sites: kept text at least 90% alike by
rapidfuzz's ratio) are marked ``duplicate_of`` the earlier one; they count as one source,
and only the original is sent to the model: a copy is given the original's claims,
anchored in its own sentences (:func:`originals`, :func:`claims_of_copies`).
"""

import math
import re
from collections.abc import Iterator, Sequence

from rapidfuzz import fuzz

from schemas import Article, Removal, RemovedKind, SetAside
from service.guard import hostile_lines
from service.ingest import CJK
from service.verify import normal, stems

COMMENTS_START = re.compile(
    r"^\s*(\d+\s+comments?|comments?\s*\(\d+\)|leave a (reply|comment)|reader comments|"
    r"join the (conversation|discussion))\s*$",
    re.IGNORECASE,
)
BOILERPLATE = re.compile(
    r"^\s*(-?\s*advertisement\b.*|source( link)?|share( this( article| story)?)?( on \w+)?|"
    r"(sign up|subscribe)\b.{0,80}|read more\b.{0,80}|related( articles| stories)?:?|"
    r"(highlights|latest news|trending( now)?|most read|popular)|"
    r".*\bcookies?\b.*\b(accept|consent|policy|settings)\b.*|"
    r"your email address will not be published.*|all rights reserved.*)\s*$",
    re.IGNORECASE,
)
CAPTION = re.compile(
    r"(\b(photo|image|picture)s?\s*(by|:|credit:?)\s*[^.!?]{0,80}$)|"
    r"(\([^()]*\b(photo|getty|pool|file|images?)\b[^()]*\)\s*$)",
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


def _off_topic(article: Article, others: set[str], bar: float) -> list[Removal]:
    removals = []
    for start, end, line in _lines(article.text):
        words = stems(line)
        if len(line.split()) < OFF_TOPIC_MIN_WORDS or not words:
            continue
        share = len(words & others) / len(words)
        if share < bar:
            reason = f"only {share:.0%} of its words appear in the other articles"
            removals.append(
                Removal(kind=RemovedKind.OFF_TOPIC, start=start, end=end, reason=reason)
            )
    return removals


def _vocabulary(article: Article) -> set[str]:
    return set().union(*(stems(s.text) for s in article.kept)) if article.kept else set()


NEAR_DUPLICATE = 90.0
"""rapidfuzz ratio (0-100) of kept text above which two articles are one story copied."""


def _kept_text(article: Article) -> str:
    return normal(" ".join(s.text for s in article.kept))


def mark_duplicates(articles: Sequence[Article]) -> list[Article]:
    """Mark each article that nearly repeats an earlier one as its duplicate."""
    marked: list[Article] = []
    texts: list[str] = []
    for article in articles:
        text = _kept_text(article)
        twin = next((m for m, t in zip(marked, texts, strict=True) if _alike(text, t)), None)
        if twin is not None:
            article = article.model_copy(update={"duplicate_of": twin.duplicate_of or twin.id})
        marked.append(article)
        texts.append(text)
    return marked


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


def suspected_injections(articles: Sequence[Article]) -> list[SetAside]:
    """Every span set aside as a suspected prompt injection, with its text."""
    return [
        SetAside(**r.model_dump(), origin=a.origin, text=a.text[r.start : r.end])
        for a in articles
        for r in a.removed
        if r.kind is RemovedKind.SUSPECTED_INJECTION
    ]


def clean(articles: Sequence[Article]) -> list[Article]:
    """The articles with removals and duplicates recorded; text, sentences and ids unchanged."""
    return mark_duplicates([_with_removed(a, _too_long(a)) for a in _set_aside(articles)])


def _set_aside(articles: Sequence[Article]) -> list[Article]:
    first = [a.model_copy(update={"removed": _line_removals(a)}) for a in articles]
    if len(first) < OFF_TOPIC_MIN_ARTICLES:
        return first
    vocab = [_vocabulary(a) for a in first]
    cleaned = []
    for i, article in enumerate(first):
        others = set().union(*(v for j, v in enumerate(vocab) if j != i))
        marked = {(r.start, r.end) for r in article.removed}
        found = _off_topic(article, others, off_topic_share(len(first) - 1))
        extra = [r for r in found if (r.start, r.end) not in marked]
        cleaned.append(_with_removed(article, extra))
    return cleaned
