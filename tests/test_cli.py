"""The `storybot` command as a user runs it: a real process, real files, the real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_ARTICLES, ROOT


def storybot(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=env["STORYBOT_TEST_CWD"],
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Settings pointing at a private index of the bundled articles, built once for the module."""
    home = tmp_path_factory.mktemp("cli")
    values = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_") and k != "DISCORD_TOKEN"}
    values |= {
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "STORYBOT_ARTICLES_DIR": str(BUNDLED_ARTICLES),
        "STORYBOT_INDEX_DIR": str(home / "index"),
        "STORYBOT_LOG_LEVEL": "WARNING",
        "STORYBOT_TEST_CWD": str(home),
    }
    built = storybot("index", "build", env=values)
    assert built.returncode == 0, built.stderr
    assert "full rebuild: 3 added, 0 changed, 0 removed, 0 unchanged articles" in built.stdout
    return values


def test_index_stats_lists_each_article_with_outlet_date_and_chunks(env: dict[str, str]) -> None:
    result = storybot("index", "stats", env=env)

    assert result.returncode == 0, result.stderr
    assert "sentence-transformers/all-MiniLM-L6-v2 (384 dimensions)" in result.stdout
    assert "articles: 3" in result.stdout
    assert "2024-01-30  allkpop" in result.stdout
    assert "chunks  " in result.stdout


def test_a_second_build_reports_everything_unchanged(env: dict[str, str]) -> None:
    result = storybot("index", "build", env=env)

    assert result.returncode == 0, result.stderr
    assert "3 unchanged articles" in result.stdout
    assert "(0 embedded)" in result.stdout


def test_ask_prints_numbered_snippets_with_citations_and_sources(env: dict[str, str]) -> None:
    result = storybot("ask", "Which film did Um Tae-hwa make?", env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Which film did Um Tae-hwa make?"
    assert lines[2].startswith("[1] “")
    assert "Concrete Utopia" in result.stdout
    assert any(line.startswith("    — ") for line in lines)
    assert "Sources" in lines


def test_ask_json_matches_the_documented_shape(env: dict[str, str]) -> None:
    result = storybot("ask", "--json", "How many days did filming take?", env=env)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == "How many days did filming take?"
    assert answer["abstained"] is False
    assert answer["citations"][0]["n"] == 1
    source = answer["citations"][0]["sources"][0]
    assert {"article_id", "title", "outlet", "date", "url", "start", "end"} <= set(source)
    text = (BUNDLED_ARTICLES / source["article_id"]).read_text()
    assert answer["citations"][0]["snippet"].split()[0] in text


def test_ask_json_from_stdin_answers_one_question_a_line(env: dict[str, str]) -> None:
    questions = "Who composed Love Wins All?\n\nWhat is the boiling point of water?\n" + "x" * 600 + "\n"

    result = storybot("ask", "--json", "-", env=env, stdin=questions)

    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["question"] for o in objects[:2]] == [
        "Who composed Love Wins All?",
        "What is the boiling point of water?",
    ]
    assert objects[0]["abstained"] is False
    assert objects[0]["citations"]
    assert objects[1] == {
        "question": "What is the boiling point of water?",
        "abstained": True,
        "confidence": None,  # nothing in the articles came close enough to be read
        "citations": [],
        "disagreements": [],
    }
    assert "keep it under 500" in objects[2]["error"]
    assert result.returncode == 1


def test_a_reader_that_stops_reading_our_output_ends_it_quietly(env: dict[str, str]) -> None:
    """`storybot ask - | head -1`: far more answers than a pipe buffer holds, the pipe closed after one line."""
    questions = "who composed Love Wins All?\n" * 300
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "ask", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=env["STORYBOT_TEST_CWD"],
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdin.write(questions.encode())
    process.stdin.close()
    assert process.stdout.readline()
    process.stdout.close()
    returncode = process.wait(timeout=300)
    stderr = process.stderr.read().decode()
    process.stderr.close()

    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr


def test_bytes_that_are_not_utf8_on_stdin_do_not_stop_the_questions_after_them(env: dict[str, str]) -> None:
    lines = [b"\xff\xfe\x00\x9c binary \x80\n", b"Who composed Love Wins All?\n", b"x" * 2_000_000 + b"\n"]
    lines.append(b"who directed the video?\n")
    result = subprocess.run(
        [sys.executable, "-m", "cli", "ask", "--json", "-"],
        input=b"".join(lines),
        capture_output=True,
        env=env,
        cwd=env["STORYBOT_TEST_CWD"],
        timeout=300,
        check=False,
    )

    objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(objects) == 4, result.stderr.decode()
    assert "\ufffd" in objects[0]["question"]  # decoded with replacement and asked
    assert objects[1]["citations"]
    assert "keep it under 500" in objects[2]["error"]
    assert len(objects[2]["question"]) < 300  # the 2 MB line is not echoed back whole
    assert objects[3]["citations"]
    assert result.returncode == 1  # one line was refused
    assert b"Traceback" not in result.stderr


def test_an_off_topic_question_is_answered_with_not_in_the_articles(env: dict[str, str]) -> None:
    result = storybot("ask", "Recommend a good laptop for gaming.", env=env)

    assert result.returncode == 0
    assert "That is not in the articles." in result.stdout


@pytest.mark.parametrize(("question", "message"), [("   ", "the question is empty"), ("y" * 501, "keep it under 500")])
def test_a_bad_question_gets_one_line_and_exit_code_1(env: dict[str, str], question: str, message: str) -> None:
    result = storybot("ask", question, env=env)

    assert result.returncode == 1
    assert result.stderr.strip().startswith("storybot: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bad_settings_get_one_line_per_field_and_exit_code_2(env: dict[str, str]) -> None:
    bad = env | {"STORYBOT_CHUNK_SIZE": "big", "STORYBOT_SNIPPETS": "0"}

    result = storybot("index", "stats", env=bad)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "storybot: bad settings"
    assert lines[1].startswith("STORYBOT_CHUNK_SIZE: ")
    assert lines[2].startswith("STORYBOT_SNIPPETS: ")
    assert "Traceback" not in result.stderr


def test_stats_without_an_index_says_how_to_build_one(env: dict[str, str], tmp_path: Path) -> None:
    result = storybot("index", "stats", env=env | {"STORYBOT_INDEX_DIR": str(tmp_path / "none")})

    assert result.returncode == 1
    assert result.stderr.strip() == f"storybot: no index at {tmp_path / 'none'}; run `storybot index build`"


def test_a_damaged_index_gets_a_clear_message_and_build_repairs_it(env: dict[str, str], tmp_path: Path) -> None:
    local = env | {"STORYBOT_INDEX_DIR": str(tmp_path / "index")}
    assert storybot("index", "build", env=local).returncode == 0
    (tmp_path / "index" / "manifest.json").write_text("garbage")

    broken = storybot("ask", "Who composed Love Wins All?", env=local)
    repaired = storybot("index", "build", env=local)

    assert broken.returncode == 1
    assert "is unreadable; run `storybot index build`" in broken.stderr
    assert repaired.returncode == 0
    assert "full rebuild" in repaired.stdout
    assert storybot("ask", "Who composed Love Wins All?", env=local).returncode == 0
