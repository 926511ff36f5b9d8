"""What the HTML page tests share: a hostile briefing, and the page read back as elements."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

from schemas import (
    Article,
    Briefing,
    BriefSentence,
    Check,
    Citation,
    ClaimStatus,
    Disagreement,
    FigureValue,
    Removal,
    RemovedKind,
    Section,
    SetAside,
    Skipped,
    Source,
    Usage,
)
from tests.helpers import article

# Markup a source could hold: each tries to run script, load something or break out of
# the place it is put in (text, attribute, style, script, comment).
PAYLOADS = [
    '<script>window.pwned = "script"</script>',
    '<img src="http://127.0.0.1:9/pixel.png" onerror="window.pwned = \'img\'">',
    '"><svg onload="window.pwned = \'svg\'"></svg>',
    "' onmouseover='window.pwned = 1' x='",
    '</p></div><iframe src="http://127.0.0.1:9/"></iframe>',
    "</style><style>body { background: url(http://127.0.0.1:9/bg) }</style>",
    "</script><script>window.pwned = 'close'</script>",
    "<!-- <a href=\"javascript:window.pwned = 'a'\">x</a> -->",
    '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">',
    "<details open ontoggle=\"window.pwned = 'details'\">x</details>",
]
HOSTILE = " ".join(PAYLOADS)


def hostile_article() -> Article:
    """An article whose sentences, title and outlet carry every payload."""
    lines = [f"Reporters saw item {n}: {p}." for n, p in enumerate(PAYLOADS, 1)]
    text = "\n".join(["Advertisement: " + HOSTILE, *lines])
    plain = article(text, "Hostile Wire")
    removed = [Removal(kind=RemovedKind.BOILERPLATE, start=0, end=text.index("\n"), reason=HOSTILE)]
    return plain.model_copy(
        update={"title": HOSTILE, "url": "javascript:window.pwned = 'url'", "removed": removed}
    )


def hostile_briefing() -> Briefing:
    """A briefing in which every string that reaches the page carries the payloads."""
    item = hostile_article()
    ids = [s.id for s in item.sentences]
    cite = Citation(source=1, article_id=item.id, sentence_ids=ids[-2:])
    checks = [Check(name="numbers", passed=False, detail=HOSTILE), Check(name="names", passed=True)]
    said = BriefSentence(
        text=f"Officials said {HOSTILE}",
        claim_ids=["c1"],
        citations=[cite],
        status=ClaimStatus.CONTESTED,
        checks=checks,
    )
    other = Citation(source=1, article_id=item.id, sentence_ids=ids[1:2])
    values = [
        FigureValue(value=HOSTILE, attribution=[HOSTILE], citations=[cite]),
        FigureValue(value="12", attribution=[], citations=[other]),
    ]
    source = Source(
        number=1,
        article_id=item.id,
        name=HOSTILE,
        title=HOSTILE,
        origin=f"/tmp/{HOSTILE}.txt",
        url="javascript:window.pwned = 'url'",
        published=datetime(2024, 5, 6, tzinfo=UTC),
    )
    return Briefing(
        title=HOSTILE,
        lede=[said],
        sections=[Section(heading=HOSTILE, sentences=[said])],
        sources=[source],
        claims=[],
        articles=[item],
        disagreements=[Disagreement(topic=HOSTILE, values=values, revisions=[HOSTILE])],
        skipped=[Skipped(stage="ingest", subject=HOSTILE, reason=HOSTILE)],
        suspected_injections=[
            SetAside(
                kind=RemovedKind.SUSPECTED_INJECTION,
                start=0,
                end=5,
                reason=HOSTILE,
                origin=HOSTILE,
                text=HOSTILE,
            )
        ],
        model=HOSTILE,
        generated_at=datetime(2024, 5, 7, tzinfo=UTC),
        usage=Usage(),
    )


@dataclass
class Element:
    """One element of the page as parsed: its tag, attributes and text (children included)."""

    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    """The text of each ``<mark>`` inside it."""


class Page(HTMLParser):
    """The page's elements, in order, and those with an id, by id (for tests only)."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source", "wbr"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.by_id: dict[str, Element] = {}
        self._open: list[Element] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if "id" in element.attrs:
            self.by_id[element.attrs["id"]] = element
        if tag == "mark":
            for parent in self._open:
                parent.marks.append("")
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        inside_mark = any(e.tag == "mark" for e in self._open)
        for element in self._open:
            element.text.append(data)
            if inside_mark and element.marks:
                element.marks[-1] += data

    def text_of(self, element_id: str) -> str:
        return "".join(self.by_id[element_id].text)
