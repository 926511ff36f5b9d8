"""Disputed figures: found in the source sentences, grouped by what they count, attributed."""

import pytest

from schemas import Article, ClaimStatus, Disagreement, Draft
from service.assemble import StageResults, assemble, number_sources
from service.compose import Composed
from service.figures import attribution, disagreements, mentions, rounds_to, value_key
from service.merge import contest, merge
from service.render import markdown
from tests.helpers import article, claims


def _differ(*items: Article) -> list[Disagreement]:
    return disagreements(items, number_sources(items), [])


def _measures(text: str) -> list[tuple[str, str, str | None]]:
    return [(m.wording, m.measure, m.noun) for m in mentions(article(text, "x"))]


def test_the_same_number_in_other_words_is_one_value() -> None:
    assert value_key("15,000") == value_key("15000") == value_key("15 thousand") == "15000"
    assert value_key("about 600") == value_key("around 600") == value_key("closer to 600")
    assert value_key("thousands") == value_key("several thousand") != value_key("hundreds")


def test_what_a_figure_counts_comes_from_its_clause() -> None:
    found = _measures(
        "At least 1,000 of the troops sent from the North had been killed, with several "
        "thousand more wounded. The North sent some 15,000 troops to Russia."
    )
    assert found == [
        ("At least 1,000", "killed", "soldiers"),
        ("several thousand", "wounded", None),
        ("some 15,000", "sent", "soldiers"),
    ]


def test_killed_or_wounded_is_its_own_quantity_and_plans_are_not_counts() -> None:
    found = _measures(
        "As many as 4,000 troops had been killed or wounded. "
        "The North may be preparing to send thousands more troops."
    )
    assert found == [("As many as 4,000", "killed or wounded", "soldiers")]


def test_years_and_days_of_the_month_are_not_figures() -> None:
    assert _measures("In 2024, on June 19, 2024, troops were deployed.") == []


def test_different_values_from_two_outlets_disagree_with_their_attribution() -> None:
    a = article("About 600 soldiers have been killed, Seoul has said.", "alpha")
    b = article("In January, Western officials said at least 1,000 soldiers were killed.", "beta")
    [found] = _differ(a, b)
    assert found.topic == "soldiers killed"
    assert [(v.value, v.attribution) for v in found.values] == [
        ("about 600", ["Seoul"]),
        ("at least 1,000", ["Western officials in January"]),
    ]
    assert [c.source for v in found.values for c in v.citations] == [1, 2]


def test_agreeing_outlets_and_one_outlet_alone_make_no_disagreement() -> None:
    a = article("About 600 soldiers were killed.", "alpha")
    b = article("Around 600 soldiers were killed, officials said.", "beta")
    assert _differ(a, b) == []
    c = article("About 600 soldiers were killed. Later, 1,000 soldiers were killed.", "gamma")
    assert _differ(c) == []


def test_a_copy_of_an_article_is_not_a_second_outlet() -> None:
    a = article("About 600 soldiers were killed.", "alpha")
    copy = article("At least 1,000 soldiers were killed.", "wire").model_copy(
        update={"duplicate_of": a.id}
    )
    assert _differ(a, copy) == []


def test_a_revision_in_one_sentence_is_told_as_change_over_time() -> None:
    a = article(
        "Officials said at least 1,000 soldiers had been killed, but more recent estimates "
        "have put the figure closer to 600 killed.",
        "alpha",
    )
    b = article("About 600 soldiers have been killed, Seoul said.", "beta")
    [found] = _differ(a, b)
    assert found.revisions == [
        "alpha [1] reports a change over time: first at least 1,000, later closer to 600"
    ]
    # the revised figure is not put in the mouth of the first speaker
    assert [v.attribution for v in found.values] == [["Seoul"], ["Officials"]]


def test_first_dates_disagree_but_the_month_a_figure_was_given_does_not() -> None:
    a = article("North Korea only acknowledged its role in April.", "alpha")
    b = article("In July, Kim referred openly to his role for the first time.", "beta")
    c = article("In March, officials said 600 soldiers were killed.", "gamma")
    [found] = _differ(a, b, c)
    assert found.topic == "when first acknowledged"
    assert [v.value for v in found.values] == ["April", "July"]


def test_attribution_is_source_wording() -> None:
    assert attribution("According to Seoul's spy agency, 600 died.") == "Seoul's spy agency"
    assert attribution("600 died, according to U.S. and Ukrainian officials.") == (
        "U.S. and Ukrainian officials"
    )
    zelensky = (
        "President Zelensky, who has accused Russia of lying, said in January that 4,000 died."
    )
    assert attribution(zelensky) == "President Zelensky in January"
    assert attribution("It said 600 died.") is None


def test_claims_stating_a_disputed_figure_are_contested_and_flagged() -> None:
    a = article("About 600 soldiers have been killed. Kim held a ceremony.", "alpha")
    b = article("At least 1,000 soldiers were killed.", "beta")
    merged = merge(
        [claims(a, ("About 600 soldiers have been killed.", [1]), ("Kim held a ceremony.", [2]))],
        [a, b],
    )
    found = disagreements([a, b], number_sources([a, b]), merged)
    assert found[0].claim_ids == ["c1"]
    statuses = [c.status for c in contest(merged, found)]
    assert statuses == [ClaimStatus.CONTESTED, ClaimStatus.SINGLE_SOURCE]


def test_markdown_section_lists_each_value_with_its_sources() -> None:

    a = article("About 600 soldiers have been killed, Seoul has said.", "alpha")
    b = article("At least 1,000 soldiers were killed, officials said.", "beta")
    empty = Composed(Draft.model_construct(title="T", lede=[], sections=[]), [])
    briefing = assemble(StageResults(empty, [], [a, b], "test", _differ(a, b)))
    assert (
        "- **Soldiers killed:** about 600, per Seoul [1]; at least 1,000, per officials [2]."
        in markdown(briefing)
    )


def test_units_and_percentages_are_compared_by_what_they_measure() -> None:
    a = article(
        "The fire service said the blaze had burned roughly 4,500 acres and was 10 percent "
        "contained.",
        "alpha",
    )
    b = article("The fire service put the burned area at 5,200 acres, with containment at 5%.", "b")
    c = article("Inflation stood at 5.1 percent, the bank said.", "gamma")
    found = {d.topic: [v.value for v in d.values] for d in _differ(a, b, c)}
    assert found == {"acres": ["roughly 4,500", "5,200"], "contained (percent)": ["10%", "5%"]}


def test_each_clause_keeps_its_own_speaker() -> None:
    a = article(
        "The union put the number of strikers at 2,100, while the port authority said fewer "
        "than 1,800 workers had stayed away.",
        "alpha",
    )
    b = article("About 2,400 members joined the strike, the union said.", "beta")
    [found] = _differ(a, b)
    assert found.topic == "workers took part"
    assert [(v.value, v.attribution) for v in found.values] == [
        ("2,100", ["the union"]),
        ("fewer than 1,800", ["the port authority"]),
        ("about 2,400", ["the union"]),
    ]


def test_sums_of_money_keep_their_currency_and_fold_their_scale() -> None:
    assert value_key("$4.2bn") == value_key("4.2 billion") == "4200000000"
    a = article("The deal is worth $4.2 billion, the company said.", "alpha")
    b = article("Analysts valued the deal at $4.5bn on Tuesday.", "beta")
    c = article("Workers will get 40 crowns more a month under the deal.", "gamma")
    [found] = _differ(a, b, c)
    assert found.topic == "deal (amount)"
    assert [v.value for v in found.values] == ["$4.2 billion", "$4.5bn"]


def test_people_in_general_are_not_a_count_of_one_kind_of_people() -> None:
    a = article("Three police officers were killed in the attack.", "alpha")
    b = article("At least 12 people were killed in the attack, officials said.", "beta")
    c = article("Twelve people died. 3 officers were killed, the police said.", "gamma")
    assert _differ(a, b, c) == []
    d = article("About 3,000 residents fled their homes, the sheriff said.", "delta")
    e = article("About 3,500 people were under evacuation orders.", "epsilon")
    assert [v.value for v in _differ(d, e)[0].values] == ["about 3,000", "about 3,500"]


def test_names_and_clock_times_are_not_figures() -> None:
    assert _measures("Covid-19 deaths rose at 3:50am as F-16 jets were deployed.") == []


def _rows(*texts: str) -> dict[str, list[str]]:
    items = [article(t, f"outlet{n}") for n, t in enumerate(texts)]
    return {d.topic: [v.value for v in d.values] for d in _differ(*items)}


def test_a_count_for_one_place_is_not_a_value_of_the_whole_count() -> None:
    national = "At least 3,000 people have been killed in the fighting, officials said."
    assert _rows("Twelve died in Kharkiv province.", national) == {}
    assert _rows("12 people were killed in Kharkiv province.", national) == {}
    assert _rows("12 civilians were killed at one hospital, doctors said.", national) == {}
    assert _rows(national, "About 3,400 people have been killed in the fighting.") == {
        "killed": ["at least 3,000", "about 3,400"]
    }


def test_a_days_count_is_not_a_count_since_a_date() -> None:
    day = "On Sunday, 40 protesters were arrested in the capital."
    assert _rows(day, "Since March, police have arrested 1,200 protesters.") == {}
    assert _rows(day, "Police arrested 55 protesters in the capital on Monday.") == {}
    assert _rows(day, "Police arrested 55 protesters in the capital on Sunday.") == {
        "arrested": ["40", "55"]
    }


def test_years_and_averages_are_scopes_of_shares_and_sums() -> None:
    single = "The couple's effective tax rate for 2014 was 35.7 percent."
    assert (
        _rows(single, "From 2007 to 2014 they paid an effective tax rate of 31.55 percent.") == {}
    )
    assert _rows(single, "Their average effective tax rate was 31.55 percent.") == {}
    assert _rows(single, "The couple's effective tax rate for 2014 was 31 percent.") == {
        "effective (percent)": ["35.7%", "31%"]
    }


def test_one_subjects_share_or_sum_is_not_anothers() -> None:
    assert (
        _rows("Nokia's market share was 35 percent.", "Apple's market share was 25 percent.") == {}
    )
    assert _rows("Nokia's market share was 35 percent.", "Nokia's market share was 31 percent.")


def test_what_is_measured_tells_a_distance_from_a_radius() -> None:
    assert (
        _rows(
            "The plant lies 30 kilometres from the capital.",
            "Troops set an exclusion zone with a radius of 20 kilometres.",
        )
        == {}
    )
    assert _rows(
        "The plant lies 30 kilometres from the capital.",
        "The plant lies about 45 kilometres from the capital.",
    ) == {"kilometres": ["30", "about 45"]}


@pytest.mark.parametrize(
    ("one", "other", "topic"),
    [
        ("2.1 million voters cast a ballot.", "2.3 million voters cast a ballot.", "voters"),
        ("Police made 30 arrests overnight.", "Police made 45 arrests overnight.", "arrests"),
        ("The state handed over 50,000 pages.", "The state handed over 55,000 pages.", "pages"),
    ],
)
def test_any_counted_noun_is_compared_in_the_same_scope(one: str, other: str, topic: str) -> None:
    assert list(_rows(one, other)) == [f"number of {topic}"]
    assert _rows(one, f"In 2013, {other[0].lower()}{other[1:]}") == {}


def test_a_value_rounded_or_cut_is_the_same_value() -> None:
    assert rounds_to("43885310", "43000000")
    assert rounds_to("43885310", "44000000")
    assert rounds_to("35.72", "35.7")
    assert not rounds_to("1.2", "1")  # one significant digit: too rough to tell
    assert not rounds_to("141000000", "139000000")
    exact = "The couple paid $43,885,310 in federal taxes."
    assert _rows(exact, "The couple paid nearly $44 million in federal taxes.") == {}
    assert _rows(exact, "The couple paid $41 million in federal taxes.")


def test_the_day_of_an_event_is_compared_but_not_the_day_it_was_said() -> None:
    assert _rows("The Pentagon on Wednesday ordered troops to be vaccinated.",
                 "Commanders were ordered Tuesday to vaccinate their troops.") == {
        "day ordered": ["Wednesday", "Tuesday"]
    }  # fmt: skip
    assert _rows("The memo was released Wednesday.", "Troops were ordered Tuesday to act.") == {}
    assert _rows("Kirby said Wednesday the rate was rising.", "Kirby said Tuesday it rose.") == {}


@pytest.mark.parametrize("padding", [" ", "\u00a0", " \t", "\u2003 "], ids=repr)
def test_a_month_followed_by_a_long_run_of_spaces_is_read_in_one_pass(padding: str) -> None:
    """Spaces read both before and after an optional comma took time growing with the run's
    square: each sentence of 2,000 characters took seconds."""
    sentences = [
        "North Korea only acknowledged its role in April" + padding * (900 + n) + "."
        for n in range(30)
    ]
    found = list(mentions(article(" ".join(sentences), "alpha")))
    assert [m.wording for m in found] == ["April"] * len(sentences)
