"""Tests of index.fetch against real servers on 127.0.0.1: pages, charsets, redirects, limits, and the
refusal of private addresses before any connection is made."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from index.fetch import FetchError, Page, PublicResolver, fetch_page, fetch_page_sync, is_public_address

PAGES = Path(__file__).resolve().parent / "pages"
MB = 1024 * 1024
PRIVATE = "that address is on a private network"
TRICKLE_SECONDS = 0.2
CHUNK = b"x" * (64 * 1024)


async def fetch_error(url: str, **options: Any) -> str:
    """The sentence fetch_page refuses `url` with."""
    with pytest.raises(FetchError) as caught:
        await fetch_page(url, **options)
    return str(caught.value)


# --- the test site ----------------------------------------------------------------------------


@dataclass
class Site:
    """A real aiohttp server on 127.0.0.1 and what it saw."""

    base: str
    requests: list[str] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # body bytes written by the streaming handlers

    def url(self, path: str) -> str:
        return self.base + path


def html_response(body: bytes, content_type: str = "text/html; charset=utf-8") -> web.Response:
    # Content-Type set by hand: web.Response would add a charset of its own to `content_type=`.
    return web.Response(body=body, headers={"Content-Type": content_type})


def build_app(site: Site) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        site.requests.append(request.path_qs)
        response: web.StreamResponse = await handler(request)
        return response

    async def page(request: web.Request) -> web.StreamResponse:
        path = PAGES / request.match_info["name"]
        if path.parent != PAGES or not path.is_file():
            raise web.HTTPNotFound()
        return html_response(path.read_bytes())

    async def hop(request: web.Request) -> web.StreamResponse:
        """/hop/N answers with N redirects in a row before the news page; /slow-hop/N waits before each."""
        left = int(request.match_info["left"])
        if request.path.startswith("/slow-hop/"):
            await asyncio.sleep(0.4)
        prefix = request.path.rsplit("/", 1)[0]
        raise web.HTTPFound(f"{prefix}/{left - 1}" if left > 1 else "/pages/news.html")

    async def redirect(location: str, request: web.Request) -> web.StreamResponse:
        # The header by hand: web.HTTPFound would parse, and so refuse, a malformed location.
        return web.Response(status=302, headers={"Location": location})

    async def no_location(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302)

    async def fixed(body: bytes, content_type: str, request: web.Request) -> web.StreamResponse:
        return html_response(body, content_type)

    async def stream(request: web.Request) -> web.StreamResponse:
        """Up to 64 MB without a Content-Length, in chunks, for as long as the client reads."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        site.sent[request.path] = 0
        with contextlib.suppress(ConnectionResetError):
            for _ in range(1024):
                await response.write(CHUNK)
                site.sent[request.path] += len(CHUNK)
        return response

    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        """6 MB of page that travels as a few kilobytes, with an honest Content-Length for those."""
        body = gzip.compress(b"<p>" + b" " * (6 * MB) + b"</p>")
        return web.Response(body=body, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})

    async def trickle(request: web.Request) -> web.StreamResponse:
        """Headers at once, then a byte every 0.2 s for at most 10 s."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            for _ in range(50):
                await response.write(b" ")
                await asyncio.sleep(TRICKLE_SECONDS)
        return response

    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(10)  # cancelled when the client gives up (handler_cancellation)
        return web.Response(text="too late")

    async def user_agent(request: web.Request) -> web.StreamResponse:
        return html_response(request.headers.get("User-Agent", "").encode(), "text/plain")

    async def error(request: web.Request) -> web.StreamResponse:
        raise web.HTTPInternalServerError()

    app = web.Application(middlewares=[record])
    fixed_pages = {
        "/report.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        "/photo.png": (b"\x89PNG\r\n\x1a\n", "image/png"),
        "/archive.zip": (b"PK\x03\x04", "application/zip"),
        "/big": (b" " * (5 * MB + 1), "text/html"),
        "/notes.txt": ("Tram fares: £1.80 single.\n".encode(), "text/plain; charset=utf-8"),
        "/page.xhtml": (b'<html xmlns="http://www.w3.org/1999/xhtml"><p>ok</p></html>', "application/xhtml+xml"),
        "/cp1252-header": ("<p>Café “tram” opens</p>".encode("cp1252"), "text/html; charset=windows-1252"),
        "/latin1-header": ("<p>“Caf\xe9”</p>".encode("cp1252"), "text/html; charset=ISO-8859-1"),
        "/cp1252-meta": (
            '<html><head><meta charset="windows-1252"><title>Caf\xe9</title></head><p>Caf\xe9 “tram”</p></html>'.encode(
                "cp1252"
            ),
            "text/html",
        ),
        "/http-equiv": (
            '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-15"><p>10 €</p>'.encode("iso8859-15"),
            "text/html",
        ),
        "/no-charset": (b"<p>caf\xc3\xa9 and a stray \xff byte</p>", "text/html"),
        "/unknown-charset": ("<p>café</p>".encode(), "text/html; charset=x-no-such-charset"),
    }
    for path, (body, content_type) in fixed_pages.items():
        app.router.add_get(path, partial(fixed, body, content_type))
    app.router.add_get("/pages/{name}", page)
    app.router.add_get("/hop/{left:\\d+}", hop)
    app.router.add_get("/slow-hop/{left:\\d+}", hop)
    app.router.add_get("/moved", partial(redirect, "/pages/news.html"))
    app.router.add_get("/moved-relative/here", partial(redirect, "../pages/second.html"))
    app.router.add_get("/to-ftp", partial(redirect, "ftp://files.example/story.txt"))
    app.router.add_get("/to-bad-link", partial(redirect, "http://[::1"))
    app.router.add_get("/no-location", no_location)
    app.router.add_get("/big-stream", stream)
    app.router.add_get("/big-gzip", gzip_bomb)
    app.router.add_get("/slow-body", trickle)
    app.router.add_get("/slow-headers", silent)
    app.router.add_get("/user-agent", user_agent)
    app.router.add_get("/error", error)
    return app


@pytest_asyncio.fixture(loop_scope="function")
async def site() -> AsyncIterator[Site]:
    site = Site(base="")
    runner = web.AppRunner(build_app(site), handler_cancellation=True, shutdown_timeout=2)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    host, port = runner.addresses[0][:2]
    site.base = f"http://{host}:{port}"
    try:
        yield site
    finally:
        await runner.cleanup()


@dataclass
class Listener:
    """A raw TCP listener on 127.0.0.1 (and ::1 where there is one) that counts connections and
    answers each with the start of a page, then hangs up."""

    port: int
    connections: int = 0


@pytest_asyncio.fixture(loop_scope="function")
async def listener() -> AsyncIterator[Listener]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found.connections += 1
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<html><p>")
            await writer.drain()
        writer.close()

    servers = [await asyncio.start_server(answer, "127.0.0.1", 0)]
    found = Listener(port=servers[0].sockets[0].getsockname()[1])
    with contextlib.suppress(OSError):  # a machine without IPv6 loopback
        servers.append(await asyncio.start_server(answer, "::1", found.port))
    try:
        yield found
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


# --- pages ------------------------------------------------------------------------------------


async def test_a_page_is_fetched_with_its_url_type_and_text(site: Site) -> None:
    page = await fetch_page(site.url("/pages/news.html"), allow_private=True)
    assert page.url == site.url("/pages/news.html")
    assert page.content_type == "text/html"
    assert page.text == (PAGES / "news.html").read_text(encoding="utf-8")


async def test_a_redirect_is_followed_and_the_page_carries_the_final_url(site: Site) -> None:
    page = await fetch_page(site.url("/moved"), allow_private=True)
    assert page.url == site.url("/pages/news.html")
    assert "Harwick" in page.text


async def test_a_relative_redirect_is_resolved_against_the_page_that_sent_it(site: Site) -> None:
    page = await fetch_page(site.url("/moved-relative/here"), allow_private=True)
    assert page.url == site.url("/pages/second.html")


async def test_five_redirects_are_followed(site: Site) -> None:
    page = await fetch_page(site.url("/hop/5"), allow_private=True)
    assert page.url == site.url("/pages/news.html")


async def test_plain_text_and_xhtml_are_pages_too(site: Site) -> None:
    text = await fetch_page(site.url("/notes.txt"), allow_private=True)
    xhtml = await fetch_page(site.url("/page.xhtml"), allow_private=True)
    assert (text.content_type, text.text) == ("text/plain", "Tram fares: £1.80 single.\n")
    assert (xhtml.content_type, xhtml.text) == (
        "application/xhtml+xml",
        '<html xmlns="http://www.w3.org/1999/xhtml"><p>ok</p></html>',
    )


async def test_the_request_says_it_is_storybot(site: Site) -> None:
    page = await fetch_page(site.url("/user-agent"), allow_private=True)
    assert page.text == "StoryBot/0.1 (+article intake)"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/cp1252-header", "<p>Café “tram” opens</p>"),
        ("/latin1-header", "<p>“Café”</p>"),  # labelled Latin-1, written in windows-1252, as browsers assume
        (
            "/cp1252-meta",
            '<html><head><meta charset="windows-1252"><title>Café</title></head><p>Café “tram”</p></html>',
        ),
        ("/http-equiv", '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-15"><p>10 €</p>'),
        ("/no-charset", "<p>café and a stray \ufffd byte</p>"),
        ("/unknown-charset", "<p>café</p>"),
    ],
)
async def test_the_body_is_decoded_by_the_header_else_the_meta_tag_else_as_utf8(
    site: Site, path: str, text: str
) -> None:
    page = await fetch_page(site.url(path), allow_private=True)
    assert page.text == text


def test_a_page_is_a_frozen_value() -> None:
    page = Page(url="https://news.example/a", content_type="text/html", text="<p>a</p>")
    with pytest.raises(AttributeError):
        page.text = "changed"  # type: ignore[misc]


# --- what is not a page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/report.pdf", "that is a PDF, not a web page"),
        ("/photo.png", "that is an image, not a web page"),
        ("/archive.zip", "that is an application/zip file, not a web page"),
        ("/missing", "that page answered 404 Not Found"),
        ("/error", "that page answered 500 Internal Server Error"),
        ("/no-location", "that page answered 302 Found"),
        ("/hop/6", "that page redirected more than 5 times"),
        ("/to-ftp", "only http and https links can be added"),
        ("/to-bad-link", "that link is not a valid web address"),
    ],
)
async def test_what_is_not_a_page_is_refused_in_one_sentence(site: Site, path: str, message: str) -> None:
    assert await fetch_error(site.url(path), allow_private=True) == message


async def test_a_redirect_chain_stops_after_the_sixth_redirect(site: Site) -> None:
    await fetch_error(site.url("/hop/6"), allow_private=True)
    assert site.requests == [f"/hop/{n}" for n in range(6, 0, -1)]


async def test_fewer_redirects_may_be_allowed(site: Site) -> None:
    assert await fetch_error(site.url("/hop/2"), allow_private=True, max_redirects=1) == (
        "that page redirected more than 1 times"
    )


@pytest.mark.parametrize(
    "link",
    [
        "ftp://files.example/story.txt",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "mailto:desk@news.example",
        "news.example/a",
    ],
)
async def test_only_http_and_https_links_can_be_added(link: str) -> None:
    assert await fetch_error(link) == "only http and https links can be added"


@pytest.mark.parametrize("link", ["http://", "https:///story", "http://[::1", "http://:80/"])
async def test_a_link_without_a_site_is_not_a_valid_web_address(link: str) -> None:
    assert await fetch_error(link) == "that link is not a valid web address"


# --- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/big", "/big-stream", "/big-gzip"])
async def test_a_page_over_5_mb_is_refused_whatever_its_content_length_says(site: Site, path: str) -> None:
    assert await fetch_error(site.url(path), allow_private=True) == "that page is over 5 MB"


async def test_reading_stops_soon_after_the_cap_on_a_body_without_a_length(site: Site) -> None:
    await fetch_error(site.url("/big-stream"), allow_private=True)
    await asyncio.sleep(0.1)  # let the server notice the hang-up
    assert site.sent["/big-stream"] < 32 * MB  # it would send 64 MB to a client that kept reading


async def test_a_page_exactly_at_the_cap_is_read_and_one_byte_more_is_not(site: Site) -> None:
    page = await fetch_page(site.url("/user-agent"), allow_private=True, max_bytes=30)
    assert len(page.text) == 30
    assert await fetch_error(site.url("/user-agent"), allow_private=True, max_bytes=29) == (
        "that page is over 29 bytes"
    )
    assert await fetch_error(site.url("/big"), allow_private=True, max_bytes=1024) == "that page is over 1 KB"


@pytest.mark.parametrize("path", ["/slow-body", "/slow-headers", "/slow-hop/3"])
async def test_a_page_that_does_not_finish_in_time_is_given_up(site: Site, path: str) -> None:
    """/slow-hop/3 answers every request in 0.4 s: only a deadline for the whole fetch catches it."""
    assert await fetch_error(site.url(path), allow_private=True, timeout=1) == "that page did not answer in 1 s"


async def test_the_timeout_is_named_as_given(site: Site) -> None:
    assert await fetch_error(site.url("/slow-headers"), allow_private=True, timeout=0.5) == (
        "that page did not answer in 0.5 s"
    )


# --- the network ------------------------------------------------------------------------------


@pytest.mark.parametrize("allow_private", [False, True])
async def test_a_name_that_does_not_resolve_says_so(allow_private: bool) -> None:
    link = "http://no-such-newsroom.invalid/story"  # .invalid never resolves (RFC 6761)
    assert await fetch_error(link, allow_private=allow_private, timeout=10) == "that address does not resolve"


async def test_a_closed_port_refuses_the_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert await fetch_error(f"http://127.0.0.1:{port}/", allow_private=True) == "that site refused the connection"


async def test_a_page_cut_off_midway_broke_off(listener: Listener) -> None:
    link = f"http://127.0.0.1:{listener.port}/story"
    assert await fetch_error(link, allow_private=True) == "that page broke off before it finished loading"
    assert listener.connections == 1  # the listener the next tests count on does count


# --- private addresses ------------------------------------------------------------------------


async def test_the_local_test_site_is_refused_without_allow_private(site: Site) -> None:
    assert await fetch_error(site.url("/pages/news.html")) == PRIVATE
    assert site.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "LocalHost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "0.0.0.0",
        "2130706433",
        "0x7f.1",
        "127.1",
        "0177.0.0.1",
        "127.0.0.1.",
    ],
)
async def test_loopback_in_any_spelling_is_refused_before_connecting(listener: Listener, host: str) -> None:
    assert await fetch_error(f"http://{host}:{listener.port}/story") == PRIVATE
    assert listener.connections == 0


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "[fe80::1]",
        "[fd00::1]",
        "[64:ff9b::a00:1]",
    ],
)
async def test_private_and_link_local_addresses_are_refused_before_connecting(host: str) -> None:
    """Nothing listens there: had a connection been tried, the answer would be a timeout or a refusal."""
    assert await fetch_error(f"http://{host}/latest/meta-data/", timeout=5) == PRIVATE


async def test_a_redirect_is_checked_like_the_first_link(site: Site) -> None:
    """Only the scheme can be shown here, as the test site is itself private: the address check runs
    on every hop as well, in the same function."""
    assert await fetch_error(site.url("/to-ftp"), allow_private=True) == "only http and https links can be added"


async def test_the_resolver_refuses_a_name_with_a_private_address() -> None:
    resolver = PublicResolver()
    try:
        with pytest.raises(FetchError) as caught:
            await resolver.resolve("localhost", 80, family=socket.AF_UNSPEC)
    finally:
        await resolver.close()
    assert str(caught.value) == PRIVATE


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),  # mapped: judged by the IPv4 address
        ("64:ff9b::808:808", True),  # NAT64 of a public address
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
        ("192.0.0.8", False),
        ("192.0.2.1", False),  # documentation
        ("198.18.0.1", False),  # benchmarking
        ("224.0.0.251", False),  # multicast
        ("239.255.255.250", False),
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::127.0.0.1", False),  # IPv4-compatible, deprecated
        ("64:ff9b::7f00:1", False),  # NAT64 of loopback
        ("64:ff9b:1::808:808", False),  # NAT64 for local use
        ("2002:7f00:1::1", False),  # 6to4 of loopback
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("fe80::1", False),
        ("fec0::1", False),  # site-local, deprecated
        ("fc00::1", False),
        ("fd12:3456:789a::1", False),
        ("ff02::1", False),  # multicast
        ("ff0e::1", False),
        ("2001:db8::1", False),  # documentation
        ("3fff::1", False),  # documentation (2024)
        ("2001::1", False),  # Teredo
        ("100::1", False),  # discard-only
    ],
)
def test_only_globally_reachable_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


# --- the command line -------------------------------------------------------------------------


def test_the_command_line_fetches_without_an_event_loop(pages_url: str) -> None:
    page = fetch_page_sync(f"{pages_url}/second.html", allow_private=True)
    assert page.url == f"{pages_url}/second.html"
    assert page.text == (PAGES / "second.html").read_text(encoding="utf-8")  # charset from <meta>


def test_the_command_line_refuses_private_addresses_too(pages_url: str) -> None:
    with pytest.raises(FetchError) as caught:
        fetch_page_sync(f"{pages_url}/second.html")
    assert str(caught.value) == PRIVATE
