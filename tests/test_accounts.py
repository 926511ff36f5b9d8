"""How a message was conveyed: a qualitative disagreement, verified on both sides in code."""

import pytest

from schemas import ClaimStatus, Disagreement
from service.accounts import conveyed, person
from service.assemble import number_sources
from service.figures import disagreements
from service.merge import contest, merge
from tests.helpers import article, claims

LETTER = "Russian President Vladimir Putin hailed the troops as heroic in a letter to Kim."
CALL = "Putin praised the heroism of the troops in a phone call to Kim last week, KCNA said."


def _differ(*texts: str) -> list[Disagreement]:
    items = [article(t, f"outlet{n}") for n, t in enumerate(texts)]
    return disagreements(items, number_sources(items), [])


def _rows(*texts: str) -> list[list[str]]:
    return [[v.value for v in d.values] for d in _differ(*texts)]


@pytest.mark.parametrize(
    ("text", "by", "to", "wording"),
    [
        (LETTER, "Russian President Vladimir Putin", "Kim", "a letter"),
        (CALL, "Putin", "Kim", "a phone call"),
        ("Kim received a letter from Russian President Vladimir Putin, who praised the troops.",
         "Russian President Vladimir Putin", "Kim", "a letter"),
        ("Putin's congratulatory letter to Kim praised the troops.", "Putin", "Kim",
         "a congratulatory letter"),
        ("Biden spoke about the strike in a telephone call with Netanyahu on Monday.", "Biden",
         "Netanyahu", "a telephone call"),
    ],
)  # fmt: skip
def test_an_account_names_who_conveyed_it_to_whom_and_how(
    text: str, by: str, to: str, wording: str
) -> None:
    [found] = conveyed(article(text, "x"))
    assert (found.by, found.to, found.wording) == (by, to, wording)


@pytest.mark.parametrize(
    "text",
    [
        "Both the letter and spirit of the rules permitted officials to use private email.",
        "In a statement, the ministry said the troops were heroic.",
        "The minister, in a speech, praised the troops.",
        "She released a one-and-a-half-page letter from her doctor.",
    ],
)
def test_a_channel_without_a_named_sender_and_addressee_is_no_account(text: str) -> None:
    assert list(conveyed(article(text, "x"))) == []


def test_titles_and_nationality_are_not_who_someone_is() -> None:
    assert person("Russian President Vladimir Putin") == {"vladimir", "putin"}
    assert person("North Korean leader Kim Jong Un") == {"kim", "jong", "un"}


def test_a_letter_and_a_phone_call_for_one_exchange_are_a_disagreement() -> None:
    [row] = _differ(LETTER, CALL)
    assert "Putin" in row.topic
    assert "Kim" in row.topic
    assert [v.value for v in row.values] == ["a letter", "a phone call"]
    assert [v.attribution for v in row.values] == [[], ["KCNA"]]
    assert [[c.source for c in v.citations] for v in row.values] == [[1], [2]]


def test_the_same_channel_in_other_words_is_no_disagreement() -> None:
    received = "Kim received a letter from Putin, who called the troops heroic."
    assert _rows(LETTER, received) == []
    assert _rows(CALL, "Putin hailed the troops in a telephone call to Kim.") == []


def test_an_outlet_telling_of_both_channels_means_both_happened() -> None:
    both = f"{LETTER} Later, Putin thanked the troops in a phone call to Kim."
    assert _rows(both, CALL) == []


@pytest.mark.parametrize(
    "other",
    [
        # another addressee
        "Putin praised the heroism of the troops in a phone call to Lukashenko.",
        # the other way round: Kim conveyed it to Putin
        "Kim praised the heroism of the troops in a phone call to Putin.",
        # nothing conveyed in common: another exchange
        "Putin discussed gas prices in a phone call to Kim.",
        # a word that names no channel
        "Putin hailed the troops as heroic in a message to Kim.",
    ],
)
def test_another_exchange_is_no_disagreement(other: str) -> None:
    assert _rows(LETTER, other) == []


def test_an_exchange_dated_differently_is_another_exchange() -> None:
    march = "In March, Putin hailed the troops as heroic in a letter to Kim."
    june = "In June, Putin hailed the troops as heroic in a phone call to Kim."
    assert _rows(march, june) == []
    # the day it was reported is not the day of the exchange
    told = "Putin hailed the troops as heroic in a phone call to Kim, state media reported Monday."
    assert len(_rows(LETTER, told)) == 1


def test_claims_naming_a_disputed_channel_are_contested() -> None:
    a = article(f"{LETTER} Kim held a ceremony.", "alpha")
    b = article(CALL, "beta")
    told = claims(a, ("Putin hailed the troops in a letter to Kim.", [1]), ("Kim bowed.", [2]))
    merged = merge([told], [a, b])
    found = disagreements([a, b], number_sources([a, b]), merged)
    assert [c.status for c in contest(merged, found)] == [
        ClaimStatus.CONTESTED,
        ClaimStatus.SINGLE_SOURCE,
    ]


def test_a_subject_that_names_no_one_is_no_account() -> None:
    assert list(conveyed(article("The ministry hailed the troops in a letter to Kim.", "x"))) == []
    assert (
        _rows(
            "The agency hailed the troops in a letter to Kim.",
            "The president hailed the troops in a phone call to Kim.",
        )
        == []
    )
