"""Ingestion: sentence ids and offsets, titles, sources, and one-line errors for bad inputs."""

import io
from pathlib import Path

import pytest

from service.ingest import ingest, make_article, split_sentences


def test_seed_sentences_map_back_to_exact_text(seeds: Path) -> None:
    result = ingest([seeds])
    assert len(result.articles) == 5
    assert result.skipped == []
    for article in result.articles:
        assert [s.id for s in article.sentences] == list(range(1, len(article.sentences) + 1))
        for sentence in article.sentences:
            assert article.text[sentence.start : sentence.end] == sentence.text


def test_sentence_splitting_handles_abbreviations() -> None:
    text = "Kim met U.S. officials on Monday. They talked for 2.5 hours.\nA new paragraph."
    assert [s.text for s in split_sentences(text)] == [
        "Kim met U.S. officials on Monday.",
        "They talked for 2.5 hours.",
        "A new paragraph.",
    ]


def test_ids_are_stable_for_the_same_text() -> None:
    first = make_article("One fact here. Another fact there.", "a.txt", "A")
    second = make_article("One fact here. Another fact there.", "b.txt", "B")
    assert first.id == second.id
    assert first.sentences == second.sentences


def test_title_from_headline_line_and_markdown(tmp_path: Path) -> None:
    txt = tmp_path / "story.txt"
    txt.write_text("Council passes the city budget\n\nThe council voted on Monday.\n")
    md = tmp_path / "story.md"
    md.write_text("# Mayor resigns after vote\nThe mayor resigned.\n")
    titles = {Path(a.origin).name: a.title for a in ingest([txt, md]).articles}
    assert titles == {
        "story.txt": "Council passes the city budget",
        "story.md": "Mayor resigns after vote",
    }


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "31.9 C\nMiami\nSaturday, August 30, 2025\n\nCouncil passes the city budget\n\n"
            "The council voted on Monday.\n",
            "Council passes the city budget",
        ),
        (
            "12:04\n\nLe conseil adopte le budget de la ville\n\nLe conseil a vot\u00e9 lundi.\n",
            "Le conseil adopte le budget de la ville",
        ),
        ("The council voted on Monday.\n\nCouncil passes the city budget\n\nMore.\n", None),
        ("Photo\nCouncil passes the city budget\nThe council voted on Monday.\n", None),
    ],
)
def test_a_headline_under_a_page_dumps_date_place_or_weather_is_the_title(
    tmp_path: Path, text: str, title: str | None
) -> None:
    path = tmp_path / "story.txt"
    path.write_text(text, encoding="utf-8")
    assert ingest([path]).articles[0].title == title


def test_source_mapping_names_the_outlet(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("The council voted on Monday.")
    assert ingest([path], sources={"a.txt": "Reuters"}).articles[0].source == "Reuters"
    assert ingest([path]).articles[0].source == "a"


def test_bad_inputs_are_skipped_with_a_reason_and_the_rest_go_on(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("The council voted on Monday.")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "huge.txt").write_bytes(b"word " * 500_000)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    inputs = [
        good,
        tmp_path / "missing.txt",
        tmp_path / "binary.txt",
        tmp_path / "huge.txt",
        empty_dir,
    ]
    result = ingest(inputs)
    assert [a.origin for a in result.articles] == [str(good)]
    reasons = {Path(s.subject).name: s.reason for s in result.skipped}
    assert reasons["missing.txt"].startswith("no such file")
    assert reasons["binary.txt"].startswith("binary data")
    assert reasons["huge.txt"].startswith("larger than 2 MB")
    assert reasons["empty"].startswith("folder holds no article files")
    assert all("\n" not in reason for reason in reasons.values())


def test_duplicate_text_is_read_once(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("The same wire story, twice.")
    result = ingest([tmp_path])
    assert len(result.articles) == 1
    assert result.skipped[0].reason.startswith("same text as")


def test_stdin_is_read_for_dash() -> None:
    result = ingest(["-"], stdin=io.StringIO("Read from standard input. Second sentence."))
    assert result.articles[0].origin == "<stdin>"
    assert len(result.articles[0].sentences) == 2


def test_other_encodings_are_detected_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    text = "Le café de la gare a rouvert ses portes après deux années de travaux, selon la mairie."
    path.write_bytes(text.encode("cp1252"))
    (article,) = ingest([path]).articles
    assert article.text == text
