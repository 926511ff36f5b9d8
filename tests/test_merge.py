"""Merging: near-identical claims group, different figures never do, outlets are counted once."""

from schemas import ClaimStatus
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
