"""Votes under public answers, "Ask StoryBot" on a message, and `storybot feedback`, with SimCord
driving the real client and the real engine, and the real `storybot` process reading the votes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import discord
import simcord

from bot.client import BotConfig, StoryBot
from tests.botworld import QUESTION, World, embed_of, last, storybot_over, texts
from tests.conftest import ROOT

OTHER = "What did V order for the staff at the shoot?"


def _buttons(world: World, message: discord.Message | simcord.ResponseMessage) -> list[dict[str, Any]]:
    """The buttons on a message as Discord stores it."""
    channel = message.channel_id if isinstance(message, simcord.ResponseMessage) else message.channel.id
    stored = world.env.backend.get_message(channel, message.id)
    return [c for row in stored.components for c in row.get("components", []) if c.get("type") == 2]


def _vote_id(world: World, message: discord.Message | simcord.ResponseMessage, vote: str) -> str:
    ids = [str(b["custom_id"]) for b in _buttons(world, message) if str(b.get("custom_id", "")).endswith(f":{vote}")]
    assert len(ids) == 1, _buttons(world, message)
    return ids[0]


def _answer(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    """The message holding the answer's embed."""
    return next(m for m in [result.response, *result.followups] if m is not None and m.embeds)


def _feedback_lines(world: World) -> list[dict[str, Any]]:
    path = world.service.feedback_path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _storybot_feedback(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return storybot_over(world, "feedback", *args, timeout=120)


async def test_public_answers_carry_vote_buttons_and_private_ones_do_not(world: World) -> None:
    public = await world.member.slash(world.channel, "ask", question=QUESTION)
    private = await world.admin.slash(world.channel, "ask", question=QUESTION, private=True)
    await world.env.advance_time(10)
    bot_user = world.env.bot.user
    assert bot_user is not None
    await world.member.send(world.channel, f"{bot_user.mention} {OTHER}")
    reply = last(world)

    assert [b["emoji"]["name"] for b in _buttons(world, _answer(public))] == ["👍", "👎"]
    assert [b["emoji"]["name"] for b in _buttons(world, reply)] == ["👍", "👎"]
    assert reply.embeds
    assert private.ephemeral
    assert _buttons(world, _answer(private)) == []


async def test_a_vote_is_recorded_once_with_a_voter_hash_and_no_user_id_or_name(world: World) -> None:
    answer = _answer(await world.member.slash(world.channel, "ask", question=QUESTION))
    up = _vote_id(world, answer, "up")

    thanked = await world.member.click(answer, custom_id=up)
    again = await world.member.click(answer, custom_id=up)

    assert thanked.ephemeral
    assert texts(thanked) == "Thanks, noted 👍"
    assert texts(again) == "Already noted 👍"
    lines = _feedback_lines(world)
    assert len(lines) == 1
    line = lines[0]
    assert (line["answer"], line["vote"], line["question"]) == (up.split(":")[2], "up", QUESTION)
    assert len(line["voter"]) == 32
    assert line["snippets"]
    assert all(s["sources"] and s["sources"][0]["title"] for s in line["snippets"])
    assert {"outlet", "title", "date", "url", "article_id"} <= set(line["snippets"][0]["sources"][0])
    folder = world.service.feedback_path.parent
    for name in ("feedback.jsonl", "answers.jsonl"):
        written = (folder / name).read_text()
        assert str(world.member.id) not in written
        assert world.member.name not in written
    salt = folder / "feedback.salt"
    assert salt.stat().st_mode & 0o777 == 0o600


async def test_a_second_vote_by_the_same_user_changes_it_and_another_users_counts_apart(world: World) -> None:
    answer = _answer(await world.member.slash(world.channel, "ask", question=QUESTION))

    await world.member.click(answer, custom_id=_vote_id(world, answer, "up"))
    changed = await world.member.click(answer, custom_id=_vote_id(world, answer, "down"))

    assert texts(changed) == "Thanks, changed to 👎"
    shown = _storybot_feedback(world).stdout.splitlines()
    assert shown[0] == f"1 👎 0 👍  {QUESTION}"
    assert any("allkpop" in line for line in shown[1:])

    await world.admin.click(answer, custom_id=_vote_id(world, answer, "up"))
    assert _storybot_feedback(world).stdout.splitlines()[0] == f"1 👎 1 👍  {QUESTION}"


async def test_a_vote_on_an_answer_posted_before_a_restart_still_counts(world: World, bot_config: BotConfig) -> None:
    answer = _answer(await world.member.slash(world.channel, "ask", question=QUESTION))

    await world.env.restart_bot(StoryBot(world.service, bot_config))
    voted = await world.member.click(answer, custom_id=_vote_id(world, answer, "down"))

    assert texts(voted) == "Thanks, noted 👎"
    assert [(line["vote"], line["question"]) for line in _feedback_lines(world)] == [("down", QUESTION)]


async def test_a_vote_on_an_answer_whose_record_is_gone_is_refused_in_a_sentence(
    world: World, bot_config: BotConfig
) -> None:
    answer = _answer(await world.member.slash(world.channel, "ask", question=QUESTION))
    (world.service.feedback_path.parent / "answers.jsonl").unlink()

    await world.env.restart_bot(StoryBot(world.service, bot_config))
    voted = await world.member.click(answer, custom_id=_vote_id(world, answer, "up"))

    assert voted.ephemeral
    assert texts(voted) == "I no longer have the details of that answer, so the vote was not recorded."
    assert _feedback_lines(world) == []


async def test_storybot_feedback_jsonl_drafts_an_eval_set_of_the_questions_voted_down(world: World) -> None:
    liked = _answer(await world.member.slash(world.channel, "ask", question=QUESTION))
    await world.member.click(liked, custom_id=_vote_id(world, liked, "up"))
    await world.env.advance_time(10)
    disliked = _answer(await world.member.slash(world.channel, "ask", question=OTHER))
    await world.member.click(disliked, custom_id=_vote_id(world, disliked, "down"))
    await world.admin.click(disliked, custom_id=_vote_id(world, disliked, "down"))

    shown = _storybot_feedback(world, "--jsonl").stdout

    assert [json.loads(line) for line in shown.splitlines()] == [{"id": "feedback-1", "question": OTHER}]


async def test_ask_storybot_on_a_message_answers_privately_and_posts_publicly_on_request(world: World) -> None:
    asked = await world.member.send(world.channel, "who composed Love Wins All?")
    assert last(world).id == asked.id  # not addressed to the bot: no reply

    private = await world.admin.context_menu(world.channel, "Ask StoryBot", asked)

    assert private.ephemeral
    assert embed_of(private).title == "who composed Love Wins All?"
    assert "Dong Hwan" in (embed_of(private).description or "")
    shown = _answer(private)
    assert [b.get("label") for b in _buttons(world, shown)] == ["Post publicly"]
    assert all(m.id != shown.id for m in world.channel.history(viewer=world.member))

    posted = await world.admin.click(shown, label="Post publicly")

    public = posted.followups[0]
    assert not public.ephemeral
    assert public.embeds[0].title == "who composed Love Wins All?"
    assert any(m.id == public.id for m in world.channel.history(viewer=world.member))
    assert [b["emoji"]["name"] for b in _buttons(world, public)] == ["👍", "👎"]
    assert _buttons(world, shown) == []  # posted once
    voted = await world.member.click(public, custom_id=_vote_id(world, public, "down"))
    assert texts(voted) == "Thanks, noted 👎"


async def test_ask_storybot_says_privately_when_a_message_is_no_question_for_it(world: World) -> None:
    off_topic = await world.member.send(world.channel, "what is the boiling point of water?")
    huge = await world.member.send(world.channel, "why " * 200)

    not_there = await world.admin.context_menu(world.channel, "Ask StoryBot", off_topic)
    too_long = await world.member.context_menu(world.channel, "Ask StoryBot", huge)
    await world.member.slash(world.channel, "ask", question=QUESTION)
    held = await world.member.context_menu(world.channel, "Ask StoryBot", off_topic)

    assert not_there.ephemeral
    assert "not in the articles" in texts(not_there)
    assert too_long.ephemeral
    assert "keep it under 500" in texts(too_long)
    assert held.ephemeral
    assert "ask again in" in texts(held)  # the same cooldown as /ask
    simcord.assert_error(world.env, discord.app_commands.CommandOnCooldown)


def test_storybot_feedback_without_votes_says_there_are_none_yet(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "--index", str(tmp_path / "index"), "feedback"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "STORYBOT_LOG_LEVEL": "WARNING"},
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith("no feedback yet")
