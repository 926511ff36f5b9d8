"""Datelines and newsletter labels glued to the start of a sentence.

"WASHINGTON (AP) — The Senate voted ..." and "Why it matters: The Pentagon said ..." are
real sentences behind page furniture. Setting the whole sentence aside would lose the
claim; keeping it whole puts "WASHINGTON (AP) —" in the briefing. :func:`opener` tells how
many characters of a sentence's start are such furniture, so the clean-up can set them
aside and keep the rest (its text and its place in the article).

Two classes, each written for the class, in any dash and in the shapes wires use:

* a *dateline*: a place ("WASHINGTON", "NEW YORK", or in title case with a region or a date
  after it: "Kyiv, Ukraine"), then optionally a state or country, a date and a wire tag in
  brackets ("(AP)", "(Reuters)", "(CBSNewYork)"), then a dash of any kind (hyphen, en or em
  dash, minus, "--"), with or without spaces; a wire tag alone opens a sentence too ("(CNN)
  —", "(CNN)Two ..."). Datelines open a paragraph: only a paragraph's first sentence is read
  for one. A single word in capitals of under five letters alone before a dash is taken for
  an acronym, not a place ("KYIV —" is kept whole; "KYIV, Ukraine —" is cut).
* a *label*: a short phrase and a colon ("Why it matters:", "The big picture:", "Summary:"),
  either one of the labels newsletters use (:data:`LABELS`, in several languages) or a
  phrase of two to four words in sentence case that says nothing itself.

What is never cut, because it is content: an abbreviation before a dash ("U.S. - China
talks"), a short all-capitals word alone before a dash (an acronym: "NATO - Russia"), a
name in title case before a dash without a region ("Trump — ..."), capitals that run into
the sentence without a dash ("NEW YORK Times reporter said"), a speaker and a colon ("Biden:
The ...", "He told reporters: The ..."), anything followed by a quotation or a lower-case
word ('Clinton: "We came"', "Certainly a shared interest: to break ..."), and a sentence that
is only a dateline or a label (the rest must be a sentence of its own).
"""

import re

DASH = re.compile(r"\s*(?:--|[\-\u2010-\u2015\u2212])\s*")
"""A dash of any kind, with the spaces around it: hyphen, the Unicode dashes, minus, "--"."""
HEAD_CHARS = 80
"""A dateline is shorter than this ("SAN JUAN, Puerto Rico, Dec. 1 (Reuters) —")."""
TAG = re.compile(r"\(\s*([^\W\d_][\w.&'\u2019/ -]{0,30}?)\s*\)$")
"""A wire or station tag closing the head: "(AP)", "(Reuters)", "(CBSNewYork)"."""
TAG_ALONE = re.compile(r"\(([^\W\d_][\w.&'\u2019/-]{1,15})\)\s*(?=[^\W\d_])")
"""A one-word wire tag opening a sentence without a dash: "(CNN)Two people ..."."""
MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
    r"|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
)
DATE = re.compile(
    rf"(?:(?:{MONTH})\s+\d{{1,2}}(?:,?\s+\d{{4}})?|\d{{1,2}}\.?\s+(?:{MONTH})(?:\s+\d{{4}})?)$",
    re.IGNORECASE,
)
"""A date in a dateline: "Dec 1", "Dec. 1, 2020", "1 December", "1 décembre"."""
NAME_WORD = re.compile(r"[^\W\d_][^\W\d_.'\u2019]*(?:[.'\u2019][^\W\d_]*)*\.?")
"""A word of a place's name: letters, with dots or apostrophes inside ("ST.", "N.C.", "O'HARE")."""
YEAR_KEPT = re.compile(r",(?!\s*\d{4}\b)")
"""The commas between a dateline's parts ("Dec. 1, 2020" stays one part)."""
MAX_PLACE_WORDS = 4
MIN_BARE_CAPITALS = 5
"""Letters a single all-capitals word needs, alone before a dash, to be a place: shorter
ones are acronyms ("NATO", "FBI") as often as cities."""
CONNECTORS = frozenset(
    ["de", "del", "la", "le", "les", "di", "da", "do", "dos", "das", "am", "an", "der", "upon",
     "on", "of", "el", "al", "y"]
)  # fmt: skip
"""Lower-case words inside a place's name ("Rio de Janeiro", "Frankfurt am Main")."""
MAX_OPENERS = 3
"""Openers read one after the other ("Summary: WASHINGTON (AP) — ...")."""
MIN_REST_WORDS = 5
"""Words the rest of a sentence keeps at least (else the opener is the sentence)."""
QUOTES = "\"'\u201c\u2018\u00ab\u201e"
"""Quotation marks a sentence may open with, after a dateline."""

LABELS = frozenset(
    [
        # English newsletter and explainer labels (Axios and its imitators, wires' kickers)
        "why it matters", "the big picture", "big picture", "go deeper", "driving the news",
        "between the lines", "the bottom line", "bottom line", "what they're saying",
        "what they are saying", "by the numbers", "the backstory", "backstory", "state of play",
        "catch up quick", "reality check", "the other side", "our thought bubble",
        "thought bubble", "be smart", "worth noting", "of note", "key quote", "the latest",
        "what's next", "what's new", "what to watch", "what we're watching", "zoom in",
        "zoom out", "flashback", "context", "background", "details", "the details",
        "yes, but", "the intrigue", "the catch", "the bottom line", "what happened",
        "what's happening", "the key takeaway", "key takeaways", "takeaways", "summary",
        "in summary", "tl;dr", "tldr", "highlights", "editor's note", "editors' note", "update",
        "updated", "breaking", "breaking news", "exclusive", "analysis", "opinion",
        "fact check", "explainer", "watch", "listen", "read more", "related", "see also",
        # other languages
        "résumé", "en bref", "à retenir", "l'essentiel", "zusammenfassung", "das wichtigste",
        "hintergrund", "resumen", "en resumen", "lo esencial", "contexto", "riassunto",
        "in breve", "sintesi", "resumo", "samenvatting", "sammanfattning",
    ]
)  # fmt: skip
"""Labels newsletters put before a paragraph, compared case-insensitively."""
LABEL = re.compile(r"([^\W\d_][^:.!?\"\u201c\u201d()\n]{0,40}?)\s*:\s+")
"""A phrase and a colon opening a sentence (French sets a space before the colon)."""
MAX_LABEL_WORDS = 4
SPEECH = re.compile(
    r"\b(?:say|says|said|saying|tell|tells|told|add|adds|added|write|writes|wrote|ask|asks|"
    r"asked|explain|explained|note|noted|state|stated|announce|announced|declare|declared|"
    r"warn|warned|reply|replied|tweet|tweeted|post|posted|argue|argued|insist|insisted|"
    r"continue|continued|conclude|concluded|recall|recalled|according)\b",
    re.IGNORECASE,
)
"""Words of a speaker's introduction ("He told reporters:"): what follows is theirs."""


def opener(text: str, paragraph_start: bool) -> tuple[int, str] | None:
    """How many characters of ``text`` (a sentence) are datelines or labels, with what they
    are ("a newsletter label and a dateline"); None when it opens with neither.
    ``paragraph_start``: whether the sentence opens its paragraph (only then can it carry a
    dateline)."""
    cut, found = 0, []
    for _ in range(MAX_OPENERS):
        length, what = _one(text[cut:], paragraph_start)
        if not length:
            break
        cut += length
        found.append(what)
    return (cut, " and ".join(found)) if cut else None


def _one(text: str, paragraph_start: bool) -> tuple[int, str]:
    if paragraph_start and (cut := dateline(text)):
        return cut, "a dateline"
    return label(text), "a newsletter label"


def dateline(text: str) -> int:
    """The length of the dateline opening ``text``, with the dash and spaces after it; 0
    when there is none."""
    alone = TAG_ALONE.match(text)
    if alone and _rest_is_sentence(text[alone.end() :], glued=False):
        return alone.end()
    for dash in DASH.finditer(text, 0, HEAD_CHARS):
        head, rest = text[: dash.start()], text[dash.end() :]
        glued = dash.group() == dash.group().strip()
        if _is_dateline(head) and _rest_is_sentence(rest, glued):
            return dash.end()
    return 0


def _is_dateline(head: str) -> bool:
    tag = TAG.search(head)
    place = head[: tag.start()].strip() if tag else head.strip()
    if not place:
        return tag is not None
    name, *more = [part.strip() for part in YEAR_KEPT.split(place)]
    if len(more) > 3 or not all(_region(p) or DATE.match(p) for p in more):
        return False
    if _capitals(name):
        return bool(tag or more) or _bare_place(name)
    return _title_case(name) and bool(tag or more)


def _words(phrase: str) -> list[str]:
    """The words of a name, split at hyphens too; none when one is not a word ("Summary:")."""
    words = re.sub(r"(?<=\w)-(?=\w)", " ", phrase).split()
    return words if all(NAME_WORD.fullmatch(w) for w in words) else []


def _capitals(name: str) -> bool:
    """A place in capitals ("WASHINGTON", "ST. LOUIS"), not only an abbreviation ("U.S.")."""
    words = _words(name)
    return (
        0 < len(words) <= MAX_PLACE_WORDS
        and all(w.isupper() for w in words)
        and any(len(re.sub(r"\W", "", w)) >= 3 and "." not in w.rstrip(".") for w in words)
    )


def _bare_place(name: str) -> bool:
    """Capitals alone before a dash: several words, or one word too long for an acronym."""
    words = _words(name)
    return len(words) > 1 or len(re.sub(r"\W", "", words[0])) >= MIN_BARE_CAPITALS


def _title_case(name: str) -> bool:
    words = _words(name)
    return (
        0 < len(words) <= MAX_PLACE_WORDS
        and words[0][0].isupper()
        and all(w[0].isupper() or w in CONNECTORS for w in words)
    )


def _region(part: str) -> bool:
    """A state, province or country after the place: "Ukraine", "N.C.", "Puerto Rico"."""
    words = _words(part)
    return 0 < len(words) <= 3 and all(w[0].isupper() for w in words)


def _rest_is_sentence(rest: str, glued: bool) -> bool:
    """Whether what follows a dateline is a sentence of its own (it may open with a quote).
    After a dash with no space ("WINSTON-SALEM"), a word in capitals continues the name."""
    words = rest.split()
    if len(words) < MIN_REST_WORDS:
        return False
    if glued and len(words[0]) > 1 and words[0].isupper():
        return False
    return _opens_sentence(rest) or rest[0] in QUOTES


def _opens_sentence(rest: str) -> bool:
    return rest[0].isupper() or rest[0].isdigit()


def label(text: str) -> int:
    """The length of the label opening ``text``, with the colon and spaces after it; 0 when
    there is none."""
    found = LABEL.match(text)
    if found is None:
        return 0
    phrase, rest = found.group(1), text[found.end() :]
    if len(rest.split()) < MIN_REST_WORDS or not _opens_sentence(rest):
        return 0  # a quotation, a lower-case clause or a word: the phrase belongs to it
    return found.end() if _is_label(phrase) else 0


def _is_label(phrase: str) -> bool:
    """A known label, or two to four words in sentence case that introduce no speaker."""
    if " ".join(phrase.casefold().replace("\u2019", "'").split()) in LABELS:
        return True
    words = phrase.split()
    return (
        1 < len(words) <= MAX_LABEL_WORDS
        and words[0][0].isupper()
        and all(w.islower() for w in words[1:])
        and not SPEECH.search(phrase)
    )
