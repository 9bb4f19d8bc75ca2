"""The reader's training stories: big and varied enough, well-formed, and apart from every eval set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.evaluation import fold
from tests.conftest import ROOT
from training.check_data import DATA, SHINGLE, check_story, eval_shingles, shingles
from training.reader import load_stories

EVAL_QUESTION_FILES = sorted((ROOT / "eval").glob("*.jsonl"))  # dev.jsonl included


@pytest.fixture(scope="module")
def stories() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if (p / "questions.jsonl").is_file())


def test_the_training_data_has_the_size_and_mix_the_reader_needs(stories: list[Path]) -> None:
    loaded = load_stories()
    questions = [q for story in loaded for q in story.questions]

    assert len(stories) >= 40
    assert len(questions) >= 2000
    assert sum(q.abstain for q in questions) >= len(questions) / 4
    assert sum(story.validation for story in loaded) >= 6  # held out for calibration, never trained on


def test_every_training_story_passes_its_checker(stories: list[Path]) -> None:
    forbidden = eval_shingles()
    problems = {story.name: check_story(story, forbidden) for story in stories}

    assert {name: found for name, found in problems.items() if found} == {}


def test_no_training_article_shares_a_passage_with_an_eval_corpus(stories: list[Path]) -> None:
    forbidden = eval_shingles()
    assert forbidden, "the eval corpora were not found"
    for story in stories:
        for path in (story / "articles").iterdir():
            shared = shingles(path.read_text(encoding="utf-8")) & forbidden
            assert not shared, f"{path} shares {SHINGLE} words in a row with an eval corpus: {sorted(shared)[:1]}"


def test_no_eval_question_is_a_training_question(stories: list[Path]) -> None:
    eval_questions = {
        fold(json.loads(line)["question"])
        for path in EVAL_QUESTION_FILES
        if path.is_file()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert len(eval_questions) > 100
    training = {fold(q.question) for story in load_stories() for q in story.questions}

    assert eval_questions & training == set()
