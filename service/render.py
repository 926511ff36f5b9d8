"""Stage 5, render: a briefing as Markdown (for people), JSON (the full, traceable model) or
HTML (:mod:`service.render_html`: every citation opens the sentences it rests on).

Every string in the Markdown that came from a source or from the model (title, headings,
sentences, outlet names, figures, attributions, reasons, URLs) goes through :func:`md`: put
on one line, its ``[n]`` shown as ``(n)``, and escaped, so it shows as text and can add no
heading, list item, link, emphasis, HTML or citation mark. The structure (headings, ``[n]``
marks, lists) is written here only. The email renderers use :func:`shown` and
:func:`safe_url` the same way.
"""

import re
import unicodedata
from urllib.parse import quote, urlsplit

from schemas import Briefing, BriefSentence, ClaimStatus, Disagreement, FigureValue, Section, Source
from schemas.compose import DIFFER_HEADING, SKIPPED_HEADING, SOURCES_HEADING

FORMATS = ("markdown", "json", "html")

_MD_INLINE = re.compile(r"([\\`*_\[\]<>#|~])|&(?=#?\w+;)")
"""Characters that make Markdown structure anywhere in a line, and ``&`` opening an entity."""
_MD_LINE_START = re.compile(r"^([-+=]|\d{1,9}(?=[.)]))")
"""What makes a list item or an underline at the start of a line (``1.`` becomes ``1\\.``)."""
_CITATION_LIKE = re.compile(r"\[\s*(\d{1,4})\s*\]")
_URL_SAFE = ":/?#@!$&'()*+,;=%~-._"
"""Characters kept as they are in a URL shown as a link; others are percent-encoded."""


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line: control, format and line-break characters as spaces, runs of
    whitespace as one, cut to ``limit`` characters (with an ellipsis) when given."""
    shown = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    flat = " ".join(shown.split())
    if limit is None or len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "\u2026"


def shown(text: str) -> str:
    """``text`` as any format shows it: on one line, and its bracketed numbers in parentheses,
    since ``[n]`` is a citation mark and only the renderer writes those."""
    return _CITATION_LIKE.sub(r"(\1)", one_line(text))


def md(text: str) -> str:
    """``text`` as one line of Markdown that shows as itself: no structure can come from it."""
    escaped = _MD_INLINE.sub(lambda m: "\\" + m[0], shown(text))
    start = _MD_LINE_START.match(escaped)
    if start is None:
        return escaped
    if start[0].isdigit():  # "1." would open a numbered list: escape its dot
        return f"{start[0]}\\{escaped[start.end() :]}"
    return "\\" + escaped


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) URL with a host and no whitespace or control character."""
    if not url or any(c.isspace() or unicodedata.category(c)[0] == "C" for c in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _code(text: str) -> str:
    # a code span fenced by more backticks than any run inside it, so none can close it
    flat = one_line(text)
    fence = "`" * (max((len(r) for r in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _where(source: Source) -> str:
    url = safe_url(source.url)
    return f"<{quote(url, safe=_URL_SAFE)}>" if url else _code(source.origin)


def render(briefing: Briefing, fmt: str = "markdown") -> str:
    """The briefing in ``markdown``, ``json`` or ``html`` (one self-contained page)."""
    if fmt == "html":
        from service.render_html import html  # it imports this module

        return html(briefing)
    if fmt == "json":
        return briefing.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        return markdown(briefing)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def status_note(sentence: BriefSentence) -> str:
    """How a reader should take a sentence: "" when corroborated, else a short note."""
    if sentence.status is ClaimStatus.CONTESTED:
        return "sources differ; see below"
    if sentence.status is ClaimStatus.SINGLE_SOURCE:
        # several citations here are several claims, each from one source: not corroboration
        return "one source" if len(sentence.citations) == 1 else "one source each"
    return ""


def _marks(sentence: BriefSentence) -> str:
    marks = "".join(f"[{c.source}]" for c in sentence.citations)
    note = status_note(sentence)
    return f"{marks} *({note})*" if note else marks


def _paragraph(sentences: list[BriefSentence]) -> str:
    return " ".join(f"{md(s.text)} {_marks(s)}" for s in sentences)


def markdown(briefing: Briefing) -> str:
    """The briefing as Markdown, with a numbered source list."""
    lines = [f"# {md(briefing.title)}", "", *_as_of(briefing), _paragraph(briefing.lede), ""]
    for section in briefing.sections:
        lines += [f"## {md(section.heading)}", "", *_body(section), ""]
    lines += _differences(briefing.disagreements)
    lines += [f"## {SOURCES_HEADING}", ""]
    lines += [_source_line(s) for s in briefing.sources]
    lines += _notes(briefing)
    return "\n".join(lines) + "\n"


def _body(section: Section) -> list[str]:
    # Claims added by code are separate statements, not prose: show them as a list.
    if section.from_claims:
        return [f"- {md(s.text)} {_marks(s)}" for s in section.sentences]
    return [_paragraph(section.sentences)]


def _differences(disagreements: list[Disagreement]) -> list[str]:
    lines = [f"## {DIFFER_HEADING}", ""] if disagreements else []
    for item in disagreements:
        values = "; ".join(_value(v) for v in item.values)
        topic = one_line(item.topic)
        lines.append(f"- **{md(topic[:1].upper() + topic[1:])}:** {values}.")
        lines += [f"  *Change over time, not a contradiction:* {md(r)}." for r in item.revisions]
    return [*lines, ""] if lines else []


def _value(value: FigureValue) -> str:
    who = [md(w) for w in value.attribution]
    said = f", per {', '.join(who[:-1])} and {who[-1]}" if len(who) > 1 else ""
    said = said or (f", per {who[0]}" if who else "")
    return f"{md(value.value)}{said} " + "".join(f"[{c.source}]" for c in value.citations)


def _as_of(briefing: Briefing) -> list[str]:
    return [f"*As of {briefing.as_of:%Y-%m-%d}.*", ""] if briefing.as_of else []


def _source_line(source: Source) -> str:
    title = f" — {md(source.title)}" if source.title else ""
    date = f", {source.published:%Y-%m-%d}" if source.published else ""
    copy = f" (nearly the same text as [{source.duplicate_of}])" if source.duplicate_of else ""
    return f"{source.number}. {md(source.name)}{title}{date} ({_where(source)}){copy}"


def check_line(briefing: Briefing) -> str:
    """One line: how many composed sentences were checked and what became of them (a
    sentence reworded as one sentence per claim counts once)."""
    filled = sum(len(s.sentences) for s in briefing.sections if s.from_claims)
    shown = [s for sec in briefing.sections if not sec.from_claims for s in sec.sentences]
    texts = [s.text for s in [*briefing.lede, *shown]]
    replacements = {r.replacement for r in briefing.repaired}
    reworded = {r.text for r in briefing.repaired if r.replacement in texts}
    written = sum(t not in replacements for t in texts)
    dropped = len(briefing.dropped)
    line = (
        f"Checked {written + len(reworded) + dropped} composed sentences: {written} shown as "
        f"written, {len(reworded)} reworded from their claims, {dropped} dropped"
    )
    return line + (f"; {filled} added from the claims." if filled else ".")


def _injections(briefing: Briefing) -> list[str]:
    return [
        f"- Set aside as a suspected prompt injection in {_code(s.origin)}: "
        f"{md(repr(one_line(s.text)[:80]))}"
        for s in briefing.suspected_injections
    ]


def _notes(briefing: Briefing) -> list[str]:
    notes = [f"- Skipped {md(s.subject)} ({md(s.stage)}): {md(s.reason)}" for s in briefing.skipped]
    notes += _injections(briefing)
    notes += [f"- Mostly set aside: {md(w)}" for w in briefing.set_aside]
    skipped = ["", f"## {SKIPPED_HEADING}", "", *notes] if notes else []
    return [*skipped, "", f"*{check_line(briefing)}*"]
