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


OPENED = """\
WASHINGTON (AP) \u2014 The council approved a new budget of $4 million on Monday.
Why it matters: The city had run out of money for its schools in the spring.
The mayor said the vote was a good day. Summary: The budget passed by a wide margin.
U.S. - China talks resumed on Monday in Geneva after a pause.
"""


def test_a_dateline_or_label_is_set_aside_and_the_rest_of_its_sentence_kept() -> None:
    before = make_article(OPENED, "page.txt", "Local")
    (after,) = clean([before])
    assert [s.text for s in after.kept] == [
        "The council approved a new budget of $4 million on Monday.",
        "The city had run out of money for its schools in the spring.",
        "The mayor said the vote was a good day.",
        "The budget passed by a wide margin.",
        "U.S. - China talks resumed on Monday in Geneva after a pause.",
    ]
    assert [s.id for s in after.sentences] == [s.id for s in before.sentences]
    for sentence in after.sentences:
        assert after.text[sentence.start : sentence.end] == sentence.text
        assert after.sentence(sentence.id) == sentence
    assert [(r.reason, after.text[r.start : r.end].strip()) for r in after.removed] == [
        ("a dateline", "WASHINGTON (AP) \u2014"),
        ("a newsletter label", "Why it matters:"),
        ("a newsletter label", "Summary:"),
    ]


def test_a_sentence_cut_after_its_opener_ends_where_it_did() -> None:
    before = make_article(OPENED, "page.txt", "Local")
    (after,) = clean([before])
    for old, new in zip(before.sentences, after.sentences, strict=True):
        assert new.end == old.end
        assert old.start <= new.start
        assert old.text.endswith(new.text)


def test_only_kept_sentences_are_cut_and_a_set_aside_line_stays_whole() -> None:
    caption = (
        "WASHINGTON (AP) \u2014 The mayor greets voters outside the hall. (Jane Doe/Getty Images)"
    )
    (article,) = clean([make_article(f"{caption}\n{STORY}", "page.txt", "Local")])
    assert [(r.kind, r.start, r.end) for r in article.removed] == [
        (RemovedKind.CAPTION, 0, len(caption))
    ]
    assert [s.text for s in article.kept] == [STORY]


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


def kept_texts(text: str) -> list[str]:
    (article,) = clean([make_article(text, "page.txt", "Local")])
    return [s.text for s in article.kept]


STORY = "The council approved a new budget of $4 million on Monday after a long debate."
CLOSING = "The mayor said the vote was a good day."


def kept_between(text: str) -> list[str]:
    """The kept sentences of ``text`` set between two sentences of a story."""
    return kept_texts(f"{STORY}\n{text}\n{CLOSING}")


FURNITURE = {
    "photo credit": (
        "Photograph: Jane Doe/AFP/Getty Images",
        "(AP Photo/Ahn Young-joon)",
        "Credit: Reuters",
        "Image: Shutterstock",
        "The mayor greets voters outside the hall. (credit: Adam Woodward)",
        "Voters queue outside the hall Jane Doe/Reuters",
        "Photos by Jane Doe for The Ledger",
    ),
    "wire-photo caption": (
        "ALTERNATE CROP OF MAYOR - The mayor speaks to voters in the city hall on Monday.",
        "FILE - In this Oct. 5, 2015, file photo, the mayor speaks to voters in the hall.",
        "FILE PHOTO: The mayor speaks to voters in the hall in the city, May 5, 2024.",
        "In this photo released by the city council, the mayor speaks to voters in the hall.",
        "This undated handout photo provided by the council shows the mayor in the hall.",
    ),
    "navigation or widget": (
        "play pause Mayor Says Budget Vote Was A Good Day For The City",
        "You May Also Be Interested In These Stories",
        "Story continues below advertisement",
        "Newsletter Sign Up Continue reading the main story Please verify you're not a robot.",
        "Related coverage: the budget debate in pictures and the vote, hour by hour",
        "Council: No Power to Stop the Budget Vote at City Hall [TLD]",
        "Budget Passes After Long Night October 15, 2013 5:39 PM",
    ),
    "credit line or list lead-in": (
        "Jane Doe contributed to this report.",
        "Reporting by Jane Doe; Editing by John Smith",
        "Here are the figures the council gave, by department:",
    ),
    "list of names": (
        "Joe's Diner\nAcme Hardware & Tools Co\nMain Street Bakery\nBlue Fin Sushi Bar",
        "- Acme Tools\n- Blue Fin Sushi\n- Corner Books",
        "1. Harbor Pizza Company\n2. Riverside Cafe and Grill\n3. Northgate Brewing Co",
        "Top stories: Budget Passes | Mayor Speaks | Schools Win | Roads Next",
    ),
}


@pytest.mark.parametrize(
    ("kind", "furniture"), [(k, f) for k, found in FURNITURE.items() for f in found]
)
def test_page_furniture_is_set_aside_in_any_phrasing(kind: str, furniture: str) -> None:
    assert kept_between(furniture) == [STORY, CLOSING], kind


def test_a_sentence_an_excerpt_cut_mid_clause_is_set_aside_but_not_the_line() -> None:
    line = "The Senate voted 67-32 on Wednesday. An interim analysis of the trial found the..."
    assert kept_texts(f"{STORY}\n{line}") == [STORY, "The Senate voted 67-32 on Wednesday."]
    assert kept_texts(f"{STORY}\nThe council said it would vote again...") == [STORY]
    # an ellipsis after a name or a number leaves a statement whole
    whole = "The vote was led by Senate leader Mitch McConnell (Ky.)..."
    assert kept_texts(f"{STORY}\n{whole}") == [STORY, whole]


FIRE = (
    "The Pine Ridge fire grew to 4,500 acres overnight near Carson Valley, officials said.",
    "Governor Mara Lindqvist declared an emergency for Dalton County on Tuesday.",
    "Crews from Dalton County fought the Pine Ridge fire along Route 9 near Carson Valley.",
)
BODY = (
    "Evacuation orders covered 2,300 homes in Carson Valley and the Dalton County fairgrounds.",
    "Lindqvist said the state would pay for shelters in Carson Valley until the fire was out.",
    "The Pine Ridge fire was 10 percent contained on Tuesday evening, Dalton County said.",
    "Smoke from the Pine Ridge fire closed schools across Dalton County for a second day.",
    "Forecasters expected winds to ease near Carson Valley by Thursday, Lindqvist said.",
)
GLUED = (
    "The hunt was on yesterday for the thieves who stole eight royal pieces of jewelry from the "
    "Louvre Museum in Paris, as French Justice Minister Gerald Darmanin admitted security flaws."
)
ANGLE = (
    "Insurers at Brenner Capital and Halvorsen Mutual expect claims to rise, as households "
    "count losses to smoke and water, which many policies written in spring exclude."
)


def fire_set(*lines: str) -> list[list[str]]:
    texts = ["\n".join(FIRE), "\n".join(reversed(FIRE)), "\n".join(lines)]
    cleaned = clean([make_article(t, f"{n}.txt", f"O{n}") for n, t in enumerate(texts)])
    return [[s.text for s in a.kept] for a in cleaned]


def test_another_story_glued_after_an_article_is_set_aside_by_its_names_and_words() -> None:
    *_, third = fire_set(*FIRE[:1], *BODY, GLUED)
    assert third == [FIRE[0], *BODY]


def test_an_outlets_own_angle_in_the_middle_of_its_article_is_kept() -> None:
    *_, third = fire_set(*FIRE[:1], ANGLE, *BODY)
    assert ANGLE in third


def test_the_last_paragraph_of_a_short_excerpt_is_its_angle_not_another_story() -> None:
    *_, third = fire_set(*FIRE[:1], GLUED)
    assert third == [FIRE[0], GLUED]


def test_an_article_wholly_about_another_story_is_set_aside_with_a_warning() -> None:
    from service.clean import set_aside_warnings

    texts = ["\n".join(FIRE), "\n".join(BODY), "\n".join([GLUED, GLUED.replace("eight", "nine")])]
    cleaned = clean([make_article(t, f"{n}.txt", f"O{n}") for n, t in enumerate(texts)])
    assert cleaned[2].kept == []
    (warning,) = set_aside_warnings(cleaned)
    assert warning.startswith("2.txt: 100% of its text set aside (the whole article is another")


def test_neither_the_model_nor_a_claim_ever_sees_the_cut_opener() -> None:
    import json

    from service.extract import extraction_request, parse_extraction

    (article,) = clean([make_article(OPENED, "page.txt", "Local")])
    shown = json.dumps(extraction_request(article).messages, ensure_ascii=False)
    assert "WASHINGTON" not in shown
    assert "Why it matters" not in shown
    reply = {"claims": [{"evidence": [1], "kind": "fact"}], "summary": "A budget was approved."}
    (claim,) = parse_extraction(json.dumps(reply), article).extraction.claims
    assert claim.text == "The council approved a new budget of $4 million on Monday."


@pytest.mark.parametrize(
    ("word", "closing", "kind"),
    [
        ("cookie", " to accept", RemovedKind.BOILERPLATE),
        ("Cookies,", " policy", RemovedKind.BOILERPLATE),
        ("photo", ")", RemovedKind.CAPTION),
        ("Getty  ", ")", RemovedKind.CAPTION),
        ("credit", ")", RemovedKind.CAPTION),
        ("AP Photo", ")", RemovedKind.CAPTION),
    ],
)
def test_long_lines_of_credit_or_cookie_words_are_read_in_one_pass(
    word: str, closing: str, kind: RemovedKind
) -> None:
    """An unclosed bracket of credit words, or a line of cookie words with no consent word,
    was read once from each such word: a line of 60,000 characters took seconds."""
    line = "(" + f"{word} " * (60_000 // (len(word) + 1))
    body = "The council approved a new budget of $4 million on Monday after a long debate."
    after = "The mayor said the vote was a good day for the city and its schools."
    (unclosed,) = clean([make_article(f"{body}\n{line}\n{after}", "p.txt", "Local")])
    assert kind not in [r.kind for r in unclosed.removed]
    (closed,) = clean([make_article(f"{body}\n{line}{closing}\n{after}", "p.txt", "Local")])
    assert [r.kind for r in closed.removed] == [kind]


@pytest.mark.parametrize("word", ["a", "a1", "b'", "\u00e9-", "x_"], ids=repr)
def test_a_long_word_before_a_cut_is_read_in_one_pass(word: str) -> None:
    """A word read from each of its letters to its end took time growing with its square: a
    sentence of one 2,000-character word took 60 ms, an article of them seconds."""
    long = word * (1_900 // len(word))
    lines = [f"The council approved the budget {long}{n}." for n in range(30)]
    cut_off = "The council said it would vote again..."
    (cut,) = clean([make_article("\n".join([*lines, cut_off]), "p.txt", "Local")])
    fragments = [r for r in cut.removed if r.kind is RemovedKind.FRAGMENT]
    assert [cut.text[r.start : r.end] for r in fragments] == [cut_off]
