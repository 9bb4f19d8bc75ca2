"""What a question asks for, and the lists a passage announces, on invented text."""

from __future__ import annotations

import pytest

from index.answer_types import DATE, NUMBER, PERSON, announces, expected_type, holds, list_items
from index.chunking import sentence_spans


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did the bakery open?", DATE),
        ("How many loaves were sold?", NUMBER),
        ("Who baked the wedding cake?", PERSON),
        ("Why did the bakery close?", None),
    ],
)
def test_a_question_word_names_the_kind_of_answer(question: str, kind: str | None) -> None:
    assert expected_type(question) == kind


def test_a_name_inside_a_sentence_answers_who_but_one_the_question_gives_does_not() -> None:
    question = "Who baked the cake for Harlow Mill?"
    assert holds("The cake for Harlow Mill was baked by Petra Quell.", PERSON, question)
    assert not holds("Visit Harlow Mill to see the cake.", PERSON, question)


def test_a_date_the_question_already_gives_is_not_an_answer() -> None:
    question = "What opened on 3 May?"
    assert not holds("Something opened on 3 May.", DATE, question)
    assert holds("The mill reopened on 9 June.", DATE, question)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The bakers gave four reasons for the walkout.", True),
        ("Under the new contract:", True),
        ("The bakers walked out on Tuesday.", False),
    ],
)
def test_a_sentence_that_counts_its_points_or_ends_with_a_colon_announces_a_list(sentence: str, expected: bool) -> None:
    assert announces(sentence) is expected


def test_the_announced_items_are_the_numbered_or_ordinal_lines_that_follow() -> None:
    text = (
        "The bakers set out three grievances.\n\n"
        "First, ovens are lit at 3am.\n\n"
        "Second, flour costs have doubled since spring.\n\n"
        "Third, wages have not moved in two years.\n\n"
        "The owner declined to comment."
    )
    units = sentence_spans(text)
    items = [text[units[i][0] : units[i][1]] for i in list_items(text, units, 0)]
    assert [item.split(",")[0] for item in items] == ["First", "Second", "Third"]


def test_a_lead_in_ending_with_a_colon_introduces_the_quote_after_it() -> None:
    text = 'The baker explained:\n\n"We cannot bake bread without flour."\n\nShe then left.'
    units = sentence_spans(text)
    assert [text[units[i][0] : units[i][1]] for i in list_items(text, units, 0)] == [
        '"We cannot bake bread without flour."'
    ]
