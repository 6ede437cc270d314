"""Turning a host name into addresses the transports can send to.

The stack asks a ``Resolver`` for the addresses of the host chosen by the routing rules
(RFC 3261 §8.1.2 for requests, §18.2.2 for responses). ``SystemResolver`` does A/AAAA
lookups through the event loop's ``getaddrinfo``. A resolver that also is a
``LocatingResolver`` (``sippet.resolve.dns_resolver.DnsResolver``) is given the whole URI
or Via sent-by instead, and runs RFC 3263 (NAPTR, SRV, A/AAAA) to an ordered target list
that the stack fails over along (§4.3).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from sippet.errors import TransportError
from sippet.resolve.destination import Destination, IPFamily
from sippet.resolve.lookup import Lookup

ResolvedAddress = tuple[int, str, int]
"""``(family, address, port)``: ``socket.AF_INET`` or ``AF_INET6``, an IP address, a port."""


class Resolver(Protocol):
    """Resolves ``host`` (a name or an IP address) for ``transport`` (``"UDP"``, ...).

    Returns the addresses to try, best first; raises ``sippet.TransportError`` (reason
    ``"nxdomain"`` or another code) when there are none.
    """

    async def resolve(self, host: str, port: int, transport: str) -> list[ResolvedAddress]: ...


@runtime_checkable
class LocatingResolver(Protocol):
    """A ``Resolver`` that also runs the RFC 3263 procedure: the destinations of a
    ``Lookup`` (from a URI, §4, or a Via sent-by, §5), best first, for the given transports
    and address families. ``TransportError`` when there are none."""

    async def resolve(self, host: str, port: int, transport: str) -> list[ResolvedAddress]: ...

    async def resolve_lookup(
        self,
        lookup: Lookup,
        *,
        transports: Iterable[str] | None = None,
        families: Iterable[IPFamily] | None = None,
    ) -> list[Destination]: ...


def literal_address(host: str, port: int) -> ResolvedAddress | None:
    """``(family, address, port)`` when ``host`` is already an IP address, else ``None``.

    On the path of every response, so it uses ``inet_pton`` rather than ``ipaddress``.
    """
    try:
        socket.inet_pton(socket.AF_INET, host)
    except OSError:
        pass
    else:
        return (socket.AF_INET, host, port)
    if ":" in host:
        try:
            socket.inet_pton(socket.AF_INET6, host.partition("%")[0])
        except OSError:
            return None
        return (socket.AF_INET6, host, port)
    return None


class SystemResolver:
    """A/AAAA through ``loop.getaddrinfo`` (the OS resolver: /etc/hosts, DNS).

    IP literals are answered without a lookup. Addresses come back in the order the OS
    sorts them (RFC 6724), duplicates removed.
    """

    async def resolve(self, host: str, port: int, transport: str) -> list[ResolvedAddress]:
        literal = literal_address(host, port)
        if literal is not None:
            return [literal]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise TransportError(f"cannot resolve {host!r}: {exc}", reason="nxdomain") from exc
        result: list[ResolvedAddress] = []
        for family, _type, _proto, _name, sockaddr in infos:
            entry = (int(family), str(sockaddr[0]), int(sockaddr[1]))
            if entry not in result:
                result.append(entry)
        if not result:
            raise TransportError(f"no address for {host!r}", reason="nxdomain")
        return result
