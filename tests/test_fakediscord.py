"""The fake Discord against real discord.py clients: in this process, in a subprocess, and from a thread."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands

from tests.fakediscord import (
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    INTENT_MESSAGE_CONTENT,
    FakeDiscord,
    FakeDiscordThread,
)

TIMEOUT = 15.0


def point_discord_at(monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord) -> None:
    """What our bot does with STORYBOT_DISCORD_API_BASE / STORYBOT_DISCORD_GATEWAY."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))


def make_client(*, message_content: bool = True) -> discord.Client:
    intents = discord.Intents.default()
    intents.message_content = message_content
    # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before on_ready (2 s by default).
    return discord.Client(intents=intents, guild_ready_timeout=0.05)


@contextlib.asynccontextmanager
async def running(client: discord.Client, token: str, *, reconnect: bool = False) -> AsyncIterator[None]:
    """Run client.start() in a task; wait for on_ready (failing fast if start() fails); close at the end."""
    task = asyncio.create_task(client.start(token, reconnect=reconnect))
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what start() raised
            raise AssertionError("client.start() returned before on_ready")
        assert ready in done, "client never became ready"
        yield
    finally:
        ready.cancel()
        await asyncio.wait_for(client.close(), TIMEOUT)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, TIMEOUT)
        with contextlib.suppress(asyncio.CancelledError):
            await ready


async def test_a_client_logs_in_and_sees_the_guild(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord(token="secret") as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        readies: list[str] = []

        @client.event
        async def on_ready() -> None:
            readies.append("ready")

        async with running(client, "secret"):
            assert readies == ["ready"]
            assert client.user is not None
            assert client.user.id == fake.bot_user.id
            assert client.application_id == fake.application_id
            assert client.application_flags.gateway_message_content_limited
            guild = client.get_guild(fake.guild.id)
            assert guild is not None
            assert guild.name == "Test Guild"
            assert guild.owner_id == fake.owner.id
            assert guild.me is not None
            channel = guild.get_channel(fake.channel.id)
            assert isinstance(channel, discord.TextChannel)
            assert channel.name == "general"
            assert channel.permissions_for(guild.me).send_messages

            conn = await fake.wait_until_ready()
            assert conn.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
            assert fake.identifies[0]["intents"] == client.intents.value
            assert fake.identifies[0]["intents"] & INTENT_MESSAGE_CONTENT
            assert fake.identifies[0]["token"] == "secret"
            await fake.wait_for_heartbeats(1)  # discord.py beats once right after HELLO
        assert [f"{r.method} {r.path}" for r in fake.requests] == ["GET /users/@me", "GET /oauth2/applications/@me"]
        assert fake.requests[0].headers["Authorization"] == "Bot secret"
        assert fake.unknown_routes == []
        assert fake.errors == []


async def test_replies_are_exactly_application_json_and_unknown_routes_are_visible() -> None:
    async with FakeDiscord(token="t") as fake, aiohttp.ClientSession() as session:
        headers = {"Authorization": "Bot t"}
        async with session.get(f"{fake.api_base}/users/@me", headers=headers) as resp:
            assert resp.headers["Content-Type"] == "application/json"
        async with session.get(f"{fake.api_base}/guilds/1/audit-logs", headers=headers) as resp:
            assert resp.status == 404
            assert await resp.json() == {"message": "Unknown", "code": 0}
        assert fake.unknown_routes == ["GET /guilds/1/audit-logs"]


async def test_heartbeats_are_answered_and_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord(heartbeat_interval_ms=100) as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        async with running(client, fake.token):
            beats = await fake.wait_for_heartbeats(4, timeout=TIMEOUT)
            assert client.latency < 1.0  # discord.py timed our heartbeat ACKs
        gaps = [b - a for a, b in itertools.pairwise(beats[1:])]  # the first beat comes right after HELLO
        assert all(0.03 < gap < 1.0 for gap in gaps), gaps


async def test_tree_sync_reaches_the_fake_globally_and_per_guild(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord() as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        tree = app_commands.CommandTree(client)

        @tree.command(description="Ask about the story")
        @app_commands.describe(question="What you want to know")
        async def ask(interaction: discord.Interaction[discord.Client], question: str) -> None:
            await interaction.response.send_message(question)

        @tree.command(description="Rebuild the index")
        @app_commands.default_permissions(manage_guild=True)
        async def reindex(interaction: discord.Interaction[discord.Client]) -> None:
            await interaction.response.send_message("ok")

        async with running(client, fake.token):
            synced = await asyncio.wait_for(tree.sync(), TIMEOUT)
            assert sorted(c.name for c in synced) == ["ask", "reindex"]
            assert {c.id for c in synced} == {int(c["id"]) for c in fake.global_commands}
            ask_cmd = next(c for c in fake.global_commands if c["name"] == "ask")
            assert ask_cmd["options"][0]["name"] == "question"
            assert ask_cmd["options"][0]["type"] == 3

            guild = discord.Object(fake.guild.id)
            tree.copy_global_to(guild=guild)
            on_guild = await asyncio.wait_for(tree.sync(guild=guild), TIMEOUT)
            assert sorted(c.name for c in on_guild) == ["ask", "reindex"]
            assert all(c.guild_id == fake.guild.id for c in on_guild)
            assert sorted(c["name"] for c in fake.guild_commands[fake.guild.id]) == ["ask", "reindex"]

            fetched = await tree.fetch_commands()
            assert {c.id for c in fetched} == {c.id for c in synced}
            # Syncing again keeps the ids, as Discord does for commands of the same name.
            again = await asyncio.wait_for(tree.sync(), TIMEOUT)
            assert {c.id for c in again} == {c.id for c in synced}

            with pytest.raises(PermissionError):
                await fake.send_interaction("reindex", user=fake.user)
            with pytest.raises(LookupError):
                await fake.send_interaction("unknown")
        paths = [f"{r.method} {r.path}" for r in fake.requests]
        assert f"PUT /applications/{fake.application_id}/commands" in paths
        assert f"PUT /applications/{fake.application_id}/guilds/{fake.guild.id}/commands" in paths
        assert fake.unknown_routes == []
        assert fake.errors == []


async def test_a_slash_command_defers_then_follows_up_with_an_embed(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord() as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        tree = app_commands.CommandTree(client)
        seen: dict[str, Any] = {}

        @tree.command(description="Ask about the story")
        async def ask(interaction: discord.Interaction[discord.Client], question: str, top: int = 3) -> None:
            seen["question"], seen["top"], seen["user"] = question, top, interaction.user
            seen["channel"] = interaction.channel
            seen["permissions"] = interaction.permissions
            await interaction.response.defer()
            embed = discord.Embed(title="Answer", description=f"You asked: {question}")
            embed.add_field(name="Source", value="article-1", inline=False)
            seen["followup"] = await interaction.followup.send(embed=embed, wait=True)

        @tree.command(description="Ping")
        async def ping(interaction: discord.Interaction[discord.Client]) -> None:
            callback = await interaction.response.send_message("pong")
            seen["callback"] = callback
            seen["edited"] = await interaction.edit_original_response(content="pong!")

        async with running(client, fake.token):
            await asyncio.wait_for(tree.sync(), TIMEOUT)
            inter = await fake.send_interaction("ask", {"question": "why did V accept the role?", "top": 2})
            sent = await fake.wait_for_message(where=lambda m: m.interaction is inter, timeout=TIMEOUT)

            assert seen["question"] == "why did V accept the role?"
            assert seen["top"] == 2
            assert isinstance(seen["user"], discord.Member)
            assert seen["user"].id == fake.user.id
            assert isinstance(seen["channel"], discord.TextChannel)
            assert seen["channel"].id == fake.channel.id
            assert seen["permissions"].send_messages
            assert inter.callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE
            callback = await fake.wait_for_request("POST", rf"/interactions/{inter.id}/{inter.token}/callback")
            assert callback.query == {"with_response": "1"}
            assert callback.status == 200
            assert sent.source == "followup"
            assert sent.embeds[0]["title"] == "Answer"
            assert sent.embeds[0]["description"] == "You asked: why did V accept the role?"
            assert sent.embeds[0]["fields"] == [{"name": "Source", "value": "article-1", "inline": False}]
            assert sent.request.query["wait"] == "1"
            assert isinstance(seen["followup"], discord.WebhookMessage)
            assert seen["followup"].id == int(sent.message["id"])
            assert seen["followup"].embeds[0].title == "Answer"
            assert inter.original is sent.message

            pong = await fake.send_interaction("ping")
            edit = await fake.wait_for_request(
                "PATCH", rf"/webhooks/{fake.application_id}/{pong.token}/messages/@original", timeout=TIMEOUT
            )
            assert edit.status == 200
            assert pong.callback_type == CALLBACK_CHANNEL_MESSAGE
            assert pong.original is not None
            assert pong.original["content"] == "pong!"
            assert isinstance(seen["callback"].resource, discord.InteractionMessage)
            assert seen["callback"].message_id == int(pong.original["id"])
            assert seen["edited"].content == "pong!"
        assert fake.unknown_routes == []
        assert fake.errors == []


async def test_sub_commands_and_option_types_follow_the_synced_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord() as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        tree = app_commands.CommandTree(client)
        story = app_commands.Group(name="story", description="The story")
        admin = app_commands.Group(name="admin", description="Admin", parent=story)
        calls: list[tuple[str, Any]] = []

        @story.command(description="Ask")
        async def ask(interaction: discord.Interaction[discord.Client], question: str, limit: float = 1.0) -> None:
            calls.append(("ask", (question, limit)))
            await interaction.response.send_message("ok", ephemeral=True)

        @admin.command(description="Rebuild")
        async def rebuild(interaction: discord.Interaction[discord.Client], full: bool) -> None:
            calls.append(("rebuild", full))
            await interaction.response.send_message("rebuilt")

        tree.add_command(story, guild=discord.Object(fake.guild.id))
        async with running(client, fake.token):
            await asyncio.wait_for(tree.sync(guild=discord.Object(fake.guild.id)), TIMEOUT)
            asked = await fake.send_interaction("story ask", {"question": "who?", "limit": 2})
            await fake.wait_for_message(where=lambda m: m.interaction is asked, timeout=TIMEOUT)
            rebuilt = await fake.send_interaction("story admin rebuild", {"full": True})
            await fake.wait_for_message(where=lambda m: m.interaction is rebuilt, timeout=TIMEOUT)
            with pytest.raises(LookupError):
                await fake.send_interaction("story ask", {"nope": 1})
        assert calls == [("ask", ("who?", 2)), ("rebuild", True)]
        assert asked.payload["data"]["guild_id"] == str(fake.guild.id)
        assert asked.payload["data"]["options"][0]["options"][1] == {"name": "limit", "type": 10, "value": 2}
        assert asked.callback is not None
        assert asked.callback["data"]["flags"] == 64
        assert fake.errors == []


async def test_a_late_or_second_acknowledgement_is_refused_like_discord(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord(interaction_ack_timeout=0.2) as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        tree = app_commands.CommandTree(client)
        errors: list[discord.HTTPException] = []

        @tree.command(description="Slow")
        async def slow(interaction: discord.Interaction[discord.Client]) -> None:
            await asyncio.sleep(0.4)
            try:
                await interaction.response.defer()
            except discord.HTTPException as e:
                errors.append(e)

        async with running(client, fake.token):
            await asyncio.wait_for(tree.sync(), TIMEOUT)
            inter = await fake.send_interaction("slow")
            await fake.wait_for_request("POST", rf"/interactions/{inter.id}/.+/callback", timeout=TIMEOUT)
            await fake.wait_for(lambda: errors or None, timeout=TIMEOUT, what="the bot to see the error")
        assert isinstance(errors[0], discord.NotFound)
        assert errors[0].code == 10062
        assert inter.callback is None


async def test_an_injected_fault_fails_the_matching_requests_then_lets_them_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeDiscord() as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        async with running(client, fake.token):
            channel = client.get_channel(fake.channel.id)
            assert isinstance(channel, discord.TextChannel)
            fault = fake.fail("POST", rf"/channels/{fake.channel.id}/messages", status=403, times=1)
            with pytest.raises(discord.Forbidden) as refused:
                await channel.send("first")
            await channel.send("second")

        assert refused.value.code == 50013
        assert fault.hits == 1
        assert [m.content for m in fake.sent] == ["second"]
        posts = [r for r in fake.requests if r.method == "POST"]
        assert [(r.status, r.injected) for r in posts] == [(403, True), (200, False)]
        assert fake.errors == []


async def test_a_mention_reaches_on_message_and_the_reply_reaches_the_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord() as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        received: list[discord.Message] = []

        @client.event
        async def on_message(message: discord.Message) -> None:
            if message.author == client.user:
                return
            received.append(message)
            if client.user in message.mentions:
                await message.reply("Here is what I found.", mention_author=False)
                await message.channel.send("notes", file=discord.File(io.BytesIO(b"some notes"), "notes.txt"))

        async with running(client, fake.token):
            injected = await fake.send_message(f"{fake.bot_user.mention} why did V accept the role?")
            reply = await fake.wait_for_message(channel_id=fake.channel.id, timeout=TIMEOUT)
            with_file = await fake.wait_for_message(after=reply.index + 1, timeout=TIMEOUT)

        assert received[0].content == f"<@{fake.bot_user.id}> why did V accept the role?"
        assert received[0].author.id == fake.user.id
        assert isinstance(received[0].author, discord.Member)
        assert reply.content == "Here is what I found."
        assert str(reply.payload["message_reference"]["message_id"]) == injected["id"]
        assert reply.payload["allowed_mentions"]["replied_user"] is False
        assert reply.message["type"] == 19
        assert reply.message["referenced_message"]["id"] == injected["id"]
        assert with_file.content == "notes"
        assert with_file.request.files[0].filename == "notes.txt"
        assert with_file.request.files[0].data == b"some notes"
        assert with_file.message["attachments"][0]["filename"] == "notes.txt"
        assert fake.unknown_routes == []
        assert fake.errors == []


async def test_without_the_message_content_intent_only_mentions_carry_content(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeDiscord() as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client(message_content=False)
        contents: list[str] = []

        @client.event
        async def on_message(message: discord.Message) -> None:
            contents.append(message.content)

        async with running(client, fake.token):
            assert not fake.identifies[0]["intents"] & INTENT_MESSAGE_CONTENT
            await fake.send_message("plain chatter")
            await fake.send_message(f"{fake.bot_user.mention} a question")
            await fake.wait_for(lambda: len(contents) == 2 or None, timeout=TIMEOUT, what="two messages")
        assert contents == ["", f"<@{fake.bot_user.id}> a question"]


async def test_a_privileged_intent_the_application_lacks_closes_with_4014(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord(message_content_intent=False) as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client(message_content=True)
        async with client:
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await asyncio.wait_for(client.start(fake.token), TIMEOUT)
        assert fake.connections[0].close_code == 4014


async def test_a_wrong_token_raises_login_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord(token="right") as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        async with client:
            with pytest.raises(discord.LoginFailure):
                await asyncio.wait_for(client.start("wrong"), TIMEOUT)
        assert fake.requests[0].status == 401
        assert fake.requests[0].response == {"message": "401: Unauthorized", "code": 0}
        assert fake.connections == []


async def test_a_dropped_connection_is_resumed(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeDiscord() as fake:
        point_discord_at(monkeypatch, fake)
        client = make_client()
        resumed = asyncio.Event()

        @client.event
        async def on_resumed() -> None:
            resumed.set()

        async with running(client, fake.token, reconnect=True):
            await fake.disconnect(4000)
            await asyncio.wait_for(resumed.wait(), TIMEOUT)
            assert any(m["op"] == 6 for m in fake.connections[1].received)
            await fake.send_message(f"{fake.bot_user.mention} still there?")  # the resumed connection is live
        assert len(fake.identifies) == 1


CLIENT_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import os

    import discord
    import yarl

    discord.http.Route.BASE = os.environ["STORYBOT_DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["STORYBOT_DISCORD_GATEWAY"])

    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)


    @client.event
    async def on_ready():
        print("ready as", client.user.id, flush=True)
        channel = client.get_channel(int(os.environ["READY_CHANNEL"]))
        await channel.send(f"ready in {len(client.guilds)} guild(s)")


    @client.event
    async def on_message(message):
        if client.user in message.mentions:
            await message.reply(f"pong from {os.getpid()}")
            await client.close()


    async def main():
        async with client:
            await asyncio.wait_for(client.start(os.environ["DISCORD_TOKEN"]), 60)


    asyncio.run(main())
    """
)


async def test_a_client_in_a_subprocess_connects_to_the_fake(tmp_path: Path) -> None:
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    async with FakeDiscord(token="sub-token") as fake:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            env={**os.environ, **fake.env(), "READY_CHANNEL": str(fake.channel.id)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            hello = await fake.wait_for_message(timeout=60)  # sent from the client's on_ready
            await fake.send_message(f"{fake.bot_user.mention} ping")
            reply = await fake.wait_for_message(after=hello.index + 1, timeout=TIMEOUT)
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert out.decode().strip() == f"ready as {fake.bot_user.id}"
        assert hello.content == "ready in 1 guild(s)"
        assert reply.content == f"pong from {proc.pid}"
        assert fake.unknown_routes == []
        assert fake.errors == []


def test_the_threaded_fake_serves_a_subprocess_client(tmp_path: Path) -> None:
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    with FakeDiscordThread(token="thread-token") as server:
        fake = server.fake
        with subprocess.Popen(
            [sys.executable, str(script)],
            env={**os.environ, **fake.env(), "READY_CHANNEL": str(fake.channel.id)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc:
            try:
                hello = server.call(fake.wait_for_message(timeout=60), timeout=65)
                server.call(fake.send_message(f"{fake.bot_user.mention} ping"))
                reply = server.call(fake.wait_for_message(after=hello.index + 1, timeout=TIMEOUT), timeout=TIMEOUT + 5)
                out, err = proc.communicate(timeout=TIMEOUT)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert out.decode().startswith("ready as")
        assert hello.content == "ready in 1 guild(s)"
        assert reply.content == f"pong from {proc.pid}"
