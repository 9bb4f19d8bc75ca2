"""Outlets that disagree on a fact: found from the text, shown with each version cited, and
never claimed where outlets agree (the same count written "two days" and "2 days")."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import render_answer
from index import Answer, CrossEncoderReader, Engine, SentenceTransformerEmbedder
from index.disagreement import differences, values
from tests.conftest import ROOT

HARBOUR = ROOT / "eval" / "corpora" / "harbour"

REGATTA_A = """---
title: Brackwater regatta draws a record fleet
outlet: The Estuary Herald
date: 2025-07-15
---
The Brackwater regatta was held on 12 July, and 48 boats took part in the harbour races this year.

The organisers said the weather had been kind, with a steady westerly all afternoon.
"""
REGATTA_B = """---
title: Sails fill the estuary for Brackwater regatta
outlet: Coastline FM
date: 2025-07-16
---
The Brackwater regatta was held on 14 July, and 52 boats took part in the harbour races this year.

Local cafes reported their busiest day of the summer.
"""
FILMING_A = """---
title: Lighthouse film wraps on Skerry Rock
outlet: The Island Post
date: 2025-05-02
---
Filming of the lighthouse drama on Skerry Rock took two days, the producers said on Friday.
"""
FILMING_B = """---
title: Skerry Rock shoot finishes early
outlet: North Coast Radio
date: 2025-05-03
---
Filming of the lighthouse drama on Skerry Rock took 2 days, the producers said on Friday.
"""


def _engine(folder: Path, minilm: SentenceTransformerEmbedder, reader: CrossEncoderReader) -> Engine:
    engine = Engine(folder, folder.parent / f"{folder.name}-index", minilm, reader=reader)
    engine.build()
    return engine


def _write(folder: Path, **articles: str) -> Path:
    folder.mkdir()
    for name, text in articles.items():
        (folder / f"{name}.md").write_text(text)
    return folder


def _versions(answer: Answer) -> list[list[tuple[str, str | None]]]:
    return [[(v.value, v.source.outlet) for v in d.versions] for d in answer.disagreements]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("87 per cent voted for the strike.", "91 per cent voted for the strike.", [("87 per cent", "91 per cent")]),
        ("It was held on 12 July with 48 boats.", "It was held on 14 July with 52 boats.",
         [("12 July", "14 July"), ("48 boats", "52 boats")]),
        ("Filming took two days.", "Filming took 2 days.", []),  # the same count
        ("It opened on 14 June.", "It opened on 14 June 2025.", []),  # the same date, the year left out
        ("It cost £38m.", "It cost £38 million.", []),
        ("A cost of £2,600 a day.", "It cost £10,400 in all.", []),  # a rate is not a total
        ("They asked for 6 per cent and were offered 3 per cent.", "They got 4.5 per cent.", []),  # two values
        ("Rest cut from eleven hours to eight.", "Rest cut to eight hours.", []),  # "eight" of what?
    ],
)  # fmt: skip
def test_differences_between_two_sentences(first: str, second: str, expected: list[tuple[str, str]]) -> None:
    found = [(first[d.first[0] : d.first[1]], second[d.second[0] : d.second[1]]) for d in differences(first, second)]
    assert found == expected


def test_values_know_units_dates_and_days() -> None:
    sentence = "On Saturday 4,000 riders paid £2.50 each; 87% were locals, a dozen stops in all."
    assert [(v.key, sentence[v.start : v.end]) for v in values(sentence)] == [
        ("weekday", "Saturday"),
        ("rider", "4,000 riders"),
        ("£", "£2.50"),
        ("%", "87%"),
        ("stop", "dozen stops"),
    ]


def test_the_harbour_ballot_shows_both_outlets_figures(
    tmp_path: Path, minilm: SentenceTransformerEmbedder, reader: CrossEncoderReader
) -> None:
    import shutil

    engine = _engine(Path(shutil.copytree(HARBOUR, tmp_path / "harbour")), minilm, reader)
    answer = engine.answerer().ask("What share of union members voted for the strike?")

    assert _versions(answer) == [[("87 per cent", "The Mellick Courier"), ("91 per cent", "North Sound Radio")]]
    [disagreement] = answer.disagreements
    texts = {a.id: a.text for a in engine.stored().articles}
    for version in disagreement.versions:
        assert texts[version.source.article_id][version.start : version.end] == version.value
    assert answer.to_dict()["disagreements"][0]["values"][1]["source"]["outlet"] == "North Sound Radio"
    shown = render_answer(answer)
    assert "    Outlets differ: 87 per cent (The Mellick Courier) · 91 per cent (North Sound Radio)" in shown
    assert shown.index("Outlets differ") < shown.index("Sources")


def test_two_invented_outlets_that_differ_on_a_date_and_a_count_are_both_flagged(
    tmp_path: Path, minilm: SentenceTransformerEmbedder, reader: CrossEncoderReader
) -> None:
    folder = _write(tmp_path / "regatta", herald=REGATTA_A, coastline=REGATTA_B)
    answer = _engine(folder, minilm, reader).answerer().ask("When was the Brackwater regatta held?")

    assert not answer.abstained
    flagged = {frozenset(versions) for versions in _versions(answer)}
    assert frozenset({("12 July", "The Estuary Herald"), ("14 July", "Coastline FM")}) in flagged
    assert frozenset({("48 boats", "The Estuary Herald"), ("52 boats", "Coastline FM")}) in flagged


def test_outlets_that_agree_in_other_words_are_not_flagged_and_corroborate(
    tmp_path: Path, minilm: SentenceTransformerEmbedder, reader: CrossEncoderReader
) -> None:
    folder = _write(tmp_path / "filming", post=FILMING_A, radio=FILMING_B)
    answer = _engine(folder, minilm, reader).answerer().ask("How long did filming on Skerry Rock take?")

    assert not answer.abstained
    assert answer.disagreements == ()
    outlets = {s.outlet for c in answer.citations for s in c.sources}
    assert outlets == {"The Island Post", "North Coast Radio"}
    assert "Outlets differ" not in render_answer(answer)
