"""The bot as people use it, with SimCord driving the real discord.py client in-process, and the
real engine (MiniLM, FAISS) over a copy of the bundled articles."""

from __future__ import annotations

import json
import re

import pytest
import simcord
from discord import app_commands
from simcord import SetupError, assert_error

from bot.client import BotConfig, StoryBot
from tests.botworld import QUESTION, World, embed_of, fold, last, sources_text, storybot_over, texts

NEW_ARTICLE = """---
title: Lighthouse keeper's cat rescued from Skerry Rock
outlet: The Invented Gazette
date: 2025-03-14
url: https://example.org/skerry-cat
---
A cat named Pilchard, which belongs to the lighthouse keeper on Skerry Rock, was rescued by volunteers
on Thursday after spending three nights stranded on a ledge below the lamp room.

The volunteers used a rope ladder borrowed from the harbour master to reach the ledge at low tide.
"""


async def _reindex_command(world: World) -> app_commands.AppCommand:
    bot = world.env.bot
    assert isinstance(bot, StoryBot)
    return next(c for c in await bot.tree.fetch_commands() if c.name == "reindex")


async def test_ask_answers_with_the_same_snippets_and_sources_as_the_command_line(world: World) -> None:
    result = await world.member.slash(world.channel, "ask", question=QUESTION)

    embed = embed_of(result)
    assert embed.title == QUESTION
    assert not result.ephemeral
    cli = storybot_over(world, "ask", "--json", QUESTION)
    expected = json.loads(cli.stdout)
    assert expected["citations"]
    description = fold(embed.description or "")
    positions = [description.find(fold(c["snippet"])) for c in expected["citations"]]
    assert -1 not in positions, description
    assert positions == sorted(positions)  # same order as the command line
    cited = {s["title"] for c in expected["citations"] for s in c["sources"]}
    shown = sources_text(embed)
    assert all(fold(t) in fold(shown) for t in cited)
    assert embed.footer.text
    assert embed.footer.text.startswith("Index built ")


async def test_a_private_ask_is_shown_to_the_asker_only(world: World) -> None:
    result = await world.member.slash(world.channel, "ask", question=QUESTION, private=True)

    assert result.ephemeral
    assert embed_of(result).title == QUESTION
    seen_by_admin = {m.id for m in world.channel.history(viewer=world.admin)}
    assert all(m.id not in seen_by_admin for m in [result.response, *result.followups] if m is not None)


async def test_a_question_the_articles_do_not_answer_says_so(world: World) -> None:
    result = await world.member.slash(world.channel, "ask", question="What is the boiling point of water?")

    assert "not in the articles" in texts(result)
    assert all(not m.embeds for m in [result.response, *result.followups] if m is not None)


async def test_an_empty_or_huge_question_gets_the_engines_message_privately(world: World) -> None:
    huge = await world.member.slash(world.channel, "ask", question="why " * 200)
    await world.env.advance_time(10)
    blank = await world.member.slash(world.channel, "ask", question="   ")

    assert huge.ephemeral
    assert "keep it under 500" in texts(huge)
    assert blank.ephemeral
    assert "empty" in texts(blank)


async def test_a_mention_gets_a_reply_and_a_reply_to_the_answer_gets_another(world: World) -> None:
    bot_user = world.env.bot.user
    assert bot_user is not None
    asked = await world.member.send(world.channel, f"{bot_user.mention} who composed Love Wins All?")
    answer = last(world)
    assert answer.author.id == bot_user.id
    assert answer.reference is not None
    assert answer.reference.message_id == asked.id
    assert "dong hwan" in fold(answer.embeds[0].description or "").lower()

    await world.env.advance_time(10)
    await world.member.send(world.channel, "what did he order for the staff?", reply_to=answer)
    follow_up = last(world)
    assert follow_up.author.id == bot_user.id
    assert follow_up.id != answer.id
    assert "coffee truck" in fold(follow_up.embeds[0].description or "").lower()


async def test_messages_that_do_not_address_the_bot_are_left_alone(world: World) -> None:
    await world.member.send(world.channel, "who composed Love Wins All?")

    assert last(world).author.id == world.member.id


async def test_an_answer_channel_answers_plain_questions_and_stays_quiet_otherwise(
    world: World, bot_config: BotConfig
) -> None:
    bot_config.answer_channel_ids.append(world.channel.id)

    await world.member.send(world.channel, "who composed Love Wins All?")
    answered = last(world)
    await world.env.advance_time(10)
    await world.member.send(world.channel, "what is the boiling point of water?")
    after_off_topic = last(world)
    await world.member.send(world.channel, "great video")
    after_chat = last(world)

    assert answered.author.id == world.env.bot.user.id  # type: ignore[union-attr]
    assert "Dong Hwan" in (answered.embeds[0].description or "")
    assert after_off_topic.author.id == world.member.id
    assert after_chat.author.id == world.member.id


async def test_everyone_and_role_mentions_in_a_question_ping_nobody(world: World) -> None:
    bot_user = world.env.bot.user
    assert bot_user is not None
    question = f"{bot_user.mention} @everyone <@{world.admin.id}> who composed Love Wins All?"
    await world.member.send(world.channel, question)
    await world.env.advance_time(10)
    result = await world.member.slash(world.channel, "ask", question=f"@everyone @here <@{world.admin.id}> {QUESTION}")

    reply = last(world)
    sent = [r for r in world.env.http_requests if r.method in {"POST", "PATCH"} and r.json is not None]
    assert sent
    for request in sent:
        allowed = (request.json or {}).get("allowed_mentions")
        if allowed is not None:
            assert allowed["parse"] == [], request
            assert not allowed.get("users")
            assert not allowed.get("replied_user")
    answered = [m.message for m in [result.response, *result.followups] if m is not None and m.message is not None]
    for message in [reply, *answered]:
        stored = world.env.backend.get_message(message.channel.id, message.id)
        assert not stored.mention_everyone
        assert stored.ping_user_ids == []
        assert stored.ping_role_ids == []


async def test_sources_lists_every_article_and_help_says_how_to_ask(world: World) -> None:
    sources = await world.member.slash(world.channel, "sources")
    help_ = await world.member.slash(world.channel, "help")

    embed = embed_of(sources)
    for entry in world.service.index.entries:
        assert fold(entry.article.title or entry.article.id) in fold(embed.description or "")
    assert "allkpop" in (embed.description or "")
    assert embed.footer.text
    assert "Index built" in embed.footer.text
    text = embed_of(help_).description or ""
    assert "/ask" in text
    assert "/sources" in text
    assert "3 news articles" in text


async def test_reindex_is_hidden_from_members_and_refused_if_they_reach_it(world: World) -> None:
    with pytest.raises(SetupError, match="default-member-permissions"):
        await world.member.slash(world.channel, "reindex")
    command = await _reindex_command(world)
    world.guild.set_command_permissions(command, {world.member: True})  # a server owner's override

    result = await world.member.slash(world.channel, "reindex")

    assert result.ephemeral
    assert "Only people with Manage Server" in texts(result)
    assert_error(world.env, app_commands.CheckFailure)


async def test_an_admins_reindex_picks_up_a_new_article_and_ask_then_cites_it(world: World) -> None:
    before = await world.member.slash(world.channel, "ask", question="How was the lighthouse keeper's cat rescued?")
    assert "not in the articles" in texts(before)
    (world.articles / "skerry.md").write_text(NEW_ARTICLE)

    result = await world.admin.slash(world.channel, "reindex")

    assert result.ephemeral
    assert "Index rebuilt: 1 added, 0 changed, 0 removed, 3 unchanged articles" in texts(result)
    progress = [
        r.json.get("content", "")
        for r in world.env.http_requests
        if r.method == "PATCH" and r.path.endswith("/messages/@original") and r.json
    ]
    assert any(p.startswith("Rebuilding the index") for p in progress)
    await world.env.advance_time(10)
    after = await world.member.slash(world.channel, "ask", question="How was the lighthouse keeper's cat rescued?")
    embed = embed_of(after)
    assert "rope ladder" in (embed.description or "")
    assert "The Invented Gazette" in sources_text(embed)


async def test_a_reindex_for_someone_listed_as_admin_by_id(world: World, bot_config: BotConfig) -> None:
    bot_config.admin_user_ids.append(world.member.id)
    command = await _reindex_command(world)
    world.guild.set_command_permissions(command, {world.member: True})

    result = await world.member.slash(world.channel, "reindex")

    assert "Index rebuilt: 0 added, 0 changed, 0 removed, 3 unchanged articles" in texts(result)


async def test_a_failing_reindex_reports_it_and_answers_keep_coming(world: World) -> None:
    world.articles.rename(world.articles.with_name("gone"))

    result = await world.admin.slash(world.channel, "reindex")

    assert "The rebuild failed and the previous index keeps serving" in texts(result)
    assert "does not exist" in texts(result)
    answer = await world.member.slash(world.channel, "ask", question=QUESTION)
    assert "Dong Hwan" in (embed_of(answer).description or "")


async def test_the_cooldown_holds_then_lets_the_next_question_through(world: World) -> None:
    await world.member.slash(world.channel, "ask", question=QUESTION)
    again = await world.member.slash(world.channel, "ask", question=QUESTION)
    assert again.ephemeral
    assert re.search(r"ask again in \d+ s", texts(again))
    assert_error(world.env, app_commands.CommandOnCooldown)
    other = await world.admin.slash(world.channel, "ask", question=QUESTION)  # others are not held up
    assert embed_of(other).title == QUESTION

    await world.env.advance_time(6)
    later = await world.member.slash(world.channel, "ask", question=QUESTION)
    assert embed_of(later).title == QUESTION


@pytest.mark.simcord(shard_count=2)
async def test_a_sharded_bot_answers_in_every_shard(world: World) -> None:
    result = await world.member.slash(world.channel, "ask", question=QUESTION)

    assert world.env.bot.shard_count == 2
    assert embed_of(result).title == QUESTION


# --- /add and /remove ---------------------------------------------------------------------------------

TRAM = "Harwick's first tram in 70 years carries 4,000 riders on opening day"
TRAM_URL = "https://www.harwick-courier.example/news/2025/06/harwick-tram-line-1-opens"
LIBRARY = "Kestrel Hill library reopens with a 'seed bank' and late nights"
ALLOW_PRIVATE = pytest.mark.parametrize("bot_config", [BotConfig(cooldown_seconds=0, fetch_allow_private=True)])


def _cited_titles(result: simcord.InteractionResult) -> str:
    return fold(sources_text(embed_of(result)))


@ALLOW_PRIVATE
async def test_an_admin_adds_a_page_by_url_and_ask_cites_it_with_its_link(world: World, pages_url: str) -> None:
    added = await world.admin.slash(world.channel, "add", url=f"{pages_url}/moved")

    assert added.ephemeral
    embed = embed_of(added)
    assert embed.title == f"Added: {TRAM}"
    assert embed.url == TRAM_URL
    stored = fold(" ".join(str(f.value) for f in embed.fields))
    assert "The Harwick Courier" in stored
    assert "2025-06-14" in stored
    assert "More than 4,000 people rode Harwick's new tram" in stored
    assert embed.footer.text
    assert embed.footer.text.startswith("Indexed: update: 1 added, 0 changed, 0 removed, 3 unchanged")
    assert [p.name for p in world.articles.glob("2025-06-14-*.md")]

    asked = await world.member.slash(world.channel, "ask", question="How many people rode the tram in Harwick?")
    sources = sources_text(embed_of(asked))
    assert TRAM in sources.replace("\\", "")
    assert TRAM_URL in sources

    again = await world.admin.slash(world.channel, "add", url=f"{pages_url}/news.html")
    assert again.ephemeral
    assert texts(again) == f"Already have it: {TRAM}."


@ALLOW_PRIVATE
async def test_an_admin_adds_an_attachment_and_removes_it_again(world: World) -> None:
    from tests.conftest import PAGES

    added = await world.admin.slash(world.channel, "add", file=("library.html", (PAGES / "second.html").read_bytes()))
    assert embed_of(added).title == f"Added: {LIBRARY}"
    cited = await world.member.slash(world.channel, "ask", question="When did the Kestrel Hill library reopen?")
    assert LIBRARY in _cited_titles(cited).replace("\\", "")

    choices = await world.admin.autocomplete(world.channel, "remove", "article", "kestrel")
    assert [c["name"] for c in choices] == [f"{LIBRARY} · Pendlebrook Gazette · 2025-09-02"]
    removed = await world.admin.slash(world.channel, "remove", article=choices[0]["value"])

    assert removed.ephemeral
    text = texts(removed)
    assert text.startswith(f"Removed **{LIBRARY}**: moved to `")
    assert "1 removed" in text
    assert (world.articles.parent / "removed" / choices[0]["value"]).is_file()
    after = await world.member.slash(world.channel, "ask", question="When did the Kestrel Hill library reopen?")
    assert all(LIBRARY not in fold(m.content + sources_text(e)) for m in after.followups for e in m.embeds)


@ALLOW_PRIVATE
@pytest.mark.parametrize(("command", "option"), [("add", "url"), ("remove", "article")])
async def test_add_and_remove_are_hidden_from_members_and_refused_if_they_reach_them(
    world: World, pages_url: str, command: str, option: str
) -> None:
    value = f"{pages_url}/news.html" if command == "add" else "000_c48745c27fb190c3.txt"
    with pytest.raises(SetupError, match="default-member-permissions"):
        await world.member.slash(world.channel, command, **{option: value})
    bot = world.env.bot
    assert isinstance(bot, StoryBot)
    registered = next(c for c in await bot.tree.fetch_commands() if c.name == command)
    world.guild.set_command_permissions(registered, {world.member: True})  # a server owner's override

    result = await world.member.slash(world.channel, command, **{option: value})

    assert result.ephemeral
    assert texts(result) == f"Only people with Manage Server (or listed as StoryBot admins) can use /{command}."
    assert_error(world.env, app_commands.CheckFailure)
    assert not list(world.articles.glob("*.md"))
    assert (world.articles / "000_c48745c27fb190c3.txt").is_file()


async def test_a_private_address_is_refused_with_the_setting_off(world: World, pages_url: str) -> None:
    refused = await world.admin.slash(world.channel, "add", url=f"{pages_url}/news.html")

    assert refused.ephemeral
    assert texts(refused) == "That address is on a private network."
    assert not list(world.articles.glob("*.md"))
