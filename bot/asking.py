"""Asking from Discord: /ask, /sources, /help, and the "Ask StoryBot" message menu.

Mentions, replies and answer channels are message routing and stay in `bot.client`; the answer
each of them gives is the same (`StoryBot.answer`, `render.answer_embed`, vote buttons when public).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.client import question_check
from bot.voting import PostPublicly
from index import Answer, QuestionError, validate_question

if TYPE_CHECKING:
    from bot.client import StoryBot

log = logging.getLogger(__name__)

ASK_MENU = "Ask StoryBot"


class Asking(commands.Cog):
    """Questions by command and by message menu."""

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        # discord.py cannot decorate a cog method as a context menu; it is built here and added in cog_load.
        self.menu = app_commands.ContextMenu(name=ASK_MENU, callback=self.ask_about_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="ask", description="Ask about the story; the answer quotes and cites the articles.")
    @app_commands.describe(question="Your question", private="Show the answer to you only")
    @app_commands.check(question_check)
    async def ask(self, interaction: discord.Interaction[StoryBot], question: str, private: bool = False) -> None:
        """Public answers carry 👍 / 👎 buttons; private ones do not (nobody else sees them to vote)."""
        answer = await self._answer(interaction, question, where="slash", private=private)
        if answer is None:
            return
        embed = render.answer_embed(answer, self.bot.service.index)
        if private:
            await interaction.followup.send(embed=embed, ephemeral=True)
            return
        votes = await self.bot.public_view(answer)
        await interaction.followup.send(embed=embed, view=votes or discord.utils.MISSING)

    @app_commands.check(question_check)
    async def ask_about_message(self, interaction: discord.Interaction[StoryBot], message: discord.Message) -> None:
        """The selected message's text as the question, answered privately with a "Post publicly"
        button: for a question someone asked in chat without mentioning the bot."""
        question = message.content
        if self.bot.user is not None:
            question = re.sub(rf"<@!?{self.bot.user.id}>", " ", question)
        answer = await self._answer(interaction, question.strip(), where="menu", private=True)
        if answer is None:
            return
        view = PostPublicly(answer)
        view.message = await interaction.followup.send(
            embed=render.answer_embed(answer, self.bot.service.index), view=view, ephemeral=True, wait=True
        )

    async def _answer(
        self, interaction: discord.Interaction[StoryBot], question: str, *, where: str, private: bool
    ) -> Answer | None:
        """The answer to show, or None once the asker has been told why there is none: the engine's
        message for a question it refuses, or "not in the articles"."""
        try:
            validate_question(question)
        except QuestionError as exc:  # the engine's message, privately
            await interaction.response.send_message(str(exc), ephemeral=True)
            return None
        await interaction.response.defer(ephemeral=private, thinking=True)
        answer = await self.bot.answer(
            question, where=where, guild=interaction.guild_id, channel=interaction.channel_id
        )
        if answer.abstained:
            await interaction.followup.send(render.NOT_IN_THE_ARTICLES, ephemeral=private)
            return None
        return answer

    @app_commands.command(name="sources", description="List the articles StoryBot has read.")
    async def sources(self, interaction: discord.Interaction[StoryBot]) -> None:
        await interaction.response.send_message(embed=render.sources_embed(self.bot.service.index))

    @app_commands.command(name="help", description="What StoryBot knows about and how to ask.")
    async def help_(self, interaction: discord.Interaction[StoryBot]) -> None:
        embed = render.help_embed(self.bot.service.index, self.bot.config.answer_channel_ids)
        await interaction.response.send_message(embed=embed, ephemeral=True)
