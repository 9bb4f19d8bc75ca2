"""Answers from the real model over the bundled articles, and over articles written for the test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index import (
    MAX_QUESTION_CHARS,
    Answer,
    Answerer,
    CrossEncoderReader,
    Engine,
    QuestionError,
    SentenceTransformerEmbedder,
)
from tests.conftest import ROOT


@pytest.fixture(params=["bundled reader", "no reader"])
def either_reader(request: pytest.FixtureRequest, reader: CrossEncoderReader) -> CrossEncoderReader | None:
    """Both ways StoryBot answers: with the bundled reader (the default) and with STORYBOT_READER_MODEL=none."""
    return reader if request.param == "bundled reader" else None


def _fold(text: str) -> str:
    """The eval set's matching: case-insensitive, spaces and curly quotes folded."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.lower().split())


def _facts_found(answer: Answer, facts: list[list[str]], first: int = 3) -> list[bool]:
    shown = [_fold(c.snippet) for c in answer.citations[:first]]
    return [any(_fold(alt) in s for alt in fact for s in shown) for fact in facts]


def _dev_question(identifier: str) -> dict[str, object]:
    for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["id"] == identifier:
            return dict(record)
    raise LookupError(identifier)


def test_why_did_v_accept_the_role_gives_his_three_reasons(bundled_answerer: Answerer) -> None:
    record = _dev_question("d01")
    answer = bundled_answerer.ask(str(record["question"]))

    assert not answer.abstained
    assert _facts_found(answer, record["expect"]) == [True, True, True]  # type: ignore[arg-type]


def test_why_did_v_accept_the_role_cites_at_least_two_outlets(bundled_answerer: Answerer) -> None:
    answer = bundled_answerer.ask("why did V accept the role?")

    cited = {s.article_id for c in answer.citations for s in c.sources}
    assert len(cited) >= 2


@pytest.mark.parametrize(
    "question",
    ["Who is the president of the United States?", "What is the boiling point of water?", "Recommend a good laptop."],
)
def test_an_off_topic_question_abstains_with_no_citations(bundled_answerer: Answerer, question: str) -> None:
    answer = bundled_answerer.ask(question)
    assert answer.abstained
    assert answer.citations == ()


def test_every_snippet_is_a_short_exact_quote_with_its_offsets(bundled_answerer: Answerer) -> None:
    texts = {a.id: a.text for a in bundled_answerer.index.articles}
    for question in [
        "Who composed Love Wins All?",
        "How many days did filming take?",
        "what did V order for the staff",
    ]:
        answer = bundled_answerer.ask(question)
        assert answer.citations
        for citation in answer.citations:
            assert len(citation.snippet) <= bundled_answerer.options.snippet_chars
            source = citation.sources[0]
            assert texts[source.article_id][source.start : source.end] == citation.snippet
            assert citation.snippet[-1] in ".!?\"'”’" or citation.snippet.endswith(
                texts[source.article_id][: source.end][-1]
            )


def test_the_json_form_of_an_answer_has_the_documented_fields(bundled_answerer: Answerer) -> None:
    data = bundled_answerer.ask("Which film did Um Tae-hwa make?").to_dict()

    assert set(data) >= {"question", "abstained", "confidence", "citations"}
    assert 0.0 < data["confidence"] <= 1.0  # the bundled reader's best probability
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    for citation in data["citations"]:
        assert set(citation) >= {"n", "snippet", "score", "sources"}
        for source in citation["sources"]:
            assert set(source) >= {"article_id", "title", "outlet", "date", "url", "start", "end"}
    json.dumps(data)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "the question is empty"),
        ("   \n\t ", "the question is empty"),
        ("x" * (MAX_QUESTION_CHARS + 1), f"keep it under {MAX_QUESTION_CHARS}"),
    ],
)
def test_a_bad_question_gets_a_clear_message(bundled_answerer: Answerer, question: str, message: str) -> None:
    with pytest.raises(QuestionError, match=re.escape(message)):
        bundled_answerer.ask(question)


def test_the_same_passage_in_two_outlets_is_one_snippet_citing_both(
    tmp_path: Path, minilm: SentenceTransformerEmbedder, either_reader: CrossEncoderReader | None
) -> None:
    shared_quote = (
        '"We will open the new bridge to cyclists first, because they waited longest," the mayor said on Monday.'
    )
    folder = tmp_path / "articles"
    folder.mkdir()
    for outlet, lead in [
        ("Harbour Herald", "The city council voted to finish the river crossing this spring."),
        ("Valley Times", "Construction crews are working nights to complete the river crossing."),
    ]:
        name = outlet.lower().replace(" ", "-")
        (folder / f"{name}.md").write_text(
            f"---\ntitle: Bridge news from {outlet}\noutlet: {outlet}\ndate: 2025-03-0{len(name) % 9 + 1}\n---\n"
            f"{lead}\n\n{shared_quote}\n\nTraffic will be diverted along the quay for two more weeks.\n"
        )
    engine = Engine(folder, tmp_path / "index", minilm, reader=either_reader)
    engine.build()

    answer = engine.answerer().ask("Who will be allowed on the new bridge first?")

    quoting = [c for c in answer.citations if "cyclists first" in c.snippet]
    assert len(quoting) == 1
    assert {s.outlet for s in quoting[0].sources} == {"Harbour Herald", "Valley Times"}


def test_a_why_question_gets_each_announced_reason_rather_than_the_announcement(
    tmp_path: Path, minilm: SentenceTransformerEmbedder, either_reader: CrossEncoderReader | None
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "mill.md").write_text(
        "---\ntitle: Bakers at Harlow Mill walk out\noutlet: Vale Gazette\ndate: 2025-05-02\n---\n"
        "Bakers at Harlow Mill stopped work on Friday, the first stoppage at the mill in a decade.\n\n"
        "Union steward Petra Quell said the bakers had three grievances with the owners.\n\n"
        "First, the ovens must now be lit at 3am, two hours earlier than before.\n\n"
        "Second, the mill cut the number of delivery vans from four to one.\n\n"
        "Third, wages have not risen since the spring of 2023.\n\n"
        "The owners said they hoped to reopen the bakery next week.\n"
    )
    engine = Engine(folder, tmp_path / "index", minilm, reader=either_reader)
    engine.build()

    answer = engine.answerer().ask("Why did the Harlow Mill bakers stop work?")

    shown = " ".join(c.snippet for c in answer.citations[:3])
    assert all(reason in shown for reason in ["lit at 3am", "delivery vans", "not risen"])


@pytest.mark.parametrize(
    ("question", "abstains"),
    [
        ("When will the mill reopen?", True),  # the article gives no date at all
        ("When did the bakers stop work?", True),
        ("How many vans does the mill have now?", False),
    ],
)
def test_a_when_or_how_many_question_without_a_date_or_number_in_its_snippets_abstains(
    tmp_path: Path,
    minilm: SentenceTransformerEmbedder,
    either_reader: CrossEncoderReader | None,
    question: str,
    abstains: bool,
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "mill.md").write_text(
        "---\ntitle: Bakers at Harlow Mill walk out\noutlet: Vale Gazette\n---\n"
        "Bakers at Harlow Mill stopped work, the first stoppage at the mill in a decade.\n\n"
        "The mill cut the number of delivery vans from four to one.\n\n"
        "Customers in the valley have been buying their bread from supermarkets in the meantime, and several "
        "cafés have put up signs apologising for the lack of fresh loaves on their shelves.\n\n"
        "The union says its members remain united and that the dispute is about respect as much as pay, "
        "while the owners insist that the changes were needed to keep the business alive.\n\n"
        "The owners said they hoped to reopen the mill soon, once talks with the union resume.\n"
    )
    engine = Engine(folder, tmp_path / "index", minilm, reader=either_reader)
    engine.build()

    answer = engine.answerer().ask(question)

    assert answer.abstained is abstains, [c.snippet for c in answer.citations]


def test_an_outlet_telling_the_same_fact_in_its_own_words_is_cited_too(
    tmp_path: Path, minilm: SentenceTransformerEmbedder, either_reader: CrossEncoderReader | None
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    stories = {
        "herald": (
            "Harbour Herald",
            "Engineer Ada Lindqvist said the Morrow Bridge will reopen to cyclists on 3 June after "
            "£4.2 million of repairs to its rusted cables.",
        ),
        "times": (
            "Valley Times",
            "Cyclists will be back on the Morrow Bridge from 3 June, once a £4.2 million overhaul of its "
            "corroded cables is finished, Ada Lindqvist told councillors at Tuesday's meeting of the works committee.",
        ),
        "gazette": (
            "Vale Gazette",
            "The Harlow Mill bakery reopened on Monday after a week-long strike by its bakers.",
        ),
    }
    for name, (outlet, text) in stories.items():
        (folder / f"{name}.md").write_text(f"---\ntitle: News from {outlet}\noutlet: {outlet}\n---\n{text}\n")
    engine = Engine(folder, tmp_path / "index", minilm, reader=either_reader)
    engine.build()

    answer = engine.answerer().ask("When will the Morrow Bridge reopen to cyclists?")

    first = answer.citations[0]
    assert {s.outlet for s in first.sources} == {"Harbour Herald", "Valley Times"}
    primary, other = first.sources
    assert primary.same_passage
    assert not other.same_passage
    texts = {a.id: a.text for a in engine.answerer().index.articles}
    assert "3 June" in texts[other.article_id][other.start : other.end]
    assert all(s.outlet != "Vale Gazette" for c in answer.citations for s in c.sources if not s.same_passage)


@pytest.mark.parametrize("question", ["Who composed Love Wins All?\ud800", "Who composed\x00 Love Wins All?\x1b[31m"])
def test_a_question_with_characters_no_tokenizer_takes_is_still_answered(
    bundled_answerer: Answerer, question: str
) -> None:
    answer = bundled_answerer.ask(question)

    assert not answer.abstained
    assert "\ud800" not in answer.question
    assert "\x00" not in answer.question
