"""Fetching URLs for ingestion: http/https only, one deadline, a size cap, no private addresses.

The digest fetches links found in feeds, so a URL is untrusted input. Each connection
resolves its host once, checks every address it resolved to, and connects to a checked
address (:class:`PinnedBackend`, an httpcore network backend): a name that answers with a
public address for the check and a loopback one a moment later (DNS rebinding) cannot
slip through, and TLS still verifies the name (SNI) and the Host header still carries it.
An address that is private, loopback, link-local, reserved or multicast, or an IPv6 address
that embeds such an IPv4 one (mapped, compatible, 6to4, Teredo, NAT64), is refused unless
the user allows it (``--allow-private-urls``). Every redirect is a new, checked connection.

A fetch has one overall deadline, redirects and every read included: a server that trickles
one byte at a time is cut off at :data:`TIMEOUT`, not just kept from pausing between bytes.
"""

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpcore
import httpx

from service._exceptions import InputError

MAX_BYTES = 5_000_000
"""Largest page or feed fetched; larger ones are refused."""
TIMEOUT = 20.0
"""Seconds a whole fetch may take, redirects and every read included."""
MAX_REDIRECTS = 5
MAX_HOST = 253
"""Longest DNS name (RFC 1035)."""
USER_AGENT = "newsbrief/0.1 (+https://pypi.org/project/newsbrief/)"
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
"""IPv6 prefixes whose last 32 bits are an IPv4 address reached through a translator."""

Resolver = Callable[[str, int], list[str]]
"""Host and port to the addresses the host resolves to."""
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Fetched:
    """A fetched document."""

    url: str
    content_type: str
    body: bytes


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded(address: ipaddress.IPv6Address) -> Iterable[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, in every form a network may route."""
    if address.ipv4_mapped:
        yield address.ipv4_mapped
    if address.sixtofour:
        yield address.sixtofour
    if address.teredo:
        yield from address.teredo
    if int(address) >> 32 == 0:  # IPv4-compatible (::a.b.c.d), deprecated but routable
        yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in prefix for prefix in NAT64_PREFIXES):
        yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _public(address: Address) -> bool:
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(_public(inner) for inner in _embedded(address))
    return True


def refused(address: str) -> bool:
    """Whether a private-address policy refuses ``address`` (embedded IPv4 forms included)."""
    try:
        return not _public(ipaddress.ip_address(address.split("%")[0]))
    except ValueError:
        return True


class _DeadlineStream(httpcore.NetworkStream):
    """A stream whose every read and write ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the fetch's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, left), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects to an address it resolved and checked itself, within one deadline.

    httpcore still sends the URL's name in the Host header and as the TLS server name.
    """

    def __init__(
        self,
        allow_private: bool,
        deadline: float,
        resolver: Resolver = resolve,
        network: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._deadline = deadline
        self._resolve = resolver
        self._network = network or httpcore.SyncBackend()

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to; raises :class:`InputError` if any is refused."""
        try:
            found = self._resolve(host, port)
        except (OSError, UnicodeError) as error:
            raise InputError(host, f"cannot resolve {host} ({_why(error)})") from error
        if not found:
            raise InputError(host, f"cannot resolve {host}")
        if not self._allow_private and any(refused(a) for a in found):
            raise InputError(
                host, f"{host} is a private or local address; pass --allow-private-urls to fetch it"
            )
        return found

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for address in self.addresses(host, port):
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise httpcore.ConnectTimeout("the fetch's deadline passed")
            wait = left if timeout is None else min(timeout, left)
            try:
                stream = self._network.connect_tcp(
                    address, port, wait, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as failed:
                error = failed
                continue
            return _DeadlineStream(stream, self._deadline)
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _why(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, backend: PinnedBackend) -> None:
        super().__init__()
        # httpx has no public hook for the network backend; its pool takes one
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=backend
        )


def checked_url(url: str) -> httpx.URL:
    """``url`` parsed, or :class:`InputError` when it is malformed or not http(s)."""
    try:
        parsed = httpx.URL(url)
        host = parsed.host
        if host and not _is_ip(host):
            host.encode("idna")  # a label over 63 characters, an empty label, ...
            if len(host.rstrip(".")) > MAX_HOST:
                raise ValueError(f"a host name over {MAX_HOST} characters")
    except (httpx.InvalidURL, ValueError) as error:
        raise InputError(url, f"malformed URL ({_why(error)})") from error
    if parsed.scheme not in ("http", "https") or not host:
        raise InputError(url, "only http and https URLs can be fetched")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InputError(url, f"malformed URL (port {parsed.port})")
    return parsed


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _read_capped(response: httpx.Response, url: str) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BYTES:
            raise InputError(url, f"larger than {MAX_BYTES // 1_000_000} MB; not fetched")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(
    url: str,
    allow_private: bool = False,
    *,
    resolver: Resolver = resolve,
    network: httpcore.NetworkBackend | None = None,
) -> Fetched:
    """GET ``url`` within the limits above, following redirects one checked hop at a time.

    ``resolver`` and ``network`` replace the system resolver and sockets (for a test, or a
    caller with its own DNS).
    """
    deadline = time.monotonic() + TIMEOUT
    backend = PinnedBackend(allow_private, deadline, resolver, network)
    transport = _PinnedTransport(backend)
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(transport=transport, timeout=TIMEOUT, headers=headers, trust_env=False) as c:
        for _ in range(MAX_REDIRECTS + 1):
            checked_url(url)
            try:
                with c.stream("GET", url) as response:
                    if not response.is_redirect:
                        return _fetched(response, url)
                    url = urljoin(url, response.headers.get("location", ""))
            except InputError as error:
                raise InputError(url, error.reason) from error
            except httpx.HTTPError as error:
                raise InputError(url, _failure(error, deadline)) from error
    raise InputError(url, f"more than {MAX_REDIRECTS} redirects")


def _fetched(response: httpx.Response, url: str) -> Fetched:
    if response.status_code >= 400:
        raise InputError(url, f"the server answered {response.status_code}")
    body = _read_capped(response, url)
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    return Fetched(url=str(response.url), content_type=kind.lower(), body=body)


def _failure(error: httpx.HTTPError, deadline: float) -> str:
    if time.monotonic() >= deadline:
        return f"took longer than {TIMEOUT:g} s; not fetched"
    return f"cannot fetch ({type(error).__name__})"
