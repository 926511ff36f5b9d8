"""Stage 5, render: a briefing as Markdown (for people) or JSON (the full, traceable model)."""

from schemas import Briefing, BriefSentence, ClaimStatus, Disagreement, FigureValue, Section, Source
from service.compose import DIFFER_HEADING, SKIPPED_HEADING, SOURCES_HEADING

FORMATS = ("markdown", "json")


def render(briefing: Briefing, fmt: str = "markdown") -> str:
    """The briefing in ``markdown`` or ``json``."""
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
    return " ".join(f"{s.text.strip()} {_marks(s)}" for s in sentences)


def markdown(briefing: Briefing) -> str:
    """The briefing as Markdown, with a numbered source list."""
    lines = [f"# {briefing.title}", "", *_as_of(briefing), _paragraph(briefing.lede), ""]
    for section in briefing.sections:
        lines += [f"## {section.heading}", "", *_body(section), ""]
    lines += _differences(briefing.disagreements)
    lines += [f"## {SOURCES_HEADING}", ""]
    lines += [_source_line(s) for s in briefing.sources]
    lines += _notes(briefing)
    return "\n".join(lines) + "\n"


def _body(section: Section) -> list[str]:
    # Claims added by code are separate statements, not prose: show them as a list.
    if section.from_claims:
        return [f"- {s.text.strip()} {_marks(s)}" for s in section.sentences]
    return [_paragraph(section.sentences)]


def _differences(disagreements: list[Disagreement]) -> list[str]:
    lines = [f"## {DIFFER_HEADING}", ""] if disagreements else []
    for item in disagreements:
        values = "; ".join(_value(v) for v in item.values)
        lines.append(f"- **{item.topic[:1].upper()}{item.topic[1:]}:** {values}.")
        lines += [f"  *Change over time, not a contradiction:* {r}." for r in item.revisions]
    return [*lines, ""] if lines else []


def _value(value: FigureValue) -> str:
    who = value.attribution
    said = f", per {', '.join(who[:-1])} and {who[-1]}" if len(who) > 1 else ""
    said = said or (f", per {who[0]}" if who else "")
    return f"{value.value}{said} " + "".join(f"[{c.source}]" for c in value.citations)


def _as_of(briefing: Briefing) -> list[str]:
    return [f"*As of {briefing.as_of:%Y-%m-%d}.*", ""] if briefing.as_of else []


def _source_line(source: Source) -> str:
    title = f" — {source.title}" if source.title else ""
    date = f", {source.published:%Y-%m-%d}" if source.published else ""
    where = source.url or f"`{source.origin}`"
    copy = f" (nearly the same text as [{source.duplicate_of}])" if source.duplicate_of else ""
    return f"{source.number}. {source.name}{title}{date} ({where}){copy}"


def check_line(briefing: Briefing) -> str:
    """One line: how many composed sentences were checked and what became of them."""
    filled = sum(len(s.sentences) for s in briefing.sections if s.from_claims)
    composed = len(briefing.all_sentences()) - filled
    repaired, dropped = len(briefing.repaired), len(briefing.dropped)
    line = (
        f"Checked {composed + dropped} composed sentences: {composed - repaired} shown as "
        f"written, {repaired} reworded from their claims, {dropped} dropped"
    )
    return line + (f"; {filled} added from the claims." if filled else ".")


def _injections(briefing: Briefing) -> list[str]:
    return [
        f"- Set aside as a suspected prompt injection in {s.origin}: {s.text[:80]!r}"
        for s in briefing.suspected_injections
    ]


def _notes(briefing: Briefing) -> list[str]:
    notes = [f"- Skipped {s.subject} ({s.stage}): {s.reason}" for s in briefing.skipped]
    notes += _injections(briefing)
    notes += [f"- Mostly set aside: {w}" for w in briefing.set_aside]
    skipped = ["", f"## {SKIPPED_HEADING}", "", *notes] if notes else []
    return [*skipped, "", f"*{check_line(briefing)}*"]
