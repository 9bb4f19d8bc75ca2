"""End to end: the real `python -m bot` process logs into a fake Discord on 127.0.0.1, syncs its
commands and answers a /ask interaction and a mention; it apologises when Discord will not take a
reply; and it fails with one line without a good token, a readable .env or a reachable Discord."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_ARTICLES, ROOT
from tests.fakediscord import FakeDiscord, FakeInteraction, SentMessage

STARTUP_TIMEOUT = 180.0  # loading the model and building the index on a slow machine
TOKEN = "e2e-token.not-a-real-one.zzz"

PERMISSION_MANAGE_GUILD = 1 << 5
APOLOGY = "Discord would not take my reply"
WEBHOOK_TRIES = 5  # discord.py tries a webhook request 5 times on a 5xx before it gives up


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


async def _log_lines(bot: BotProcess, *needles: str, timeout: float = 10.0) -> list[str]:
    """The log lines holding every needle, once there is at least one (bounded wait)."""
    for _ in range(int(timeout * 10)):
        lines = [line for line in bot.output().splitlines() if all(n in line for n in needles)]
        if lines:
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"no log line with {needles}:\n{bot.output()[-3000:]}")


async def _apology(fake: FakeDiscord, interaction: FakeInteraction) -> SentMessage:
    return await fake.wait_for_message(
        where=lambda m: m.interaction is interaction and APOLOGY in m.content, timeout=90
    )


def _bare_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_") and k != "DISCORD_TOKEN"}
    return env | {"PYTHONPATH": str(ROOT)} | extra


async def _run_bot_briefly(env: dict[str, str], cwd: Path) -> tuple[int | None, bytes, list[str]]:
    """`python -m bot` that is expected to stop before it loads anything: exit code, stdout, stderr lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out, err.decode().strip().splitlines()


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (the OS just handed it out and it was let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_bot_process_syncs_answers_a_slash_command_and_a_mention(tmp_path: Path) -> None:
    async with FakeDiscord(TOKEN) as fake, bot_process(_environment(fake, tmp_path), tmp_path) as bot:
        await _ready(fake, bot)
        synced = {(c["name"], c["type"]) for c in fake.guild_commands[fake.guild.id]}
        slash = {(name, 1) for name in ("ask", "sources", "help", "reindex", "add", "remove")}
        assert synced == slash | {("Ask StoryBot", 3)}  # 3: a message context menu
        for admin_only in ("reindex", "add", "remove"):
            command = next(c for c in fake.guild_commands[fake.guild.id] if c["name"] == admin_only)
            assert int(command["default_member_permissions"]) == PERMISSION_MANAGE_GUILD

        asked = await fake.send_interaction("ask", {"question": "Who composed Love Wins All?"})
        answer = await fake.wait_for_message(where=lambda m: m.interaction is asked, timeout=60)
        assert asked.callback_type == 5  # deferred first, then the follow-up
        assert answer.source == "followup"
        assert "Dong Hwan" in _embed_text(answer)
        assert answer.payload["allowed_mentions"] == {"parse": []}
        buttons = [b for row in answer.payload["components"] for b in row["components"]]
        assert [b["custom_id"].rsplit(":", 1)[1] for b in buttons] == ["up", "down"]  # 👍 / 👎 under it

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


async def test_an_admin_adds_a_page_by_url_and_the_bot_process_then_cites_it(tmp_path: Path, pages_url: str) -> None:
    async with FakeDiscord(TOKEN) as fake:
        env = _environment(fake, tmp_path, STORYBOT_FETCH_ALLOW_PRIVATE="true")
        async with bot_process(env, tmp_path) as bot:
            await _ready(fake, bot)
            added = await fake.send_interaction(
                "add", {"url": f"{pages_url}/news.html"}, user=fake.owner, permissions=PERMISSION_MANAGE_GUILD
            )
            stored = await fake.wait_for_message(where=lambda m: m.interaction is added and bool(m.embeds), timeout=120)
            assert stored.payload.get("flags", 0) & 64  # ephemeral: the admin alone sees it
            assert "Added: Harwick's first tram in 70 years" in _embed_text(stored)

            asked = await fake.send_interaction("ask", {"question": "How many people rode the new tram in Harwick?"})
            answer = await fake.wait_for_message(where=lambda m: m.interaction is asked, timeout=60)
            sources = " ".join(str(f.get("value", "")) for e in answer.embeds for f in e.get("fields", []))
            assert "harwick-courier.example/news/2025/06/harwick-tram-line-1-opens" in sources
            log = await _log_lines(bot, "added ", f"by user {fake.owner.id}", "saved as ")
            assert len(log) == 1
            assert not fake.errors


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


@pytest.mark.parametrize("token", [None, "  ", "\n"])
async def test_no_token_is_one_line_and_exit_code_2(tmp_path: Path, token: str | None) -> None:
    env = _bare_environment() if token is None else _bare_environment(DISCORD_TOKEN=token)
    code, out, lines = await _run_bot_briefly(env, tmp_path)

    assert code == 2
    assert out == b""
    assert len(lines) == 1
    assert lines[0].startswith("storybot: no Discord token; set DISCORD_TOKEN")


@pytest.mark.parametrize("token", ["abc\ndef", "abc def", "abc\r\ndef\n"])
async def test_a_token_with_a_line_break_or_space_inside_is_one_line_and_exit_code_2(
    tmp_path: Path, token: str
) -> None:
    code, out, lines = await _run_bot_briefly(_bare_environment(DISCORD_TOKEN=token), tmp_path)

    assert code == 2
    assert out == b""
    assert lines == ["storybot: DISCORD_TOKEN contains a line break or space; paste the token alone"]


async def test_a_dotenv_file_that_is_not_utf8_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"DISCORD_TOKEN=\xff\xfe\n")

    code, out, lines = await _run_bot_briefly(_bare_environment(), tmp_path)

    assert code == 2
    assert out == b""
    assert lines == ["storybot: .env is not UTF-8 text (byte 0xff at position 14, line 1); save it as UTF-8"]


async def test_discord_unreachable_at_start_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    port = _closed_port()
    api_base = f"http://127.0.0.1:{port}/api/v10"
    async with FakeDiscord(TOKEN) as fake:  # only for the guild id and token; Discord is the closed port
        env = _environment(
            fake, tmp_path, STORYBOT_DISCORD_API_BASE=api_base, STORYBOT_DISCORD_GATEWAY=f"ws://127.0.0.1:{port}/"
        )
        async with bot_process(env, tmp_path) as bot:
            code = await asyncio.wait_for(bot.process.wait(), STARTUP_TIMEOUT)

    log = bot.output()
    assert code == 1, log
    assert "Traceback" not in log
    assert log.strip().splitlines()[-1] == (
        f"storybot: cannot reach Discord at {api_base} (Connection refused); check the network"
    )
    assert TOKEN not in log


async def test_replies_discord_keeps_refusing_become_an_apology_and_one_log_line(tmp_path: Path) -> None:
    async with FakeDiscord(TOKEN) as fake, bot_process(_environment(fake, tmp_path), tmp_path) as bot:
        await _ready(fake, bot)
        # Every try of the /ask follow-up and of the /reindex result fails with a 500, until discord.py
        # gives up (about 25 s); the apology that edits the "thinking…" message then goes through.
        webhook = rf"/webhooks/{fake.application_id}/[^/]+"
        answer_fault = fake.fail("POST", webhook, status=500, times=WEBHOOK_TRIES)
        result_fault = fake.fail(
            "PATCH",
            rf"{webhook}/messages/@original",
            status=500,
            times=WEBHOOK_TRIES,
            where=lambda r: str((r.json or {}).get("content", "")).startswith("Index rebuilt"),
        )
        asked = await fake.send_interaction("ask", {"question": "Who composed Love Wins All?"})
        rebuilt = await fake.send_interaction("reindex", user=fake.owner, permissions=PERMISSION_MANAGE_GUILD)

        for interaction in (asked, rebuilt):
            shown = await _apology(fake, interaction)
            assert shown.source == "original_edit"  # the "thinking…" message became the apology
            assert shown.message is interaction.original
            assert not interaction.followups
        assert (answer_fault.hits, result_fault.hits) == (WEBHOOK_TRIES, WEBHOOK_TRIES)
        assert len(await _log_lines(bot, "/ask", "Discord did not take the reply", "500")) == 1
        assert len(await _log_lines(bot, "/reindex", "Discord did not take the reply", "500")) == 1

        # A mention whose reply Discord refuses (no permission to post there) is one log line too.
        fake.fail("POST", rf"/channels/{fake.channel.id}/messages", status=403)
        await fake.send_message(f"<@{fake.bot_user.id}> who composed Love Wins All?", author=fake.user)
        await fake.wait_for_request("POST", rf"/channels/{fake.channel.id}/messages", timeout=60)
        assert len(await _log_lines(bot, "could not reply in channel", "Missing Permissions")) == 1
        assert "Traceback" not in bot.output()
        assert not fake.errors
