"""Hostile text: lines written to steer the model, markup, and text too long to send.

Article text is untrusted. The primary defences are structural and hold whatever a line
says: text reaches the model only as delimited data (see :func:`as_data`), the reply schema
comes from code (sentence and claim ids limited to those shown), and every claim and sentence
is grounded in its source sentences by code. Screening is the second line: a line that
*looks* like an instruction to the model, a fake role or chat-template marker, a fake reply,
a fake sentence id, or our own prompt delimiters is set aside before the model reads the
article, and recorded (kind ``suspected-injection``) so a user sees the attempt. Script,
frame and comment markup is set aside too (kind ``markup``).

Matching runs on a folded form of the text (:func:`folded`): NFKC, invisible format
characters (zero-width, soft hyphen, bidi controls) removed, case folded, look-alike letters
from other scripts mapped to the Latin letter they imitate (Unicode's confusables table, via
``confusable_homoglyphs``) and accents dropped. The phrases are those of English, French,
German, Spanish, Italian and Portuguese. A run of base64 that decodes to text is screened
as that text, and :func:`hostile_lines` screens each pair of adjacent lines together, so an
instruction split across two lines is found.
"""

import base64
import binascii
import re
import unicodedata
from collections.abc import Sequence
from functools import cache

Finding = tuple[str, str]
"""(kind, reason) of a line set aside."""

_VERB = (
    r"ignore[rsz]?|disregard|forget|override|bypass|oublie[rsz]?|ignorier(?:e|en|t)?|vergiss"
    r"|vergessen|missachte[nt]?|ignora(?:r|re|te)?|ignoren?|olvid[ae]n?|olvidar|omit[ae]"
    r"|dimentica(?:re|te)?|trascura|esque[cç]a|esquece[r]?|desconsidere"
    r"|ne (?:tiens|tenez) (?:pas|plus) compte|haz caso omiso|non tenere conto"
)
_QUALIFIER = (
    r"previous|prior|above|earlier|all|your|the|precedente?s?|anterieure?s?|ci-dessus|toutes"
    r"|tes|vos|vorherigen|vorigen|bisherigen|obigen|fruheren|vorangegangenen|alle|deine|ihre"
    r"|anteriores|previas|todas|tus|sus|precedenti|tutte|tue|sue|sopra|acima|suas|tuas"
)
_AFTER = (
    r"above|earlier|precedente?s?|anterieure?s?|ci-dessus|anteriores|previas|precedenti"
    r"|di sopra|acima"
)
"""Qualifiers that follow the noun, as in French, Spanish, Italian and Portuguese."""
_ORDERS = (
    r"instructions?|prompts?|rules|directions|guidelines|consignes|anweisungen|instruktionen"
    r"|befehle|regeln|vorgaben|richtlinien|instrucciones|indicaciones|reglas|directrices"
    r"|istruzioni|indicazioni|regole|direttive|instrucoes|indicacoes|regras|diretrizes"
)
_NEW_ORDERS = (
    r"(new|updated|real)\s+instructions?|nouvelles\s+(instructions|consignes)"
    r"|neue\s+anweisungen|nuevas\s+instrucciones|nuove\s+istruzioni|novas\s+instrucoes"
)
_NOW_YOU = (
    r"you are now|tu es (maintenant|desormais)|vous etes (maintenant|desormais)"
    r"|du bist (jetzt|nun|ab sofort)|ahora eres|eres ahora|(ora|adesso) sei|agora (voce e|es)"
)
_SYSTEM_PROMPT = (
    r"(system|developer)\s+(prompt|message)|(prompt|invite|message)\s+(du\s+)?systeme"
    r"|system-?(prompt|nachricht)|prompt\s+(del|di|do)\s+sistema"
)
_LANGUAGE_MODEL = (
    r"as an ai( language model)?|en tant que? (ia|modele de langage)"
    r"|als (ki-)?sprachmodell|como (un |um )?modelo de (lenguaje|linguagem)"
    r"|come (un )?modello (di )?linguaggio"
)
INJECTION = re.compile(
    rf"\b({_VERB})\b.{{0,60}}\b({_QUALIFIER})\b.{{0,30}}\b({_ORDERS})\b"
    rf"|\b({_VERB})\b.{{0,40}}\b({_ORDERS})\b.{{0,20}}\b({_AFTER})\b"
    rf"|\b({_NEW_ORDERS})\s*:"
    r"|^\W*(system|assistant|user|developer|systeme|sistema|assistent|assistente|asistente)"
    r"\s*(prompt|message)?\s*:"
    r"|<\|?\s*(im_start|im_end|endoftext|system|assistant)\s*\|?>"
    r"|\[/?(inst|sys)\]|<</?sys>>"
    rf"|\b({_SYSTEM_PROMPT})\b"
    rf"|\b({_LANGUAGE_MODEL})\b"
    rf"|\b({_NOW_YOU})\b|\byou are (an? |the )?(ai|assistant|language model|chatbot)\b"
    r"|</?\s*(article|claims)\s*>"
    r'|^\s*[\[{].*"(claims|summary|evidence|lede|sections|title)"\s*:'
    r"|^\s*\[\d+\]\s",
    re.IGNORECASE,
)
MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|svg|form)\b|javascript:|\bon(error|load|click)\s*="
    r"|<!--|-->|^\s*\[[^\]]*\]:\s*#",
    re.IGNORECASE,
)
"""Script and frame markup, event handlers, and comments (HTML's, and Markdown's
``[//]: # (...)``), whose words a reader never sees but a model does."""
BASE64_RUN = re.compile(r"[A-Za-z0-9+/\-_]{24,}={0,2}")
"""A run long enough to hide a sentence in base64 (18 bytes or more)."""
MIN_PRINTABLE = 0.95
"""Share of printable characters a decoded run needs to count as text."""


@cache
def _homoglyphs() -> dict[str, str]:
    """Each non-ASCII letter or sign that imitates an ASCII one, with that ASCII character.

    From Unicode's confusables table (TR39), loaded on first use; a glyph whose look-alikes
    are not ASCII is followed one step further (Greek tau -> small capital T -> t).
    """
    from confusable_homoglyphs.confusables import confusables_data

    def ascii_of(glyphs: list[dict[str, str]]) -> str | None:
        return next((g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii()), None)

    table: dict[str, str] = {}
    for char, glyphs in confusables_data.items():
        if char.isascii() or len(char) != 1:
            continue
        found = ascii_of(glyphs) or next(
            (a for g in glyphs if (a := ascii_of(confusables_data.get(g["c"], [])))), None
        )
        if found and found.isprintable() and not found.isspace():
            # the table maps capital I's look-alikes to "l" (I and l look alike): in a word
            # written in capitals, they stand for I
            table[char] = "i" if found.lower() == "l" and char.isupper() else found.lower()
    return table


def folded(text: str) -> str:
    """The form screening matches: NFKC, no invisible format characters, look-alike letters
    mapped to Latin ones, case folded, accents dropped."""
    if text.isascii():  # every step but case folding leaves ASCII as it is: most news lines
        return text.casefold()
    plain = unicodedata.normalize("NFKC", text)
    plain = "".join(c for c in plain if unicodedata.category(c) != "Cf")
    # the table (loaded on first use) only matters for letters outside ASCII; look-alikes
    # before case folding too: a capital's look-alike is often closer than its small
    # letter's (Greek capital epsilon looks like E; small epsilon like no Latin letter)
    table = _homoglyphs() if any(c.isalpha() and not c.isascii() for c in plain) else {}
    plain = "".join(table.get(c, c) for c in plain).casefold()
    plain = "".join(table.get(c, c) for c in plain)
    marks = unicodedata.normalize("NFKD", plain)
    return unicodedata.normalize("NFC", "".join(c for c in marks if not unicodedata.combining(c)))


def _decoded_runs(text: str) -> list[str]:
    """The text hidden in each plausible base64 run of ``text``."""
    found = []
    for run in BASE64_RUN.findall(text):
        data = run.replace("-", "+").replace("_", "/").rstrip("=")
        try:
            raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        shown = sum(c.isprintable() or c.isspace() for c in decoded)
        if decoded and shown / len(decoded) >= MIN_PRINTABLE and " " in decoded:
            found.append(decoded)
    return found


def _match(text: str) -> Finding | None:
    plain = folded(text)
    if MARKUP.search(plain):
        return "markup", "script, frame or comment markup"
    if INJECTION.search(plain):
        return "suspected-injection", "reads as instructions or a reply meant for the model"
    return None


def hostile(line: str) -> Finding | None:
    """(kind, reason) when a line should not reach the model, else None."""
    found = _match(line)
    if found is not None:
        return found
    if any(_match(hidden) for hidden in _decoded_runs(line)):
        return "suspected-injection", "base64 that decodes to instructions meant for the model"
    return None


def hostile_lines(lines: Sequence[str]) -> list[Finding | None]:
    """:func:`hostile` for each line, and for each pair of adjacent lines read as one: both
    lines of a pair that reads as an instruction only together are set aside."""
    found = [hostile(line) for line in lines]
    for i in range(len(lines) - 1):
        if found[i] is None and found[i + 1] is None and hostile(f"{lines[i]} {lines[i + 1]}"):
            reason = "reads as instructions meant for the model, split across lines"
            found[i] = found[i + 1] = ("suspected-injection", reason)
    return found


def as_data(text: str) -> str:
    """Text safe to place between prompt delimiters: angle brackets become look-alikes."""
    return text.replace("<", "\u2039").replace(">", "\u203a")
