"""``Lookup``: what RFC 3263 resolves, taken from a SIP URI (§4) or a Via sent-by (§5)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sippet.errors import TransportError
from sippet.resolve.destination import IPFamily
from sippet.resolve.records import normalize_name
from sippet.resolve.transports import TRANSPORTS, secure_variant
from sippet.uri import URI


def ip_family(host: str) -> IPFamily | None:
    """The family of ``host`` when it is a numeric address (IPv6 without brackets, a zone
    index allowed), else ``None``: RFC 3263 §4.1, §4.2 skip DNS for numeric hosts."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return IPFamily.IPV6 if address.version == 6 else IPFamily.IPV4


@dataclass(frozen=True, slots=True)
class Lookup:
    """A host to resolve, with what the URI (or Via) fixed already.

    - ``host``: RFC 3263 §4 TARGET (``maddr``, else the URI host), a name (lower case) or
      an IP address without brackets.
    - ``port``: the explicit port, or ``None`` (then SRV is consulted for a name).
    - ``transport``: the transport the URI names (upper case, already its secure variant
      for ``sips:``), or ``None`` (then NAPTR, then SRV choose).
    - ``secure``: a ``sips:`` URI (or a TLS Via): only TLS-based transports may result.
    """

    host: str
    port: int | None = None
    transport: str | None = None
    secure: bool = False

    def __post_init__(self) -> None:
        if not self.host:
            raise TransportError("nothing to resolve: empty host", reason="no_host")
        if self.port is not None and not 0 < self.port < 65536:
            raise TransportError(f"port {self.port} out of range", reason="invalid_port")
        if self.transport is not None:
            if self.transport not in TRANSPORTS:
                raise TransportError(
                    f"no DNS rules for transport {self.transport!r}", reason="unsupported_transport"
                )
            if self.secure and not TRANSPORTS[self.transport].secure:
                raise TransportError(
                    f"a sips: target cannot use {self.transport}", reason="insecure_transport"
                )

    @classmethod
    def from_uri(cls, uri: URI) -> Lookup:
        """RFC 3263 §4: TARGET is ``maddr`` if present, else the host; ``transport`` names
        the transport (RFC 3261 §26.2.2: ``sips:`` with ``transport=tcp`` means TLS, with
        ``ws`` WSS (RFC 7118 §5.5); ``sips:`` over UDP is refused)."""
        scheme = uri.scheme
        if scheme not in ("sip", "sips"):
            raise TransportError(f"cannot resolve a {scheme}: URI", reason="unsupported_uri_scheme")
        secure = scheme == "sips"
        params = uri.parameters
        host = params.get("maddr") or uri.host
        if not host:
            raise TransportError(f"no host in {uri}", reason="no_host")
        transport: str | None = None
        named = params.get("transport")
        if named:
            transport = secure_variant(named) if secure else named.upper()
            if transport is None:
                raise TransportError(
                    f"a sips: URI cannot use transport={named}", reason="insecure_transport"
                )
        return cls(_normalize_host(host), uri.port, transport, secure)

    @classmethod
    def from_sent_by(cls, protocol: str, host: str, port: int | None) -> Lookup:
        """RFC 3263 §5: where a response goes when the connection or source address cannot
        be used: the Via transport (TLS means TLS over TCP, looked up under ``_sips``), the
        sent-by host and its port; without a port, SRV decides."""
        transport = protocol.upper()
        secure = transport in TRANSPORTS and TRANSPORTS[transport].secure
        return cls(_normalize_host(host), port, transport, secure)


def _normalize_host(host: str) -> str:
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 maddr keeps its brackets as written
    return host if ip_family(host) is not None else normalize_name(host)
