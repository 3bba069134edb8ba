"""Where a webhook may point: https, and never into our own network unless an admin allows it.

Why: a webhook URL is a request the bot makes on a user's behalf. Pointed at loopback,
link-local (cloud metadata at 169.254.169.254) or private addresses it would let a server
admin probe the bot's own network (SSRF). Every address the host resolves to is checked, at
subscription and again before each delivery (DNS can change). `WEBHOOK_ALLOW_PRIVATE=true`
lifts both rules for a lab or a test receiver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from cloud_engine.errors import InvalidInput

MAX_URL = 2000


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified)


async def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """The URL if it may receive notifications, else InvalidInput naming what is wrong."""
    text = url.strip()
    if not text or len(text) > MAX_URL:
        raise InvalidInput(field="url", rule=f"must be 1 to {MAX_URL} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(field="url", rule="is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(field="url", rule="must be an https:// URL with a host")
    if parts.username or parts.password:
        raise InvalidInput(field="url", rule="must not carry a user name or password (the body is signed instead)")
    if allow_private:
        return text
    if parts.scheme != "https":
        raise InvalidInput(field="url", rule="must use https")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise InvalidInput(field="url", rule=f"host {parts.hostname!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if _blocked(address):
            raise InvalidInput(field="url", rule=f"host {parts.hostname!r} resolves to {address}, a private, loopback "
                                                 "or link-local address (an admin may allow it: WEBHOOK_ALLOW_PRIVATE)")
    return text
