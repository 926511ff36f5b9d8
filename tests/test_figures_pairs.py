"""Disagreements compare a figure only with the values near it and with each kind of scope
once, not with every other figure: what they find is what comparing every pair finds."""

from collections.abc import Iterator

import pytest

import service.figures as figures
from schemas import Article, Disagreement
from service.assemble import number_sources
from tests.helpers import article

KILLED = [
    "about 600", "600", "nearly 610", "two dozen", "25", "40", "31", "1,000", "nearly 1,000",
    "more than 1,100", "thousands", "4,000", "a hundred", "120", "seven", "several hundred",
    "0", "0.5", "700", "about 650", "1,200", "some 2,000",
]  # fmt: skip
"""Values that are the same figure rounded, round by nature, vague, or apart."""
SCOPES = ["", " in Kursk province", " on Monday", " in 2023", " since January"]
COST = ["$43,885,310", "nearly $44 million", "$44 million", "$1.2 billion", "$45 million"]


def _articles() -> list[Article]:
    found = []
    for i, value in enumerate(KILLED):
        scope = SCOPES[i % len(SCOPES)]
        cost = COST[i % len(COST)]
        text = (
            f"Officials said {value} soldiers were killed{scope}, a spokesman told reporters. "
            f"The repairs cost {cost}, the ministry said."
        )
        found.append(article(text, f"outlet{i}"))
    return found


def _disagreements(items: list[Article]) -> list[Disagreement]:
    return figures.disagreements(items, number_sources(items), [])


def _every_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    def values(self: figures._Near, key: str) -> Iterator[str]:
        yield from self._keys  # every value given before

    monkeypatch.setattr(figures._Near, "values", values)
    monkeypatch.setattr(figures, "_kind_of", lambda mention: (id(mention),))  # each its own


def test_comparing_near_values_and_kinds_of_scope_finds_what_every_pair_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = _articles()
    found = _disagreements(items)
    _every_pair(monkeypatch)
    assert found == _disagreements(items)
    assert max(len(d.values) for d in found) >= 5  # several values, some taken as one
    assert any(len(v.citations) > 1 for d in found for v in d.values)
