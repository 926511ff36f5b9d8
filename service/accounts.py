"""Stage 3, merge (accounts): how a message was conveyed, when the outlets tell it differently.

A qualitative disagreement the figures cannot see: one outlet has Putin praising the troops
"in a letter to Kim", another "in a phone call to Kim". Read from the kept source sentences,
in code, so both sides are source text:

1. **Conveyed.** A *channel* (letter, phone call, email, meeting, statement, ...) with who
   conveyed it and to whom, from the shapes news writes it in: "X praised ... in a letter to
   Y" (X heads the clause), "Y received a letter from X", "X's letter to Y", "a phone call
   with Y". A word that names no channel ("a message", "a note") conflicts with none.
2. **The same exchange.** Two outlets' accounts are of one exchange only when they name the
   same speaker and addressee (a name in common each: "Vladimir Putin" = "Putin"), share a
   content word besides names and channel words (what was conveyed: "troops", "heroic"),
   and give no different month, weekday or year for it.
3. **Differently told.** Different channels for one exchange are a disagreement, unless one
   outlet tells of both (then both happened: a letter, and later a call).

No model call; what the shapes miss is not shown (a missing "sources differ" misleads less
than a false one).
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from schemas import Article
from service.verify import STOPWORDS, normal, stems

CHANNELS: dict[str, tuple[str, ...]] = {
    "letter": ("letter", "telegram", "handwritten note"),
    "phone call": (
        "phone call", "telephone call", "call", "phone conversation", "telephone conversation",
        "phone", "telephone", "video call",
    ),
    "email": ("email", "e-mail"),
    "meeting": ("meeting", "talks", "face-to-face meeting"),
    "public statement": (
        "statement", "speech", "interview", "press conference", "televised address",
        "video address", "post", "tweet", "social media post",
    ),
}  # fmt: skip
"""Ways of conveying a message, by kind; each kind conflicts with the others."""
_CHANNEL = "|".join(
    sorted((re.escape(p) for ps in CHANNELS.values() for p in ps), key=len, reverse=True)
)
_NAME = r"(?:[A-Z][\w'\u2019.-]*\s+){0,5}[A-Z][\w-]*"


def _run(group: str) -> str:
    return rf"(?P<{group}>{_NAME})"


_SAID = rf"(?P<said>(?:[a-z]+\s+)?(?P<channel>{_CHANNEL}))"
"""The channel with one word before it ("a phone call", "a congratulatory letter")."""
_SHAPES = (
    # "... in a letter to Kim" / "in a phone call with Kim": the clause's subject conveyed it
    re.compile(rf"\b(?:in|by|via|during|through)\s+(?:an?|his|her|their)\s+{_SAID}"
               rf"\s+(?:to|with)\s+{_run('to')}"),
    # "Kim received a letter from Putin"
    re.compile(rf"{_run('to')}\s+(?:has\s+|had\s+)?(?:received|got)\s+an?\s+{_SAID}"
               rf"\s+from\s+{_run('by')}"),
    # "Putin's letter to Kim"
    re.compile(rf"{_run('by')}['\u2019]s\s+{_SAID}\s+to\s+{_run('to')}"),
)  # fmt: skip
_SUBJECT = re.compile(rf"\W*(?:(?:The|A|An)\s+)?(?P<by>{_NAME})(?:['\u2019]s)?(?=[\s,])")
_OPENER = re.compile(r",\s*[A-Z]")
_TITLES_TEXT = (
    "president prime minister leader chancellor king queen prince secretary chairman "
    "chairwoman governor senator general gen pope mr mrs ms dr foreign defence defense "
    "supreme premier spokesman spokeswoman state head chief"
)
_TITLES = frozenset(_TITLES_TEXT.split())
_DATES = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|(?:19|20)\d\d)"
)
_TIME = re.compile(rf"\b{_DATES}\b")
_SAID_AT = re.compile(
    rf"\b(?:said|says|reported|reports|announced|told)\b[^,.;]{{0,20}}?\b{_DATES}\b"
)
_COMMON = frozenset({"last", "week", "month", "year", "also", "after", "meanw"})
"""Stems of words that tell when or how, not what was conveyed."""
_CHANNEL_WORDS = frozenset(w[:5] for ps in CHANNELS.values() for p in ps for w in p.split())


@dataclass(frozen=True)
class Conveyed:
    """One outlet's account of how someone conveyed something to someone."""

    article_id: str
    sentence_id: int
    position: int
    wording: str
    """The channel in the sentence's words: "a letter", "a phone call"."""
    kind: str
    """Its kind (a key of :data:`CHANNELS`)."""
    by: str
    """Who conveyed it, as the sentence names them ("Russian President Vladimir Putin")."""
    to: str
    """To whom."""
    words: frozenset[str]
    """The sentence's content stems, names and channel words aside: what was conveyed."""
    times: frozenset[str]
    """The months, weekdays and years it is dated by (not when it was reported)."""


def conveyed(article: Article) -> Iterator[Conveyed]:
    """Every account in the article's kept sentences of a message conveyed by a channel."""
    for sentence in article.kept:
        for shape in _SHAPES:
            for match in shape.finditer(sentence.text):
                found = _account(article.id, sentence.id, sentence.text, match)
                if found is not None:
                    yield found


def _account(article_id: str, sentence_id: int, text: str, match: re.Match[str]) -> Conveyed | None:
    parts = match.groupdict()
    by = parts.get("by") or _subject(text[: match.start()])
    kind = _kind(match.group("channel"))
    if not by or kind is None or not _person(by) or not _person(parts["to"]):
        return None
    said = " ".join(re.findall(r"(?<![\w'\u2019])[a-z][\w'-]*", text))  # names aside
    words = stems(said) - _CHANNEL_WORDS - _COMMON
    return Conveyed(
        article_id,
        sentence_id,
        match.start("said"),
        _wording(text, match),
        kind,
        by,
        parts["to"],
        frozenset(words),
        frozenset(t.lower() for t in _TIME.findall(_SAID_AT.sub("", text))),
    )


def _subject(head: str) -> str | None:
    # the name heading the clause ("Russian President Vladimir Putin hailed ..."), when the
    # channel's clause has one: after a clause break the subject is not known
    if re.search(r"[;:]|,\s*(?:and|but|while|whereas|as)\b", head):
        return None
    found = _SUBJECT.match(head)
    while found and _OPENER.match(head, found.end()):
        # "Later, Putin ...", "In March, Putin ...": an opening phrase, then the subject
        found = _SUBJECT.match(head, found.end() + 1)
    return found.group("by") if found else None


def _kind(channel: str) -> str | None:
    low = channel.lower()
    return next((k for k, ps in CHANNELS.items() if low in ps), None)


def _wording(text: str, match: re.Match[str]) -> str:
    # "a letter", "a phone call": the article before the channel kept as written
    before = text[: match.start("said")].split()
    article = before[-1].lower() if before and before[-1].lower() in ("a", "an") else "a"
    return f"{article} {match.group('said').lower()}"


def person(name: str) -> frozenset[str]:
    """The words that name who someone is, titles and the nationality before them aside:
    "Russian President Vladimir Putin" is {"vladimir", "putin"}."""
    words = normal(name.replace("\u2019", "'").split("'")[0]).split()
    titled = [i for i, w in enumerate(words) if w in _TITLES]
    return frozenset(words[titled[-1] + 1 :] if titled else words) - STOPWORDS


def _person(name: str) -> bool:
    return bool(person(name))


def same_exchange(a: Conveyed, b: Conveyed) -> bool:
    """Whether two accounts tell of one exchange: the same people, something conveyed in
    common, and no other date."""
    return (
        bool(person(a.by) & person(b.by))
        and bool(person(a.to) & person(b.to))
        and bool(a.words & b.words)
        and not (a.times and b.times and not a.times & b.times)
    )


def conflicts(found: Sequence[Conveyed], outlet: Mapping[str, str]) -> list[list[Conveyed]]:
    """Accounts of one exchange that two or more outlets give different channels for, each
    list with the accounts of every channel given; none where one outlet tells of two."""
    groups: list[list[Conveyed]] = []
    for account in found:
        home = next((g for g in groups if all(same_exchange(account, m) for m in g)), None)
        if home is None:
            groups.append([account])
        else:
            home.append(account)
    return [g for g in groups if _differ(g, outlet)]


def _differ(group: list[Conveyed], outlet: Mapping[str, str]) -> bool:
    kinds: dict[str, set[str]] = {}
    for account in group:
        kinds.setdefault(outlet[account.article_id], set()).add(account.kind)
    told = {k for ks in kinds.values() for k in ks}
    return len(kinds) > 1 and len(told) > 1 and all(len(ks) == 1 for ks in kinds.values())
