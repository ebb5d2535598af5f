"""Fetching a feed over HTTP: a conditional GET with a timeout, a size limit and our User-Agent.

Plain ``urllib.request``: one GET per source is all we need, and the standard library keeps the
dependency list short. feedparser only ever sees the bytes (its own fetching is being removed).
Every connection, the first and each redirect's, goes through ``addresses.AddressPolicy``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
import functools
import http.client
import socket
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from .addresses import AddressPolicy

if TYPE_CHECKING:
    from http.client import HTTPMessage, HTTPResponse
    from typing import IO, Any
    from urllib.request import OpenerDirector
    from urllib.request import Request

ACCEPT = ("application/rss+xml, application/atom+xml, application/json;q=0.9, "
          "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1")
CHUNK = 64 * 1024
# The same words for an address that is refused, unknown, closed or silent: an error that told
# them apart would let whoever types a source's address map the networks behind the server.
UNREACHABLE = ("Could not fetch the feed from this address: it is not allowed, or its server could "
               "not be reached or did not answer in time.")


class FetchError(Exception):
    """The feed could not be fetched; ``message`` says why in words for the source's page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class FetchResult:
    status: int                 # 200, or 304 when the feed has not changed
    body: bytes | bytearray = b""  # the one copy of the feed
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""
    url: str = ""               # after redirects


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib would also follow one to ftp:)."""

    def redirect_request(self, req: Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage,
                         newurl: str) -> Request | None:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise FetchError(f"The feed redirected to an address that is not http(s): {newurl[:200]}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Guarded:
    """An http.client connection that opens its socket through the address policy."""

    def __init__(self, *args: Any, policy: AddressPolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Mixed into http.client's connections, which have ``port``.
        port = self.port  # type: ignore[attr-defined]
        self._create_connection = functools.partial(_guarded_connection, policy, port)


def _guarded_connection(policy: AddressPolicy, port: int, address: tuple[str, int], timeout: float | None,
                        source_address: tuple[str, int] | None = None) -> socket.socket:
    return policy.connect(address[0], port, timeout, source_address)


class _GuardedHTTPConnection(_Guarded, http.client.HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, http.client.HTTPSConnection):
    pass


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self.policy = policy

    def http_open(self, req: Request) -> HTTPResponse:
        return self.do_open(functools.partial(_GuardedHTTPConnection, policy=self.policy), req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self.policy = policy

    def https_open(self, req: Request) -> HTTPResponse:
        return self.do_open(functools.partial(_GuardedHTTPSConnection, policy=self.policy), req,
                            context=self._context)  # type: ignore[attr-defined]  # HTTPSHandler's own


def _opener(policy: AddressPolicy) -> OpenerDirector:
    # No FileHandler, FTPHandler or DataHandler: only http(s) can be reached. No ProxyHandler:
    # a proxy from the environment would connect on our behalf, past the address policy.
    opener = urllib.request.OpenerDirector()
    for handler in (_GuardedHTTPHandler(policy), _GuardedHTTPSHandler(policy),
                    urllib.request.HTTPDefaultErrorHandler(), _HttpOnlyRedirects(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def _too_large(max_bytes: int) -> FetchError:
    return FetchError(f"The feed is larger than the limit of {max_bytes:,} bytes; it was not read.")


def _timed_out(timeout: float) -> FetchError:
    return FetchError(f"The server did not send the feed within {timeout} seconds.")


def _read_body(response: HTTPResponse, max_bytes: int, deadline: float, timeout: float, gzipped: bool) -> bytearray:
    """The body, read once into one buffer of at most ``max_bytes`` (one more tells us it is
    too large), within ``deadline``. A gzip body is inflated as it arrives, so neither the
    compressed bytes nor a list of chunks are held beside the feed: one copy, however it came."""
    body = bytearray()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    while True:
        if time.monotonic() > deadline:
            raise _timed_out(timeout)
        # read1: return what has arrived instead of waiting for a full chunk, so that a server
        # that trickles bytes still meets the overall deadline.
        chunk = response.read1(CHUNK if inflater else min(CHUNK, max_bytes + 1 - len(body)))
        if not chunk:
            return body
        if inflater is not None:
            try:
                # At most one byte past the limit comes out, however much the chunk inflates.
                chunk = inflater.decompress(chunk, max_bytes + 1 - len(body))
            except zlib.error as error:
                raise FetchError(f"The feed was sent compressed but could not be decompressed: {error}")
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)


def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None, timeout: int = 20,
          max_bytes: int = 16 * 1024 * 1024, user_agent: str = "CoTechMarketplace/0.1",
          policy: AddressPolicy | None = None) -> FetchResult:
    """GET ``url``; a 304 comes back as ``FetchResult(status=304)``. Raises FetchError.

    ``policy`` (an AddressPolicy; by default public addresses on ports 80 and 443) decides which
    addresses may be connected to.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError("Only http:// and https:// feeds can be fetched.")
    policy = policy or AddressPolicy()
    headers = {"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    try:
        response = _opener(policy).open(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 304:
            return FetchResult(
                status=304, etag=error.headers.get("ETag") or etag,
                last_modified=error.headers.get("Last-Modified") or last_modified, url=url,
            )
        raise FetchError(f"The server answered HTTP {error.code} {error.reason}.")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        # Refused, unknown, closed, silent or not speaking HTTP: no answer came, and which of
        # these it was stays unsaid (see UNREACHABLE).
        raise FetchError(UNREACHABLE) from None

    with response:
        try:
            length = int(response.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > max_bytes:
            raise _too_large(max_bytes)
        try:
            body = _read_body(response, max_bytes, deadline, timeout,
                              gzipped=response.headers.get("Content-Encoding") == "gzip")
        except (TimeoutError, socket.timeout):
            raise _timed_out(timeout)
        except (http.client.HTTPException, OSError) as error:
            raise FetchError(f"The connection broke while reading the feed: {error}.")
        return FetchResult(
            status=response.status, body=body, etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type", ""), url=response.geturl(),
        )
