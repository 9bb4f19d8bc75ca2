"""The bot in a SimCord world, shared by the bot's test modules (a pytest plugin: see conftest):
a guild with a channel, an admin and a member, and the real engine (MiniLM, FAISS) over a copy of
the bundled articles."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import pytest_asyncio
import simcord

from bot.client import BotConfig, StoryBot
from bot.service import StoryService
from index import Engine, SentenceTransformerEmbedder
from tests.conftest import ROOT

QUESTION = "Who composed Love Wins All?"


@dataclass
class World:
    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    admin: simcord.MemberActor
    member: simcord.MemberActor
    service: StoryService
    articles: Path


@pytest.fixture
def story_service(minilm: SentenceTransformerEmbedder, articles_dir: Path, tmp_path: Path) -> Iterator[StoryService]:
    service, _ = StoryService.open(Engine(articles_dir, tmp_path / "index", minilm))
    yield service
    service.close()


@pytest.fixture
def bot_config() -> BotConfig:
    return BotConfig(cooldown_seconds=5.0)


@pytest.fixture
def simcord_bot(story_service: StoryService, bot_config: BotConfig) -> StoryBot:
    return StoryBot(story_service, bot_config)


# The project's fixtures default to the session loop; SimCord's environment must live on the test's.
@pytest_asyncio.fixture(loop_scope="function")
async def simcord_env(simcord_bot: StoryBot, request: pytest.FixtureRequest) -> AsyncIterator[simcord.Env]:
    marker = request.node.get_closest_marker("simcord")
    options = {"shard_count": 1} | (marker.kwargs if marker else {})
    env = simcord.Env(simcord_bot, **options)
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()
        if env.check_errors:
            env._raise_errors_since(env._errors_acknowledged)


@pytest.fixture
def world(simcord_env: simcord.Env, story_service: StoryService, articles_dir: Path) -> World:
    guild = simcord_env.create_guild("Fans")
    channel = guild.create_text_channel("general")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(simcord_env.create_user("mod"), roles=[mods])
    member = guild.add_member(simcord_env.create_user("reader"))
    return World(simcord_env, guild, channel, admin, member, story_service, articles_dir)


def last(world: World) -> discord.Message:
    message = world.channel.last_message
    assert message is not None
    return message


def fold(text: str) -> str:
    return " ".join(text.replace("\\", "").split())


def embed_of(result: simcord.InteractionResult) -> discord.Embed:
    messages = [result.response, *result.followups]
    embeds = [e for m in messages if m is not None for e in m.embeds]
    assert len(embeds) == 1, [m.content for m in messages if m is not None]
    return embeds[0]


def texts(result: simcord.InteractionResult) -> str:
    messages = [result.response, *result.followups]
    return " ".join(m.content for m in messages if m is not None)


def sources_text(embed: discord.Embed) -> str:
    return "\n".join(str(f.value) for f in embed.fields)


def storybot_over(world: World, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The `storybot` command over the world's articles and index, as a user on the host runs it."""
    index = str(world.service.engine.index_dir)
    return subprocess.run(
        [sys.executable, "-m", "cli", "--articles", str(world.articles), "--index", index, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "STORYBOT_LOG_LEVEL": "WARNING"},
        timeout=timeout,
        check=True,
    )
