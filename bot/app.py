"""`python -m bot` / `storybot run`: settings -> engine -> index loaded -> Discord.

Exit codes: 0 stopped, 1 Discord refused us (bad token), cannot be reached, or the index cannot serve,
2 bad settings (an unreadable .env among them), no usable token, or no index and a folder where
none can be built (read-only, full).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from typing import Any

import aiohttp
import discord

from bot.client import BotConfig, StoryBot
from bot.service import StoryService
from config import Settings, SettingsError, load_settings
from config.wiring import configure_logging, make_engine

log = logging.getLogger("bot")

EXIT_ERROR = 1
EXIT_USAGE = 2

NO_TOKEN = (
    "storybot: no Discord token; set DISCORD_TOKEN (in the environment or in .env) to the bot token from "
    "https://discord.com/developers/applications → your app → Bot → Reset Token"
)
BAD_TOKEN = (
    "storybot: Discord rejected the token in DISCORD_TOKEN; copy a fresh one from the Developer Portal "
    "(your app → Bot → Reset Token)"
)
BROKEN_TOKEN = "storybot: DISCORD_TOKEN contains a line break or space; paste the token alone"


def bot_config(settings: Settings) -> BotConfig:
    return BotConfig(
        guild_id=settings.guild_id,
        answer_channel_ids=list(settings.answer_channel_ids),
        admin_user_ids=list(settings.admin_user_ids),
        admin_role_ids=list(settings.admin_role_ids),
        cooldown_seconds=settings.cooldown_seconds,
        reload_seconds=settings.reload_seconds,
        fetch_allow_private=settings.fetch_allow_private,
    )


def point_at(api_base: str | None, gateway: str | None) -> None:
    """Talk to another Discord (the tests' fake on 127.0.0.1) instead of discord.com."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway:
        import yarl

        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


async def serve(settings: Settings, started: float) -> None:
    """Load the index off the event loop, then connect; without the message content intent,
    connect again without it rather than fail (slash commands and mentions still work)."""
    assert settings.discord_token is not None
    engine = await asyncio.to_thread(make_engine, settings)
    service, report = await asyncio.to_thread(StoryService.open, engine)
    if report is not None:
        log.info("no index yet; built one: %s", report.summary())
    intents = discord.Intents.default()
    intents.message_content = True
    try:
        while True:
            shards: dict[str, Any] = {}
            if settings.shard_count is not None:
                shards["shard_count"] = settings.shard_count
                if settings.shard_ids:
                    shards["shard_ids"] = settings.shard_ids
            bot = StoryBot(service, bot_config(settings), intents=intents, started=started, **shards)
            _close_on_sigterm(bot)
            try:
                async with bot:
                    await bot.start(settings.discord_token.get_secret_value())
                return
            except discord.PrivilegedIntentsRequired:
                if not intents.message_content:
                    raise
                log.warning(
                    "Discord refused the message content intent (not enabled for this application); "
                    "continuing without it: slash commands and mentions work, plain questions in answer "
                    "channels are not seen. Enable it in the Developer Portal → Bot → Privileged Gateway Intents."
                )
                intents.message_content = False
    finally:
        service.close()


def _close_on_sigterm(bot: StoryBot) -> None:
    """SIGTERM (what Procfile hosts, systemd and docker stop send) closes the bot as Ctrl-C does:
    the gateway closed, `bot.start` returns, the question pool shut down, "stopped" logged, exit 0."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()  # the loop keeps only a weak reference to a task

    def close() -> None:
        log.info("SIGTERM received; closing")
        task = loop.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers on this loop
        loop.add_signal_handler(signal.SIGTERM, close)


def token_problem(settings: Settings) -> str | None:
    """Why the token cannot be sent, checked before anything loads. Settings already dropped the
    whitespace around it; whitespace inside would reach aiohttp as a header it refuses with a traceback.
    Checked here, not in Settings, because only the bot needs a token."""
    if settings.discord_token is None:
        return NO_TOKEN
    if any(character.isspace() for character in settings.discord_token.get_secret_value()):
        return BROKEN_TOKEN
    return None


def unreachable(error: aiohttp.ClientConnectionError) -> str:
    """One line for a Discord we cannot connect to at login (refused, no DNS, no route)."""
    return f"storybot: cannot reach Discord at {discord.http.Route.BASE} ({_reason(error)}); check the network"


def _reason(error: aiohttp.ClientConnectionError) -> str:
    """What the operating system said, in its words ("Connection refused"), rather than aiohttp's."""
    if isinstance(error, aiohttp.ClientConnectorError) and not isinstance(error, aiohttp.ClientSSLError):
        os_error = error.os_error
        if os_error.errno is not None and os_error.errno > 0:
            return os.strerror(os_error.errno)  # asyncio's text is "Connect call failed (host, port)"
        if os_error.strerror:
            return os_error.strerror  # a DNS failure: "Name or service not known"
    return str(error) or type(error).__name__


def run(settings: Settings) -> int:
    started = time.monotonic()
    problem = token_problem(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    point_at(settings.discord_api_base, settings.discord_gateway)
    from index import IndexWriteError, StoryError

    try:
        asyncio.run(serve(settings, started))
        log.info("stopped")
    except discord.LoginFailure:
        print(BAD_TOKEN, file=sys.stderr)
        return EXIT_ERROR
    except aiohttp.ClientConnectionError as exc:  # once logged in, discord.py reconnects by itself
        print(unreachable(exc), file=sys.stderr)
        return EXIT_ERROR
    except IndexWriteError as exc:  # no index, and none can be built there: the deployment needs fixing
        print(f"storybot: no index to serve, and none can be built: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoryError as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"storybot: {exc.explain()}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level)
    return run(settings)
