"""The reader: StoryBot's own trained cross-encoder, loaded from the package, and its failure modes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index import CrossEncoderReader, Engine, ModelError, SentenceTransformerEmbedder
from index.reader import CALIBRATION_FILE, PACKAGED_READER, read_calibration
from tests.conftest import BUNDLED_ARTICLES, ROOT


def test_the_bundled_reader_is_calibrated_on_its_validation_stories() -> None:
    calibration = read_calibration(PACKAGED_READER)

    assert calibration is not None
    assert 0.0 < calibration.abstain_below < 1.0
    curve = calibration.details["calibration_curve"]
    assert curve == sorted(curve, key=lambda point: point["threshold"])
    assert calibration.details["validation"]["at_threshold"]["threshold"] == calibration.abstain_below


def test_the_reader_prefers_the_sentence_that_answers_over_one_on_the_same_subject(
    reader: CrossEncoderReader,
) -> None:
    question = "Who designed the new library?"
    passages = [
        "The new library opened on Saturday with a reading by local schoolchildren and a brass band.",
        "The library was designed by the architect Nadia Okafor, whose firm also built the town's swimming pool.",
        "Visitors said the new library was bright and much bigger than the old one on Mill Street.",
    ]

    probabilities = reader.read(question, passages)

    assert int(probabilities.argmax()) == 1
    assert probabilities[1] >= reader.abstain_below
    assert max(probabilities[0], probabilities[2]) < probabilities[1]


LIBRARY = {
    "gazette.md": (
        "---\ntitle: Riverside library opens its doors\noutlet: The Dunmore Gazette\ndate: 2025-03-08\n---\n"
        "The new Riverside library opened on Saturday with a reading by local schoolchildren and a brass band.\n\n"
        "The library was designed by the architect Nadia Okafor, whose firm also built the town's swimming pool.\n\n"
        "The building has three floors, a children's wing and a café run by volunteers. It replaces the old "
        "library on Mill Street, which closed in 2022 after its roof was found to be unsafe.\n\n"
        "Head librarian Tom Reyes said more than 2,000 people had signed up for library cards in the first week.\n"
    ),
    "radio.md": (
        "---\ntitle: Hundreds queue for first look at new library\noutlet: North Dunmore Radio\ndate: 2025-03-09\n---\n"
        "Hundreds of people queued in the rain on Saturday for the opening of Dunmore's Riverside library.\n\n"
        "Designed by Nadia Okafor, the three-storey building includes a children's wing and a volunteer-run café.\n\n"
        "Tom Reyes, the head librarian, said 2,000 residents had registered for cards within seven days.\n"
    ),
}


def test_the_reader_says_not_in_the_articles_where_retrieval_alone_gives_the_nearest_passage(
    tmp_path: Path, minilm: SentenceTransformerEmbedder, reader: CrossEncoderReader
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in LIBRARY.items():
        (folder / name).write_text(text, encoding="utf-8")
    Engine(folder, tmp_path / "index", minilm).build()
    reading = Engine(folder, tmp_path / "index", minilm, reader=reader).answerer()
    not_reading = Engine(folder, tmp_path / "index", minilm).answerer()
    unanswered = "How much did the new library cost?"  # close to the story; no article gives a cost

    assert not not_reading.ask(unanswered).abstained  # retrieval alone: confident, unrelated snippets
    turned_away = reading.ask(unanswered)
    assert turned_away.abstained
    assert not turned_away.citations
    assert turned_away.confidence is not None
    assert turned_away.confidence < reader.abstain_below
    answered = reading.ask("Who was the library's architect?")
    assert not answered.abstained
    assert "Nadia Okafor" in answered.citations[0].snippet
    assert answered.confidence is not None
    assert answered.confidence >= reader.abstain_below


def test_the_reader_scores_nothing_for_no_passages(reader: CrossEncoderReader) -> None:
    assert reader.read("anything?", []).shape == (0,)


def _ask(reader: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "STORYBOT_ARTICLES_DIR": str(BUNDLED_ARTICLES),
        "STORYBOT_INDEX_DIR": str(tmp_path / "index"),
        "STORYBOT_READER_MODEL": reader,
        "STORYBOT_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", "ask", "who composed the song?"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )


def test_with_the_reader_turned_off_questions_are_still_answered(tmp_path: Path) -> None:
    result = _ask("none", tmp_path)

    assert result.returncode == 0, result.stderr
    assert "[1] “" in result.stdout
    assert "Sources" in result.stdout


def test_a_missing_reader_folder_gets_one_clear_line(tmp_path: Path) -> None:
    result = _ask(str(tmp_path / "no-such-reader"), tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "cannot load reader model" in result.stderr
    assert "STORYBOT_READER_MODEL" in result.stderr


@pytest.mark.parametrize("damage", ["weights", "calibration"])
def test_a_damaged_reader_folder_gets_one_clear_line(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "reader"
    shutil.copytree(PACKAGED_READER, folder)
    if damage == "weights":
        weights = folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    else:
        (folder / CALIBRATION_FILE).write_text("{not json", encoding="utf-8")

    result = _ask(str(folder), tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "reader" in result.stderr


def test_a_reader_with_more_than_one_output_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "two-outputs"
    shutil.copytree(PACKAGED_READER, folder)
    dense = folder / "2_Dense" / "config.json"
    config = json.loads(dense.read_text(encoding="utf-8"))
    config["out_features"] = 2
    dense.write_text(json.dumps(config), encoding="utf-8")

    with pytest.raises(ModelError, match="reader"):
        CrossEncoderReader(str(folder))
