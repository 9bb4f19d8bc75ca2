"""A fake Discord (REST API + gateway) on 127.0.0.1 for end-to-end tests of real discord.py clients.

It speaks just enough of Discord's API v10 for a bot to log in, sync slash commands, receive a
slash-command interaction or a message, and answer it; it records everything it was sent.

    async with FakeDiscord(token="t") as fake:
        discord.http.Route.BASE = fake.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        ...  # start a client with token "t", then:
        await fake.wait_until_ready()
        inter = await fake.send_interaction("ask", {"question": "why?"})
        reply = await fake.wait_for_message(where=lambda m: m.interaction is inter)

A client in another process connects the same way (the fake runs in the test's event loop), and
``FakeDiscordThread`` runs the fake in a thread of its own for synchronous callers.

Behaviour kept from the real Discord because bots get it wrong: JSON replies carry exactly
``Content-Type: application/json``; optional fields are absent rather than null; a wrong token is a
401 (REST) or close code 4004 (gateway); privileged intents the application lacks close the gateway
with 4014; without the MESSAGE_CONTENT intent message content is blanked unless the bot is
mentioned; an interaction must be acknowledged within ``interaction_ack_timeout`` seconds and only
once; message limits (2000 characters, 10 embeds, embed sizes) give Discord's 400 errors. A route the
fake does not know answers 404 ``{"message": "Unknown", "code": 0}`` and lands in ``unknown_routes``.

Faults are injected with ``fake.fail(method, path, status=..., times=...)``: the matching requests get
Discord's error instead of an answer (``times=5`` outlasts discord.py's retries of a 5xx).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import threading
import time
import traceback
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import BodyPartReader, WSMsgType, web

JSON = dict[str, Any]
T = TypeVar("T")

log = logging.getLogger("tests.fakediscord")

DISCORD_EPOCH_MS = 1420070400000
API_VERSION = 10

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Application flags: the "limited" variants are what an unverified bot gets from the portal toggles.
APP_FLAG_GATEWAY_PRESENCE_LIMITED = 1 << 13
APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19

# Permissions.
PERM_ADMINISTRATOR = 1 << 3
EVERYONE_PERMISSIONS = (
    (1 << 6)  # ADD_REACTIONS
    | (1 << 10)  # VIEW_CHANNEL
    | (1 << 11)  # SEND_MESSAGES
    | (1 << 14)  # EMBED_LINKS
    | (1 << 15)  # ATTACH_FILES
    | (1 << 16)  # READ_MESSAGE_HISTORY
    | (1 << 31)  # USE_APPLICATION_COMMANDS
)
ALL_PERMISSIONS = (1 << 51) - 1

# Interaction callback types.
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_MODAL = 9
EPHEMERAL = 1 << 6

# Message types.
MSG_DEFAULT = 0
MSG_REPLY = 19
MSG_CHAT_INPUT_COMMAND = 20

_ids = itertools.count()
_last_id = 0
_id_lock = threading.Lock()


def snowflake() -> int:
    """A new, increasing Discord snowflake whose timestamp is now (discord.py reads the time out of ids)."""
    global _last_id  # noqa: PLW0603 -- one process-wide counter keeps every id unique and increasing
    with _id_lock:
        candidate = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_ids) & 0xFFF)
        _last_id = max(candidate, _last_id + 1)
        return _last_id


def _timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": None if self.bot else self.username.title(),
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class FakeChannel:
    id: int
    name: str
    type: int = 0  # GUILD_TEXT
    position: int = 0


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0


@dataclass
class FakeGuild:
    """A guild the bot is in. The @everyone role (id == guild id) and the bot's member are added for you."""

    id: int
    name: str
    owner: FakeUser
    channels: list[FakeChannel]
    members: list[FakeUser]
    roles: list[FakeRole] = field(default_factory=list)
    member_roles: dict[int, list[int]] = field(default_factory=dict)

    def channel(self, name: str) -> FakeChannel:
        return next(c for c in self.channels if c.name == name)


@dataclass
class RecordedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request, recorded once it was answered."""

    index: int
    method: str
    path: str  # after the API base, e.g. "/channels/1/messages"
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # the JSON body, or a multipart body's payload_json; None if there was none
    files: list[RecordedFile]
    time: float  # time.monotonic() on arrival
    status: int = 0
    response: Any = None
    injected: bool = False  # answered by a Fault, not by the route


# What Discord's body says for the statuses tests inject.
_FAULT_BODIES: dict[int, tuple[int, str]] = {
    400: (50035, "Invalid Form Body"),
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),
    404: (10015, "Unknown Webhook"),
    500: (0, "500: Internal Server Error"),
    502: (0, "502: Bad Gateway"),
    503: (0, "503: Service Unavailable"),
}


@dataclass
class Fault:
    """Requests that fail on purpose: the next ``times`` (None: every one) whose method matches, whose
    path fullmatches ``path`` and for which ``where`` holds get ``status`` and Discord's error body."""

    method: str
    path: re.Pattern[str]
    status: int
    times: int | None = None
    where: Callable[[RecordedRequest], bool] | None = None
    hits: int = 0

    def matches(self, rec: RecordedRequest) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (
            rec.method == self.method
            and self.path.fullmatch(rec.path) is not None
            and (self.where is None or self.where(rec))
        )

    def payload(self) -> JSON:
        code, message = _FAULT_BODIES.get(self.status, (0, f"{self.status}: injected by the fake"))
        return {"message": message, "code": code}


@dataclass
class FakeInteraction:
    id: int
    token: str
    payload: JSON  # the INTERACTION_CREATE data as dispatched
    dispatched_at: float  # time.monotonic()
    callback: JSON | None = None  # the body of the interaction callback
    callback_at: float | None = None
    original: JSON | None = None  # the original response message, once there is one
    followups: list[JSON] = field(default_factory=list)

    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])


@dataclass
class SentMessage:
    """A message the bot created (in a channel, as an interaction response, or as a follow-up)."""

    index: int
    source: str  # "channel", "interaction_response", "followup" or "original_edit"
    channel_id: int
    message: JSON  # the stored message; later edits update it in place
    payload: JSON  # the raw request body (allowed_mentions, message_reference, flags, ...)
    request: RecordedRequest
    interaction: FakeInteraction | None = None

    @property
    def content(self) -> str:
        return str(self.message.get("content", ""))

    @property
    def embeds(self) -> list[JSON]:
        return list(self.message.get("embeds", []))


@dataclass
class GatewayConnection:
    index: int
    query: dict[str, str]
    ws: web.WebSocketResponse
    zlib: Any = None  # a zlib compress object when the client asked for compress=zlib-stream
    seq: int = 0
    session_id: str | None = None
    identify: JSON | None = None
    intents: int = 0
    ready: bool = False  # READY (or RESUMED) was sent: dispatches reach this connection
    heartbeats: list[float] = field(default_factory=list)
    received: list[JSON] = field(default_factory=list)
    close_code: int | None = None
    closed: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self.lock:  # zlib-stream chunks must reach the client in the order they were made
            if self.zlib is not None:
                await self.ws.send_bytes(self.zlib.compress(text.encode()) + self.zlib.flush(zlib.Z_SYNC_FLUSH))
            else:
                await self.ws.send_str(text)

    async def close(self, code: int, reason: str = "") -> None:
        """Close from the server side; close_code keeps our code (the client answers with its own)."""
        if self.close_code is None:
            self.close_code = code
        await self.ws.close(code=code, message=reason.encode())

    async def dispatch(self, event: str, data: JSON) -> None:
        self.seq += 1
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {message} (code {code})")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def payload(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def _valid_command_name(name: str, command_type: int) -> bool:
    """Discord's naming rules: slash commands (type 1) lower case without spaces; user and message
    context menus (types 2 and 3) any case, spaces allowed; 1 to 32 characters either way."""
    if command_type == 1:
        return re.fullmatch(r"[-_\w]{1,32}", name) is not None and name == name.lower()
    return 1 <= len(name) <= 32 and name == name.strip()


def _invalid_form(path: str, error_code: str, message: str) -> ApiError:
    errors: JSON = {"_errors": [{"code": error_code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return ApiError(400, 50035, "Invalid Form Body", errors)


def check_message_limits(payload: Mapping[str, Any], *, files: Sequence[RecordedFile] = (), creating: bool) -> None:
    """Discord's limits on a message body: 2000 characters, 10 embeds, embed field sizes, not empty."""
    content = payload.get("content") or ""
    if len(content) > 2000:
        raise _invalid_form("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        raise _invalid_form("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    limits = {"title": 256, "description": 4096}
    for i, embed in enumerate(embeds):
        for key, limit in limits.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                raise _invalid_form(f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise _invalid_form(f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, f in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = f.get(key) or ""
                total += len(value)
                if not value or len(value) > limit:
                    raise _invalid_form(
                        f"embeds.{i}.fields.{j}.{key}",
                        "BASE_TYPE_BAD_LENGTH",
                        f"Must be between 1 and {limit} in length.",
                    )
        for key, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
            value = (embed.get(key) or {}).get(sub) or ""
            total += len(value)
            if len(value) > limit:
                raise _invalid_form(f"embeds.{i}.{key}.{sub}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer.")
    if total > 6000:
        raise _invalid_form("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    empty = not content and not embeds and not files and not payload.get("components") and not payload.get("poll")
    if creating and empty and not payload.get("sticker_ids"):
        raise ApiError(400, 50006, "Cannot send an empty message")


_OPTION_TYPES = {bool: 5, int: 4, float: 10, str: 3}  # BOOLEAN, INTEGER, NUMBER, STRING
_Handler = Callable[[RecordedRequest, "re.Match[str]"], Awaitable[tuple[int, Any]]]


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1, port chosen by the OS. See the module docstring."""

    def __init__(
        self,
        token: str = "fake-bot-token",
        *,
        bot_name: str = "StoryBot",
        application_id: int | None = None,
        guilds: Sequence[FakeGuild] | None = None,
        message_content_intent: bool = True,
        members_intent: bool = True,
        presences_intent: bool = True,
        heartbeat_interval_ms: int = 41250,
        interaction_ack_timeout: float | None = 3.0,
    ) -> None:
        self.token = token
        self.bot_user = FakeUser(application_id or snowflake(), bot_name, bot=True)
        self.application_id = self.bot_user.id  # a bot's user id is its application's id
        self.application_flags = (
            (APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED if message_content_intent else 0)
            | (APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED if members_intent else 0)
            | (APP_FLAG_GATEWAY_PRESENCE_LIMITED if presences_intent else 0)
        )
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_ack_timeout = interaction_ack_timeout
        self.ack_heartbeats = True  # set False to simulate a zombie connection

        if guilds is None:
            owner, user = FakeUser(snowflake(), "owner"), FakeUser(snowflake(), "reader")
            channels = [
                FakeChannel(snowflake(), "general", position=0),
                FakeChannel(snowflake(), "stories", position=1),
            ]
            guilds = [FakeGuild(snowflake(), "Test Guild", owner, channels, [owner, user])]
        self.guilds: list[FakeGuild] = list(guilds)
        for guild in self.guilds:
            if not any(r.id == guild.id for r in guild.roles):
                guild.roles.insert(0, FakeRole(guild.id, "@everyone", EVERYONE_PERMISSIONS))
            if self.bot_user not in guild.members:
                guild.members.append(self.bot_user)
        self.guild = self.guilds[0]
        self.channel = next(c for c in self.guild.channels if c.type == 0)
        self.owner = self.guild.owner
        self.user = next((u for u in self.guild.members if u not in (self.owner, self.bot_user)), self.owner)
        self.users: dict[int, FakeUser] = {u.id: u for g in self.guilds for u in [g.owner, *g.members]}

        # What was recorded.
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[str] = []
        self.errors: list[str] = []  # exceptions inside the fake itself (answered as 400, never 5xx)
        self.connections: list[GatewayConnection] = []
        self.identifies: list[JSON] = []  # IDENTIFY payloads ("d"), token and intents included
        self.presence_updates: list[JSON] = []
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.messages: dict[int, JSON] = {}  # every message the fake knows, by id
        self.sent: list[SentMessage] = []  # messages the bot created, in order
        self.interactions: dict[str, FakeInteraction] = {}  # by token
        self.dispatched: list[tuple[str, JSON]] = []  # gateway events injected by tests
        self.faults: list[Fault] = []  # see fail()

        self._sessions: dict[str, GatewayConnection] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes: list[tuple[str, re.Pattern[str], _Handler]] = []
        self._add_routes()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        """Environment variables that point a StoryBot process at this fake."""
        return {
            "STORYBOT_DISCORD_API_BASE": self.api_base,
            "STORYBOT_DISCORD_GATEWAY": self.gateway_url,
            "DISCORD_TOKEN": self.token,
        }

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self._rest)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("fake Discord listening on %s", self.url)

    async def close(self) -> None:
        for conn in self.connections:
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(1001, "fake Discord shutting down"), 2.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ waiting

    def _bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, check: Callable[[], T | None], *, timeout: float, what: str) -> T:
        """Wait until check() returns something other than None (or False); TimeoutError after timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [f"{r.method} {r.path} -> {r.status}" for r in self.requests[-10:]]
                raise TimeoutError(
                    f"fake Discord: no {what} within {timeout}s; last requests: {recent};"
                    f" unknown routes: {self.unknown_routes}; errors: {self.errors}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def wait_for_request(
        self,
        method: str,
        path: str,
        *,
        timeout: float = 10.0,
        after: int = 0,
        where: Callable[[RecordedRequest], bool] | None = None,
    ) -> RecordedRequest:
        """The first answered request (index >= after) whose method matches and whose path fullmatches the regex."""
        pattern = re.compile(path)

        def check() -> RecordedRequest | None:
            for r in self.requests[after:]:
                if r.method == method.upper() and pattern.fullmatch(r.path) and (where is None or where(r)):
                    return r
            return None

        return await self.wait_for(check, timeout=timeout, what=f"{method} {path} request")

    async def wait_for_message(
        self,
        *,
        channel_id: int | None = None,
        timeout: float = 10.0,
        after: int = 0,
        where: Callable[[SentMessage], bool] | None = None,
    ) -> SentMessage:
        """The first message the bot created (index >= after in fake.sent) matching channel and predicate."""

        def check() -> SentMessage | None:
            for m in self.sent[after:]:
                if (channel_id is None or m.channel_id == channel_id) and (where is None or where(m)):
                    return m
            return None

        return await self.wait_for(check, timeout=timeout, what="message from the bot")

    async def wait_until_ready(self, *, timeout: float = 10.0) -> GatewayConnection:
        """Wait for a client that identified and was sent READY and its guilds."""
        return await self.wait_for(
            lambda: next((c for c in self.connections if c.ready and not c.closed), None),
            timeout=timeout,
            what="identified gateway client",
        )

    async def wait_for_heartbeats(self, count: int, *, timeout: float = 10.0) -> list[float]:
        return await self.wait_for(
            lambda: self.heartbeats if len(self.heartbeats) >= count else None,
            timeout=timeout,
            what=f"{count} heartbeats",
        )

    @property
    def heartbeats(self) -> list[float]:
        """time.monotonic() of every heartbeat (op 1) received, all connections, in order."""
        return sorted(t for c in self.connections for t in c.heartbeats)

    # ------------------------------------------------------------------ payloads

    def _member(self, guild: FakeGuild, user: FakeUser, *, with_user: bool = True) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in guild.member_roles.get(user.id, [])],
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }
        if with_user:
            data["user"] = user.payload()
        return data

    def _channel(self, guild: FakeGuild, channel: FakeChannel) -> JSON:
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(guild.id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [],
            "nsfw": False,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _guild_create(self, guild: FakeGuild, intents: int) -> JSON:
        everyone = [self.bot_user] if not intents & INTENT_GUILD_MEMBERS else guild.members
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner.id),
            "unavailable": False,
            "large": False,
            "member_count": len(guild.members),
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "roles": [
                {
                    "id": str(r.id),
                    "name": r.name,
                    "permissions": str(r.permissions),
                    "position": r.position,
                    "color": 0,
                    "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
                for r in guild.roles
            ],
            "channels": [self._channel(guild, c) for c in guild.channels],
            "members": [self._member(guild, u) for u in everyone],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }

    def _find_channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        for guild in self.guilds:
            for channel in guild.channels:
                if channel.id == channel_id:
                    return guild, channel
        raise ApiError(404, 10003, "Unknown Channel")

    def _guild_of(self, guild_id: int) -> FakeGuild:
        guild = next((g for g in self.guilds if g.id == guild_id), None)
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    def _permissions(self, guild: FakeGuild, user: FakeUser) -> int:
        if user.id == guild.owner.id:
            return ALL_PERMISSIONS
        perms = 0
        member_roles = {guild.id, *guild.member_roles.get(user.id, [])}
        for role in guild.roles:
            if role.id in member_roles:
                perms |= role.permissions
        return ALL_PERMISSIONS if perms & PERM_ADMINISTRATOR else perms

    def _mentioned_users(self, content: str, extra: Sequence[FakeUser]) -> list[FakeUser]:
        found = {int(m) for m in re.findall(r"<@!?(\d+)>", content)}
        users = [self.users[i] for i in sorted(found) if i in self.users]
        return users + [u for u in extra if u not in users]

    def _new_message(
        self,
        *,
        guild: FakeGuild,
        channel: FakeChannel,
        author: FakeUser,
        payload: Mapping[str, Any],
        files: Sequence[RecordedFile] = (),
        msg_type: int = MSG_DEFAULT,
        webhook: bool = False,
        interaction: FakeInteraction | None = None,
        mentions: Sequence[FakeUser] = (),
    ) -> JSON:
        message_id = snowflake()
        content = str(payload.get("content") or "")
        message: JSON = {
            "id": str(message_id),
            "type": msg_type,
            "channel_id": str(channel.id),
            "guild_id": str(guild.id),
            "author": author.payload(),
            "content": content,
            "timestamp": _timestamp(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": False,
            "mentions": [
                {**u.payload(), "member": self._member(guild, u, with_user=False)}
                for u in self._mentioned_users(content, mentions)
            ],
            "mention_roles": [str(int(r)) for r in re.findall(r"<@&(\d+)>", content)],
            "attachments": [
                {
                    "id": str(snowflake()),
                    "filename": f.filename,
                    "size": len(f.data),
                    "url": f"{self.url}/attachments/{channel.id}/{f.filename}",
                    "proxy_url": f"{self.url}/attachments/{channel.id}/{f.filename}",
                    "content_type": f.content_type,
                }
                for f in files
            ],
            "embeds": list(payload.get("embeds") or []),
            "components": list(payload.get("components") or []),
            "pinned": False,
            "flags": int(payload.get("flags") or 0),
        }
        if not webhook and not author.bot:
            message["member"] = self._member(guild, author, with_user=False)
        if webhook:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        if interaction is not None:
            data = interaction.payload["data"]
            user = interaction.payload["member"]["user"]
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": 2,
                "user": user,
                "authorizing_integration_owners": {"0": str(guild.id)},
                "name": data["name"],
                "command_type": 1,
            }
        ref = payload.get("message_reference")
        if ref and ref.get("message_id") is not None:
            referenced = self.messages.get(int(ref["message_id"]))
            if referenced is None and ref.get("fail_if_not_exists", True):
                raise _invalid_form("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            message["message_reference"] = {
                "type": int(ref.get("type", 0)),
                "message_id": str(ref["message_id"]),
                "channel_id": str(ref.get("channel_id", channel.id)),
                "guild_id": str(ref.get("guild_id", guild.id)),
            }
            if referenced is not None:
                message["referenced_message"] = referenced
                message["type"] = MSG_REPLY if msg_type == MSG_DEFAULT else msg_type
        self.messages[message_id] = message
        return message

    # ------------------------------------------------------------------ injecting events

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        times: int | None = None,
        where: Callable[[RecordedRequest], bool] | None = None,
    ) -> Fault:
        """Make matching REST requests fail with ``status`` (see Fault); ``fault.hits`` counts them.
        ``path`` is a regex over the path after the API base, as in wait_for_request."""
        fault = Fault(method.upper(), re.compile(path), status, times, where)
        self.faults.append(fault)
        return fault

    async def _dispatch(
        self, event: str, data: JSON, *, per_connection: Callable[[GatewayConnection], JSON | None] | None = None
    ) -> int:
        """Send a DISPATCH to every ready client (per_connection may change the data, or skip with None)."""
        targets = [c for c in self.connections if c.ready and not c.closed]
        if not targets:
            raise RuntimeError(f"fake Discord: no client is connected to receive {event}")
        self.dispatched.append((event, data))
        sent = 0
        for conn in targets:
            payload = data if per_connection is None else per_connection(conn)
            if payload is not None:
                await conn.dispatch(event, payload)
                sent += 1
        self._bump()
        return sent

    async def send_message(
        self,
        content: str,
        *,
        author: FakeUser | None = None,
        channel: FakeChannel | int | None = None,
        mentions: Sequence[FakeUser] = (),
        message_reference: int | JSON | None = None,
        embeds: Sequence[JSON] = (),
    ) -> JSON:
        """Dispatch MESSAGE_CREATE as if ``author`` (default: fake.user) wrote ``content`` in ``channel``.

        ``<@id>`` mentions in the content are resolved like Discord does; ``mentions`` adds more.
        A client without the MESSAGE_CONTENT intent gets empty content unless the bot is mentioned.
        Returns the full message as stored.
        """
        author = author or self.user
        channel_id = self.channel.id if channel is None else channel if isinstance(channel, int) else channel.id
        guild, chan = self._find_channel(channel_id)
        payload: JSON = {"content": content, "embeds": list(embeds)}
        if message_reference is not None:
            ref = {"message_id": message_reference} if isinstance(message_reference, int) else message_reference
            payload["message_reference"] = ref
        message = self._new_message(guild=guild, channel=chan, author=author, payload=payload, mentions=mentions)
        bot_mentioned = any(int(m["id"]) == self.bot_user.id for m in message["mentions"])
        blanked = {**message, "content": "", "embeds": [], "attachments": [], "components": []}

        def for_connection(conn: GatewayConnection) -> JSON | None:
            if not conn.intents & INTENT_GUILD_MESSAGES:
                return None
            if conn.intents & INTENT_MESSAGE_CONTENT or bot_mentioned or author.id == self.bot_user.id:
                return message
            return blanked

        await self._dispatch("MESSAGE_CREATE", message, per_connection=for_connection)
        return message

    def _find_command(self, name: str, guild_id: int | None) -> JSON | None:
        for cmd in [*self.guild_commands.get(guild_id or 0, []), *self.global_commands]:
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        return None

    async def send_interaction(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | int | None = None,
        permissions: int | str | None = None,
        locale: str = "en-US",
        strict: bool = True,
    ) -> FakeInteraction:
        """Dispatch INTERACTION_CREATE for the slash command ``command`` ("name" or "group sub").

        ``options`` maps option names to values; their types come from the synced command. With
        ``strict`` (the default) the command must have been synced (globally or to the guild) and the
        user must hold its default_member_permissions, as on Discord. ``permissions`` overrides the
        user's computed permissions in the channel.
        """
        user = user or self.user
        channel_id = self.channel.id if channel is None else channel if isinstance(channel, int) else channel.id
        guild, chan = self._find_channel(channel_id)
        perms = self._permissions(guild, user) if permissions is None else int(permissions)
        names = command.split()
        registered = self._find_command(names[0], guild.id)
        if registered is None and strict:
            known = [c["name"] for c in [*self.global_commands, *self.guild_commands.get(guild.id, [])]]
            raise LookupError(f"fake Discord: /{names[0]} was never synced (known: {known})")
        if registered is not None and strict and registered.get("default_member_permissions") is not None:
            needed = int(registered["default_member_permissions"])
            if perms & needed != needed and not perms & PERM_ADMINISTRATOR:
                raise PermissionError(f"fake Discord: {user.username} cannot see /{names[0]}")

        # Walk the synced schema down "group sub" to the options of the command actually invoked.
        schema: list[JSON] | None = list(registered.get("options", [])) if registered is not None else None
        for name in names[1:]:
            sub = next((o for o in schema or [] if o["name"] == name and o["type"] in (1, 2)), None)
            if sub is None and schema is not None and strict:
                raise LookupError(f"fake Discord: /{command} is not a synced sub-command")
            schema = None if sub is None else list(sub.get("options", []))
        inner: list[JSON] = []
        for key, value in (options or {}).items():
            spec = next((o for o in schema or [] if o["name"] == key), None)
            if spec is None and schema is not None and strict:
                raise LookupError(f"fake Discord: /{command} has no option {key!r}")
            opt_type = _OPTION_TYPES.get(type(value), 3) if spec is None else int(spec["type"])
            inner.append({"name": key, "type": opt_type, "value": value})
        # Wrap in sub-command (type 1) and group (type 2) options, innermost first.
        opts = inner
        for depth in range(len(names) - 1, 0, -1):
            opt_type = 1 if depth == len(names) - 1 else 2
            opts = [{"name": names[depth], "type": opt_type, "options": opts}]

        data: JSON = {"id": str(registered["id"]) if registered else str(snowflake()), "name": names[0], "type": 1}
        if opts:
            data["options"] = opts
        if registered is not None and "guild_id" in registered:
            data["guild_id"] = registered["guild_id"]
        interaction_id, token = snowflake(), f"fake-interaction-token-{snowflake()}"
        member = self._member(guild, user) | {"permissions": str(perms)}
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": 2,
            "token": token,
            "version": 1,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(chan.id),
            "channel": self._channel(guild, chan),
            "member": member,
            "app_permissions": str(self._permissions(guild, self.bot_user)),
            "locale": locale,
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        interaction = FakeInteraction(interaction_id, token, payload, time.monotonic())
        self.interactions[token] = interaction
        await self._dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def disconnect(self, code: int = 4000) -> None:
        """Close every gateway connection with ``code`` (4000 lets discord.py resume)."""
        for conn in self.connections:
            if not conn.ws.closed:
                await conn.close(code, "fake Discord disconnect")

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(len(self.connections), dict(request.query), ws)
        compress = request.query.get("compress")
        if compress == "zlib-stream":
            conn.zlib = zlib.compressobj()
        elif compress:
            log.info("fake Discord: compress=%s not supported, sending plain text frames", compress)
        self.connections.append(conn)
        self._bump()
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_gateway_message(conn, json.loads(msg.data))
                else:
                    log.warning("fake Discord: unexpected gateway frame %s", msg.type)
        except Exception:
            self.errors.append(traceback.format_exc())
            log.exception("fake Discord: gateway handler failed")
            await conn.close(4000, "fake Discord error")
        finally:
            conn.closed = True
            if conn.close_code is None:
                conn.close_code = ws.close_code
            self._bump()
        return ws

    async def _on_gateway_message(self, conn: GatewayConnection, msg: JSON) -> None:
        conn.received.append(msg)
        op: Any = msg.get("op")
        data: Any = msg.get("d")
        if op == 1:  # HEARTBEAT
            conn.heartbeats.append(time.monotonic())
            if self.ack_heartbeats:
                await conn.send({"op": 11})
        elif op == 2:  # IDENTIFY
            await self._identify(conn, data)
        elif op == 6:  # RESUME
            old = self._sessions.get(str(data.get("session_id")))
            if old is None or str(data.get("token", "")).removeprefix("Bot ") != self.token:
                await conn.send({"op": 9, "d": False})
                return
            conn.session_id, conn.identify, conn.intents, conn.seq = old.session_id, old.identify, old.intents, old.seq
            self._sessions[str(conn.session_id)] = conn
            conn.ready = True
            await conn.dispatch("RESUMED", {})
        elif op == 3:  # PRESENCE_UPDATE
            self.presence_updates.append(data)
        elif op == 8:  # REQUEST_GUILD_MEMBERS
            guild = self._guild_of(int(data["guild_id"]))
            wanted = {int(u) for u in data.get("user_ids") or []}
            query = str(data.get("query") or "").lower()
            members = [
                self._member(guild, u)
                for u in guild.members
                if (not wanted or u.id in wanted) and u.username.lower().startswith(query)
            ]
            chunk: JSON = {"guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1}
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            await conn.dispatch("GUILD_MEMBERS_CHUNK", chunk)
        else:
            log.warning("fake Discord: unhandled gateway op %s", op)
        self._bump()

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        self.identifies.append(data)
        conn.identify = data
        if str(data.get("token", "")).removeprefix("Bot ") != self.token:
            await conn.close(4004, "Authentication failed.")
            return
        conn.intents = int(data.get("intents", 0))
        allowed = {
            INTENT_MESSAGE_CONTENT: APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED,
            INTENT_GUILD_MEMBERS: APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED,
            INTENT_GUILD_PRESENCES: APP_FLAG_GATEWAY_PRESENCE_LIMITED,
        }
        if any(conn.intents & intent and not self.application_flags & flag for intent, flag in allowed.items()):
            await conn.close(4014, "Disallowed intent(s).")
            return
        conn.session_id = f"fake-session-{snowflake()}"
        self._sessions[conn.session_id] = conn
        ready: JSON = {
            "v": API_VERSION,
            "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0, "locale": "en-US"},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds],
            "session_id": conn.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["local"],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await conn.dispatch("READY", ready)
        for guild in self.guilds:
            await conn.dispatch("GUILD_CREATE", self._guild_create(guild, conn.intents))
        conn.ready = True

    # ------------------------------------------------------------------ REST

    @staticmethod
    def _json_response(status: int, payload: Any) -> web.Response:
        if status == 204 or payload is None:
            return web.Response(status=204)
        # Exactly "application/json": discord.py does not parse "application/json; charset=utf-8".
        return web.Response(
            status=status, body=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info.get("tail", "")
        body: Any = None
        files: list[RecordedFile] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                elif part.filename is not None:
                    ctype = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(RecordedFile(part.name or "", part.filename, ctype, bytes(await part.read())))
        else:
            raw = await request.read()
            if raw and request.content_type == "application/json":
                body = json.loads(raw)
            elif raw:
                body = raw.decode(errors="replace")
        rec = RecordedRequest(
            index=len(self.requests),
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=body,
            files=files,
            time=time.monotonic(),
        )
        fault = next((f for f in self.faults if f.matches(rec)), None)
        try:
            if fault is not None:
                fault.hits += 1
                rec.injected = True
                status, payload = fault.status, fault.payload()
            else:
                status, payload = await self._route(rec, request)
        except ApiError as e:
            status, payload = e.status, e.payload()
        except Exception as e:
            # A bug in the fake: answer 400 (discord.py retries 5xx for seconds) and keep the traceback.
            self.errors.append(traceback.format_exc())
            log.exception("fake Discord: %s %s failed", rec.method, rec.path)
            status, payload = 400, {"message": f"fake Discord error: {e!r}", "code": 0}
        rec.status, rec.response = status, payload
        rec.index = len(self.requests)
        self.requests.append(rec)
        self._bump()
        return self._json_response(status, payload)

    async def _route(self, rec: RecordedRequest, request: web.Request) -> tuple[int, Any]:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(rec.path)
            if match is None or method != rec.method:
                continue
            webhook = rec.path.startswith(("/webhooks/", "/interactions/"))
            if not webhook and request.headers.get("Authorization") != f"Bot {self.token}":
                return 401, {"message": "401: Unauthorized", "code": 0}
            return await handler(rec, match)
        self.unknown_routes.append(f"{rec.method} {rec.path}")
        log.warning("fake Discord: unknown route %s %s", rec.method, rec.path)
        return 404, {"message": "Unknown", "code": 0}

    def _add_routes(self) -> None:
        snow, tok = r"(\d+)", r"([^/]+)"
        table: list[tuple[str, str, _Handler]] = [
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway),
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", f"/applications/{snow}/commands", self._get_commands),
            ("PUT", f"/applications/{snow}/commands", self._put_commands),
            ("GET", f"/applications/{snow}/guilds/{snow}/commands", self._get_commands),
            ("PUT", f"/applications/{snow}/guilds/{snow}/commands", self._put_commands),
            ("GET", f"/channels/{snow}", self._get_channel),
            ("POST", f"/channels/{snow}/typing", self._no_content),
            ("POST", f"/channels/{snow}/messages", self._post_message),
            ("GET", f"/channels/{snow}/messages/{snow}", self._get_message),
            ("PATCH", f"/channels/{snow}/messages/{snow}", self._patch_message),
            ("DELETE", f"/channels/{snow}/messages/{snow}", self._delete_message),
            ("PUT", f"/channels/{snow}/messages/{snow}/reactions/{tok}/@me", self._no_content),
            ("POST", f"/interactions/{snow}/{tok}/callback", self._interaction_callback),
            ("POST", f"/webhooks/{snow}/{tok}", self._followup),
            ("GET", f"/webhooks/{snow}/{tok}/messages/(@original|\\d+)", self._get_webhook_message),
            ("PATCH", f"/webhooks/{snow}/{tok}/messages/(@original|\\d+)", self._patch_webhook_message),
            ("DELETE", f"/webhooks/{snow}/{tok}/messages/(@original|\\d+)", self._delete_webhook_message),
        ]
        self._routes = [(m, re.compile(p), h) for m, p, h in table]

    async def _no_content(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        self._find_channel(int(m.group(1)))
        return 204, None

    async def _get_gateway(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    async def _get_me(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 200, self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0, "locale": "en-US"}

    async def _get_application(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": self.owner.payload(),
            "bot": self.bot_user.payload(),
            "redirect_uris": [],
            "tags": [],
        }

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.application_id:
            raise ApiError(403, 50001, "Missing Access")

    async def _get_commands(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        self._check_app(m.group(1))
        if m.lastindex == 2:
            return 200, self.guild_commands.get(self._guild_of(int(m.group(2))).id, [])
        return 200, self.global_commands

    async def _put_commands(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        self._check_app(m.group(1))
        guild_id = self._guild_of(int(m.group(2))).id if m.lastindex == 2 else None
        old = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        stored: list[JSON] = []
        for cmd in rec.json or []:
            if not _valid_command_name(cmd.get("name", ""), int(cmd.get("type", 1))):
                raise _invalid_form(f"{len(stored)}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            same = next((c for c in old if c["name"] == cmd["name"] and c["type"] == cmd.get("type", 1)), None)
            saved = {**cmd, "type": cmd.get("type", 1), "application_id": str(self.application_id)}
            saved["id"] = same["id"] if same else str(snowflake())
            saved["version"] = str(snowflake())
            saved.setdefault("description", "")
            if guild_id is not None:
                saved["guild_id"] = str(guild_id)
            stored.append(saved)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        return 200, stored

    async def _get_channel(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        guild, channel = self._find_channel(int(m.group(1)))
        return 200, self._channel(guild, channel)

    def _stored_message(self, channel_id: int, message_id: str) -> JSON:
        message = self.messages.get(int(message_id))
        if message is None or int(message["channel_id"]) != channel_id:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _record_sent(
        self, source: str, message: JSON, rec: RecordedRequest, interaction: FakeInteraction | None = None
    ) -> None:
        sent = SentMessage(
            len(self.sent), source, int(message["channel_id"]), message, rec.json or {}, rec, interaction
        )
        self.sent.append(sent)

    async def _post_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        guild, channel = self._find_channel(int(m.group(1)))
        payload = rec.json or {}
        check_message_limits(payload, files=rec.files, creating=True)
        message = self._new_message(
            guild=guild, channel=channel, author=self.bot_user, payload=payload, files=rec.files
        )
        self._record_sent("channel", message, rec)
        return 200, message

    async def _get_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        return 200, self._stored_message(int(m.group(1)), m.group(2))

    def _edit(self, message: JSON, payload: JSON) -> JSON:
        check_message_limits(payload, creating=False)
        for key in ("content", "embeds", "components", "flags"):
            if key in payload:
                message[key] = payload[key] if payload[key] is not None else ([] if key != "content" else "")
        message["edited_timestamp"] = _timestamp()
        return message

    async def _patch_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        message = self._stored_message(int(m.group(1)), m.group(2))
        if int(message["author"]["id"]) != self.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        return 200, self._edit(message, rec.json or {})

    async def _delete_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        message = self._stored_message(int(m.group(1)), m.group(2))
        del self.messages[int(message["id"])]
        return 204, None

    def _interaction(self, token: str) -> FakeInteraction:
        interaction = self.interactions.get(token)
        if interaction is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        return interaction

    def _interaction_message(
        self, interaction: FakeInteraction, payload: JSON, rec: RecordedRequest, source: str
    ) -> JSON:
        """A message the bot created through an interaction's webhook, stored and recorded."""
        guild, channel = self._find_channel(int(interaction.payload["channel_id"]))
        message = self._new_message(
            guild=guild,
            channel=channel,
            author=self.bot_user,
            payload=payload,
            files=rec.files,
            msg_type=MSG_CHAT_INPUT_COMMAND,
            webhook=True,
            interaction=interaction,
        )
        self._record_sent(source, message, rec, interaction)
        return message

    async def _interaction_callback(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        interaction = self.interactions.get(m.group(2))
        if interaction is None or interaction.id != int(m.group(1)):
            raise ApiError(404, 10062, "Unknown interaction")
        if interaction.callback is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        late = time.monotonic() - interaction.dispatched_at
        if self.interaction_ack_timeout is not None and late > self.interaction_ack_timeout:
            raise ApiError(404, 10062, "Unknown interaction")  # what Discord answers after its 3 seconds
        body = rec.json or {}
        callback_type, data = int(body.get("type", 0)), body.get("data") or {}
        if callback_type == CALLBACK_CHANNEL_MESSAGE:
            check_message_limits(data, files=rec.files, creating=True)
        interaction.callback, interaction.callback_at = body, time.monotonic()
        response: JSON = {
            "id": str(interaction.id),
            "type": interaction.payload["type"],
            "response_message_loading": callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
        }
        resource: JSON = {"type": callback_type}
        if callback_type == CALLBACK_CHANNEL_MESSAGE:
            message = self._interaction_message(interaction, data, rec, "interaction_response")
            interaction.original = message
            response["response_message_id"] = message["id"]
            resource["message"] = message
        if rec.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        return 200, {"interaction": response, "resource": resource}

    async def _followup(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        self._check_app(m.group(1))
        interaction = self._interaction(m.group(2))
        if interaction.callback is None:
            raise ApiError(404, 10015, "Unknown Webhook")  # no follow-up before the interaction is acknowledged
        payload = rec.json or {}
        check_message_limits(payload, files=rec.files, creating=True)
        message = self._interaction_message(interaction, payload, rec, "followup")
        if interaction.original is None and interaction.callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            interaction.original = message  # the first follow-up replaces the "thinking..." message
        interaction.followups.append(message)
        if rec.query.get("wait") in ("1", "true", "True"):
            return 200, message
        return 204, None

    def _webhook_message(self, m: re.Match[str]) -> tuple[FakeInteraction, JSON | None]:
        self._check_app(m.group(1))
        interaction = self._interaction(m.group(2))
        if m.group(3) == "@original":
            return interaction, interaction.original
        wanted = int(m.group(3))
        candidates = [interaction.original, *interaction.followups]
        return interaction, next((c for c in candidates if c is not None and int(c["id"]) == wanted), None)

    async def _get_webhook_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        _, message = self._webhook_message(m)
        if message is None:
            raise ApiError(404, 10008, "Unknown Message")
        return 200, message

    async def _patch_webhook_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        interaction, message = self._webhook_message(m)
        if message is None and m.group(3) == "@original" and interaction.callback is not None:
            # Editing the original of a deferred interaction creates the message.
            payload = rec.json or {}
            check_message_limits(payload, files=rec.files, creating=True)
            interaction.original = self._interaction_message(interaction, payload, rec, "original_edit")
            return 200, interaction.original
        if message is None:
            raise ApiError(404, 10008, "Unknown Message")
        return 200, self._edit(message, rec.json or {})

    async def _delete_webhook_message(self, rec: RecordedRequest, m: re.Match[str]) -> tuple[int, Any]:
        interaction, message = self._webhook_message(m)
        if message is None:
            raise ApiError(404, 10008, "Unknown Message")
        self.messages.pop(int(message["id"]), None)
        if interaction.original is message:
            interaction.original = None
        interaction.followups = [f for f in interaction.followups if f is not message]
        return 204, None


class FakeDiscordThread:
    """Runs a FakeDiscord in a thread with its own event loop, for synchronous code (or another loop).

    with FakeDiscordThread(token="t") as server:
        server.fake.api_base
        server.call(server.fake.wait_until_ready(timeout=10))
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._fake: FakeDiscord | None = None

    @property
    def fake(self) -> FakeDiscord:
        assert self._fake is not None, "use FakeDiscordThread as a context manager"
        return self._fake

    def call(self, coro: Coroutine[Any, Any, T], *, timeout: float = 30.0) -> T:
        """Run a coroutine (e.g. fake.send_message(...)) on the fake's loop and return its result."""
        assert self._loop is not None, "use FakeDiscordThread as a context manager"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> Self:
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="fake-discord", daemon=True)
        self._thread.start()

        async def make() -> FakeDiscord:
            fake = FakeDiscord(**self._kwargs)
            await fake.start()
            return fake

        try:
            self._fake = self.call(make(), timeout=10.0)
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._fake is not None:
                self.call(self._fake.close(), timeout=10.0)
        finally:
            self._stop()

    def _stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10.0)
        self._loop.close()
        self._loop = None
