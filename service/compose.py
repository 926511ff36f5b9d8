"""Stage 4, compose: one model call writes the briefing from the merged claims.

The model sees only the merged claims (never the articles) and names, for each sentence,
the claim ids it states. The code, not the model, turns claim ids into citations, so a
citation can only point at a source that holds the claim. A reply naming unknown claims
is re-asked; if the last reply still does, the offending sentences are dropped and listed.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from schemas import (
    Article,
    Check,
    ClaimStatus,
    Draft,
    DraftSection,
    DraftSentence,
    DroppedSentence,
    MergedClaim,
    RepairedSentence,
)
from schemas.compose import RESERVED_KEYS, heading_key, plain_heading
from service._exceptions import BriefingError, ReplyInvalidError
from service.gateway import Gateway, ModelRequest
from service.guard import as_data, folded, hostile
from service.prompts import load_prompt
from service.structured import ask, load_json
from service.verify import (
    MIN_ANCHOR,
    checks,
    coverage,
    numbers,
    same_sentence,
    unbacked_quotes,
    ungrounded,
    unmarked_quote,
)

if TYPE_CHECKING:  # the aligner and the figures are imported when a briefing is finished:
    from service.align import Aligner  # a re-run whose finish is cached never loads them

WORD_SHARE = 0.4
"""The most a briefing may say, as a share of its articles' words: a short input gets a short
briefing (the top-up stops there, and :func:`fit` trims a longer draft)."""
PER_OUTLET = 1
"""Claims only one outlet reports that the top-up may add per outlet: its best one, so that
no outlet's angle is left out of a short briefing."""
FALLBACK_TITLE = "What the sources report"
NEUTRAL_HEADING = "Details"
"""The heading of a section whose own heading cannot be shown (a reserved or marked-up one)."""
MIN_CLAIM_STATED = 0.5
"""Share of a claim's content words a sentence naming it must hold to cite it."""
MIN_ATTRIBUTION = 0.5
"""Share of an attribution's words a sentence must hold to count as keeping it."""
MAX_CLAIMS_SHOWN = 16
"""Claims given to the composer, best-supported first: a briefing is short, and every
claim shown costs prompt tokens and invites a small model to ramble."""


def shown_claims(claims: Sequence[MergedClaim]) -> list[MergedClaim]:
    """The claims the composer sees: most sources first, then taking turns between articles.

    Taking turns keeps one long article's claims from crowding out the others'.
    """
    rank: dict[str, int] = {}
    turn: dict[str, int] = {}
    for claim in claims:
        first = claim.support[0].article_id
        turn[claim.id] = rank.get(first, 0)
        rank[first] = turn[claim.id] + 1
    ordered = sorted(claims, key=lambda c: (-c.sources, turn[c.id]))
    return ordered[:MAX_CLAIMS_SHOWN]


@cache
def draft_schema(claim_ids: tuple[str, ...]) -> dict[str, Any]:
    """The JSON schema the composer's reply must follow, claim ids limited to those shown.

    As for extraction, a grammar-enforcing server then cannot name a claim that does not
    exist; validation still checks every other server's reply.
    """
    schema = Draft.model_json_schema()
    schema["$defs"]["DraftSentence"]["properties"]["claims"]["items"]["enum"] = list(claim_ids)
    return schema


def compose_request(claims: Sequence[MergedClaim], n_articles: int) -> ModelRequest:
    """The model request that writes the briefing."""
    prompt = load_prompt("compose")
    ordered = shown_claims(claims)
    shown = [
        {"id": c.id, "sources": c.sources, "kind": c.kind, "text": as_data(c.text)} for c in ordered
    ]
    messages = prompt.render(claims=shown, n_articles=n_articles)
    return ModelRequest(
        messages=messages,
        schema=draft_schema(tuple(c.id for c in ordered)),
        schema_name="Draft",
        template_version=prompt.version,
        max_tokens=prompt.max_tokens,
    )


@dataclass
class Composed:
    """A validated draft, and the sentences that had to be dropped or repaired."""

    draft: Draft
    dropped: list[DroppedSentence]
    repaired: list[RepairedSentence] = field(default_factory=list)
    filled: list[DraftSentence] = field(default_factory=list)
    checks: dict[str, list[Check]] = field(default_factory=dict)
    """The checks each shown sentence passed or failed, by the text shown."""
    claims: list[MergedClaim] = field(default_factory=list)
    """The merged claims as the fold left them (see :func:`fold`); empty: as merged."""


async def compose(
    gateway: Gateway, claims: Sequence[MergedClaim], articles: Sequence[Article], reasks: int
) -> Composed:
    """A draft whose every sentence names existing claims and passes the checks."""
    return finish(await draft(gateway, claims, articles, reasks), claims, articles)


async def draft(
    gateway: Gateway, claims: Sequence[MergedClaim], articles: Sequence[Article], reasks: int
) -> Composed:
    """The model's draft, validated (re-asked) or salvaged; not yet checked (:func:`finish`)."""
    known = {c.id for c in claims}
    request = compose_request(claims, len(articles))
    try:
        written = await ask(
            gateway,
            request,
            lambda content: Draft.model_validate(load_json(content), context={"claim_ids": known}),
            reasks,
        )
        return Composed(written, [])
    except ReplyInvalidError as error:
        return salvage(error, known)


def finish(
    composed: Composed, claims: Sequence[MergedClaim], articles: Sequence[Article]
) -> Composed:
    """The draft checked sentence by sentence, led by its best-corroborated sentences, topped
    up and folded: everything after the model, worked out by code alone."""
    by_id = {c.id: c for c in claims}
    reviewed = lead_with_best(review(composed, by_id, evidence_texts(claims, articles)), by_id)
    return fit(fold(fill(reviewed, claims, articles), by_id, articles), claims, articles)


def evidence_texts(
    claims: Sequence[MergedClaim], articles: Sequence[Article]
) -> dict[str, list[str]]:
    """For each claim id, the source sentences it rests on (what a quote must match)."""
    by_id = {a.id: a for a in articles}
    return {
        c.id: [by_id[s.article_id].sentence(i).text for s in c.support for i in s.sentence_ids]
        for c in claims
    }


def salvage(error: ReplyInvalidError, known: set[str]) -> Composed:
    """Keep the valid sentences of the last reply, dropping those naming unknown claims."""
    try:
        draft = Draft.model_validate(_plain_headings(load_json(error.last_reply or "")))
    except (ValidationError, ValueError, RecursionError):
        raise BriefingError(f"the composer gave no usable briefing: {error}") from error
    dropped: list[DroppedSentence] = []

    def keep(sentences: list[DraftSentence]) -> list[DraftSentence]:
        kept = [s for s in sentences if set(s.claims) <= known]
        reason = "names claims that do not exist"
        dropped.extend(
            DroppedSentence(text=s.text, reason=reason) for s in sentences if s not in kept
        )
        return kept

    lede = keep(draft.lede)
    sections = [
        DraftSection(heading=s.heading, sentences=keep(s.sentences)) for s in draft.sections
    ]
    sections = [s for s in sections if s.sentences]
    if not lede and not sections:
        raise BriefingError("every sentence of the composed briefing failed validation")
    salvaged = Draft.model_construct(title=draft.title, lede=lede, sections=sections)
    return Composed(salvaged, dropped)


def _plain_headings(data: Any) -> Any:
    # a reply whose only fault left is a heading keeps its sentences, under a neutral heading
    sections = data.get("sections") if isinstance(data, dict) else None
    for section in sections if isinstance(sections, list) else []:
        if isinstance(section, dict) and not _is_plain(section.get("heading")):
            section["heading"] = NEUTRAL_HEADING
    return data


def _is_plain(heading: Any) -> bool:
    try:
        return isinstance(heading, str) and bool(plain_heading(heading))
    except ValueError:
        return False


class _Reviewer:
    """Checks sentences in reading order: drops repeats, repairs ungrounded wording."""

    def __init__(
        self, composed: Composed, claims: dict[str, MergedClaim], evidence: dict[str, list[str]]
    ) -> None:
        self.claims = claims
        self.evidence = evidence
        self.dropped = list(composed.dropped)
        self.repaired: list[RepairedSentence] = list(composed.repaired)
        self.checks: dict[str, list[Check]] = dict(composed.checks)
        self._texts: set[str] = set()
        self._claim_sets: set[frozenset[str]] = set()

    def sentences(self, sentences: list[DraftSentence]) -> list[DraftSentence]:
        return [part for s in sentences for part in self._one(s)]

    def _claim_by_claim(
        self, sentence: DraftSentence, told: RepairedSentence
    ) -> list[DraftSentence]:
        """``sentence``, reworded from claims backed by different numbers of outlets, told as
        one sentence per claim, each with its own status."""
        self._claim_sets.discard(frozenset(sentence.claims))
        parts = [p for c in sentence.claims for p in self._one(self._own_words(c))]
        return [self._reworded(p, told) for p in parts]

    def _own_words(self, claim_id: str) -> DraftSentence:
        claim = self.claims[claim_id]
        return DraftSentence.model_construct(claims=[claim_id], text=joined([claim.text]))

    def _reworded(self, part: DraftSentence, problem: RepairedSentence) -> DraftSentence:
        if not self.repaired or self.repaired[-1].replacement != part.text:
            self.repaired.append(problem.model_copy(update={"replacement": part.text}))
        return part

    def _one(self, sentence: DraftSentence) -> list[DraftSentence]:
        sentence = self._cited_only_if_stated(sentence)
        claim_set = frozenset(sentence.claims)
        if claim_set in self._claim_sets or same_sentence(sentence.text, self._texts):
            self.dropped.append(
                DroppedSentence(text=sentence.text, reason="repeats an earlier sentence")
            )
            return []
        self._claim_sets.add(claim_set)
        wording = [self.claims[c].text for c in sentence.claims]
        sources = [t for c in sentence.claims for t in self.evidence.get(c, [])]
        found = checks(sentence.text, wording)
        problem = ungrounded(sentence.text, wording) or _unmarked(sentence.text, sources)
        text = sentence.text if problem is None else joined(wording)
        claims = [self.claims[c] for c in sentence.claims]
        lost = lost_attributions(text, claims)
        found.append(Check(name="attribution", passed=not lost, detail="; ".join(lost)))
        if lost:
            problem = problem or f"states as fact what its source attributes to {lost[0]}"
            text = attributed(joined(wording), claims)
        text, unquoted = unbacked_quotes(text, sources)
        found.append(_quote_check(unquoted))
        if unquoted and problem is None:
            problem = "quoted words its sources do not contain; shown as a paraphrase"
        told = RepairedSentence(text=sentence.text, reason=problem or "", replacement=text)
        if problem is not None and text != sentence.text and _mixed(claims):
            return self._claim_by_claim(sentence, told)
        self.checks[text] = [_citation_check(sentence, sources), *found]
        if problem is None:
            return [sentence]
        self.repaired.append(told)
        return [DraftSentence.model_construct(claims=sentence.claims, text=text)]

    def _cited_only_if_stated(self, sentence: DraftSentence) -> DraftSentence:
        # A composer naming a claim its sentence does not state would cite sources that do
        # not back the sentence: such claims are dropped from it (if any claim is stated).
        stated = [
            c
            for c in sentence.claims
            if coverage(self.claims[c].text, sentence.text) >= MIN_CLAIM_STATED
        ]
        if not stated or len(stated) == len(sentence.claims):
            return sentence
        return DraftSentence.model_construct(claims=stated, text=sentence.text)


def _mixed(claims: Sequence[MergedClaim]) -> bool:
    # backed by different numbers of outlets: one status would misstate some of them
    return len(claims) > 1 and len({(c.status, c.sources) for c in claims}) > 1


def _unmarked(text: str, sources: list[str]) -> str | None:
    if unmarked_quote(text, sources):
        return "gives words its sources quote as its own, without quotation marks"
    return None


_ENDS = (".", "!", "?", "\u2026", '"', "'", "\u201d", "\u2019", ")")


def joined(texts: Sequence[str]) -> str:
    """Claims' texts told one after another, each ending as a sentence does (a claim drawn
    from a headline has no full stop, and would run into the next)."""
    return " ".join(t if t.rstrip().endswith(_ENDS) else f"{t.rstrip()}." for t in texts)


def lost_attributions(text: str, claims: Sequence[MergedClaim]) -> list[str]:
    """For each claim whose sources attribute it, the attribution, if ``text`` drops it."""
    lost = []
    for claim in claims:
        said = list(dict.fromkeys(s.attribution for s in claim.support if s.attribution))
        if not said or not all(s.attribution for s in claim.support):
            continue  # an outlet asserting it in its own voice may be followed
        if all(coverage(who, text) < MIN_ATTRIBUTION for who in said):
            lost.append(said[0])
    return lost


def attributed(text: str, claims: Sequence[MergedClaim]) -> str:
    """``text`` with any attribution it lacks added, in the source's words."""
    lost = lost_attributions(text, claims)
    return f"{text.rstrip(' .')} (according to {'; '.join(lost)})." if lost else text


def _citation_check(sentence: DraftSentence, sources: list[str]) -> Check:
    ids = ", ".join(sentence.claims)
    return Check(name="citations", passed=True, detail=f"{ids}: {len(sources)} source sentences")


def _quote_check(unquoted: int) -> Check:
    detail = f"{unquoted} quote(s) not word for word in its sources, unquoted" if unquoted else ""
    return Check(name="quotes", passed=not unquoted, detail=detail)


def review(
    composed: Composed,
    claims: dict[str, MergedClaim],
    evidence: dict[str, list[str]] | None = None,
) -> Composed:
    """Drop repeated sentences, repair ungrounded ones, and merge sections of one heading."""
    reviewer = _Reviewer(composed, claims, evidence or {})
    lede = reviewer.sentences(composed.draft.lede)
    merged: dict[str, DraftSection] = {}
    for section in composed.draft.sections:
        key = heading_key(folded(section.heading))
        if key in RESERVED_KEYS or not _is_plain(section.heading):  # "Sources" is the list's
            key = heading_key(NEUTRAL_HEADING)
            section = section.model_copy(update={"heading": NEUTRAL_HEADING})
        kept = reviewer.sentences(section.sentences)
        previous = merged.get(key)
        heading = previous.heading if previous else section.heading
        combined = [*(previous.sentences if previous else []), *kept]
        merged[key] = DraftSection.model_construct(heading=heading, sentences=combined)
    sections = [s for s in merged.values() if s.sentences]
    if not lede and sections:
        lede, sections[0].sentences = sections[0].sentences[:1], sections[0].sentences[1:]
        sections = [s for s in sections if s.sentences]
    title = _checked_title(composed.draft.title, claims)
    draft = Draft.model_construct(title=title, lede=lede, sections=sections)
    return Composed(draft, reviewer.dropped, reviewer.repaired, checks=reviewer.checks)


def _checked_title(title: str, claims: dict[str, MergedClaim]) -> str:
    # A headline with a number or a word no claim has is the model's own ("... in the
    # Korean War" over an article on another war): every content word must be the claims'.
    backing = " ".join(c.text for c in claims.values())
    stated = numbers(title) <= numbers(backing) and coverage(title, backing) == 1.0
    return title if stated and fit_title(title) else FALLBACK_TITLE


def fit_title(title: str | None) -> bool:
    """Whether ``title`` may head a briefing: non-empty, and no line of it reads as an injection."""
    # a title that reads as an instruction to the model (whether or not the clean-up set its
    # line aside) is never the briefing's headline; each of its lines is screened
    if not title or not title.strip():
        return False
    return not any(hostile(line) for line in [title, *title.splitlines()])


def lead_with_best(composed: Composed, claims: dict[str, MergedClaim]) -> Composed:
    """``composed`` with its best-corroborated sentences in the lede.

    A body sentence backed by more outlets than a lede sentence changes places with it, so
    the lede states what most sources report.
    """
    draft = composed.draft
    lede = list(draft.lede)
    sections = [list(s.sentences) for s in draft.sections]
    for _ in lede:
        body = [(i, j) for i, sentences in enumerate(sections) for j in range(len(sentences))]
        best = max(body, key=lambda ij: _outlets(sections[ij[0]][ij[1]], claims), default=None)
        weakest = min(range(len(lede)), key=lambda k: _outlets(lede[k], claims), default=None)
        if best is None or weakest is None:
            break
        i, j = best
        if _outlets(sections[i][j], claims) <= _outlets(lede[weakest], claims):
            break
        lede[weakest], sections[i][j] = sections[i][j], lede[weakest]
    moved = [
        DraftSection.model_construct(heading=s.heading, sentences=sentences)
        for s, sentences in zip(draft.sections, sections, strict=True)
    ]
    return replace(
        composed, draft=Draft.model_construct(title=draft.title, lede=lede, sections=moved)
    )


def _outlets(sentence: DraftSentence, claims: dict[str, MergedClaim]) -> int:
    return max((claims[c].sources for c in sentence.claims if c in claims), default=0)


def fill(
    composed: Composed, claims: Sequence[MergedClaim], articles: Sequence[Article]
) -> Composed:
    """``composed`` topped up with what the sources share: unused corroborated or contested
    claims, best-supported first, and each outlet's most distinctive claim of its own
    (:data:`PER_OUTLET`), while the briefing stays under :data:`WORD_SHARE` of the articles'
    words (one sentence at least). More single-source claims are added only when no composer
    wrote anything; a claim drawn from a sentence already cited, or whose fact is already
    said (in its words or aligned, see ``align``), never is."""
    sentences = [*composed.draft.all_sentences(), *composed.filled]
    alone = not sentences  # no composer wrote anything: the claims are the whole briefing
    by_id = {c.id: c for c in claims}
    room = WORD_SHARE * _words(articles) - sum(len(s.text.split()) for s in sentences)
    cited = {ref for s in sentences for c in s.claims if c in by_id for ref in _refs(by_id[c])}
    top_up = _TopUp([s.text for s in sentences], cited, _aligner(articles))
    added: list[DraftSentence] = []
    own: dict[str, int] = {}  # single-source claims added per outlet
    for claim in top_up.ranked(claims):
        text = attributed(claim.text, [claim])
        outlet = claim.support[0].article_id
        if not top_up.adds(claim, alone or own.get(outlet, 0) < PER_OUTLET):
            continue
        own[outlet] = own.get(outlet, 0) + (claim.sources == 1)
        if len(text.split()) > room and (top_up.said or added):
            break
        added.append(DraftSentence.model_construct(claims=[claim.id], text=text))
        top_up.say(claim)
        room -= len(text.split())
    return replace(composed, filled=[*composed.filled, *added])


def _aligner(articles: Sequence[Article]) -> "Aligner":
    from service.align import Aligner

    return Aligner([s.text for a in articles for s in a.kept])


ECHO_SHARE = 0.5
"""Share of ``align.MIN_SIMILARITY`` from which another outlet's claim, passing the alignment
guards, echoes a claim: the claim is then not that outlet's own angle."""


def _echoes(aligner: "Aligner", a: str, b: str) -> bool:
    from service.align import MIN_SIMILARITY

    return aligner.similarity(a, b) >= MIN_SIMILARITY * ECHO_SHARE


@dataclass
class _TopUp:
    """What the briefing says so far, as the top-up adds to it."""

    said: list[str]
    cited: set[tuple[str, int]]
    aligner: "Aligner"

    def ranked(self, claims: Sequence[MergedClaim]) -> list[MergedClaim]:
        """The shown claims in the order the top-up tries them: the disputed figures first
        (a reader must meet them, marked as disputed), then the best-supported; among an
        outlet's claims of its own, those no other outlet's claim echoes first (its angle)."""
        shown = shown_claims(claims)
        echoed = {c.id: self._echoed(c, shown) for c in shown if c.sources == 1}
        return sorted(
            shown,
            key=lambda c: (c.status is not ClaimStatus.CONTESTED, echoed.get(c.id, False)),
        )

    def _echoed(self, claim: MergedClaim, shown: Sequence[MergedClaim]) -> bool:
        own = claim.support[0].article_id
        return any(
            self.aligner.compatible(claim.text, other.text)
            and _echoes(self.aligner, claim.text, other.text)
            for other in shown
            if own not in {s.article_id for s in other.support}
        )

    def adds(self, claim: MergedClaim, single: bool) -> bool:
        """Whether ``claim`` adds a fact: what only one outlet reports is mostly for the
        composer to pick, so it is added only where ``single`` allows (no draft at all, or
        the outlet's own best claim)."""
        shared = claim.status is ClaimStatus.CONTESTED or claim.sources > 1
        if not (shared or single) or _own(claim) <= self.cited:
            return False  # the sentence it was drawn from is cited already: the fact is said
        if any(coverage(claim.text, t) >= MIN_ANCHOR for t in self.said):
            return False
        return not any(self.aligner.aligned(claim.text, t) for t in self.said)

    def say(self, claim: MergedClaim) -> None:
        self.said.append(claim.text)
        self.cited |= _refs(claim)


MAX_CLAIMS = 4
"""The most claims one sentence may state (as the composer's schema allows)."""
FOLDED = "states the fact of an earlier sentence, which cites its sources too"
REPEATED = "repeats an earlier sentence, which cites the same source sentences"
DISPUTED = (
    "gives another value for the disputed figure of an earlier sentence; each value is shown, "
    "with its sources, under Where sources differ"
)


def fold(
    composed: Composed, claims: dict[str, MergedClaim], articles: Sequence[Article]
) -> Composed:
    """``composed`` with each fact said once: a sentence stating the fact of an earlier one
    (they align, see ``align``) is dropped, and the earlier one cites its outlets too.

    Only where the citations stay true: every source sentence the earlier sentence gains
    aligns with its text, an outlet's other sentence is another fact, and a contested
    claim (its figures differ between outlets) is never folded into another. A later
    sentence telling the same fact with the other side of a disputed figure is dropped
    instead: the earlier one says *sources differ*, and each value is shown with its sources
    under "Where sources differ".
    """
    folder = _Folder(composed, claims, articles)
    folded = _rebuilt(composed.draft, folder.sentences)  # the lede first, then each section
    filled = folder.sentences(composed.filled)
    final = {id(s): folder.final(s) for s in folder.every}
    new_draft = _rebuilt(folded, lambda sentences: [final[id(s)] for s in sentences])
    groups = [final[key].claims for key in final if key in folder.gained]
    return replace(
        composed,
        draft=new_draft,
        filled=[final[id(s)] for s in filled],
        dropped=[*composed.dropped, *folder.dropped],
        claims=_folded_claims(claims, groups, articles) if groups else composed.claims,
    )


def _folded_claims(
    claims: dict[str, MergedClaim], groups: Sequence[Sequence[str]], articles: Sequence[Article]
) -> list[MergedClaim]:
    """Every claim, those folded into one sentence each supported by all the group's
    statements (they state one fact), its outlets counted again: the sentence is then
    corroborated by every outlet it cites, not marked *(one source)*."""
    by_id = {a.id: a for a in articles}
    outlet = {a.id: by_id.get(a.duplicate_of or a.id, a).source for a in articles}
    updated = dict(claims)
    for group in groups:
        support = list(
            {
                (s.article_id, tuple(s.sentence_ids)): s for c in group for s in claims[c].support
            }.values()
        )
        sources = len({outlet.get(s.article_id, s.article_id) for s in support})
        status = ClaimStatus.CORROBORATED if sources > 1 else claims[group[0]].status
        for c in group:
            updated[c] = claims[c].model_copy(
                update={"support": support, "sources": sources, "status": status}
            )
    return list(updated.values())


class _Folder:
    """Walks the briefing in reading order, folding each sentence into an earlier one
    stating its fact, where that keeps every citation true."""

    def __init__(
        self, composed: Composed, claims: dict[str, MergedClaim], articles: Sequence[Article]
    ) -> None:
        self.claims = claims
        self.aligner = _aligner(articles)
        self.text_of = {(a.id, s.id): s.text for a in articles for s in a.kept}
        from service.figures import by_sentence

        self.table = by_sentence(articles)
        self.every: list[DraftSentence] = []
        self.gained: dict[int, list[str]] = {}
        self.dropped: list[DroppedSentence] = []

    def sentences(self, sentences: Sequence[DraftSentence]) -> list[DraftSentence]:
        kept = []
        for sentence in sentences:
            if any(self._repeats(e, sentence) for e in self.every):
                self.dropped.append(DroppedSentence(text=sentence.text, reason=REPEATED))
                continue
            if any(self._disputes(e, sentence) for e in self.every):
                self.dropped.append(DroppedSentence(text=sentence.text, reason=DISPUTED))
                continue
            into = next((e for e in self.every if self._folds(e, sentence)), None)
            if into is None:
                self.every.append(sentence)
                kept.append(sentence)
                continue
            self.gained.setdefault(id(into), []).extend(sentence.claims)
            self.dropped.append(DroppedSentence(text=sentence.text, reason=FOLDED))
        return kept

    def _contested(self, sentence: DraftSentence) -> bool:
        statuses = {self.claims[c].status for c in sentence.claims if c in self.claims}
        return ClaimStatus.CONTESTED in statuses

    def _repeats(self, kept: DraftSentence, later: DraftSentence) -> bool:
        """Whether ``later`` says again what ``kept`` says: it cites no outlet ``kept`` does not,
        and its words are ``kept``'s, or it cites only ``kept``'s source sentences and aligns."""
        theirs, mine = self._refs(later), self._refs(kept) | self._gained_refs(kept)
        if not theirs or not {a for a, _ in theirs} <= {a for a, _ in mine}:
            return False  # it cites an outlet ``kept`` does not
        if self._contested(later) and not self._contested(kept):
            return False  # the disputed figure is said, and marked, by ``later`` alone
        a, b = kept.text, later.text
        if coverage(b, a) >= MIN_ANCHOR:
            return True  # its words are ``kept``'s: it says nothing more
        return theirs <= mine and self.aligner.aligned(a, b)

    def _gained_refs(self, kept: DraftSentence) -> set[tuple[str, int]]:
        return {r for c in self.gained.get(id(kept), []) for r in _refs(self.claims[c])}

    def _disputes(self, kept: DraftSentence, later: DraftSentence) -> bool:
        """Whether ``later`` is the other side of ``kept``'s disputed figure: both state a
        contested figure, their sources give different values for one counted quantity
        (``figures``), and the rest of what they say aligns."""
        if not (self._contested(kept) and self._contested(later)):
            return False
        from service.align import agreeing

        mine, theirs = self._figures(kept), self._figures(later)
        if not any(not agreeing(mine[k], theirs[k]) for k in mine.keys() & theirs.keys()):
            return False  # not two values of one counted quantity
        a, b = kept.text, later.text
        return self.aligner.compatible(a, b, figures=False) and _echoes(self.aligner, a, b)

    def _figures(self, sentence: DraftSentence) -> dict[int, frozenset[str]]:
        # the values its source sentences give, by counted quantity (see ``figures``)
        given: dict[int, frozenset[str]] = {}
        for ref in self._refs(sentence):
            for quantity, values in self.table.get(ref, {}).items():
                given[quantity] = given.get(quantity, frozenset()) | values
        return given

    def final(self, sentence: DraftSentence) -> DraftSentence:
        """``sentence`` citing the claims folded into it."""
        gained = [c for c in self.gained.get(id(sentence), []) if c not in sentence.claims]
        if not gained:
            return sentence
        return DraftSentence.model_construct(
            claims=[*sentence.claims, *dict.fromkeys(gained)], text=sentence.text
        )

    def _refs(self, sentence: DraftSentence) -> set[tuple[str, int]]:
        return {r for c in sentence.claims if c in self.claims for r in _refs(self.claims[c])}

    def _folds(self, kept: DraftSentence, later: DraftSentence) -> bool:
        """Whether ``later`` states ``kept``'s fact, each of its sources backing ``kept``."""
        both = [*kept.claims, *self.gained.get(id(kept), []), *later.claims]
        if len(set(both)) > MAX_CLAIMS or not set(both) <= self.claims.keys():
            return False
        if any(self.claims[c].status is ClaimStatus.CONTESTED for c in both):
            return False  # the differing figures are shown apart, never folded into one
        mine = self._refs(kept) | self._gained_refs(kept)
        theirs = self._refs(later) - mine
        if {a for a, _ in theirs} & {a for a, _ in mine}:
            return False  # an outlet's other sentence states another fact
        if not theirs or not self.aligner.aligned(kept.text, later.text):
            return False
        return all(self.aligner.aligned(kept.text, self.text_of.get(r, "")) for r in theirs)


TOO_LONG = "the briefing would say more than {share:.0%} of its articles' words"


def fit(composed: Composed, claims: Sequence[MergedClaim], articles: Sequence[Article]) -> Composed:
    """``composed`` within :data:`WORD_SHARE` of its articles' words (to the nearest
    sentence: one more than half over is cut). The sentence that adds
    least goes first: backed by the fewest outlets, then the most of its words said by the
    rest, then the latest. The opening sentence and each outlet's last cited sentence stay
    (no outlet is cut out for length)."""
    by_id = {c.id: c for c in (composed.claims or claims)}
    order = [*composed.draft.all_sentences(), *composed.filled]
    budget = WORD_SHARE * _words(articles)
    cut: set[int] = set()
    while (kept := [s for s in order if id(s) not in cut]) and _length(kept) > budget:
        droppable = [s for s in kept[1:] if not _last_of_an_outlet(s, kept, by_id)]
        least = min(droppable, key=lambda s: _adds(s, kept, by_id, order), default=None)
        if least is None or _length(kept) - budget < _length([least]) / 2:
            break  # the nearest length to the bound keeps the sentence
        cut.add(id(least))
    return _without(composed, cut, TOO_LONG.format(share=WORD_SHARE)) if cut else composed


def _length(sentences: Sequence[DraftSentence]) -> int:
    return sum(len(s.text.split()) for s in sentences)


def _adds(
    sentence: DraftSentence,
    kept: list[DraftSentence],
    claims: dict[str, MergedClaim],
    order: list[DraftSentence],
) -> tuple[int, float, int]:
    # what the briefing loses without ``sentence``: ordered least first
    rest = " ".join(s.text for s in kept if s is not sentence)
    return (_outlets(sentence, claims), -coverage(sentence.text, rest), -order.index(sentence))


def _last_of_an_outlet(
    sentence: DraftSentence, kept: list[DraftSentence], claims: dict[str, MergedClaim]
) -> bool:
    others = {a for s in kept if s is not sentence for a in _cited_outlets(s, claims)}
    return bool(_cited_outlets(sentence, claims) - others)


def _cited_outlets(sentence: DraftSentence, claims: dict[str, MergedClaim]) -> set[str]:
    return {s.article_id for c in sentence.claims if c in claims for s in claims[c].support}


def _without(composed: Composed, cut: set[int], reason: str) -> Composed:
    """``composed`` without the sentences whose ``id`` is in ``cut``, each listed as dropped."""
    every = [*composed.draft.all_sentences(), *composed.filled]
    return replace(
        composed,
        draft=_rebuilt(composed.draft, lambda ss: [s for s in ss if id(s) not in cut]),
        filled=[s for s in composed.filled if id(s) not in cut],
        dropped=[
            *composed.dropped,
            *(DroppedSentence(text=s.text, reason=reason) for s in every if id(s) in cut),
        ],
    )


def _rebuilt(draft: Draft, each: Callable[[list[DraftSentence]], list[DraftSentence]]) -> Draft:
    """``draft`` with ``each`` applied to its lede, then to each section's sentences in turn;
    a section left with no sentence is left out."""
    lede = each(draft.lede)
    sections = [
        DraftSection.model_construct(heading=s.heading, sentences=each(s.sentences))
        for s in draft.sections
    ]
    kept = [s for s in sections if s.sentences]
    return Draft.model_construct(title=draft.title, lede=lede, sections=kept)


def _own(claim: MergedClaim) -> set[tuple[str, int]]:
    # the sentences the claim's own wording comes from (others' support may be shared)
    first = claim.support[0]
    return {(first.article_id, i) for i in first.sentence_ids}


def _refs(claim: MergedClaim) -> set[tuple[str, int]]:
    return {(s.article_id, i) for s in claim.support for i in s.sentence_ids}


def _words(articles: Sequence[Article]) -> int:
    # a near-duplicate copy says nothing its original does not
    return sum(len(s.text.split()) for a in articles if not a.duplicate_of for s in a.kept)


def from_claims_only(claims: Sequence[MergedClaim], articles: Sequence[Article]) -> Composed:
    """A briefing made by code alone, when no composer can be asked (the budget is spent)."""
    empty = Draft.model_construct(title=FALLBACK_TITLE, lede=[], sections=[])
    by_id = {c.id: c for c in claims}
    return fold(fill(Composed(empty, []), claims, articles), by_id, articles)
