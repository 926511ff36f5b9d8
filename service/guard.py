"""Hostile text: lines written to steer the model, markup, and text too long to send.

Article text is untrusted. It only ever reaches the model as delimited data (see
:func:`as_data`), and the reply schema comes from code, so no article can change either;
but a line that *looks* like an instruction to the model, a fake role or chat-template
marker, a fake reply, a fake sentence id, or our own prompt delimiters is set aside before
the model reads the article, and recorded (kind ``suspected-injection``) so a user sees the
attempt. Script and frame markup is set aside too (kind ``markup``). Matching runs on the
NFKC form of the text, so full-width and other look-alike letters do not slip through.
A claim the model invents anyway is caught later by the grounding checks.
"""

import re
import unicodedata

INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,60}\b(previous|prior|above|earlier|all|your|the)\b"
    r".{0,30}\b(instructions?|prompts?|rules|directions|guidelines)\b"
    r"|\b(new|updated|real)\s+instructions?\s*:"
    r"|^\W*(system|assistant|user|developer)\s*(prompt|message)?\s*:"
    r"|<\|?\s*(im_start|im_end|endoftext|system|assistant)\s*\|?>"
    r"|\[/?(inst|sys)\]|<</?sys>>"
    r"|\b(system|developer)\s+(prompt|message)\b"
    r"|\bas an ai( language model)?\b"
    r"|\byou are now\b|\byou are (an? |the )?(ai|assistant|language model|chatbot)\b"
    r"|</?\s*(article|claims)\s*>"
    r'|^\s*[\[{].*"(claims|summary|evidence|lede|sections|title)"\s*:'
    r"|^\s*\[\d+\]\s",
    re.IGNORECASE,
)
MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|svg|form)\b|javascript:|\bon(error|load|click)\s*=",
    re.IGNORECASE,
)


def folded(text: str) -> str:
    """The NFKC form, which maps look-alike characters to plain ones."""
    return unicodedata.normalize("NFKC", text)


def hostile(line: str) -> tuple[str, str] | None:
    """(kind, reason) when a line should not reach the model, else None."""
    plain = folded(line)
    if MARKUP.search(plain):
        return "markup", "script or frame markup"
    if INJECTION.search(plain):
        return "suspected-injection", "reads as instructions or a reply meant for the model"
    return None


def as_data(text: str) -> str:
    """Text safe to place between prompt delimiters: angle brackets become look-alikes."""
    return text.replace("<", "\u2039").replace(">", "\u203a")
