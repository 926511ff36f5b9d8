"""An edition laid out as HTML (CSS inlined, for mail clients) and as plain text.

It touches nothing but its template. Everything that comes from an article or the model
(titles, headings, outlet names, sentences, figures, reasons) is put on one line
(:func:`service.render.shown`: no line break or control character survives, and ``[n]``
shows as ``(n)``, as only the renderer writes citation marks) and, in the
HTML, escaped by Jinja2's autoescape or by :mod:`markupsafe`, so no markup from a source
reaches the email and no line of the text part can pose as a heading; only http(s) URLs
become links; local paths show only their file name.
"""

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from markupsafe import Markup

from schemas import BriefSentence, Citation, Disagreement, Source
from schemas.compose import DIFFER_HEADING, SOURCES_HEADING
from service.digest.edition import Edition, StoryBrief
from service.render import safe_url, shown, status_note
from service.render_html import templates, where

_TEMPLATES = Path(__file__).parent / "templates"


def heading(edition: Edition) -> str:
    """The email's heading: the digest's name and the day (and edition, after the first)."""
    extra = f" ({edition.number})" if edition.number > 1 else ""
    return f"{edition.digest} — {edition.made:%Y-%m-%d}{extra}"


def summary(edition: Edition) -> str:
    """One line: how many stories, new and updated."""
    new = sum(s.status == "new" for s in edition.stories)
    count = len(edition.stories)
    stories = f"{count} stor{'y' if count == 1 else 'ies'}"
    return f"{stories}: {new} new, {count - new} updated"


def counted(number: int, noun: str) -> str:
    """``1 source``, ``2 sources``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def as_of(story: StoryBrief) -> str:
    """The story's date line."""
    when = f"As of {story.briefing.as_of:%Y-%m-%d} · " if story.briefing.as_of else ""
    sources = counted(len(story.briefing.sources), "source")
    return f"{when}{counted(story.outlets, 'outlet')}, {sources}"


def _note(sentence: BriefSentence) -> str:
    note = status_note(sentence)
    return f"({note})" if note else ""


def _marks_html(story: int, citations: list[Citation]) -> Markup:
    link = Markup('<a class="cite" href="#story-{0}-source-{1}">[{1}]</a>')
    return Markup("").join(link.format(story, c.source) for c in citations)


def _sentences_html(story: int, sentences: list[BriefSentence]) -> Markup:
    note = Markup(' <span class="one">{}</span>')
    return Markup(" ").join(
        Markup("{} {}{}").format(
            shown(s.text),
            _marks_html(story, s.citations),
            note.format(_note(s)) if _note(s) else "",
        )
        for s in sentences
    )


def _flat(value: Any) -> Any:
    # every value the template prints is shown as text on one line (then autoescaped); Markup
    # is ours, already safe; a checked URL (no whitespace or control character) stays as it is
    if not isinstance(value, str) or isinstance(value, Markup) or safe_url(value) == value:
        return value
    return shown(value)


@cache
def _environment() -> jinja2.Environment:
    helpers: dict[str, Callable[..., Any]] = {
        "safe_url": safe_url,
        "where": where,
        "as_of": as_of,
        "counted": counted,
        "marks": _marks_html,
        "sentences": _sentences_html,
    }
    return templates(_TEMPLATES, helpers, finalize=_flat)


def render_html(edition: Edition) -> str:
    """The edition as one HTML document, its CSS inlined into ``style`` attributes."""
    template = _environment().get_template("digest.html")
    html = template.render(
        edition=edition,
        heading=heading(edition),
        summary=summary(edition),
        differ_heading=DIFFER_HEADING,
        sources_heading=SOURCES_HEADING,
    )
    return str(css_inline.inline(html))


def _marks_text(citations: list[Citation]) -> str:
    return "".join(f"[{c.source}]" for c in citations)


def _paragraph(sentences: list[BriefSentence]) -> str:
    return " ".join(
        f"{shown(s.text)} {_marks_text(s.citations)} {_note(s)}".rstrip() for s in sentences
    )


def _disagreement_text(item: Disagreement) -> list[str]:
    values = "; ".join(
        shown(v.value)
        + (f" ({shown(', '.join(v.attribution))})" if v.attribution else "")
        + f" {_marks_text(v.citations)}"
        for v in item.values
    )
    return [f"- {shown(item.topic)}: {values}", *(f"  {shown(r)}" for r in item.revisions)]


def _source_text(source: Source) -> str:
    title = f" — {shown(source.title)}" if source.title else ""
    date = f", {source.published:%Y-%m-%d}" if source.published else ""
    return f"[{source.number}] {shown(source.name)}{title}{date} <{where(source)}>"


def _story_text(edition: Edition, number: int, story: StoryBrief) -> list[str]:
    briefing = story.briefing
    lines = [f"{number}. {shown(briefing.title)} [{story.status.upper()}]", as_of(story)]
    page = safe_url(edition.pages.get(story.story_id))
    lines += [f"Every line with its sources: {page}", ""] if page else [""]
    if story.since:
        lines += ["Since the last digest:", *(f"- {shown(s)}" for s in story.since), ""]
    lines += [_paragraph(briefing.lede), ""]
    for section in briefing.sections:
        lines += [shown(section.heading), _paragraph(section.sentences), ""]
    if briefing.disagreements:
        differ = [line for d in briefing.disagreements for line in _disagreement_text(d)]
        lines += [DIFFER_HEADING, *differ, ""]
    return [*lines, SOURCES_HEADING, *(_source_text(s) for s in briefing.sources), ""]


def render_text(edition: Edition) -> str:
    """The edition as plain text: index, stories with numbered sources, what was left out."""
    title = heading(edition)
    lines = [title, "=" * len(title), summary(edition), "", "In this email:"]
    lines += [
        f"  {i}. {shown(s.briefing.title)} ({s.status})" for i, s in enumerate(edition.stories, 1)
    ]
    for number, story in enumerate(edition.stories, 1):
        lines += ["", "-" * 72, "", *_story_text(edition, number, story)]
    if edition.left_out:
        lines += [
            "-" * 72,
            "",
            "Left out:",
            *(f"- {shown(i.subject)}: {shown(i.reason)}" for i in edition.left_out),
        ]
    return "\n".join([*lines, "", "Every sentence cites its sources by number."]) + "\n"
