"""One pydantic-settings class for everything StoryBot can be told; imports nothing of ours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# Discord ids written as "123, 456" (or a JSON list) in the environment.
IdList = Annotated[list[Annotated[int, Field(gt=0)]], NoDecode]


class SettingsError(Exception):
    """Settings that cannot be used; the message has one line per bad field."""

    def explain(self) -> str:
        """What to print after "storybot: ": a heading, then the message."""
        return f"bad settings\n{self}"


class EnvFileError(SettingsError):
    """The .env file cannot be read at all; the message is the whole story, in one line."""

    def explain(self) -> str:
        return str(self)


class Settings(BaseSettings):
    """Read from `STORYBOT_<NAME>` variables (and `.env`); the Discord token from `DISCORD_TOKEN`."""

    model_config = SettingsConfigDict(
        env_prefix="STORYBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    articles_dir: Path = Field(Path("data/articles"), description="Folder of articles to index.")
    index_dir: Path = Field(Path("data/index"), description="Folder the index is stored in.")
    embedding_model: str = Field(
        "sentence-transformers/all-MiniLM-L6-v2",
        min_length=1,
        description="sentence-transformers model name or local path; the default ships with StoryBot.",
    )
    chunk_size: int = Field(320, ge=50, le=4000, description="Target chunk length in characters.")
    chunk_overlap: int = Field(
        100, ge=0, le=2000, description="Characters of whole sentences shared by neighbouring chunks."
    )
    snippets: int = Field(3, ge=1, le=10, description="Most snippets in one answer.")
    snippet_chars: int = Field(320, ge=80, le=1000, description="Longest snippet, in characters.")
    reader_model: str = Field(
        "storybot-reader",
        min_length=1,
        description="Cross-encoder that reads each candidate passage with the question: storybot-reader "
        "(bundled, offline), any sentence-transformers CrossEncoder name or folder, or none.",
    )
    reader_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Below this reader probability for the best passage, the answer is 'not in the articles'; "
        "unset: the reader's calibrated value (0.5 for a reader without one).",
    )
    abstain_threshold: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="With STORYBOT_READER_MODEL=none: below this cosine similarity of the best sentence, "
        "the answer is 'not in the articles'.",
    )
    log_level: LogLevel = Field("INFO", description="Logging level.")
    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("DISCORD_TOKEN", "STORYBOT_DISCORD_TOKEN"),
        description="Discord bot token (the bot only).",
    )
    guild_id: int | None = Field(
        None, gt=0, description="Sync slash commands to this server only (instant; for trying the bot out)."
    )
    answer_channel_ids: IdList = Field(
        [], description="Channels where plain questions (no mention) are answered; silent when not in the articles."
    )
    admin_user_ids: IdList = Field([], description="Users who may run /reindex besides those with Manage Server.")
    admin_role_ids: IdList = Field([], description="Roles whose members may run /reindex.")
    cooldown_seconds: float = Field(5.0, ge=0, le=3600, description="Seconds between two questions of one user.")
    reload_seconds: float = Field(
        30.0, ge=0, le=86400, description="How often the bot looks for an index another process rebuilt (0: never)."
    )
    shard_count: int | None = Field(
        None, ge=1, description="Total shards across all processes; unset: as many as Discord recommends."
    )
    shard_ids: Annotated[list[Annotated[int, Field(ge=0)]], NoDecode] = Field(
        [], description="The shards this process runs (needs STORYBOT_SHARD_COUNT); unset: all of them."
    )
    fetch_allow_private: bool = Field(
        False,
        description="Let /add and storybot add fetch pages on loopback, private and link-local addresses "
        "(a LAN; the tests).",
    )
    discord_api_base: str | None = Field(None, description="Another Discord REST base URL (tests only).")
    discord_gateway: str | None = Field(None, description="Another Discord gateway URL (tests only).")

    @field_validator("answer_channel_ids", "admin_user_ids", "admin_role_ids", "shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return text.replace(",", " ").split()
        return value

    @field_validator("discord_token")
    @classmethod
    def _trim_token(cls, token: SecretStr | None) -> SecretStr | None:
        """Whitespace around the token is an accident (`echo token > .env`, a copied line), never part
        of it: drop it, and a blank token is no token. Whitespace inside is left for the bot to refuse,
        as only the bot needs the token."""
        if token is None:
            return None
        trimmed = token.get_secret_value().strip()
        return SecretStr(trimmed) if trimmed else None

    # A field validator, not a model one, so the error belongs to chunk_overlap and its line names
    # STORYBOT_CHUNK_OVERLAP; chunk_size is validated first, and is absent from `info.data` if bad.
    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, overlap: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size")
        if size is not None and overlap >= size:
            raise ValueError(f"must be smaller than {_env_name('chunk_size')} ({size}); it is {overlap}")
        return overlap

    @field_validator("shard_ids")
    @classmethod
    def _shards_within_count(cls, shard_ids: list[int], info: ValidationInfo) -> list[int]:
        if not shard_ids:
            return shard_ids
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError(f"needs {_env_name('shard_count')} as well")
        if max(shard_ids) >= count:
            raise ValueError(f"shard ids run from 0 to {count - 1} ({_env_name('shard_count')} is {count})")
        return sorted(set(shard_ids))


def _env_name(field: str) -> str:
    if field == "discord_token":
        return "DISCORD_TOKEN"
    return f"STORYBOT_{field.upper()}" if field else "settings"


def describe(error: ValidationError) -> str:
    """One readable line per bad field, naming the variable to fix; never echoes secrets."""
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{_env_name(field)}: {message}")
    return "\n".join(lines)


def not_utf8(error: UnicodeDecodeError) -> EnvFileError:
    """pydantic-settings lets the decoding error of `.env` through as a traceback; say which byte, on
    which line (a file saved as Latin-1 or UTF-16 by an editor is the usual cause)."""
    name = Settings.model_config.get("env_file") or ".env"
    line = error.object[: error.start].count(b"\n") + 1
    byte = error.object[error.start]
    return EnvFileError(
        f"{name} is not UTF-8 text (byte 0x{byte:02x} at position {error.start}, line {line}); save it as UTF-8"
    )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`; SettingsError with one line per problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None
    except UnicodeDecodeError as exc:  # only `.env` is decoded: the environment is text already
        raise not_utf8(exc) from None
