"""Datelines and newsletter labels opening a sentence: found in any shape, never content."""

import pytest

from service.openers import opener

REST = "The council approved a new budget of $4 million on Monday."

DATELINES = [
    "WASHINGTON \u2014 ",
    "WASHINGTON \u2013 ",
    "WASHINGTON - ",
    "WASHINGTON-",
    "WASHINGTON \u2010 ",
    "WASHINGTON -- ",
    "WASHINGTON\u2014",
    "WASHINGTON (AP) \u2014 ",
    "WASHINGTON (AP)\u2014",
    "NEW YORK (CBSNewYork) - ",
    "LONDON, Dec 1 (Reuters) - ",
    "LONDON, Dec. 1, 2020 (Reuters) \u2013 ",
    "Kyiv, Ukraine \u2014 ",
    "Kyiv, Ukraine, 1 December (AFP) - ",
    "ST. LOUIS \u2014 ",
    "WINSTON-SALEM, N.C. \u2014 ",
    "SAN JUAN, Puerto Rico (AP) \u2014 ",
    "Rio de Janeiro, Brazil \u2013 ",
    "Paris (AFP) - ",
    "BERLIN (dpa) - ",
    "PARIS, 1 d\u00e9cembre (AFP) - ",
    "(CNN) \u2014 ",
    "(CNN)",
]
LABELS = [
    "Why it matters: ",
    "Why it matters:\u00a0",
    "The big picture: ",
    "Go deeper: ",
    "Driving the news: ",
    "Between the lines: ",
    "What they're saying: ",
    "Summary: ",
    "SUMMARY: ",
    "Key Takeaways: ",
    "BREAKING: ",
    "Editor's note: ",
    "Yes, but: ",
    "En bref : ",
    "Zusammenfassung: ",
    "Resumen: ",
    "The reason behind it: ",  # the class: a few words in sentence case
]


@pytest.mark.parametrize("prefix", DATELINES)
def test_a_dateline_in_any_shape_is_cut_and_the_sentence_kept(prefix: str) -> None:
    assert opener(prefix + REST, paragraph_start=True) == (len(prefix), "a dateline")


@pytest.mark.parametrize("prefix", LABELS)
def test_a_newsletter_label_is_cut_and_the_sentence_kept(prefix: str) -> None:
    assert opener(prefix + REST, paragraph_start=False) == (len(prefix), "a newsletter label")


@pytest.mark.parametrize(
    "rest",
    [
        "El Gobierno aprob\u00f3 este martes el nuevo presupuesto.",
        "Die Bundesregierung hat am Dienstag den Haushalt beschlossen.",
        "\u201cWe will not back down,\u201d the mayor said on Monday.",
        "12 people were hurt when the roof fell in, officials said.",
    ],
)
def test_any_sentence_may_follow_a_dateline(rest: str) -> None:
    prefix = "MADRID (EFE) \u2013 "
    assert opener(prefix + rest, paragraph_start=True) == (len(prefix), "a dateline")


def test_a_label_then_a_dateline_are_cut_one_after_the_other() -> None:
    prefix = "Summary: WASHINGTON (AP) \u2014 "
    found = opener(prefix + REST, paragraph_start=True)
    assert found == (len(prefix), "a newsletter label and a dateline")


def test_a_dateline_is_read_only_where_a_paragraph_opens() -> None:
    assert opener("WASHINGTON (AP) \u2014 " + REST, paragraph_start=False) is None


NEVER = [
    "U.S. - China talks resumed on Monday in Geneva after a pause.",  # an abbreviation
    "U.S.-China talks resumed on Monday in Geneva after a pause.",
    "NATO - Russia council met on Monday in Brussels for hours.",  # an acronym
    "NATO-Russia council met on Monday in Brussels for hours.",
    "NEW YORK Times reporter said the building was once a tavern.",  # no dash
    "Trump \u2014 The president said the talks went well on Monday.",  # a name, no region
    "Trump \u2014 the president, who spoke on Monday \u2014 said the talks went well.",
    "Kyiv, Ukraine \u2014 and the towns around it \u2014 lost power on Monday.",
    'Clinton: "We came, we saw, he died," she said of the dictator.',  # a speaker and a quote
    "Biden: The economy is stronger than it has been in decades, he said.",
    "He told reporters: The economy is stronger than it has been in decades.",
    "Officials said: The economy is stronger than it has been in decades.",
    "Certainly a shared interest: to break back into the market it lost.",  # a clause
    "Consider: 2018 is five years away from now, and much can change.",
    "OBAMA: We will not back down from this fight, not now, not ever.",
    "The Big Board: Stocks rose on Monday as investors cheered the news.",  # title case
    "WASHINGTON \u2014",  # a sentence that is only a dateline or a label
    "WASHINGTON (AP) \u2014 The vote.",
    "Why it matters:",
    "Why it matters: It does.",
    "The verdict: Guilty.",
    '"Look: The economy is strong and it will grow," Biden said.',  # inside a quotation
    "The mayor said the vote \u2014 the first in years \u2014 was a good day.",
]


@pytest.mark.parametrize("text", NEVER)
def test_content_is_never_taken_for_a_dateline_or_a_label(text: str) -> None:
    assert opener(text, paragraph_start=True) is None
