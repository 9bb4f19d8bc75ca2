"""Aliases mined from the articles' own wording: kept when the text says two names are one, never
from a dateline, a stop word, or an abbreviation whose letters are not the long form's."""

from __future__ import annotations

import pytest

from index.aliases import abbreviates, expand, mine


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("BTS member V (Kim Taehyung) stars. V said so. Taehyung smiled. Taehyung waved.",
         [["Kim Taehyung", "Taehyung", "V"]]),
        ("The singer Kim Taehyung, aka V, starred.", [["Kim Taehyung", "V"]]),
        ("The World Health Organization (WHO) said so on Monday.", [["WHO", "World Health Organization"]]),
        ("The United Nations (U.N.) met in Geneva.", [["U.N", "United Nations"]]),
        ("The Harbour Workers Union (HWU) voted.", [["HWU", "Harbour Workers Union"]]),
    ],
)  # fmt: skip
def test_names_the_text_says_are_one_are_grouped(text: str, groups: list[list[str]]) -> None:
    assert mine([text]) == groups


@pytest.mark.parametrize(
    "text",
    [
        "SEOUL (Reuters) - The city opened a new bridge on Monday.",  # a dateline's wire service
        "Seoul (Reuters) — The city opened a new bridge on Monday.",
        "LONDON (AP) - Rain fell.",
        "The teaser for Love Wins All (MV) came out. The MV is long. MV fans cheered.",  # not its initials
        "The Harbour Workers Union (HWX) voted.",
        "It (IT) was said. The (Guardian) said.",  # stop words are never names
    ],
)
def test_parentheses_that_introduce_no_alias_give_none(text: str) -> None:
    assert mine([text]) == []


def test_the_is_never_an_alias_nor_are_the_single_words_of_an_organisation() -> None:
    text = (
        "The World Health Organization (WHO) said. The report was read. The World Cup went on. "
        "The health ministry said. The WHO said again. Health matters. The world watched."
    )
    [group] = mine([text])
    assert group == ["WHO", "World Health Organization"]


@pytest.mark.parametrize(
    ("short", "long", "expected"),
    [
        ("WHO", "World Health Organization", True),
        ("HIV", "human immunodeficiency virus", True),
        ("NASA", "National Aeronautics and Space Administration", True),
        ("MV", "Love Wins All", False),
        ("Reuters", "SEOUL", False),
        ("XYZ", "World Health Organization", False),
        ("1A", "One Alpha", False),  # the first character must be a letter
    ],
)
def test_schwartz_hearst_abbreviation(short: str, long: str, expected: bool) -> None:
    assert abbreviates(short, long) is expected


def test_a_question_naming_one_alias_is_asked_with_the_other_too() -> None:
    assert expand("Why did V accept the role?", [["Kim Taehyung", "V"]]) == [
        "Why did V accept the role?",
        "Why did Kim Taehyung accept the role?",
    ]
