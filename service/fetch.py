"""Fetching URLs for ingestion: http/https only, timeouts, a size cap, and no private addresses.

The digest fetches links found in feeds, so a URL is untrusted input: a host that resolves
to a private, loopback, link-local or reserved address is refused unless the user allows
it explicitly (``--allow-private-urls``). Every redirect is checked the same way.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from service._exceptions import InputError

MAX_BYTES = 5_000_000
"""Largest page or feed fetched; larger ones are refused."""
TIMEOUT = 20.0
"""Seconds for connecting and for each read."""
MAX_REDIRECTS = 5
USER_AGENT = "newsbrief/0.1 (+https://pypi.org/project/newsbrief/)"


@dataclass(frozen=True)
class Fetched:
    """A fetched document."""

    url: str
    content_type: str
    body: bytes


def _check_address(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(url, "only http and https URLs can be fetched")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise InputError(url, f"cannot resolve {parts.hostname} ({error.strerror})") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise InputError(
                url,
                f"{parts.hostname} is a private or local address; "
                "pass --allow-private-urls to fetch it",
            )


def _read_capped(response: httpx.Response, url: str) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BYTES:
            raise InputError(url, f"larger than {MAX_BYTES // 1_000_000} MB; not fetched")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(url: str, allow_private: bool = False) -> Fetched:
    """GET ``url`` within the limits above, following redirects one checked hop at a time."""
    with httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_address(url, allow_private)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code >= 400:
                        raise InputError(url, f"the server answered {response.status_code}")
                    body = _read_capped(response, url)
                    kind = response.headers.get("content-type", "").split(";")[0].strip()
                    return Fetched(url=str(response.url), content_type=kind.lower(), body=body)
            except httpx.HTTPError as error:
                raise InputError(url, f"cannot fetch ({type(error).__name__})") from error
    raise InputError(url, f"more than {MAX_REDIRECTS} redirects")
