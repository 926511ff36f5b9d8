"""Clean-up: boilerplate, captions, comments, repeats, fragments and off-topic stories set aside."""

from collections import Counter
from pathlib import Path

import pytest

from schemas import RemovedKind
from service.clean import clean
from service.ingest import ingest, make_article


def test_seed_noise_never_reaches_the_model(seeds: Path) -> None:
    kept = " ".join(s.text for a in clean(ingest([seeds]).articles) for s in a.kept)
    for noise in ("Advertisement", "Leave A Reply", "Photo:", "Photo by", "Comments", "Louvre",
                  "Lindsay Sandiford", "Hong Kong International Airport", "Takaichi", "Matzomaster",
                  "31.9 C", "pool photo via AP"):  # fmt: skip
        assert noise not in kept, noise


def test_seed_removals_are_recorded_by_kind(seeds: Path) -> None:
    kinds = {
        Path(a.origin).name[:3]: Counter(r.kind for r in a.removed)
        for a in clean(ingest([seeds]).articles)
    }
    assert kinds["000"][RemovedKind.OFF_TOPIC] == 4
    assert kinds["000"][RemovedKind.CAPTION] == 1
    assert kinds["001"][RemovedKind.REPEATED] == 2
    assert kinds["001"][RemovedKind.HEADLINE] == 1
    assert kinds["002"][RemovedKind.BOILERPLATE] >= 5
    assert kinds["003"][RemovedKind.COMMENTS] == 9
    assert kinds["004"][RemovedKind.CAPTION] == 1


def test_the_story_itself_is_kept(seeds: Path) -> None:
    for article in clean(ingest([seeds]).articles):
        assert len(article.kept) >= 10, article.origin
    kept = " ".join(s.text for a in clean(ingest([seeds]).articles) for s in a.kept)
    for fact in (
        "About 600 North Korean soldiers",
        "some 15,000 troops",
        "101 portraits",
        "at least 1,000",
    ):
        assert fact in kept


def test_removals_keep_ids_and_offsets(seeds: Path) -> None:
    for before, after in zip(
        ingest([seeds]).articles, clean(ingest([seeds]).articles), strict=True
    ):
        assert after.sentences == before.sentences
        assert after.text == before.text
        for removal in after.removed:
            assert after.text[removal.start : removal.end].strip()


ARTICLE = """\
Share this article
The council approved a new budget of $4 million on Monday after a long debate.
We use cookies to improve your experience. Accept cookies policy
The mayor said the vote was a good day for the city and its schools.
The mayor greets voters outside the hall. (Jane Doe/Getty Images)
Subscribe to our newsletter for the latest updates
12 Comments
Great news for the city, finally someone listens!
"""


def test_synthetic_page_noise_is_set_aside() -> None:
    (article,) = clean([make_article(ARTICLE, "page.txt", "Local")])
    assert [s.text for s in article.kept] == [
        "The council approved a new budget of $4 million on Monday after a long debate.",
        "The mayor said the vote was a good day for the city and its schools.",
    ]
    kinds = [r.kind for r in article.removed]
    assert kinds.count(RemovedKind.BOILERPLATE) == 3
    assert RemovedKind.CAPTION in kinds
    assert kinds[-2:] == [RemovedKind.COMMENTS, RemovedKind.COMMENTS]


def test_off_topic_needs_other_articles_to_compare_with() -> None:
    text = "The museum reopened after the heist, with new guards at every door and gate."
    (alone,) = clean([make_article(text, "a.txt", "A")])
    assert alone.removed == []


def test_an_article_that_is_all_noise_is_skipped_with_a_reason(tmp_path: Path) -> None:
    from service.pipeline import prepare

    good = make_article("The council approved a budget on Monday after a debate.", "g.txt", "G")
    noise = make_article("- Advertisement -\nSource link\nLatest News\n", "n.txt", "N")
    prepared = prepare([good, noise])
    assert prepared.usable == clean([good])
    assert [(s.subject, s.reason) for s in prepared.skipped] == [
        ("n.txt", "nothing left after setting aside boilerplate, captions and comments")
    ]


def test_the_off_topic_bar_is_lower_for_small_sets() -> None:
    from service.clean import OFF_TOPIC_SHARE, off_topic_share

    assert off_topic_share(4) == off_topic_share(9) == OFF_TOPIC_SHARE
    assert off_topic_share(2) == pytest.approx(0.283, abs=0.001)
