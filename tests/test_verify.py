"""Grounding checks: numbers and content words must come from the backing text."""

import pytest

from schemas import ClaimKind, ExtractedClaim, Extraction
from service.extract import ground
from service.verify import (
    best_anchor,
    checks,
    coverage,
    names,
    numbers,
    opening_names,
    unbacked_quotes,
    ungrounded,
    unmarked_quote,
)
from tests.helpers import article

SOURCE = "About 600 soldiers were killed, Seoul said. Kim held a ceremony in Pyongyang on Friday."


def test_a_faithful_paraphrase_is_grounded() -> None:
    assert ungrounded("Seoul said about 600 soldiers were killed.", [SOURCE]) is None


def test_a_number_not_in_the_source_is_caught() -> None:
    assert ungrounded("Seoul said about 1,000 soldiers were killed.", [SOURCE]) == (
        "states 1000, which its sources do not"
    )


def test_wording_beyond_the_source_is_caught() -> None:
    problem = ungrounded("Kim wept while promising revenge on the whole army.", [SOURCE])
    assert problem == "says something its sources do not"


def test_a_name_not_in_the_source_is_caught() -> None:
    problem = ungrounded("About 600 soldiers were killed, Seoul and Washington said.", [SOURCE])
    assert problem == "names washington, which its sources do not"


TALKS = "the talks in Geneva with European leaders failed on Tuesday, officials reported."


@pytest.mark.parametrize(
    ("claimed", "named"),
    [
        ("Putin said {talks}", "putin"),
        ("Putin, meanwhile, said {talks}", "putin"),
        ("Putin's aides said {talks}", "putin"),
        ('"Putin lied," he said: {talks}', "putin"),
        ("\u201cPutin lied,\u201d he said: {talks}", "putin"),
        ("\u00abPutin lied\u00bb, he said: {talks}", "putin"),
        ("(Putin) said {talks}", "putin"),
        ("He spoke. Putin said {talks}", "putin"),
        ("Orb\u00e1n said {talks}", "orb\u00e1n"),
        ("\u00c9rdogan said {talks}", "\u00e9rdogan"),
        ("Al-Sisi said {talks}", "sisi"),
        ("NATO said {talks}", "nato"),
        ("Mrs. Putin said {talks}", "putin"),
    ],
)
def test_a_name_opening_a_sentence_not_in_the_source_is_caught(claimed: str, named: str) -> None:
    source = f"Zelensky said {TALKS}"
    problem = ungrounded(claimed.format(talks=TALKS), [source])
    assert problem == f"names {named}, which its sources do not"


@pytest.mark.parametrize(
    "opening",
    ["Meanwhile,", "However,", "Officials said", "Separately,", "Critics said", "Reportedly,"],
)
def test_a_common_word_opening_a_sentence_is_no_name(opening: str) -> None:
    assert opening_names(f"{opening} {TALKS}") == set()
    assert ungrounded(f"{opening} {TALKS}", [f"Zelensky said {TALKS}"]) is None


def test_a_name_opening_a_sentence_that_the_source_holds_passes() -> None:
    assert opening_names(f"Zelensky said {TALKS}") == {"zelensky"}
    assert ungrounded(f"Zelensky said {TALKS}", [f"On Monday, Zelensky said {TALKS}"]) is None


def test_names_in_other_alphabets_are_names_and_small_letters_are_not() -> None:
    found = names("He met Érdogan and Зеленский in ölbad, über alles.")
    assert found == {"érdogan", "зеленский"}


def test_names_are_compared_after_folding_hyphens_and_case() -> None:
    assert names("Leader Kim Jong-un spoke.") == names("Leader Kim Jong Un spoke.")
    assert (
        ungrounded(
            "Seoul said Kim Jong-un held a ceremony.", ["Kim Jong Un held a ceremony, Seoul said."]
        )
        is None
    )


def test_a_quote_the_sources_do_not_hold_loses_its_quotation_marks() -> None:
    text = "Kim called them \u201cgreat heroes\u201d and \u201cbrave lions of the east\u201d."
    fixed, count = unbacked_quotes(text, ["Kim called them great heroes and great patriots."])
    assert fixed == "Kim called them \u201cgreat heroes\u201d and brave lions of the east."
    assert count == 1


def test_coverage_is_one_way() -> None:
    short = "Kim held a ceremony."
    assert coverage(short, SOURCE) == 1.0
    assert coverage(SOURCE, short) < 0.5


def test_best_anchor_finds_the_stating_sentence() -> None:
    sentences = [(1, "Kim held a ceremony in Pyongyang."), (2, "About 600 soldiers were killed.")]
    assert best_anchor("About 600 soldiers were killed", sentences) == 2
    assert best_anchor("Nobody said this at all anywhere", sentences) is None


def _extraction(*claims: tuple[str, list[int]]) -> Extraction:
    return Extraction(
        summary="A summary of the article.",
        claims=[ExtractedClaim(evidence=ids, kind=ClaimKind.FACT, text=t) for t, ids in claims],
    )


def test_ground_keeps_reanchors_and_rejects() -> None:
    item = article(SOURCE, "alpha")
    grounded = ground(
        _extraction(
            ("About 600 soldiers were killed, Seoul said.", [1]),
            ("Kim held a ceremony in Pyongyang on Friday.", [1]),
            ("Kim declared war on the United Nations.", [2]),
            ("About 600 soldiers were killed, Seoul said.", [1]),
        ),
        item,
    )
    assert [c.evidence for c in grounded.extraction.claims] == [[1], [2]]
    assert grounded.reanchored == 1
    assert [r.reason for r in grounded.rejected] == [
        "not stated by the article's sentences",
        "repeats an earlier claim",
    ]


def test_ground_with_nothing_left_asks_again() -> None:
    import pytest

    with pytest.raises(ValueError, match="no claim is stated"):
        ground(_extraction(("Kim declared war on the United Nations.", [2])), article(SOURCE, "a"))


def test_numbers_fold_written_scales() -> None:
    assert numbers("15,000") == numbers("15000") == numbers("15 thousand") == {"15000"}
    assert numbers("1.28 million soldiers") == {"1280000"}


def test_checks_record_each_outcome() -> None:
    found = {c.name: c for c in checks("Kim said 700 died in Seoul.", ["Kim said 600 died."])}
    assert not found["numbers"].passed
    assert "700" in found["numbers"].detail
    assert not found["names"].passed
    assert "seoul" in found["names"].detail
    assert found["wording"].detail == "50% of its content words are in its sources"


MEMO = (
    '"After careful consultation with medical experts, I have determined that vaccination is '
    'necessary to protect the Force," Secretary Austin wrote in a memo.'
)


@pytest.mark.parametrize(
    "text",
    [
        "After careful consultation with medical experts, I have determined that vaccination "
        "is necessary.",
        "Austin said that after careful consultation with medical experts he acted.",
        "I HAVE DETERMINED THAT VACCINATION IS NECESSARY to protect the Force, Austin wrote.",
    ],
)
def test_a_sources_quoted_words_given_without_quotation_marks_are_found(text: str) -> None:
    assert unmarked_quote(text, [MEMO])


@pytest.mark.parametrize(
    "source",
    [
        "\u00ab Nous avons d\u00e9cid\u00e9 de voter la r\u00e9forme lundi \u00bb, dit-il.",
        "\u201eWir haben beschlossen die Reform am Montag zu beschlie\u00dfen\u201c, sagte er.",
    ],
)
def test_quotations_in_guillemets_and_german_quotes_are_quotations(source: str) -> None:
    quoted = source.split("\u00bb")[0].split("\u201c")[0].strip("\u00ab\u201e ")
    assert unmarked_quote(f"{quoted}.", [source])
    assert unbacked_quotes(f"Il a dit \u00ab {quoted} \u00bb.", [source])[1] == 0


@pytest.mark.parametrize(
    ("text", "source"),
    [
        (MEMO, MEMO),  # quoted as the source quotes it
        (
            "\u201cAfter careful consultation with medical experts, I have determined that "
            "vaccination is necessary,\u201d Austin wrote.",
            MEMO,
        ),
        ("Austin ordered vaccination after consulting medical experts.", MEMO),
        (
            "Le ministre a dit que la r\u00e9forme des retraites sera vot\u00e9e lundi.",
            "\u00ab La r\u00e9forme sera vot\u00e9e lundi \u00bb, a dit le ministre. "
            "Le ministre a dit que la r\u00e9forme des retraites sera vot\u00e9e lundi.",
        ),
        ("Austin said it was necessary.", "Austin said it was \u2018necessary\u2019."),
    ],
)
def test_quoted_words_kept_in_quotation_marks_or_not_the_sources_quote_pass(
    text: str, source: str
) -> None:
    assert not unmarked_quote(text, [source])


@pytest.mark.parametrize(
    "padding", [" ", " \u00ab", "\u201c ", "( ", ". ", "-", "\u00a0"], ids=repr
)
def test_long_runs_of_spaces_quotes_or_stops_are_read_in_one_pass(padding: str) -> None:
    """A sentence opener's pattern with two ways to read a run of spaces would take time
    growing with the run's square: 100,000 characters would take minutes."""
    text = "He left." + padding * 50_000 + "9 Putin"
    assert opening_names(text, known={"he"}) == set()
    assert "putin" in names(text)


@pytest.mark.parametrize(
    ("opening", "padding", "closing"),
    [
        ("\u00ab", " ", ""),
        ("\u00ab", " ", "\u00bb"),
        ("\u00ab ab", "\u00a0", " x \u00bb"),
        ("\u2018", "a ", ""),
        ("\u2018the", " \t", "x\u2019"),
        ("\u00ab", "\u2003 ", "x"),
    ],
    ids=repr,
)
def test_long_runs_of_spaces_in_quotation_marks_are_read_in_one_pass(
    opening: str, padding: str, closing: str
) -> None:
    """Spaces around or inside quoted words, read in as many ways as the run is long from
    each space, took time growing with the run's cube: 2,000 spaces took seconds."""
    text = "He said " + opening + padding * (60_000 // len(padding)) + closing + "."
    assert unbacked_quotes(text, [text])[0] == text
    assert not unmarked_quote("He left.", [text])
