"""Who is trying: the keys the throttle counts failures under (pure, no I/O)."""

from __future__ import annotations

import ipaddress

from callrouter.identity.callerid import normalise_caller_id
from callrouter.identity.errors import InvalidCallerId

#: Callers without a usable caller ID share one source: hiding the number buys no tries.
ANONYMOUS_LINE = "anonymous"
#: The longest account entry kept as a key; anything longer is no account number anyway.
ENTRY_KEY_LENGTH = 32
#: An IPv6 client usually holds a whole /64: counting single addresses would give it 2^64.
IPV6_PREFIX = 64


def line_source(caller_id: str | None) -> str:
    """The phone line a PIN is keyed from: its canonical caller ID."""
    try:
        return "tel:" + normalise_caller_id(caller_id or "")
    except InvalidCallerId:
        return "tel:" + ANONYMOUS_LINE


def address_source(address: str | None) -> str:
    """The client a web code comes from: its IPv4 address or its IPv6 /64."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "ip:unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"ip:{parsed.ipv4_mapped}"
        network = ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False)
        return f"ip:{network}"
    return f"ip:{parsed}"


def entry_key(entry: str) -> str:
    """The account as typed, real or not: an invented number is counted like a real one."""
    return entry.strip()[:ENTRY_KEY_LENGTH]
