"""Tests of config.settings: defaults, STORYBOT_* variables, .env, the secret token, readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from config import Settings, SettingsError, load_settings

TOKEN = "MTA-not-a-real-token.Gx7.k3y"


@pytest.fixture(autouse=True)
def _isolated(clean_env: Path) -> Path:
    """Every test here starts with no STORYBOT_* or DISCORD_TOKEN and no .env in its folder."""
    return clean_env


def write_env_file(folder: Path, *lines: str) -> None:
    (folder / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def settings_error(**overrides: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    return str(caught.value).splitlines()


# --- defaults ---------------------------------------------------------------------------------


def test_with_nothing_set_every_setting_has_its_default() -> None:
    settings = load_settings()
    assert settings.model_dump() == {
        "articles_dir": Path("data/articles"),
        "index_dir": Path("data/index"),
        "embedding_model": "sentence-transformers/all-MiniLM-L6-v2",
        "chunk_size": 320,
        "chunk_overlap": 100,
        "snippets": 3,
        "snippet_chars": 320,
        "reader_model": "storybot-reader",
        "reader_threshold": None,
        "abstain_threshold": 0.35,
        "log_level": "INFO",
        "discord_token": None,
        "guild_id": None,
        "answer_channel_ids": [],
        "admin_user_ids": [],
        "admin_role_ids": [],
        "cooldown_seconds": 5.0,
        "reload_seconds": 30.0,
        "shard_count": None,
        "shard_ids": [],
        "fetch_allow_private": False,
        "discord_api_base": None,
        "discord_gateway": None,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", []), ("123", [123]), ("123, 456", [123, 456]), ("123 456", [123, 456]), ("[123, 456]", [123, 456])],
)
def test_id_lists_are_written_with_commas_or_as_json(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[int]
) -> None:
    monkeypatch.setenv("STORYBOT_ADMIN_ROLE_IDS", value)
    assert load_settings().admin_role_ids == expected


def test_shard_ids_need_a_count_and_must_fall_within_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_SHARD_IDS", "0, 1")
    with pytest.raises(SettingsError) as alone:
        load_settings()
    monkeypatch.setenv("STORYBOT_SHARD_COUNT", "2")
    assert load_settings().shard_ids == [0, 1]
    monkeypatch.setenv("STORYBOT_SHARD_IDS", "2")
    with pytest.raises(SettingsError) as outside:
        load_settings()

    assert str(alone.value) == "STORYBOT_SHARD_IDS: needs STORYBOT_SHARD_COUNT as well"
    assert str(outside.value) == "STORYBOT_SHARD_IDS: shard ids run from 0 to 1 (STORYBOT_SHARD_COUNT is 2)"


def test_a_bad_id_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_ANSWER_CHANNEL_IDS", "123, general")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith("STORYBOT_ANSWER_CHANNEL_IDS: ")


# --- environment variables --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("STORYBOT_ARTICLES_DIR", "/srv/news", "articles_dir", Path("/srv/news")),
        ("STORYBOT_INDEX_DIR", "var/index", "index_dir", Path("var/index")),
        ("STORYBOT_EMBEDDING_MODEL", "/models/local-minilm", "embedding_model", "/models/local-minilm"),
        ("STORYBOT_CHUNK_SIZE", "500", "chunk_size", 500),
        ("STORYBOT_CHUNK_OVERLAP", "0", "chunk_overlap", 0),
        ("STORYBOT_SNIPPETS", "10", "snippets", 10),
        ("STORYBOT_SNIPPET_CHARS", "80", "snippet_chars", 80),
        ("STORYBOT_ABSTAIN_THRESHOLD", "0.5", "abstain_threshold", 0.5),
        (
            "STORYBOT_READER_MODEL",
            "cross-encoder/ms-marco-MiniLM-L6-v2",
            "reader_model",
            "cross-encoder/ms-marco-MiniLM-L6-v2",
        ),
        ("STORYBOT_READER_THRESHOLD", "0.4", "reader_threshold", 0.4),
        ("STORYBOT_LOG_LEVEL", "DEBUG", "log_level", "DEBUG"),
    ],
)
def test_each_setting_is_read_from_its_storybot_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(load_settings(), field) == expected


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("false", False), ("0", False)])
def test_fetching_private_addresses_is_off_unless_the_environment_turns_it_on(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    assert load_settings().fetch_allow_private is False
    monkeypatch.setenv("STORYBOT_FETCH_ALLOW_PRIVATE", value)
    assert load_settings().fetch_allow_private is expected


def test_variables_without_the_storybot_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUNK_SIZE", "999")
    monkeypatch.setenv("STORYBOT_NOT_A_SETTING", "whatever")
    assert load_settings().chunk_size == 320


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_LOG_LEVEL", "ERROR")
    assert load_settings(log_level="DEBUG").log_level == "DEBUG"


# --- .env -------------------------------------------------------------------------------------


def test_a_dotenv_file_in_the_working_directory_is_read(clean_env: Path) -> None:
    write_env_file(clean_env, "# local settings", "STORYBOT_SNIPPETS=5", "STORYBOT_INDEX_DIR=/tmp/storybot-index")
    settings = load_settings()
    assert (settings.snippets, settings.index_dir) == (5, Path("/tmp/storybot-index"))


def test_the_environment_wins_over_the_dotenv_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env_file(clean_env, "STORYBOT_SNIPPETS=5")
    monkeypatch.setenv("STORYBOT_SNIPPETS", "7")
    assert load_settings().snippets == 7


def test_a_dotenv_file_that_is_not_utf8_is_one_line_naming_the_byte(clean_env: Path) -> None:
    (clean_env / ".env").write_bytes(b"STORYBOT_SNIPPETS=5\nDISCORD_TOKEN=\xff\xfe\n")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.explain() == ".env is not UTF-8 text (byte 0xff at position 34, line 2); save it as UTF-8"
    assert "\n" not in caught.value.explain()


def test_a_settings_error_explains_itself_under_a_heading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_SNIPPETS", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    heading, line = caught.value.explain().splitlines()
    assert heading == "bad settings"
    assert line.startswith("STORYBOT_SNIPPETS: ")


def test_a_dotenv_file_elsewhere_is_not_read(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = clean_env / "elsewhere"
    elsewhere.mkdir()
    write_env_file(elsewhere, "STORYBOT_SNIPPETS=5")
    assert load_settings().snippets == 3


# --- the Discord token ------------------------------------------------------------------------


def test_the_discord_token_is_read_as_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    token = load_settings().discord_token
    assert isinstance(token, SecretStr)
    assert token.get_secret_value() == TOKEN


def test_the_discord_token_may_also_carry_the_storybot_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_DISCORD_TOKEN", TOKEN)
    token = load_settings().discord_token
    assert token is not None
    assert token.get_secret_value() == TOKEN


def test_the_discord_token_is_read_from_the_dotenv_file(clean_env: Path) -> None:
    write_env_file(clean_env, f"DISCORD_TOKEN={TOKEN}")
    token = load_settings().discord_token
    assert token is not None
    assert token.get_secret_value() == TOKEN


def test_the_discord_token_never_shows_when_settings_are_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    settings = load_settings()
    for shown in (str(settings), repr(settings), f"{settings}", settings.model_dump_json(), str(settings.model_dump())):
        assert TOKEN not in shown
    assert "**********" in repr(settings)


def test_the_discord_token_never_shows_in_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("STORYBOT_SNIPPETS", "0")
    assert TOKEN not in "\n".join(settings_error())


def test_without_a_token_the_token_is_none() -> None:
    assert load_settings().discord_token is None


@pytest.mark.parametrize("written", [f"{TOKEN}\n", f"  {TOKEN}\r\n", f"\t{TOKEN} "])
def test_whitespace_around_the_discord_token_is_dropped(monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", written)  # `echo token > secret` and copy-paste leave these
    token = load_settings().discord_token
    assert token is not None
    assert token.get_secret_value() == TOKEN


def test_a_quoted_token_with_a_trailing_newline_in_the_dotenv_file_is_trimmed(clean_env: Path) -> None:
    write_env_file(clean_env, f'DISCORD_TOKEN="{TOKEN}\\n"')  # dotenv reads \n in double quotes as a newline
    token = load_settings().discord_token
    assert token is not None
    assert token.get_secret_value() == TOKEN


def test_a_blank_discord_token_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", " \n")
    assert load_settings().discord_token is None


# --- bad values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("STORYBOT_CHUNK_SIZE", "abc", "valid integer"),
        ("STORYBOT_CHUNK_SIZE", "10", "greater than or equal to 50"),
        ("STORYBOT_CHUNK_SIZE", "5000", "less than or equal to 4000"),
        ("STORYBOT_CHUNK_OVERLAP", "-1", "greater than or equal to 0"),
        ("STORYBOT_SNIPPETS", "0", "greater than or equal to 1"),
        ("STORYBOT_SNIPPETS", "11", "less than or equal to 10"),
        ("STORYBOT_SNIPPET_CHARS", "79", "greater than or equal to 80"),
        ("STORYBOT_ABSTAIN_THRESHOLD", "1.5", "less than or equal to 1"),
        ("STORYBOT_ABSTAIN_THRESHOLD", "high", "valid number"),
        ("STORYBOT_READER_THRESHOLD", "2", "less than or equal to 1"),
        ("STORYBOT_READER_MODEL", "", "at least 1 character"),
        ("STORYBOT_LOG_LEVEL", "LOUD", "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
        ("STORYBOT_EMBEDDING_MODEL", "", "at least 1 character"),
    ],
)
def test_a_bad_value_gives_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    monkeypatch.setenv(variable, value)
    [line] = settings_error()
    assert line.startswith(f"{variable}: ")
    assert complaint in line


def test_an_overlap_as_large_as_the_chunk_size_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_CHUNK_SIZE", "100")
    monkeypatch.setenv("STORYBOT_CHUNK_OVERLAP", "100")
    assert settings_error() == ["STORYBOT_CHUNK_OVERLAP: must be smaller than STORYBOT_CHUNK_SIZE (100); it is 100"]


def test_a_chunk_size_below_the_default_overlap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_CHUNK_SIZE", "80")
    assert settings_error() == ["STORYBOT_CHUNK_OVERLAP: must be smaller than STORYBOT_CHUNK_SIZE (80); it is 100"]


def test_a_bad_chunk_size_is_reported_once_without_an_overlap_complaint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_CHUNK_SIZE", "abc")
    monkeypatch.setenv("STORYBOT_CHUNK_OVERLAP", "100")
    [line] = settings_error()
    assert line.startswith("STORYBOT_CHUNK_SIZE: ")


def test_two_bad_fields_give_two_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_CHUNK_SIZE", "abc")
    monkeypatch.setenv("STORYBOT_SNIPPETS", "0")
    lines = settings_error()
    assert len(lines) == 2
    assert lines[0].startswith("STORYBOT_CHUNK_SIZE: ")
    assert lines[1].startswith("STORYBOT_SNIPPETS: ")


def test_every_bad_field_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_CHUNK_SIZE", "abc")
    monkeypatch.setenv("STORYBOT_SNIPPETS", "0")
    monkeypatch.setenv("STORYBOT_LOG_LEVEL", "LOUD")
    monkeypatch.setenv("STORYBOT_ABSTAIN_THRESHOLD", "-0.1")
    assert [line.split(":", 1)[0] for line in settings_error()] == [
        "STORYBOT_CHUNK_SIZE",
        "STORYBOT_SNIPPETS",
        "STORYBOT_ABSTAIN_THRESHOLD",
        "STORYBOT_LOG_LEVEL",
    ]


def test_a_bad_value_in_the_dotenv_file_names_its_variable(clean_env: Path) -> None:
    write_env_file(clean_env, "STORYBOT_SNIPPETS=many")
    [line] = settings_error()
    assert line.startswith("STORYBOT_SNIPPETS: ")


def test_a_bad_override_names_the_variable_that_would_set_it() -> None:
    [line] = settings_error(log_level="LOUD")
    assert line.startswith("STORYBOT_LOG_LEVEL: ")


def test_a_settings_error_is_plain_text_that_does_not_echo_the_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_CHUNK_SIZE", "abc")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "abc" not in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert "pydantic" not in str(caught.value)


def test_the_settings_class_reads_the_same_sources_as_load_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOT_SNIPPETS", "4")
    assert Settings().snippets == load_settings().snippets == 4
