"""Merging: near-identical claims group, different figures never do, outlets are counted once."""

import pytest

from schemas import ClaimStatus
from service.align import agreeing, same_value
from service.merge import merge
from service.verify import numbers
from tests.helpers import article, claims

A = article("About 600 soldiers were killed, Seoul said. Kim held a ceremony.", "alpha")
B = article("Seoul said about 600 soldiers were killed. Western officials said 1,000 died.", "beta")


def test_same_claim_in_other_words_merges_and_is_corroborated() -> None:
    merged = merge(
        [
            claims(A, ("Seoul said about 600 soldiers were killed.", [1])),
            claims(B, ("About 600 soldiers were killed, Seoul said.", [1])),
        ],
        [A, B],
    )
    assert len(merged) == 1
    assert merged[0].status is ClaimStatus.CORROBORATED
    assert [s.article_id for s in merged[0].support] == [A.id, B.id]


def test_different_figures_stay_apart() -> None:
    merged = merge(
        [
            claims(A, ("About 600 soldiers were killed.", [1])),
            claims(B, ("About 1,000 soldiers were killed.", [2])),
        ],
        [A, B],
    )
    # B's first sentence also says about 600 (it is added as support); its 1,000 stays apart
    assert [[(s.article_id, s.sentence_ids) for s in m.support] for m in merged] == [
        [(A.id, [1]), (B.id, [1])],
        [(B.id, [2])],
    ]
    assert merged[1].status is ClaimStatus.SINGLE_SOURCE


def test_two_articles_of_one_outlet_count_once() -> None:
    a2 = article("Seoul said about 600 soldiers were killed in the war.", "alpha")
    merged = merge(
        [
            claims(A, ("Seoul said 600 soldiers were killed.", [1])),
            claims(a2, ("Seoul said 600 soldiers were killed.", [1])),
        ],
        [A, a2],
    )
    assert merged[0].sources == 1
    assert merged[0].status is ClaimStatus.SINGLE_SOURCE


def test_ids_follow_first_appearance() -> None:
    merged = merge(
        [
            claims(
                A, ("Kim held a ceremony in the capital.", [2]), ("About 600 soldiers died.", [1])
            )
        ],
        [A],
    )
    assert [(m.id, m.text) for m in merged] == [
        ("c1", "Kim held a ceremony in the capital."),
        ("c2", "About 600 soldiers died."),
    ]


def test_numbers_are_normalised() -> None:
    assert numbers("some 15,000 troops") == numbers("15000 troops") == frozenset({"15000"})


def test_the_same_figures_in_other_words_corroborate_and_different_ones_do_not() -> None:
    a = article("About 600 soldiers have been killed and thousands more wounded, Seoul said.", "a")
    b = article(
        "South Korea's spy agency estimates that approximately 600 soldiers have been "
        "killed, with thousands more injured.",
        "b",
    )
    c = article("Around 600 soldiers had been killed, while more than 4,000 had been wounded.", "c")
    merged = merge(
        [
            claims(a, (a.sentences[0].text, [1])),
            claims(b, (b.sentences[0].text, [1])),
            claims(c, (c.sentences[0].text, [1])),
        ],
        [a, b, c],
    )
    assert [[s.article_id for s in m.support] for m in merged] == [[a.id, b.id], [c.id]]
    assert merged[0].status is ClaimStatus.CORROBORATED


def test_another_outlet_stating_a_claim_in_a_sentence_not_picked_corroborates_it() -> None:
    a = article("Kim held a ceremony. Some 15,000 troops were sent to Russia, Seoul said.", "a")
    b = article(
        "The leader spoke for an hour. According to the NIS, the North has sent some 15,000 "
        "troops. More than 10,000 troops were sent, officials said.",
        "b",
    )
    c = article("Officials said more than 10,000 troops were sent to Russia last year.", "c")
    merged = merge([claims(a, (a.sentences[1].text, [2]))], [a, b, c])
    [claim] = merged
    assert [(s.article_id, s.sentence_ids, s.attribution) for s in claim.support] == [
        (a.id, [2], "Seoul"),
        (b.id, [2], "the NIS"),
    ]
    assert claim.sources == 2


# Paraphrase alignment: the rules hold for a class of sentences, shown on several stories.
STORIES = [
    (
        "North Korean leader Kim Jong Un knelt before portraits of the fallen soldiers.",
        "Images showed Kim kneeling in front of the portraits of soldiers who had fallen.",
    ),
    (
        "The Senate voted on Wednesday to advance the bipartisan infrastructure package.",
        "On Wednesday senators agreed to advance a bipartisan package for infrastructure.",
    ),
    (
        "Microsoft agreed to buy the handset business of Nokia for its Windows phones.",
        "Nokia is selling its handset business to Microsoft, which makes Windows phones.",
    ),
]
FILLER = (
    "North Korean leader Kim Jong Un spoke at a ceremony in Pyongyang. The Senate met on "
    "Wednesday about the infrastructure package. Microsoft and Nokia confirmed the deal."
)
"""Each article's other sentences: as in a real story, its people, places and subject recur."""


def _merged_pair(first: str, second: str) -> list[list[str]]:
    a, b = article(f"{first} {FILLER}", "alpha"), article(f"{FILLER} {second}", "beta")
    merged = merge(
        [claims(a, (first, [1])), claims(b, (second, [4]))],
        [a, b],
    )
    return [[s.article_id for s in m.support] for m in merged]


@pytest.mark.parametrize(("first", "second"), STORIES)
def test_one_fact_told_in_other_words_by_two_outlets_is_one_claim(first: str, second: str) -> None:
    assert len(_merged_pair(first, second)) == 1


@pytest.mark.parametrize(("first", "second"), STORIES)
def test_an_outlets_paraphrase_the_model_did_not_pick_still_corroborates(
    first: str, second: str
) -> None:
    a, b = article(f"{first} {FILLER}", "alpha"), article(f"{FILLER} {second}", "beta")
    [claim] = merge([claims(a, (first, [1]))], [a, b])
    assert [(s.article_id, s.sentence_ids) for s in claim.support] == [(a.id, [1]), (b.id, [4])]
    assert claim.status is ClaimStatus.CORROBORATED


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "Officials said 15,000 North Korean troops were sent to fight for Russia.",
            "North Korea sent about 10,000 troops to fight for Russia, officials said.",
        ),
        (
            "The package provides 550 billion dollars in new federal infrastructure spending.",
            "The package provides 1.2 trillion dollars in new federal infrastructure spending.",
        ),
        ("Police arrested 30 protesters outside the embassy.", "Police arrested 45 protesters."),
    ],
)
def test_different_figures_for_one_quantity_never_merge(first: str, second: str) -> None:
    assert len(_merged_pair(first, second)) == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (  # the story's people and place, another act
            "Kim Jong Un hugged the returning soldiers at the ceremony in Pyongyang.",
            "Kim Jong Un knelt before portraits of the dead at the ceremony in Pyongyang.",
        ),
        (  # the same act, other people
            "Senator Manchin voted to advance the infrastructure package on Wednesday.",
            "Senator Sinema voted to advance the infrastructure package on Wednesday.",
        ),
        (  # the same names, nothing else in common
            "Microsoft and Nokia executives met in Helsinki.",
            "Analysts doubt Microsoft can revive Nokia handsets.",
        ),
    ],
)
def test_different_facts_about_the_same_story_stay_apart(first: str, second: str) -> None:
    assert len(_merged_pair(first, second)) == 2


def test_a_claim_joins_only_statements_of_what_it_says() -> None:
    # b's sentence states both a's fact and c's; a's and c's facts stay apart all the same
    a = article("Kim knelt before the portraits of the fallen soldiers in Pyongyang.", "a")
    b = article("Kim knelt before portraits of soldiers and hugged their weeping families.", "b")
    c = article("Kim hugged the weeping families of soldiers and comforted them.", "c")
    merged = merge([claims(x, (x.sentences[0].text, [1])) for x in (a, b, c)], [a, b, c])
    assert [[s.article_id for s in m.support] for m in merged] == [[a.id, b.id], [c.id, b.id]]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (  # a side figure told vaguely by one outlet, exactly by the other
            "About 600 North Korean soldiers have been killed and thousands more wounded, "
            "Seoul said.",
            "Seoul said around 600 North Korean soldiers had been killed, while more than "
            "4,000 had been wounded.",
        ),
        (  # one figure rounded by one outlet, exact in the other
            "The couple paid nearly $44 million in federal taxes over eight years.",
            "Over eight years the couple paid $43,885,310 in federal taxes.",
        ),
    ],
)
def test_one_figure_told_at_another_precision_is_one_fact(first: str, second: str) -> None:
    assert len(_merged_pair(first, second)) == 1


@pytest.mark.parametrize(
    ("exact", "other", "same"),
    [
        ("43885310", "44000000", True),
        ("43885310", "43000000", True),
        ("4000", "thousand", True),
        ("600", "hundred", True),
        ("600", "thousand", False),
        ("1000", "600", False),
        ("1200000000000", "1000000000000", False),
        ("15000", "10000", False),
    ],
)
def test_values_are_one_figure_only_up_to_rounding_or_a_vague_count(
    exact: str, other: str, same: bool
) -> None:
    assert same_value(exact, other) is same
    assert same_value(other, exact) is same


def test_statements_agree_when_one_gives_the_others_values_among_its_own() -> None:
    assert agreeing(frozenset({"600", "1000"}), frozenset({"600"}))
    assert not agreeing(frozenset({"600", "1000"}), frozenset({"600", "4000"}))
