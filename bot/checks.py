"""Who may run what: the checks the commands of every module share."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.client import StoryBot

log = logging.getLogger("bot.client")


class Refused(app_commands.CheckFailure):
    """An expected refusal; its message is shown to the user as is."""


def admin_check(interaction: discord.Interaction[StoryBot]) -> bool:
    """The bot's own check behind Discord's (commands marked Manage Server): admin commands refuse
    anyone else, whatever a server's command permissions were changed to."""
    bot = interaction.client
    if bot.is_admin(interaction.user):
        return True
    command = interaction.command.qualified_name if interaction.command else "?"
    log.warning(
        "refused /%s: user %s in guild %s lacks Manage Server and is not a StoryBot admin",
        command,
        interaction.user.id,
        interaction.guild_id,
    )
    raise Refused(f"Only people with Manage Server (or listed as StoryBot admins) can use /{command}.")
