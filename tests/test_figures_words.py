"""Disputed figures beyond digits: counts written in words, and the day an event is dated."""

import pytest

from schemas import Disagreement
from service.assemble import number_sources
from service.figures import disagreements, spoken_number, value_key
from tests.helpers import article


def _rows(*texts: str) -> dict[str, list[str]]:
    items = [article(t, f"outlet{n}") for n, t in enumerate(texts)]
    found: list[Disagreement] = disagreements(items, number_sources(items), [])
    return {d.topic: [v.value for v in d.values] for d in found}


def _values(*texts: str) -> list[list[str]]:
    return list(_rows(*texts).values())


@pytest.mark.parametrize(
    ("words", "number"),
    [
        ("seven", 7),
        ("Twenty-five", 25),
        ("twenty five", 25),
        ("three hundred and forty two", 342),
        ("two dozen", 24),
        ("a dozen", 12),
        ("a million", 1_000_000),
        ("one hundred", 100),
    ],
)
def test_counts_in_words_are_numbers(words: str, number: int) -> None:
    assert spoken_number(words) == number
    assert value_key(f"about {words}") == value_key(f"{number:,}") == str(number)


@pytest.mark.parametrize("words", ["thousands", "several thousand", "dozens", "someone", "one"])
def test_vague_counts_and_other_words_are_no_number(words: str) -> None:
    assert spoken_number(words) is None


def test_a_count_in_words_disagrees_with_one_in_digits_for_the_same_thing() -> None:
    rows = _rows(
        "Seven soldiers were killed in the attack, the army said.",
        "At least 12 soldiers were killed in the attack.",
    )
    assert rows == {"soldiers killed": ["Seven", "at least 12"]}


def test_a_count_in_words_is_the_same_value_as_in_digits() -> None:
    assert _rows("Twenty-five people were arrested.", "Police arrested 25 people.") == {}


def test_a_round_count_in_words_is_the_same_as_a_value_near_it() -> None:
    dozen = "Two dozen people were injured in the blast."
    assert _rows(dozen, "25 people were injured in the blast.") == {}
    assert _values(dozen, "40 people were injured in the blast.") == [["Two dozen", "40"]]


def test_a_length_of_time_is_not_a_count() -> None:
    # "eight years of tax returns" and "the 15 years since" are spans, not what was paid
    assert (
        _rows(
            "She released eight years of tax returns showing the couple paid taxes.",
            "They have paid more in the 15 years since they left office.",
        )
        == {}
    )
    assert (
        _rows(
            "Soldiers were killed in three months of fighting.",
            "Soldiers were killed in five months of fighting.",
        )
        == {}
    )


def test_one_is_not_a_count_in_one_of() -> None:
    assert (
        _rows(
            "One of the soldiers killed was a general.", "Three soldiers were killed in the raid."
        )
        == {}
    )


def test_the_day_an_event_is_named_by_differs_between_outlets() -> None:
    rows = _rows(
        "The deal, announced on Monday, gives Microsoft the phone business.",
        "The seeds of Sunday's deal were sown two years ago.",
    )
    assert rows == {"day of the deal (announced)": ["Monday", "Sunday"]}


def test_the_same_day_or_another_event_is_no_disagreement() -> None:
    monday = "The deal, announced on Monday, gives Microsoft the phone business."
    assert _rows(monday, "Monday's deal surprised investors.") == {}
    # signing is not announcing: two events of one deal
    assert _rows(monday, "The deal, signed on Tuesday, closes next year.") == {}
    # a vote is not the deal
    assert _rows(monday, "Sunday's vote went the government's way.") == {}
    # an election is held on one day and announced on another
    called = "The election, announced on Monday, will be close."
    assert _rows(called, "Sunday's election was close.") == {}
    assert _values(called, "The election, announced on Friday, will be close.") == [
        ["Monday", "Friday"]
    ]


def test_an_outlet_giving_two_days_tells_of_two_events() -> None:
    assert (
        _rows(
            "Monday's meeting ended without a result; Thursday's meeting did too.",
            "Tuesday's meeting ended without a result.",
        )
        == {}
    )


def test_the_day_something_was_said_is_not_the_day_of_the_event() -> None:
    assert (
        _rows(
            "Sunday's summit ended with a joint statement.",
            "The summit ended with a statement, officials said Monday.",
        )
        == {}
    )
    assert (
        _rows(
            "Sunday's summit ended with a joint statement.",
            "Officials said on Monday the summit had ended, calling next Monday's summit key.",
        )
        == {}
    )


def test_a_share_in_words_reads_as_a_share() -> None:
    assert _values(
        "Its market share is now five percent, analysts said.",
        "Its market share is now 12 percent.",
    ) == [["five percent", "12%"]]
