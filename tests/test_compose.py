"""Citations are resolved by code from claim ids; invalid sentences are dropped and reported."""

import json
from collections import Counter

import pytest

from schemas import (
    Article,
    ClaimKind,
    ClaimStatus,
    Draft,
    DraftSection,
    DraftSentence,
    MergedClaim,
    Support,
)
from service._exceptions import BriefingError, ReplyInvalidError
from service.assemble import StageResults, assemble, cite, number_sources
from service.compose import (
    PER_OUTLET,
    WORD_SHARE,
    Composed,
    evidence_texts,
    fill,
    fit,
    fold,
    joined,
    lead_with_best,
    review,
    salvage,
    shown_claims,
)
from service.merge import merge
from service.render import render
from tests.helpers import article, claims

A = article("About 600 soldiers were killed, Seoul said. Kim held a ceremony.", "alpha")
B = article("Seoul said about 600 soldiers were killed. Western officials said 1,000 died.", "beta")
MERGED = merge(
    [
        claims(
            A,
            ("Seoul said about 600 soldiers were killed.", [1]),
            ("Kim held a ceremony for the dead.", [2]),
        ),
        claims(B, ("About 600 soldiers were killed, Seoul said.", [1])),
    ],
    [A, B],
)
BY_ID = {c.id: c for c in MERGED}
SOURCES = number_sources([A, B])


def test_citations_point_at_every_source_holding_the_claim() -> None:
    sentence = cite(
        DraftSentence(claims=["c1"], text="Seoul says about 600 soldiers died."), BY_ID, SOURCES
    )
    assert [(c.source, c.article_id, c.sentence_ids) for c in sentence.citations] == [
        (1, A.id, [1]),
        (2, B.id, [1]),
    ]
    assert sentence.status is ClaimStatus.CORROBORATED


def test_a_sentence_with_any_single_source_claim_is_single_source() -> None:
    sentence = cite(
        DraftSentence(claims=["c1", "c2"], text="Kim held a ceremony; 600 died."), BY_ID, SOURCES
    )
    assert sentence.status is ClaimStatus.SINGLE_SOURCE


DRAFT = {
    "title": "Ceremony for the dead",
    "lede": [{"claims": ["c1"], "text": "Seoul says about 600 soldiers died."}],
    "sections": [
        {
            "heading": "Ceremony",
            "sentences": [
                {"claims": ["c2"], "text": "Kim held a ceremony for the dead."},
                {"claims": ["c9"], "text": "An invented claim the model made up."},
            ],
        }
    ],
}


def test_salvage_drops_only_sentences_naming_unknown_claims() -> None:
    error = ReplyInvalidError("invalid", last_reply=json.dumps(DRAFT))
    composed = salvage(error, set(BY_ID))
    assert [s.text for s in composed.draft.all_sentences()] == [
        "Seoul says about 600 soldiers died.",
        "Kim held a ceremony for the dead.",
    ]
    assert [d.text for d in composed.dropped] == ["An invented claim the model made up."]


def test_salvage_of_unparseable_reply_fails_clearly() -> None:
    with pytest.raises(BriefingError, match="no usable briefing"):
        salvage(ReplyInvalidError("invalid", last_reply="{"), set(BY_ID))


def test_every_citation_of_a_built_briefing_resolves() -> None:
    composed = salvage(ReplyInvalidError("invalid", last_reply=json.dumps(DRAFT)), set(BY_ID))
    briefing = assemble(
        StageResults(Composed(composed.draft, composed.dropped), MERGED, [A, B], model="test")
    )
    articles = {a.id: a for a in briefing.articles}
    for sentence in briefing.all_sentences():
        for citation in sentence.citations:
            assert briefing.sources[citation.source - 1].article_id == citation.article_id
            assert set(citation.sentence_ids) <= articles[citation.article_id].sentence_ids
    assert len(briefing.dropped) == 1


def test_composer_sees_claims_from_every_article_in_turn() -> None:
    a, b = article("First story text.", "a"), article("Second story text.", "b")
    merged = merge(
        [
            claims(a, ("Rain fell across the north.", [1]), ("Schools closed for the day.", [1])),
            claims(
                b, ("The mayor declared an emergency.", [1]), ("Trains ran late all evening.", [1])
            ),
        ],
        [a, b],
    )
    assert [c.text for c in shown_claims(merged)] == [
        "Rain fell across the north.",
        "The mayor declared an emergency.",
        "Schools closed for the day.",
        "Trains ran late all evening.",
    ]


FLOOD_A = article(
    "Flood waters rose in the town on Tuesday. The mayor declared an emergency at noon. "
    "Schools closed for the day. Trains ran late all evening. Volunteers filled sandbags "
    "by the river until dark. Rain is expected to ease by the weekend, forecasters said.",
    "alpha",
)
FLOOD_B = article(
    "The mayor declared an emergency at noon on Tuesday. Flood waters rose in the town. "
    "Shops on the high street stayed shut. The council opened a shelter in the sports hall.",
    "beta",
)
FLOOD = merge(
    [
        claims(FLOOD_A, *((s.text, [s.id]) for s in FLOOD_A.sentences[:5])),
        claims(FLOOD_B, *((s.text, [s.id]) for s in FLOOD_B.sentences)),
    ],
    [FLOOD_A, FLOOD_B],
)


def _draft(*claim_ids: str, claims: list[MergedClaim] = FLOOD) -> Composed:
    by_id = {c.id: c for c in claims}
    said = [DraftSentence(claims=[c], text=by_id[c].text) for c in claim_ids]
    sections = (
        [DraftSection.model_construct(heading="More", sentences=said[1:])] if said[1:] else []
    )
    return Composed(Draft.model_construct(title="T", lede=said[:1], sections=sections), [])


def test_the_top_up_adds_what_several_outlets_report_and_one_claim_of_each_outlets_own() -> None:
    [single] = [c for c in FLOOD if c.text.startswith("Schools")]
    filled = fill(_draft(single.id), FLOOD, [FLOOD_A, FLOOD_B])
    by_id = {c.id: c for c in FLOOD}
    added = [by_id[s.claims[0]] for s in filled.filled]
    assert added[0].sources > 1  # the shared facts first
    own = Counter(c.support[0].article_id for c in added if c.sources == 1)
    assert own[FLOOD_B.id] == PER_OUTLET  # beta's own angle, which the draft left out, is kept
    assert all(n <= PER_OUTLET for n in own.values())  # by its best claim alone
    briefing = assemble(StageResults(filled, FLOOD, [FLOOD_A, FLOOD_B], model="test"))
    assert briefing.sections[-1].from_claims
    assert briefing.sections[-1].heading == "Also reported"
    text = render(briefing)
    assert f"## Also reported\n\n- {filled.filled[0].text} [1][2]\n" in text
    assert f"{len(filled.filled)} added from the claims" in text


def test_a_topped_up_briefing_stays_within_its_share_of_the_input() -> None:
    for articles in ([FLOOD_A, FLOOD_B], [FLOOD_B], [A, B]):
        merged = merge(
            [claims(a, *((s.text, [s.id]) for s in a.sentences[:5])) for a in articles], articles
        )
        filled = fill(_draft(claims=merged), merged, articles)
        words = sum(len(s.text.split()) for s in filled.filled)
        inputs = sum(len(s.text.split()) for a in articles for s in a.sentences)
        assert len(filled.filled) == 1 or words <= WORD_SHARE * inputs
        assert filled.filled  # nothing composed: the claims are the briefing


def test_a_claim_drawn_from_a_sentence_already_cited_is_not_added_again() -> None:
    # two claims of one article drawn from one sentence state one fact
    a = article("Flood waters rose in the town on Tuesday, closing the schools.", "a")
    b = article("Flood waters rose in the town on Tuesday, and schools were closed.", "b")
    merged = merge(
        [
            claims(a, ("Flood waters rose in the town.", [1]), ("The schools closed.", [1])),
            claims(b, ("Schools were closed on Tuesday after the flood.", [1])),
        ],
        [a, b],
    )
    filled = fill(_draft(merged[0].id, claims=merged), merged, [a, b])
    assert filled.filled == []


def test_the_lede_states_the_best_corroborated_sentences() -> None:
    by_outlets = sorted(FLOOD, key=lambda c: c.sources)
    weakest, best = by_outlets[0], by_outlets[-1]
    assert weakest.sources < best.sources
    led = lead_with_best(_draft(weakest.id, best.id), {c.id: c for c in FLOOD})
    assert [s.claims for s in led.draft.lede] == [[best.id]]
    assert [s.claims for s in led.draft.sections[0].sentences] == [[weakest.id]]
    kept = lead_with_best(_draft(best.id, weakest.id), {c.id: c for c in FLOOD})
    assert [s.claims for s in kept.draft.lede] == [[best.id]]


def test_an_ungrounded_sentence_is_reworded_from_its_claims() -> None:
    draft = {
        "title": "Ceremony for the dead",
        "lede": [{"claims": ["c1"], "text": "Seoul says 900 soldiers died in a secret battle."}],
        "sections": [
            {
                "heading": "Ceremony",
                "sentences": [{"claims": ["c2"], "text": "Kim held a ceremony for the dead."}],
            }
        ],
    }
    composed = review(Composed(Draft.model_validate(draft), []), BY_ID)
    assert composed.draft.lede[0].text == "Seoul said about 600 soldiers were killed."
    assert composed.repaired[0].reason == "states 900, which its sources do not"


def test_a_sentence_reworded_from_claims_of_different_backing_is_told_claim_by_claim() -> None:
    text = "Seoul said about 900 soldiers were killed, and Kim held a ceremony for the dead."
    lede = [DraftSentence(claims=["c1", "c2"], text=text)]
    draft = Draft.model_construct(title="Ceremony for the dead", lede=lede, sections=[])
    composed = review(Composed(draft, []), BY_ID)
    assert [(s.claims, s.text) for s in composed.draft.lede] == [
        (["c1"], "Seoul said about 600 soldiers were killed."),
        (["c2"], "Kim held a ceremony for the dead."),
    ]  # two outlets back the first, one the second: each sentence is marked for itself
    assert {(r.text, r.reason) for r in composed.repaired} == {
        (text, "states 900, which its sources do not")
    }
    briefing = assemble(StageResults(composed, MERGED, [A, B], model="test"))
    assert [s.status for s in briefing.lede] == [
        ClaimStatus.CORROBORATED,
        ClaimStatus.SINGLE_SOURCE,
    ]
    assert (
        render(briefing, "markdown")
        .rstrip()
        .endswith(
            "*Checked 1 composed sentences: 0 shown as written, 1 reworded from their claims, "
            "0 dropped.*"
        )
    )


def test_a_sources_quotation_given_as_the_briefings_own_words_is_reworded() -> None:
    said = (
        '"After careful consultation with medical experts, I have determined that vaccination '
        'is necessary," Austin wrote in a memo.'
    )
    memo = article(f"{said} The order applies to all troops.", "alpha")
    merged = merge([claims(memo, (said, [1]))], [memo])
    unmarked = said.split('," ')[0].strip('"') + "."
    lede = [DraftSentence(claims=[merged[0].id], text=unmarked)]
    draft = Draft.model_construct(title="Troops must be vaccinated", lede=lede, sections=[])
    composed = review(
        Composed(draft, []), {c.id: c for c in merged}, evidence_texts(merged, [memo])
    )
    assert composed.draft.lede[0].text == said  # in quotation marks, with who said it
    assert composed.repaired[0].reason == (
        "gives words its sources quote as its own, without quotation marks"
    )


def test_filling_skips_claims_already_said_inside_a_longer_sentence() -> None:
    both = "Seoul said about 600 soldiers were killed. Kim held a ceremony for the dead."
    lede = [DraftSentence(claims=["c1"], text=both)]
    draft = Draft.model_construct(title="Ceremony for the dead", lede=lede, sections=[])
    assert fill(Composed(draft, []), MERGED, [A, B]).filled == []


def test_quotes_and_titles_are_checked_against_the_sources() -> None:
    draft = {
        "title": "Washington reacts to the 900 dead",
        "lede": [
            {
                "claims": ["c1"],
                "text": "Seoul said about 600 soldiers were \u201ckilled in action\u201d.",
            }
        ],
        "sections": [
            {
                "heading": "Ceremony",
                "sentences": [{"claims": ["c2"], "text": "Kim held a ceremony for the dead."}],
            }
        ],
    }
    evidence = evidence_texts(MERGED, [A, B])
    composed = review(Composed(Draft.model_validate(draft), []), BY_ID, evidence)
    assert composed.draft.title == "What the sources report"
    assert composed.draft.lede[0].text == "Seoul said about 600 soldiers were killed in action."
    assert (
        composed.repaired[0].reason
        == "quoted words its sources do not contain; shown as a paraphrase"
    )


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Seoul: 600 soldiers killed", "Seoul: 600 soldiers killed"),
        ("Kim's ceremony in the Korean War", "What the sources report"),
        ("Kim's legacy of the dead", "What the sources report"),
        ("Seoul: 900 soldiers killed", "What the sources report"),
    ],
)
def test_a_title_with_words_or_numbers_no_claim_has_is_not_shown(title: str, shown: str) -> None:
    lede = [DraftSentence(claims=["c2"], text="Kim held a ceremony for the dead.")]
    draft = Draft.model_construct(title=title, lede=lede, sections=[])
    reviewed = review(Composed(draft, []), BY_ID)
    assert assemble(StageResults(reviewed, MERGED, [A, B], model="test")).title == shown
    titled = A.model_copy(update={"title": "A headline the source wrote"})
    assert assemble(StageResults(reviewed, MERGED, [B, titled], model="test")).title == (
        "A headline the source wrote"
    )


def test_a_section_may_not_take_a_heading_the_renderer_writes() -> None:
    # built without validation (as a salvaged draft is): review() renames it all the same
    section = DraftSection.model_construct(
        heading="Sources",
        sentences=[DraftSentence(claims=["c2"], text="Kim held a ceremony for the dead.")],
    )
    lede = [DraftSentence(claims=["c1"], text="Seoul said about 600 soldiers were killed.")]
    draft = Draft.model_construct(title="T", lede=lede, sections=[section])
    reviewed = review(Composed(draft, []), BY_ID)
    assert [s.heading for s in reviewed.draft.sections] == ["Details"]


def test_an_attributed_claim_keeps_its_attribution() -> None:
    item = article("About 600 soldiers were killed, South Korea's spy agency said.", "alpha")
    [claim] = merge([claims(item, ("About 600 soldiers were killed.", [1]))], [item])
    assert claim.support[0].attribution == "South Korea's spy agency"
    draft = Draft.model_construct(
        title="T",
        lede=[DraftSentence(claims=["c1"], text="About 600 soldiers were killed.")],
        sections=[],
    )
    composed = review(Composed(draft, []), {"c1": claim})
    assert composed.draft.lede[0].text == (
        "About 600 soldiers were killed (according to South Korea's spy agency)."
    )
    assert composed.repaired[0].reason == (
        "states as fact what its source attributes to South Korea's spy agency"
    )
    [check] = [c for c in composed.checks[composed.draft.lede[0].text] if c.name == "attribution"]
    assert not check.passed
    empty = Composed(Draft.model_construct(title="T", lede=[], sections=[]), [])
    filled = fill(empty, [claim], [item])
    assert filled.filled[0].text == composed.draft.lede[0].text


def test_a_claim_named_but_not_stated_is_not_cited() -> None:
    draft = Draft.model_construct(
        title="T",
        lede=[DraftSentence(claims=["c2", "c1"], text="Kim held a ceremony for the dead.")],
        sections=[],
    )
    reviewed = review(Composed(draft, []), BY_ID)
    assert [s.claims for s in reviewed.draft.lede] == [["c2"]]
    cited = cite(reviewed.draft.lede[0], BY_ID, SOURCES)
    assert [c.source for c in cited.citations] == [1]


# Folding: one statement per fact, cited to every outlet that states it.
FOLD_FILLER = (
    "North Korean leader Kim Jong Un spoke at a ceremony in Pyongyang. The Senate met on "
    "Wednesday about the infrastructure package. Microsoft and Nokia confirmed the deal."
)
KNELT = "North Korean leader Kim Jong Un knelt before portraits of the fallen soldiers."
KNEELING = "Images showed Kim kneeling in front of the portraits of soldiers who had fallen."
_FOLD_ARTICLES: list[Article] = []
"""The articles of the last ``_folded`` call."""


def _claim(number: int, item: Article, sentence_id: int, **status: ClaimStatus) -> MergedClaim:
    text = item.sentence(sentence_id).text
    support = [Support(article_id=item.id, sentence_ids=[sentence_id], text=text)]
    state = status.get("status", ClaimStatus.SINGLE_SOURCE)
    return MergedClaim(
        id=f"c{number}", kind=ClaimKind.FACT, text=text, support=support, sources=1, status=state
    )


def _folded(
    first: str,
    second: str,
    status: ClaimStatus = ClaimStatus.SINGLE_SOURCE,
    other: ClaimStatus = ClaimStatus.SINGLE_SOURCE,
) -> Composed:
    a = article(f"{first} {FOLD_FILLER}", "alpha")
    b = article(f"{FOLD_FILLER} {second}", "beta")
    _FOLD_ARTICLES[:] = [a, b]
    made = [_claim(1, a, 1, status=status), _claim(2, b, 4, status=other)]
    return fold(_draft("c1", "c2", claims=made), {c.id: c for c in made}, [a, b])


def test_two_outlets_stating_one_fact_in_two_sentences_become_one_sentence_citing_both() -> None:
    folded = _folded(KNELT, KNEELING)
    [sentence] = folded.draft.all_sentences()
    assert (sentence.text, sentence.claims) == (KNELT, ["c1", "c2"])
    sources = [a.id for a in _FOLD_ARTICLES]
    numbered = number_sources(list(_FOLD_ARTICLES))
    cited = cite(sentence, {c.id: c for c in folded.claims}, numbered)
    assert cited.status is ClaimStatus.CORROBORATED  # two outlets back it: not "one source"
    assert {a for c in folded.claims for s in c.support for a in [s.article_id]} == set(sources)
    assert [d.reason for d in folded.dropped] == [
        "states the fact of an earlier sentence, which cites its sources too"
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (KNELT, "Kim Jong Un hugged the returning soldiers at the ceremony in Pyongyang."),
        (
            "Senator Manchin voted to advance the infrastructure package on Wednesday.",
            "Senator Sinema voted to advance the infrastructure package on Wednesday.",
        ),
        (
            "Officials said 15,000 North Korean troops were sent to fight for Russia.",
            "North Korea sent about 10,000 troops to fight for Russia, officials said.",
        ),
    ],
)
def test_sentences_stating_different_facts_or_figures_are_never_folded(
    first: str, second: str
) -> None:
    assert len(_folded(first, second).draft.all_sentences()) == 2


def test_a_contested_claims_sentence_is_never_folded_into_another() -> None:
    assert len(_folded(KNELT, KNEELING, ClaimStatus.CONTESTED).draft.all_sentences()) == 2


def test_an_outlets_other_sentence_is_another_fact() -> None:
    a = article(f"{KNELT} {KNEELING} {FOLD_FILLER}", "alpha")
    made = [_claim(1, a, 1), _claim(2, a, 2)]
    folded = fold(_draft("c1", "c2", claims=made), {c.id: c for c in made}, [a])
    assert len(folded.draft.all_sentences()) == 2


def test_the_top_up_never_adds_a_claim_aligned_with_a_sentence_already_said() -> None:
    a = article(f"{KNELT} {FOLD_FILLER}", "alpha")
    b = article(f"{FOLD_FILLER} {KNEELING}", "beta")
    made = [_claim(1, a, 1), _claim(2, b, 4)]
    assert fill(_draft("c1", claims=made), made, [a, b]).filled == []


def test_the_top_up_prefers_an_outlets_claim_no_other_outlet_echoes() -> None:
    river = "The river flooded the valley town on Monday night."
    own = "The council opened a shelter for families in the sports hall on Tuesday."
    a = article(f"{river} {KNELT} {FOLD_FILLER}", "alpha")
    b = article(f"{KNEELING} {own} {FOLD_FILLER}", "beta")
    made = [_claim(1, a, 1), _claim(2, b, 1), _claim(3, b, 2), _claim(4, a, 2)]
    added = [s.claims for s in fill(_draft("c1", claims=made), made, [a, b]).filled]
    # beta's own angle, not its claim echoing alpha's, which is said once, by alpha
    assert ["c3"] in added
    assert ["c2"] not in added


def test_the_other_side_of_a_disputed_figure_is_left_to_where_sources_differ() -> None:
    fifteen = "Officials said 15,000 North Korean troops were sent to fight for Russia."
    ten = "North Korea sent about 10,000 troops to fight for Russia, officials said."
    folded = _folded(fifteen, ten, ClaimStatus.CONTESTED, ClaimStatus.CONTESTED)
    assert [s.text for s in folded.draft.all_sentences()] == [fifteen]
    assert "Where sources differ" in folded.dropped[0].reason


def test_a_disputed_figure_never_drops_a_sentence_about_another_fact() -> None:
    fifteen = "Officials said 15,000 North Korean troops were sent to fight for Russia."
    other = "About 600 North Korean soldiers were killed and buried in Pyongyang, Seoul said."
    folded = _folded(fifteen, other, ClaimStatus.CONTESTED, ClaimStatus.CONTESTED)
    assert len(folded.draft.all_sentences()) == 2


def test_a_disputed_figure_never_drops_a_sentence_disputing_another_quantity() -> None:
    sent = "Officials said 15,000 North Korean troops were sent to fight for Russia."
    killed = "Officials said 600 North Korean troops were killed fighting for Russia."
    folded = _folded(sent, killed, ClaimStatus.CONTESTED, ClaimStatus.CONTESTED)
    assert len(folded.draft.all_sentences()) == 2


def _sentences(*specs: tuple[str, list[str]]) -> Composed:
    said = [DraftSentence.model_construct(claims=ids, text=text) for text, ids in specs]
    section = DraftSection.model_construct(heading="More", sentences=said[1:])
    return Composed(Draft.model_construct(title="T", lede=said[:1], sections=[section]), [])


def test_a_sentence_saying_again_what_an_earlier_one_cites_is_dropped_as_a_repeat() -> None:
    a = article(f"{KNELT} {FOLD_FILLER}", "alpha")
    b = article(f"{FOLD_FILLER} {KNEELING}", "beta")
    made = [_claim(1, a, 1), _claim(2, b, 4)]
    both = f"{KNELT[:-1]}, and {KNEELING[0].lower()}{KNEELING[1:]}"
    composed = _sentences((both, ["c1", "c2"]), (KNELT, ["c1"]))
    folded = fold(composed, {c.id: c for c in made}, [a, b])
    assert [s.text for s in folded.draft.all_sentences()] == [both]
    assert [d.reason for d in folded.dropped] == [
        "repeats an earlier sentence, which cites the same source sentences"
    ]


def test_a_sentence_citing_a_source_sentence_again_for_another_fact_is_kept() -> None:
    a = article(f"{KNELT} {FOLD_FILLER}", "alpha")
    made = [_claim(1, a, 1), _claim(2, a, 2)]
    composed = _sentences((KNELT, ["c1", "c2"]), ("Kim spoke in Pyongyang.", ["c2"]))
    assert len(fold(composed, {c.id: c for c in made}, [a]).draft.all_sentences()) == 2


def _long_briefing() -> tuple[Composed, list[MergedClaim], list[Article]]:
    a = article(f"{KNELT} {FOLD_FILLER}", "alpha")
    b = article(f"{FOLD_FILLER} {KNEELING}", "beta")
    made = [_claim(1, a, 1), _claim(2, a, 2), _claim(3, a, 3), _claim(4, b, 4)]
    composed = _sentences(*((c.text, [c.id]) for c in made))
    return composed, made, [a, b]


def test_a_briefing_longer_than_its_share_of_the_articles_words_is_cut_to_it() -> None:
    composed, made, articles = _long_briefing()
    kept_words = sum(len(s.text.split()) for a in articles for s in a.kept)
    before = sum(len(s.text.split()) for s in composed.draft.all_sentences())
    assert before > WORD_SHARE * kept_words  # the case: four sentences, two short articles
    fitted = fit(composed, made, articles)
    shown = fitted.draft.all_sentences()
    words = sum(len(s.text.split()) for s in shown)
    longest = max(len(s.text.split()) for s in composed.draft.all_sentences())
    assert words <= WORD_SHARE * kept_words + longest / 2  # to the nearest sentence
    assert shown[0] is composed.draft.lede[0]  # the opening sentence stays
    cited = {s.article_id for x in shown for c in made if c.id in x.claims for s in c.support}
    assert cited == {a.id for a in articles}  # no outlet cut out for length
    assert len(fitted.dropped) == len(composed.draft.all_sentences()) - len(shown) > 0
    assert all("40% of its articles' words" in d.reason for d in fitted.dropped)


def test_a_briefing_within_its_share_is_left_as_it_is() -> None:
    _, made, articles = _long_briefing()
    short = _sentences((made[0].text, ["c1"]), (made[3].text, ["c4"]))
    assert fit(short, made, articles) is short


@pytest.mark.parametrize(
    "headline",
    [
        "North Korea leader meets families of soldiers killed in Russia's war",
        "Kim honours the fallen ",
        "\u91d1\u6b63\u6069\u4f1a\u89c1\u9635\u4ea1\u58eb\u5175\u5bb6\u5c5e",
    ],
)
def test_claims_joined_in_a_repair_each_end_as_a_sentence(headline: str) -> None:
    said = "Kim knelt before the portraits."
    text = joined([headline, said, '"They are heroes," KCNA said.'])
    assert text == f'{headline.rstrip()}. {said} "They are heroes," KCNA said.'


def test_a_sentence_whose_words_an_earlier_one_holds_is_dropped_whatever_it_cites() -> None:
    a = article(f"{KNELT} {FOLD_FILLER}", "alpha")
    made = [_claim(1, a, 1), _claim(2, a, 2)]
    composed = _sentences((KNELT, ["c1"]), ("Kim Jong Un knelt before the portraits.", ["c2"]))
    folded = fold(composed, {c.id: c for c in made}, [a])
    assert [s.text for s in folded.draft.all_sentences()] == [KNELT]
    b = article(f"{FOLD_FILLER} {KNEELING}", "beta")
    made = [_claim(1, a, 1), _claim(2, b, 4)]
    composed = _sentences((KNELT, ["c1"]), ("Kim Jong Un knelt before the portraits.", ["c2"]))
    folded = fold(composed, {c.id: c for c in made}, [a, b])
    # another outlet's sentence is never dropped as a repeat: folded, its outlet cited
    assert [s.claims for s in folded.draft.all_sentences()] == [["c1", "c2"]]
    assert [d.reason for d in folded.dropped] == [
        "states the fact of an earlier sentence, which cites its sources too"
    ]
