"""End to end: the real `python -m bot` process logs into a fake Discord on 127.0.0.1, syncs its
commands and answers a /ask interaction and a mention; and it fails cleanly without a good token."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_ARTICLES, ROOT
from tests.fakediscord import FakeDiscord, SentMessage

STARTUP_TIMEOUT = 180.0  # loading the model and building the index on a slow machine
TOKEN = "e2e-token.not-a-real-one.zzz"

PERMISSION_MANAGE_GUILD = 1 << 5


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _environment(fake: FakeDiscord, tmp_path: Path, **extra: str) -> dict[str, str]:
    articles = tmp_path / "articles"
    if not articles.exists():
        shutil.copytree(BUNDLED_ARTICLES, articles)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_") and k != "DISCORD_TOKEN"}
    env |= fake.env() | {
        "STORYBOT_ARTICLES_DIR": str(articles),
        "STORYBOT_INDEX_DIR": str(tmp_path / "index"),
        "STORYBOT_GUILD_ID": str(fake.guild.id),
        "STORYBOT_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",
    }
    return env | extra


@asynccontextmanager
async def bot_process(env: dict[str, str], tmp_path: Path) -> AsyncIterator[BotProcess]:
    log = tmp_path / "bot.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=sink, stderr=sink
        )
    running = BotProcess(process, log)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _ready(fake: FakeDiscord, bot: BotProcess) -> None:
    """Commands synced to the guild and the bot's one ready line logged."""
    try:
        await fake.wait_for_request(
            "PUT", rf"/applications/{fake.application_id}/guilds/{fake.guild.id}/commands", timeout=STARTUP_TIMEOUT
        )
        for _ in range(200):
            if " ready as " in bot.output():
                return
            await asyncio.sleep(0.1)
        raise AssertionError("no ready line")
    except BaseException:
        print(bot.output())
        raise


def _embed_text(message: SentMessage) -> str:
    return " ".join(str(e.get("title", "")) + " " + str(e.get("description", "")) for e in message.embeds)


async def test_the_bot_process_syncs_answers_a_slash_command_and_a_mention(tmp_path: Path) -> None:
    async with FakeDiscord(TOKEN) as fake, bot_process(_environment(fake, tmp_path), tmp_path) as bot:
        await _ready(fake, bot)
        synced = {c["name"] for c in fake.guild_commands[fake.guild.id]}
        assert synced == {"ask", "sources", "help", "reindex"}
        reindex = next(c for c in fake.guild_commands[fake.guild.id] if c["name"] == "reindex")
        assert int(reindex["default_member_permissions"]) == PERMISSION_MANAGE_GUILD

        asked = await fake.send_interaction("ask", {"question": "Who composed Love Wins All?"})
        answer = await fake.wait_for_message(where=lambda m: m.interaction is asked, timeout=60)
        assert asked.callback_type == 5  # deferred first, then the follow-up
        assert answer.source == "followup"
        assert "Dong Hwan" in _embed_text(answer)
        assert answer.payload["allowed_mentions"] == {"parse": []}

        question = f"<@{fake.bot_user.id}> what did V order for the staff at the shoot?"
        mention = await fake.send_message(question, author=fake.owner)  # another user: no cooldown
        reply = await fake.wait_for_message(
            where=lambda m: m.source == "channel" and m.payload.get("message_reference") is not None, timeout=60
        )
        assert str(reply.payload["message_reference"]["message_id"]) == mention["id"]
        assert "coffee truck" in _embed_text(reply)

        log = bot.output()
        line = next(line for line in log.splitlines() if " ready as " in line)
        assert "1 guilds, shards 0 of 1, 3 articles" in line
        assert "question via slash" in log
        assert "Who composed" not in log  # question text only at DEBUG
        assert TOKEN not in log
        assert not fake.unknown_routes
        assert not fake.errors


async def test_sigterm_stops_the_bot_cleanly_with_exit_code_0(tmp_path: Path) -> None:
    async with FakeDiscord(TOKEN) as fake, bot_process(_environment(fake, tmp_path), tmp_path) as bot:
        await _ready(fake, bot)

        bot.process.send_signal(signal.SIGTERM)  # what Procfile hosts and systemd send
        returncode = await asyncio.wait_for(bot.process.wait(), 30)

        assert returncode == 0, bot.output()
        log = bot.output()
        assert "SIGTERM received" in log
        assert log.rstrip().endswith("stopped"), log[-500:]
        assert "Traceback" not in log


async def test_a_second_reindex_while_one_runs_is_refused(tmp_path: Path) -> None:
    async with FakeDiscord(TOKEN) as fake, bot_process(_environment(fake, tmp_path), tmp_path) as bot:
        await _ready(fake, bot)
        # Enough new text that the first rebuild is still embedding when the second arrives.
        paragraphs = "\n\n".join(f"Paragraph {i} of a long report on the harbour works, item {i}." for i in range(600))
        (tmp_path / "articles" / "long.md").write_text(f"---\ntitle: A long report\n---\n{paragraphs}\n")
        admin = {"user": fake.owner, "permissions": PERMISSION_MANAGE_GUILD}
        first = await fake.send_interaction("reindex", **admin)  # type: ignore[arg-type]
        await fake.wait_for_request("POST", rf"/interactions/{first.id}/.*/callback", timeout=30)
        second = await fake.send_interaction("reindex", **admin)  # type: ignore[arg-type]

        refusal = await fake.wait_for_message(where=lambda m: m.interaction is second, timeout=30)
        assert "already running" in refusal.content
        done = await fake.wait_for_message(
            where=lambda m: m.interaction is first and m.content.startswith("Index rebuilt"), timeout=120
        )
        assert "1 added" in done.content
        asked = await fake.send_interaction("ask", {"question": "Who composed Love Wins All?"})
        answer = await fake.wait_for_message(where=lambda m: m.interaction is asked, timeout=60)
        assert "Dong Hwan" in _embed_text(answer)


async def test_without_the_message_content_intent_the_bot_says_so_and_still_answers(tmp_path: Path) -> None:
    async with (
        FakeDiscord(TOKEN, message_content_intent=False) as fake,
        bot_process(_environment(fake, tmp_path), tmp_path) as bot,
    ):
        await _ready(fake, bot)
        asked = await fake.send_interaction("ask", {"question": "Who composed Love Wins All?"})
        answer = await fake.wait_for_message(where=lambda m: m.interaction is asked, timeout=60)

        assert "Dong Hwan" in _embed_text(answer)
        assert "message content intent" in bot.output()
        assert bot.process.returncode is None


async def test_a_rejected_token_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    async with FakeDiscord("the-real-token") as fake:
        env = _environment(fake, tmp_path, DISCORD_TOKEN=TOKEN)
        async with bot_process(env, tmp_path) as bot:
            code = await asyncio.wait_for(bot.process.wait(), STARTUP_TIMEOUT)

        assert code == 1
        assert "Discord rejected the token in DISCORD_TOKEN" in bot.output()
        assert "Traceback" not in bot.output()
        assert TOKEN not in bot.output()


@pytest.mark.parametrize("token", [None, "  "])
async def test_no_token_is_one_line_and_exit_code_2(tmp_path: Path, token: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_") and k != "DISCORD_TOKEN"}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 2
    assert out == b""
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("storybot: no Discord token; set DISCORD_TOKEN")
