"""Fetches a web page a user named, safely: http(s) only, public addresses only, bounded in time and size.

Admins add articles by URL, so this module fetches whatever someone typed into Discord. The dangers are
the usual ones of a server that fetches URLs for users: reaching the machine's own services or its
network (127.0.0.1, 10.0.0.0/8, the cloud metadata service at 169.254.169.254) through a link, a redirect
or a name that resolves there; and being held up by a page that never ends or never answers. So:

- every URL, the first and each redirect target, is checked for its scheme and, when its host is an IP
  address in any spelling, for that address (`checked_url`);
- names are resolved by `PublicResolver`, which refuses the whole answer if any address in it is not
  public; the connector connects only to the addresses that resolver returned, so the check and the
  connection use the same DNS answer and a name cannot rebind between them;
- redirects are followed here, not by aiohttp, so each hop goes through both checks;
- one deadline covers the whole fetch, redirects and body included, and the body is read in chunks
  up to a byte cap, whatever Content-Length says.

Every refusal is a `FetchError` whose message is one short sentence for the user.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from index.errors import StoryError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = "StoryBot/0.1 (+article intake)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5

PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024
# Browsers look for <meta charset> in the first 1024 bytes; real pages put it a little later at times.
_META_PRESCAN_BYTES = 4096

NOT_HTTP = "only http and https links can be added"
NOT_A_URL = "that link is not a valid web address"
PRIVATE = "that address is on a private network"
NO_SUCH_NAME = "that address does not resolve"
REFUSED = "that site refused the connection"
UNREACHABLE = "that site could not be reached"
BAD_CERTIFICATE = "that site's certificate could not be verified"
BROKE_OFF = "that page broke off before it finished loading"


class FetchError(StoryError):
    """A page cannot be fetched or is not a web page; the message is one short sentence for the user."""


@dataclass(frozen=True)
class Page:
    """A fetched web page."""

    url: str  # the final URL, after redirects
    content_type: str  # the media type without parameters, e.g. "text/html"
    text: str  # the body, decoded


# --- the address policy -----------------------------------------------------------------------

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not globally reachable, but unknown to the `ipaddress` of some Python versions.
_ALSO_NOT_GLOBAL: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.IPv4Network("192.0.0.0/24"),  # IETF protocol assignments (3.11 knows only the first /29)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # NAT64 for local use (RFC 8215)
    ipaddress.IPv6Network("3fff::/20"),  # documentation (RFC 9637)
)
# The spellings of IPv4 that inet_aton still accepts: 2130706433, 0x7f.1, 127.1, 0177.0.0.1.
_LEGACY_IPV4 = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


def parse_address(host: str) -> IPAddress | None:
    """The IP address a URL host or a DNS answer names, or None when it is a name.

    The legacy IPv4 spellings count as addresses: the C library connects to 127.0.0.1 for
    `2130706433` or `0x7f.1`, so a policy that took them for names would let them through."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # A trailing dot makes a name absolute, and the C library reads "127.0.0.1." as 127.0.0.1.
    dotless = host.removesuffix(".")
    if _LEGACY_IPV4.fullmatch(dotless):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(dotless))
        except OSError:
            return None
    return None


def is_public_address(address: IPAddress) -> bool:
    """Whether anyone on the internet could reach this address, so fetching it reaches nothing of ours.

    `is_global` is the base. Multicast and reserved addresses are refused on top of it, as
    `is_global` lets some through, and an IPv6 address that carries an IPv4 one (mapped, 6to4,
    NAT64) is judged by the IPv4 address, where the packets end up."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if address.is_site_local:
            return False
    if any(address in network for network in _ALSO_NOT_GLOBAL):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: ::ffff:a.b.c.d, 2002:aabb:ccdd::/48 or 64:ff9b::a.b.c.d."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def _is_public_host(host: str) -> bool:
    """For a resolver's answer: an address we cannot even parse is not one we can vouch for."""
    address = parse_address(host)
    return address is not None and is_public_address(address)


class PublicResolver(AbstractResolver):
    """aiohttp's default resolver, refusing a name when ANY address it resolves to is not public.

    Refusing the whole answer, not dropping the bad addresses, because a name that points inside is
    a probe, not a site. aiohttp connects only to the addresses a resolver returns, so the addresses
    checked here are the ones connected to: a name cannot pass the check with a public address and
    then connect to a private one (DNS rebinding). IP literals never reach a resolver; `checked_url`
    judges those."""

    def __init__(self) -> None:
        self._inner = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if not all(_is_public_host(answer["host"]) for answer in answers):
            log.debug("refused %s: it resolves to %s", host, [answer["host"] for answer in answers])
            raise FetchError(PRIVATE)
        return answers

    async def close(self) -> None:
        await self._inner.close()


def checked_url(link: str | URL, *, allow_private: bool = False) -> URL:
    """The link as a URL we may fetch: http or https, with a host, and not an IP literal on a private
    network. Names are checked when they are resolved, by `PublicResolver`."""
    try:
        url = URL(link.strip()) if isinstance(link, str) else link
    except (ValueError, TypeError):
        raise FetchError(NOT_A_URL) from None
    if url.scheme not in ("http", "https"):
        raise FetchError(NOT_HTTP)
    if not url.raw_host:
        raise FetchError(NOT_A_URL)
    address = parse_address(url.raw_host)
    if not allow_private and address is not None and not is_public_address(address):
        raise FetchError(PRIVATE)
    return url


# --- fetching ---------------------------------------------------------------------------------


async def fetch_page(
    url: str,
    *,
    allow_private: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> Page:
    """The page at `url`, after at most `max_redirects` redirects, within `timeout` seconds in all.

    `allow_private` lets it reach loopback, private and link-local addresses (a LAN; the tests).
    Raises FetchError with one sentence for the user."""
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(url, allow_private, max_bytes, max_redirects)
    except TimeoutError:
        raise FetchError(f"that page did not answer in {timeout:g} s") from None


def fetch_page_sync(url: str, *, allow_private: bool = False) -> Page:
    """`fetch_page` with its default limits, for the command line, which has no event loop of its own."""
    return asyncio.run(fetch_page(url, allow_private=allow_private))


async def _fetch(link: str, allow_private: bool, max_bytes: int, max_redirects: int) -> Page:
    """Follows redirects by hand, so that every hop is checked like the first link."""
    url = checked_url(link, allow_private=allow_private)
    resolver = None if allow_private else PublicResolver()
    # No DNS cache: every connection resolves, and so is checked, afresh.
    connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
    try:
        # trust_env=False: a proxy from the environment would resolve names itself, past our resolver.
        async with aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"},
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),  # fetch_page's deadline covers everything
        ) as session:
            for _ in range(max_redirects + 1):
                log.debug("fetching %s", url)
                async with session.get(url, allow_redirects=False) as response:
                    target = _redirect_target(response)
                    if target is None:
                        return await _read_page(response, max_bytes)
                url = checked_url(target, allow_private=allow_private)
            raise FetchError(f"that page redirected more than {max_redirects} times")
    except aiohttp.ClientError as exc:
        raise _translated(exc) from exc
    finally:
        if resolver is not None:  # the connector closes only a resolver it made itself
            await resolver.close()


def _redirect_target(response: aiohttp.ClientResponse) -> str | None:
    """Where a redirect points, made absolute; None when the response is not a redirect to follow."""
    location = response.headers.get("Location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    try:
        return str(response.url.join(URL(location)))
    except ValueError:
        raise FetchError(NOT_A_URL) from None


async def _read_page(response: aiohttp.ClientResponse, max_bytes: int) -> Page:
    """The page in a final response, refused before its body is read when the status, the type or the
    declared length already rule it out."""
    if not 200 <= response.status < 300:
        reason = response.reason or _phrase(response.status)
        raise FetchError(f"that page answered {response.status} {reason}".rstrip())
    content_type = response.content_type
    if content_type not in PAGE_TYPES:
        raise FetchError(f"that is {_kind(content_type)}, not a web page")
    if response.content_length is not None and response.content_length > max_bytes:
        raise FetchError(_too_big(max_bytes))
    body = await _read_capped(response.content, max_bytes)
    sniff = content_type != "text/plain"
    return Page(url=str(response.url), content_type=content_type, text=decode(body, response.charset, sniff=sniff))


async def _read_capped(stream: aiohttp.StreamReader, max_bytes: int) -> bytes:
    """The body, read in chunks and given up as soon as it passes `max_bytes`: Content-Length may be
    missing or wrong, and a compressed body can grow far beyond it once decompressed."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(_too_big(max_bytes))
        chunks.append(chunk)
    return b"".join(chunks)


def _translated(error: aiohttp.ClientError) -> FetchError:
    """aiohttp's error as one sentence for the user."""
    if isinstance(error, aiohttp.InvalidURL):
        return FetchError(NOT_A_URL)
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return FetchError(BAD_CERTIFICATE)
    if isinstance(error, aiohttp.ClientConnectorError):
        if isinstance(error.os_error, socket.gaierror):
            return FetchError(NO_SUCH_NAME)
        if isinstance(error.os_error, ConnectionRefusedError):
            return FetchError(REFUSED)
        return FetchError(UNREACHABLE)
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return FetchError(BROKE_OFF)
    return FetchError(UNREACHABLE)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _kind(content_type: str) -> str:
    """What a non-page is, in words: "a PDF", "an image", "an application/zip file"."""
    if content_type == "application/pdf":
        return "a PDF"
    kinds = {"image": "an image", "video": "a video", "audio": "a sound file"}
    major = content_type.partition("/")[0]
    if major in kinds:
        return kinds[major]
    article = "an" if content_type[:1] in set("aeiou") else "a"
    return f"{article} {content_type} file"


def _too_big(max_bytes: int) -> str:
    if max_bytes % (1024 * 1024) == 0:
        return f"that page is over {max_bytes // (1024 * 1024)} MB"
    if max_bytes % 1024 == 0:
        return f"that page is over {max_bytes // 1024} KB"
    return f"that page is over {max_bytes} bytes"


# --- decoding ---------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE)
# As browsers do (WHATWG Encoding): pages labelled Latin-1 or ASCII are written in windows-1252.
_LABELLED_AS_CP1252 = frozenset({"latin_1", "iso8859-1", "ascii"})


def decode(body: bytes, header_charset: str | None, *, sniff: bool = True) -> str:
    """The body as text: in the charset the header names, else the one a <meta> tag names (when
    `sniff`), else UTF-8. A byte that does not decode becomes U+FFFD rather than losing the page."""
    meta = _meta_charset(body) if sniff else None
    codec = _codec(header_charset) or _codec(meta) or "utf-8"
    if codec == "utf-8":
        codec = "utf-8-sig"  # drops a byte-order mark instead of leaving it at the start of the text
    return body.decode(codec, errors="replace")


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_META_PRESCAN_BYTES])
    return match.group(1).decode("ascii") if match else None


def _codec(label: str | None) -> str | None:
    """Python's codec for a charset label, or None for no label or one Python does not know."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if name in _LABELLED_AS_CP1252 else name
