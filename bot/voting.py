"""The buttons under answers: 👍 / 👎 on public ones (persistent), "Post publicly" on private ones.

Public answers are /ask without `private`, replies to mentions, replies and answer-channel
questions, and an answer someone posted with "Post publicly". Each carries a 👍 and a 👎 button
whose custom id holds the answer's id (`storybot:vote:3f9c0a1b2c4d:up`). They are
`discord.ui.DynamicItem`s registered in `StoryBot.setup_hook`: discord.py matches a click by the
custom id alone, so the buttons keep working after a restart, on any process over the same folder.
The "Post publicly" button is an ordinary view holding the answer in memory: it lives as long as
the private answer does (Discord lets the bot touch it for 15 minutes), not across a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot import render
from bot.feedback import ANSWER_ID_HEX, EMOJI, VOTES, Vote, Voted
from index import Answer

if TYPE_CHECKING:
    from bot.client import StoryBot

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
POST_TIMEOUT = 14 * 60.0  # a little under the 15 minutes an interaction's token may edit its messages


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"storybot:vote:(?P<answer>[0-9a-f]{{{ANSWER_ID_HEX}}}):(?P<vote>up|down)",
):
    """👍 or 👎 for one answer; the voter hears back privately."""

    def __init__(self, answer_id: str, vote: Vote) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji=EMOJI[vote],
                custom_id=f"storybot:vote:{answer_id}:{vote}",
            )
        )
        self.answer_id = answer_id
        self.vote: Vote = vote

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(match["answer"], cast(Vote, match["vote"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: StoryBot = interaction.client
        try:
            voted = await asyncio.to_thread(bot.feedback.vote, self.answer_id, interaction.user.id, self.vote)
            log.info("vote %s on answer %s (%s)", self.vote, self.answer_id, _outcome(voted))
            await interaction.response.send_message(thanks(voted), ephemeral=True)
        except Exception as exc:  # the tree's ladder speaks to the user, as for commands
            await bot.tree.explain(interaction, exc)


def _outcome(voted: Voted) -> str:
    if voted.previous is None:
        return "new"
    return "changed" if voted.recorded else "repeated"


def thanks(voted: Voted) -> str:
    """The voter's private acknowledgement."""
    if voted.previous is None:
        return f"Thanks, noted {EMOJI[voted.vote]}"
    if voted.recorded:
        return f"Thanks, changed to {EMOJI[voted.vote]}"
    return f"Already noted {EMOJI[voted.vote]}"


def vote_view(answer_id: str) -> discord.ui.View:
    """The 👍 / 👎 row under a public answer (timeout None: the buttons never expire)."""
    view = discord.ui.View(timeout=None)
    for vote in VOTES:
        view.add_item(VoteButton(answer_id, vote))
    return view


class PostPublicly(discord.ui.View):
    """Under a private answer: post the same answer in the channel (with vote buttons), once."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(timeout=POST_TIMEOUT)
        self.answer = answer
        self.message: discord.WebhookMessage | None = None  # the private answer, once sent

    async def on_timeout(self) -> None:
        if self.message is not None:
            try:
                await self.message.edit(view=None)
            except discord.HTTPException as exc:  # dismissed, or the token expired: nothing to tidy
                log.debug("could not remove the Post publicly button: %s", exc)

    @discord.ui.button(label="Post publicly", style=discord.ButtonStyle.primary)
    async def post(self, interaction: discord.Interaction[Any], button: discord.ui.Button[PostPublicly]) -> None:
        bot: StoryBot = interaction.client
        self.stop()
        await interaction.response.edit_message(view=None)  # the private copy loses its button
        votes = await bot.public_view(self.answer)
        embed = render.answer_embed(self.answer, bot.service.index)
        await interaction.followup.send(embed=embed, view=votes or discord.utils.MISSING, allowed_mentions=NO_PINGS)
        log.info("a private answer was posted publicly in channel %s", interaction.channel_id)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        bot: StoryBot = interaction.client
        await bot.tree.explain(interaction, error)
