"""The bot under load: the real `python -m bot` process against the end-to-end tests' fake Discord.

Measures seconds from process start to ready, `/ask` latency from the interaction's dispatch to the
follow-up's arrival with many members asking at once, and the gateway heartbeats the fake receives
(discord.py sends them through the event loop, so a blocked loop shows as late heartbeats).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import stats
from tests.fakediscord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeUser,
    SentMessage,
    snowflake,
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token.not-a-real-one.zzz"
HEARTBEAT_MS = 1000
JSON = dict[str, Any]
Log = Callable[[str], None]


def _fake(askers: int) -> FakeDiscord:
    owner = FakeUser(snowflake(), "owner")
    users = [FakeUser(snowflake(), f"reader{i:02d}") for i in range(askers)]
    channels = [FakeChannel(snowflake(), "general")]
    guild = FakeGuild(snowflake(), "Bench Guild", owner, channels, [owner, *users])
    return FakeDiscord(TOKEN, guilds=[guild], heartbeat_interval_ms=HEARTBEAT_MS)


def heartbeat_regularity(beats: Sequence[float], start: float, end: float) -> JSON:
    """Gaps between consecutive heartbeats that fall in [start, end] (seconds; nominal 1.0)."""
    inside = [t for t in beats if start <= t <= end]
    gaps = np.diff(inside)
    if not len(gaps):
        return {"beats": len(inside), "window_s": end - start}
    return {
        "beats": len(inside),
        "window_s": end - start,
        "gap_mean_s": float(gaps.mean()),
        "gap_p95_s": float(np.percentile(gaps, 95)),
        "gap_max_s": float(gaps.max()),
        "late_over_1_5s": int((gaps > 1.5 * HEARTBEAT_MS / 1000).sum()),
    }


def _followup_of(interaction: FakeInteraction) -> Callable[[SentMessage], bool]:
    return lambda m: m.interaction is interaction and m.source == "followup"


async def _ask_round(
    fake: FakeDiscord, users: Sequence[FakeUser], questions: Sequence[str], offset: int
) -> list[float]:
    asked = []
    for i, user in enumerate(users):
        question = questions[(offset + i) % len(questions)]
        asked.append(await fake.send_interaction("ask", {"question": question}, user=user))
    latencies = []
    for interaction in asked:
        message = await fake.wait_for_message(where=_followup_of(interaction), timeout=300)
        latencies.append(message.request.time - interaction.dispatched_at)
    return latencies


async def run_bot(
    *,
    index_dir: Path,
    articles_dir: Path,
    work: Path,
    questions: Sequence[str],
    rounds: int,
    askers: int,
    say: Log,
    changed_articles: int = 0,
) -> JSON:
    """Start the bot, time its start, load it with `rounds` x `askers` concurrent questions; then,
    when `changed_articles` > 0, change that many articles and time a /reindex."""
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "bot.log"
    result: JSON = {"index_dir": str(index_dir), "askers": askers, "rounds": rounds}
    async with _fake(askers) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_") and k != "DISCORD_TOKEN"}
        env |= fake.env() | {
            "STORYBOT_ARTICLES_DIR": str(articles_dir),
            "STORYBOT_INDEX_DIR": str(index_dir),
            "STORYBOT_GUILD_ID": str(fake.guild.id),
            "STORYBOT_LOG_LEVEL": "INFO",
            "STORYBOT_COOLDOWN_SECONDS": "0",
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(ROOT),
        }
        with log_path.open("wb") as sink:
            spawned = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=work, env=env, stdout=sink, stderr=sink
            )
        try:
            deadline = spawned + 900
            while " ready as " not in log_path.read_text(errors="replace"):
                if process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the bot did not get ready:\n{log_path.read_text(errors='replace')[-3000:]}")
                await asyncio.sleep(0.05)
            ready = time.monotonic()
            line = next(x for x in log_path.read_text().splitlines() if " ready as " in x)
            logged = re.search(r"([\d.]+) s to ready", line)
            result["ready_seconds"] = ready - spawned
            result["ready_seconds_logged"] = float(logged.group(1)) if logged else None
            result["ready_line"] = line.split(": ", 1)[-1]
            say(f"bot: ready in {ready - spawned:.1f} s ({result['ready_line']})")

            await asyncio.sleep(4.0)  # idle heartbeats as a baseline
            result["heartbeats_idle"] = heartbeat_regularity(fake.heartbeats, ready, time.monotonic())

            users = [u for u in fake.guild.members if u.username.startswith("reader")]
            latencies: list[float] = []
            load_start = time.monotonic()
            for round_ in range(rounds):
                latencies += await _ask_round(fake, users, questions, round_ * len(users))
                say(f"bot: question round {round_ + 1}/{rounds}: p50 {np.percentile(latencies, 50) * 1000:.0f} ms")
            load_end = time.monotonic()
            result["ask"] = stats(latencies)
            result["ask_throughput_per_s"] = len(latencies) / (load_end - load_start)
            result["heartbeats_questions"] = heartbeat_regularity(fake.heartbeats, load_start, load_end)

            if changed_articles:
                from bench.corpus import change_article

                for path in sorted(articles_dir.iterdir())[:changed_articles]:
                    change_article(path, "reindex")
                admin = {"user": fake.owner}
                start = time.monotonic()
                first = await fake.send_interaction("reindex", **admin)  # type: ignore[arg-type]
                done = await fake.wait_for_message(
                    where=lambda m: m.interaction is first and m.content.startswith("Index rebuilt"), timeout=900
                )
                end = time.monotonic()
                result["reindex"] = {
                    "changed_articles": changed_articles,
                    "seconds": end - start,
                    "message": done.content,
                    "heartbeats": heartbeat_regularity(fake.heartbeats, start, end),
                }
                say(f"bot: /reindex in {end - start:.1f} s: {done.content}")
            result["fake_errors"] = list(fake.errors)
            result["unknown_routes"] = list(fake.unknown_routes)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    return result


def copy_index(source: Path, target: Path) -> Path:
    """A private copy of an index folder (a /reindex rewrites it)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target
