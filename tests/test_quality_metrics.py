"""The quality benchmark's metric code, on hand-made briefings (no model, no quality threshold)."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.common import write_articles
from bench.quality import Cluster, run
from bench.quality_keys import KEYS, Key, KeyFileError, load_key
from bench.quality_match import contains, matches, normalise, occurs
from bench.quality_metrics import (
    brevity,
    cleanup,
    consolidation,
    content_words,
    coverage,
    disagreements,
    grounding,
)
from bench.quality_stories import score
from bench.quality_view import Doc, Line, Row, Shown, View, view_of
from schemas import Briefing, BriefSentence, Citation, ClaimStatus, Source
from schemas.briefing import Disagreement, FigureValue, Skipped, Usage
from service import Settings
from service.ingest import make_article
from tests.fault_server import Plan, fault_server

ARTICLES = {
    "D1": "Troops killed 600 soldiers near the border, Seoul said. The ceremony was held.",
    "D2": "About 600 soldiers died, officials said. Kim attended the ceremony in Pyongyang.",
    "D3": "At least 1,000 were killed, Western officials said. A medal ceremony took place.",
}


def make_key(**entries: object) -> Key:
    fields: dict[str, object] = {
        "cluster": "test",
        "docs": {"D1": "Left", "D2": "Centre", "D3": "Right"},
    }
    return Key.model_validate(fields | entries)


FACT = {
    "id": "f1",
    "fact": "Kim attended a ceremony.",
    "docs": ["D1", "D2", "D3"],
    "match": [["Kim"], ["ceremony", "medal"]],
}
KILLED = {
    "id": "d1",
    "what": "soldiers killed",
    "match": [["killed", "died", "dead"]],
    "values": [
        {"value": "about 600", "docs": ["D1", "D2"], "match": ["600"]},
        {"value": "at least 1,000", "docs": ["D3"], "match": ["1,000"]},
    ],
}
DISTANCES = {
    "id": "n1",
    "what": "different distances",
    "values": [
        {"value": "12", "docs": ["D1"], "match": ["12"]},
        {"value": "3", "docs": ["D2"], "match": ["3"]},
    ],
}


def view(
    lines: list[Line], rows: tuple[Row, ...] = (), title: str = "Kim honours soldiers"
) -> View:
    docs = {name: Doc(name, text) for name, text in ARTICLES.items()}
    sentences = tuple(s for text in ARTICLES.values() for s in text.split(". "))
    return View(title, tuple(lines), rows, docs, sentences)


def line(text: str, *docs: str, cited: str = "") -> Line:
    return Line(text, frozenset(docs), cited)


def row(topic: str, *values: str) -> Row:
    return Row(topic, tuple(Shown(v, frozenset({"D1"})) for v in values))


# The matcher


@pytest.mark.parametrize(
    ("alternative", "text", "found"),
    [
        ("war", "a warning was issued", False),
        ("war", "the war, it said", True),
        ("15,000", "15000 people", True),
        ("15000", "some 15,000 people", True),
        ("600", "1,600 soldiers", False),
        ("3", "3.2 billion", False),
        ("1.5 million", "1.5 million women", True),
        ("$3.2 billion", "committed $3.2 billion in June", True),
        ("U.S.", "the U.S. said", True),
        ("Kim's", "Kim\u2019s men", True),
        ("north-east", "the north\u2013east coast", True),
        ("New York", "NEW\n  YORK", True),
    ],
)
def test_occurrence_keeps_word_boundaries_and_folds_numbers(
    alternative: str, text: str, found: bool
) -> None:
    assert occurs(alternative, text) is found


def test_a_pattern_needs_one_alternative_of_every_group() -> None:
    pattern = [["Kim", "North Korea's leader"], ["ceremony", "medal"]]
    assert matches(pattern, "North Korea\u2019s leader held a ceremony")
    assert not matches(pattern, "Kim held a rally")
    assert not matches([], "anything")


def test_containment_folds_case_and_whitespace_without_word_boundaries() -> None:
    assert contains("Photograph: Jane Doe/AFP", "x photograph:  jane doe/afpGetty")
    assert not contains("Jane Doe", "John Doe")
    assert normalise(" A\u00a0 B\u201d ") == 'a b"'


# What the metrics read of a real briefing


def test_a_briefing_is_seen_by_document_name(tmp_path: Path) -> None:
    files = {name: tmp_path / f"{name}.txt" for name in ARTICLES}
    for name, path in files.items():
        path.write_text(ARTICLES[name])
    d1, d2 = (make_article(ARTICLES[n], str(files[n]), n) for n in ("D1", "D2"))
    sources = [
        Source(number=i, article_id=a.id, name="x", origin="x") for i, a in [(1, d1), (2, d2)]
    ]
    both = [Citation(source=1, article_id=d1.id, sentence_ids=[1])]
    both.append(Citation(source=2, article_id=d2.id, sentence_ids=[2]))
    wrong = [Citation(source=1, article_id=d2.id, sentence_ids=[1])]
    lede = [
        BriefSentence(text="a", claim_ids=["c1"], citations=both, status=ClaimStatus.CORROBORATED),
        BriefSentence(text="b", claim_ids=["c2"], citations=wrong, status=ClaimStatus.CORROBORATED),
    ]
    values = [
        FigureValue(value="600", citations=both[:1]),
        FigureValue(value="650", citations=wrong),
    ]
    briefing = Briefing(
        title="T",
        lede=lede,
        sections=[],
        sources=sources,
        claims=[],
        articles=[d1, d2],
        skipped=[Skipped(stage="extract", subject=str(files["D3"]), reason="invalid reply")],
        disagreements=[Disagreement(topic="killed", values=values)],
        model="m",
        generated_at=datetime.now(UTC),
        usage=Usage(),
    )
    seen = view_of(briefing, files)
    assert seen.lines[0].docs == {"D1", "D2"}
    assert seen.lines[0].cited == f"{d1.sentence(1).text} {d2.sentence(2).text}"
    assert (seen.lines[0].resolves, seen.lines[1].resolves) == (True, False)
    assert [v.docs for v in seen.rows[0].values] == [{"D1"}, {"D2"}]
    assert (seen.docs["D3"].read, seen.docs["D3"].why_not_read) == (False, "invalid reply")
    assert seen.docs["D1"].read


# 1. Grounding


def test_grounding_finds_a_number_or_name_missing_from_the_cited_sentences() -> None:
    good = line("Officials in Seoul said 600 soldiers were killed.", "D1", cited=ARTICLES["D1"])
    bad = line("Officials in Moscow said 700 soldiers were killed.", "D1", cited=ARTICLES["D1"])
    result = grounding(view([good, bad]))
    assert (result.lines, result.resolving, result.grounded) == (2, 2, 1)
    assert "700" in result.ungrounded[0]
    ordinal = line("An 18th-century tavern.", "D1", cited="the 18th century saloon")
    assert grounding(view([ordinal])).grounded == 1
    assert "Moscow" in result.ungrounded[0]


# 2. Consolidation


def test_a_redundant_pair_is_found_and_the_fact_is_not_corroborated() -> None:
    lines = [
        line("Kim attended the ceremony.", "D1"),
        line("Kim held a medal ceremony.", "D2"),
        line("The weather was fine.", "D3"),
    ]
    result = consolidation(view(lines), make_key(facts=[FACT]))
    assert (result.facts, result.stated, result.corroborated, result.redundant) == (1, 1, 0, 1)
    assert result.details[0].stated_by == [0, 1]
    assert result.fact_doc_recall == pytest.approx(2 / 3)


def test_a_fact_stated_once_and_cited_to_all_its_documents_is_corroborated() -> None:
    lines = [line("Kim attended the ceremony.", "D1", "D2", "D3")]
    result = consolidation(view(lines), make_key(facts=[FACT]))
    assert (result.stated, result.corroborated, result.redundant) == (1, 1, 0)


def test_a_fact_no_line_states_is_not_stated() -> None:
    result = consolidation(view([line("Troops met.", "D1")]), make_key(facts=[FACT]))
    assert (result.facts, result.stated, result.fact_doc_recall) == (1, 0, None)


# 3. Disagreements


def test_a_shown_key_disagreement_is_recalled_and_true() -> None:
    shown = row("killed (soldiers)", "about 600", "at least 1,000")
    result = disagreements(view([], (shown,)), make_key(disagreements=[KILLED]))
    assert (result.key, result.shown, result.rows, result.true) == (1, 1, 1, 1)
    assert result.precision == 1.0


def test_a_value_is_read_with_the_unit_its_row_names() -> None:
    size = {
        "id": "d2",
        "what": "size of the package",
        "match": [["trillion"]],
        "values": [
            {"value": "nearly $1 trillion", "docs": ["D1"], "match": ["1 trillion"]},
            {"value": "$1.2 trillion", "docs": ["D3"], "match": ["1.2 trillion"]},
        ],
    }
    shown = row("trillion (amount)", "$1", "$1.2")
    assert disagreements(view([], (shown,)), make_key(disagreements=[size])).true == 1


def test_a_false_disagreement_lowers_precision() -> None:
    rows = (
        row("killed (soldiers)", "about 600", "at least 1,000"),
        row("distance (miles)", "12", "3"),
        row("wounded", "40", "55"),
    )
    key = make_key(disagreements=[KILLED], not_disagreements=[DISTANCES])
    result = disagreements(view([], rows), key)
    assert (result.true, result.known_false, result.unmatched) == (1, 1, 1)
    assert result.precision == pytest.approx(1 / 3)


def test_one_value_alone_or_both_in_one_value_does_not_show_a_disagreement() -> None:
    rows = (row("killed", "about 600", "about 650"), row("killed", "600 to 1,000", "12"))
    result = disagreements(view([], rows), make_key(disagreements=[KILLED]))
    assert (result.shown, result.true) == (0, 0)
    assert result.missed == ["d1: soldiers killed"]
    assert result.precision == 0.0


def test_a_value_of_another_count_mixed_into_a_row_is_stray() -> None:
    shown = row("killed", "about 600", "at least 1,000", "12 in Seoul")
    result = disagreements(view([], (shown,)), make_key(disagreements=[KILLED]))
    assert result.details[0].stray == ["12 in Seoul"]


def test_no_rows_leaves_precision_unmeasured() -> None:
    assert disagreements(view([]), make_key(disagreements=[KILLED])).precision is None


# 4. Clean-up and fairness


def test_a_must_not_appear_hit_is_counted_in_lines_title_and_rows() -> None:
    key = make_key(
        must_not_appear=[
            {"text": "Photograph: Jane Doe", "why": "credit"},
            {"text": "Click here to subscribe", "why": "navigation"},
            {"text": "Read more", "why": "navigation"},
        ]
    )
    lines = [line("Kim spoke. Photograph:  JANE DOE/AFP", "D1")]
    result = cleanup(view(lines, title="Read more: Kim"), key)
    assert result.must_not_appear == 3
    assert result.hits == ["Photograph: Jane Doe", "Read more"]


def test_a_dropped_angle_is_counted_and_an_angle_needs_a_line_cited_to_its_document() -> None:
    angles = [
        {"doc": "D1", "angle": "Seoul's count", "match": [["Seoul"]]},
        {"doc": "D3", "angle": "Western count", "match": [["Western"]]},
    ]
    lines = [line("Seoul gave a count.", "D1"), line("Western officials differ.", "D2")]
    result = cleanup(view(lines), make_key(must_keep=angles))
    assert (result.angles, result.kept) == (2, 1)
    assert result.dropped_angles == ["D3: Western count"]
    assert result.uncited == ["D3"]


def test_a_skipped_or_mostly_set_aside_document_is_lost() -> None:
    docs = {
        "D1": Doc("D1", "a"),
        "D2": Doc("D2", "b", read=False, set_aside=1.0, why_not_read="off-topic"),
        "D3": Doc("D3", "c", set_aside=0.8),
    }
    result = cleanup(View("T", (line("x", "D1"),), (), docs), None)
    assert result.lost == ["D2: not read (off-topic)", "D3: 80% set aside"]
    assert result.hits == []


def test_the_fallback_title_is_noticed() -> None:
    assert cleanup(view([], title="What the sources report"), None).untitled


# 5. Coverage


def test_a_reference_unit_is_matched_by_one_line_holding_half_its_content_words() -> None:
    units = [
        "The computing giant released a 30-slide presentation today",
        "Nokia shares fell sharply in Helsinki",
    ]
    lines = [line("Microsoft released a 30-slide presentation on the deal.", "D1")]
    result = coverage(view(lines), units, None)
    assert (result.units, result.units_matched) == (2, 1)
    assert result.rouge1 is None


def test_rouge_is_one_for_the_summary_itself_and_lower_for_other_words() -> None:
    summary = "Merck asked the FDA to authorize its pill"
    same = coverage(view([line(summary, "D1")], title=""), [], summary)
    other = coverage(view([line("Troops gathered at the border.", "D1")]), [], summary)
    assert same.rougeL == pytest.approx(1.0)
    assert other.rougeL is not None
    assert other.rougeL < 0.5


def test_content_words_drop_stop_words_and_plurals() -> None:
    assert content_words("The soldiers' deaths and the Army's tanks") == {
        "soldier",
        "death",
        "army",
        "tank",
    }


# 6. Brevity and writing


def test_a_line_copied_from_a_source_sentence_is_told_from_a_composed_one() -> None:
    copied = line("About 600 soldiers died, officials said.", "D2")
    composed = line("Seoul and Western officials give different tolls.", "D1", "D3")
    result = brevity(view([copied, composed], title="Toll"))
    assert (result.copied, result.composed) == (1, 1)
    assert result.briefing_words == 1 + 6 + 7
    assert result.article_words == sum(len(t.split()) for t in ARTICLES.values())


# 8. Stories


def test_story_pairs_are_scored_against_clusters() -> None:
    groups = [["a__D1", "a__D2", "b__D1"], ["a__D3"], ["b__D2"]]
    result = score(groups, clusters=2)
    assert (result.articles, result.stories) == (5, 3)
    # together: (a1,a2) right, (a1,b1) and (a2,b1) wrong; same cluster: a1a2 a1a3 a2a3 b1b2
    assert result.precision == pytest.approx(1 / 3)
    assert result.recall == pytest.approx(1 / 4)


# Keys


def test_a_key_naming_an_unlisted_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "test.toml"
    path.write_text(
        'cluster = "test"\n[docs]\nD1 = "A"\nD2 = "B"\n'
        '[[facts]]\nid = "f1"\nfact = "x"\ndocs = ["D1", "D9"]\nmatch = [["x"]]\n'
    )
    with pytest.raises(KeyFileError, match="D9"):
        load_key(path)


def test_a_key_with_an_empty_group_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "test.toml"
    path.write_text(
        'cluster = "test"\n[docs]\nD1 = "A"\n[[must_keep]]\ndoc = "D1"\nangle = "a"\nmatch = [[]]\n'
    )
    with pytest.raises(KeyFileError, match="pattern"):
        load_key(path)


@pytest.mark.parametrize("path", sorted(KEYS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_key_file_follows_the_format(path: Path) -> None:
    key = load_key(path)
    assert key.cluster == path.stem


# The run


def test_a_cluster_that_cannot_be_briefed_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    files = write_articles(tmp_path / "good", 3)
    empty = tmp_path / "bad" / "D1.txt"
    empty.parent.mkdir()
    empty.write_text("")
    clusters = [
        Cluster("bad", {"D1": empty}, {}),
        Cluster("good", {f"D{i}": p for i, p in enumerate(files, 1)}, {}),
    ]
    out = tmp_path / "result.json"
    with fault_server(Plan()) as url:
        settings = Settings(model="hosted_vllm/fault", api_base=url, cache_dir=tmp_path / "c")
        results = run(clusters, settings, out)
    assert results[0].error is not None
    assert "D1.txt" in results[0].error
    assert results[1].error is None
    assert results[1].grounding is not None
    assert results[1].grounding.lines == len(results[1].lines) > 0
    written = json.loads(out.read_text())
    assert [c["cluster"] for c in written["clusters"]] == ["bad", "good"]
