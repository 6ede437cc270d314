"""The transport layer: the one place a message goes through on its way out.

It owns the stack's transports and decides, for each message the driver hands it, which
transport and which remote address carry it:

- peer choice and name resolution (RFC 3261 §8.1.2, §18.1.1): a hop's protocol picks the
  transport, never a weaker one (``sips:`` and ``transport=tls`` only ever go over TLS,
  §26.2.2). With a ``LocatingResolver`` (``DnsResolver``), a request's next-hop URI goes
  through RFC 3263 §4 (NAPTR, SRV, A/AAAA) for the transports and address families this
  stack has, and the ordered targets are what the stack fails over along (§4.3,
  ``stack/failover.py``); a response to a sent-by name without a port goes to that name's
  SRV targets (§5), the next one tried when a transport error comes back;
- §18.1.1: a request over UDP larger than ``UDP_MTU_THRESHOLD`` goes over TCP when the hop
  did not ask for UDP and a TCP transport is there;
- responses (§18.2.2): over a stream transport, on the connection the request came in on
  while it is open, else on a new connection to ``received``/``rport`` or the sent-by;
- connection reuse: a request to a stream peer goes on the open connection to the same
  (transport, address, port); a connection the peer opened is used for requests to it when
  its Via asked for it with ``alias`` (RFC 5923 §5);
- clients reached only over their connection (RFC 7118 §5, WebSocket): a ``.invalid`` host
  in the Via or Contact of a request that came over a connection names that connection
  (``connection_names``); a message for such a host goes on it, never to DNS, and fails
  with ``Reason.NO_CONNECTION`` when the connection is gone;
- transport errors: an ICMP error for an address (UDP) or a failed connection (streams)
  reaches the transactions that last sent there (§17.1.4, §18.4).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from typing import NamedTuple

from sippet.errors import TransportError
from sippet.headers import Via
from sippet.message import Message, RequestLine
from sippet.ports import default_port
from sippet.reasons import Reason
from sippet.resolve.destination import Destination, IPFamily
from sippet.resolve.lookup import Lookup
from sippet.resolve.transports import TRANSPORTS
from sippet.resolver import LocatingResolver, ResolvedAddress, Resolver, literal_address
from sippet.stack.connection_names import ConnectionNames, is_invalid_host
from sippet.stack.routing import NextHop, request_next_hop_uri, response_next_hop
from sippet.stack.trace import TraceMode, trace
from sippet.transactions import TransactionKey
from sippet.transports.base import Address, Transport, TransportReceiver, format_address

logger = logging.getLogger("sippet.stack")

SECURE_PROTOCOLS = frozenset({"TLS", "WSS"})
"""Transports that satisfy a ``sips:`` hop (RFC 3261 §26.2.2, RFC 7118 §9.2)."""

UDP_MTU_THRESHOLD = 1300
"""RFC 3261 §18.1.1: a request within 200 bytes of a 1500-byte path MTU, or larger than
1300 bytes when the MTU is unknown, MUST go over a congestion-controlled transport."""


class Peer(NamedTuple):
    """A transport and a remote address: where a request goes, or where one came from.

    ``server_name`` is the host name a new TLS connection is verified against (SNI); ``None``
    for an IP literal or a peer that reached us. The transaction layer holds these as its
    opaque destinations and sources.
    """

    transport: Transport
    address: Address
    server_name: str | None = None

    def __str__(self) -> str:
        return format_address(self.transport.protocol, *self.address)


ErrorReporter = Callable[[str, TransactionKey], None]
"""How the layer reports a transport failure for a transaction (called soon, not now)."""


class TransportLayer:
    """The stack's transports, peer choice, connection use and transport-error index.

    ``report_error(reason, key)`` is called (from the event loop, never during a send) when
    a transport fails for a transaction's message.
    """

    def __init__(
        self,
        name: str,
        resolver: Resolver,
        report_error: ErrorReporter,
        schedule: Callable[[Callable[[], None]], None],
    ) -> None:
        self.name = name
        self.resolver = resolver
        self.trace_mode: TraceMode = None
        self._report_error = report_error
        self._schedule = schedule
        self._transports: list[Transport] = []
        # Where each live transaction last sent, so that a transport error for an address
        # reaches the transactions that sent there. Entries leave with ``forget``.
        self._sent_to: dict[TransactionKey, Peer] = {}
        self._keys_at: dict[Peer, set[TransactionKey]] = {}
        # The .invalid names clients gave themselves, by the connection they came over.
        self._names: ConnectionNames[Peer] = ConnectionNames(_is_open)
        # RFC 3263 §5: a response sent to the first target of its sent-by, with the targets
        # left to try on a transport error. Entries leave with ``forget`` (the server
        # transaction ended), so they are bounded by the live transactions.
        self._response_targets: dict[TransactionKey, tuple[Message, list[Peer]]] = {}

    # -- transports -----------------------------------------------------------------------

    @property
    def transports(self) -> list[Transport]:
        return list(self._transports)

    async def add(self, transport: Transport, receiver: TransportReceiver) -> None:
        await transport.start(receiver)
        self._transports.append(transport)

    async def stop(self) -> None:
        for transport in self._transports:
            await transport.stop()
        self._transports.clear()
        self._sent_to.clear()
        self._keys_at.clear()
        self._response_targets.clear()
        self._names = ConnectionNames(_is_open)

    # -- choosing a peer ------------------------------------------------------------------

    async def resolve(self, hop: NextHop, prefer: Peer | None = None) -> Peer:
        """The peer that carries a message to ``hop``: its host resolved, a transport of
        its protocol that reaches the address (``prefer``'s when it fits). A ``.invalid``
        host is not resolved: it names a connection (``connection_for``)."""
        if is_invalid_host(hop.host):
            return self.connection_for(hop)
        addresses = await self.resolver.resolve(hop.host, hop.port, hop.protocol)
        server_name = hop_server_name(hop)
        last: TransportError | None = None
        for address in addresses:
            try:
                return self.peer_for(hop.protocol, address, prefer, server_name)
            except TransportError as exc:
                last = exc
        raise last or TransportError(f"no address for {hop.host}", reason=Reason.NXDOMAIN)

    async def resolve_request(self, request: Message, hop: NextHop) -> list[Peer]:
        """Every target of ``request``'s next hop, best first (at least one). ``request``
        as the core gave it (before a strict route's rewriting, §12.2.1.1).

        RFC 3263 §4 when the resolver can (a ``LocatingResolver``) and the hop is a name
        taken from a URI: NAPTR, SRV, A/AAAA for the transports and families this stack
        has, each destination mapped to a transport (those no transport reaches are
        skipped). Otherwise the one peer ``resolve`` gives (IP literals, ``.invalid``
        hosts, ``Message.target``, a resolver that only knows A/AAAA)."""
        uri = request_next_hop_uri(request)
        resolver = self.resolver
        if (
            uri is None
            or is_invalid_host(hop.host)
            or literal_address(hop.host, hop.port) is not None
            or not isinstance(resolver, LocatingResolver)
        ):
            return [await self.resolve(hop)]
        destinations = await resolver.resolve_lookup(
            Lookup.from_uri(uri), transports=self.protocols, families=self.families
        )
        return self._peers(destinations)

    @property
    def protocols(self) -> tuple[str, ...]:
        """The protocols of this stack's transports that DNS can name, in RFC 3263's
        preference (UDP, TCP, TLS, SCTP, TLS-SCTP, WS, WSS): what resolution may pick."""
        have = {transport.protocol for transport in self._transports}
        return tuple(name for name in TRANSPORTS if name in have)

    @property
    def families(self) -> tuple[IPFamily, ...]:
        """IPv4 when a transport reaches IPv4 (an IPv4 one, or IPv6 bound to ``::``),
        IPv6 when one is IPv6: AAAA records are asked only then."""
        families: list[IPFamily] = []
        if any(
            t.family == socket.AF_INET
            or (t.family == socket.AF_INET6 and t.local_address[0] == "::")
            for t in self._transports
        ):
            families.append(IPFamily.IPV4)
        if any(t.family == socket.AF_INET6 for t in self._transports):
            families.append(IPFamily.IPV6)
        return tuple(families)

    def _peers(self, destinations: list[Destination]) -> list[Peer]:
        peers: list[Peer] = []
        last: TransportError | None = None
        for destination in destinations:
            family = socket.AF_INET6 if destination.family is IPFamily.IPV6 else socket.AF_INET
            address = (family, destination.address, destination.port)
            try:
                # RFC 5922 §4.1: TLS verifies the domain resolution started from.
                peer = self.peer_for(destination.transport, address, None, destination.domain)
            except TransportError as exc:
                last = exc
                continue
            if peer not in peers:
                peers.append(peer)
        if not peers:
            raise last or TransportError("no destination", reason=Reason.NXDOMAIN)
        return peers

    def peer_of(self, key: TransactionKey) -> Peer | None:
        """Where the live transaction ``key`` last sent (RFC 3263 §4: its CANCEL and the
        ACK of its non-2xx response go there too)."""
        return self._sent_to.get(key)

    def connection_for(self, hop: NextHop) -> Peer:
        """The open connection a client named ``hop.host`` (a ``.invalid`` name) came over
        (RFC 7118 §5: it is reached over that connection only, whatever the hop's
        protocol and port say). ``TransportError`` ``no_connection`` when there is none,
        or when the hop asks for a secure transport (``sips:``) and the connection is not."""
        peer = self._names.holder(hop.host)
        if peer is None:
            raise TransportError(
                f"no open connection from {hop.host} (a .invalid host is reached only over "
                "its client's connection, RFC 7118 §5)",
                reason=Reason.NO_CONNECTION,
            )
        if hop.protocol in SECURE_PROTOCOLS and peer.transport.protocol not in SECURE_PROTOCOLS:
            raise TransportError(
                f"{hop.host} is connected over {peer.transport.protocol}, not over a secure "
                f"transport as {hop.protocol} requires (RFC 3261 §26.2.2)",
                reason=Reason.NO_CONNECTION,
            )
        return peer

    def peer_for(
        self,
        protocol: str,
        address: ResolvedAddress,
        prefer: Peer | None = None,
        server_name: str | None = None,
    ) -> Peer:
        """The transport for ``protocol`` that reaches ``address`` (``(family, host, port)``):
        ``prefer``'s (the one a request came in on) when it fits, else the first that does.
        An IPv6 transport bound to ``::`` reaches IPv4 hosts through mapped addresses."""
        family, host, port = address
        if prefer is not None:
            transport = prefer.transport
            if transport.protocol == protocol and transport.family == family:
                return Peer(transport, (host, port), server_name)
        mapped: Transport | None = None
        for transport in self._transports:
            if transport.protocol != protocol:
                continue
            if transport.family == family:
                return Peer(transport, (host, port), server_name)
            if (
                mapped is None
                and family == socket.AF_INET
                and transport.family == socket.AF_INET6
                and transport.local_address[0] == "::"
            ):
                mapped = transport
        if mapped is not None:
            return Peer(mapped, ("::ffff:" + host, port), server_name)
        raise TransportError(f"no {protocol} transport reaches {host}", reason=Reason.NO_TRANSPORT)

    def congestion_controlled(self, request: Message, hop: NextHop, peer: Peer) -> Peer:
        """RFC 3261 §18.1.1: ``peer`` unless it is UDP, the request is larger than
        ``UDP_MTU_THRESHOLD`` and the hop allows TCP (no explicit ``transport=udp`` and no
        ``Message.target``); then the TCP peer at the same address, with the top Via's
        transport changed to TCP as §18.1.1 asks. ``peer`` when no TCP transport fits."""
        if peer.transport.protocol != "UDP" or request.target is not None:
            return peer
        if _explicit_udp(request):
            return peer
        try:
            size = len(bytes(request))
        except ValueError:
            return peer  # reported when it is sent
        if size <= UDP_MTU_THRESHOLD:
            return peer
        family = peer.transport.family
        host, port = peer.address
        try:
            tcp = self.peer_for("TCP", (family, host, port), None, hop_server_name(hop))
        except TransportError:
            return peer
        vias = request.headers.get("via")
        if vias:
            vias[0] = vias[0]._replace(protocol="TCP")
        return tcp

    # -- sending --------------------------------------------------------------------------

    def transmit(self, message: Message, peer: Peer, key: TransactionKey | None) -> None:
        """Serialize ``message`` and send it to ``peer``: a request over an open connection
        to that address or a new one (stream transports), a datagram otherwise."""
        data = self._serialize(message, key)
        if data is None:
            return
        if self.trace_mode is not None:
            trace(self.name, self.trace_mode, "->", peer.transport, peer.address, message, data)
        if key is not None:
            self._remember(key, peer)
        transport = peer.transport
        if transport.stream:
            transport.connect_send(data, peer.address, peer.server_name)
        else:
            transport.send(data, peer.address)

    def transmit_response(
        self, response: Message, source: Peer | None, key: TransactionKey | None
    ) -> Callable[[], object] | None:
        """Send a response where RFC 3261 §18.2.2 says: on the connection its request came
        in on while that is open, else to the top Via's address (``received``/``rport``,
        RFC 3581 §4). Returns a coroutine function to run when a name must be resolved
        first, else ``None`` (sent, or failed and reported)."""
        if (
            source is not None
            and source.transport.stream
            and response.target is None
            and source.transport.has_connection(source.address)
        ):
            self._send_on_connection(response, source, key)
            return None
        try:
            hop = response_next_hop(response)
        except TransportError as exc:
            logger.warning("%s: cannot route %s: %s", self.name, response.start_line, exc)
            return None
        if is_invalid_host(hop.host):
            try:
                peer = self.connection_for(hop)
            except TransportError as exc:
                self.failed(exc, key)
                return None
            self.transmit(response, peer, key)
            return None
        literal = literal_address(hop.host, hop.port)
        lookup = self._sent_by_lookup(response, source)
        if lookup is not None:

            async def locate_and_send() -> None:
                await self._send_to_sent_by(response, lookup, hop, literal, key)

            return locate_and_send
        if literal is None:

            async def resolve_and_send() -> None:
                try:
                    peer = await self.resolve(hop, source)
                except TransportError as exc:
                    self.failed(exc, key)
                    return
                self.transmit(response, peer, key)

            return resolve_and_send
        try:
            peer = self.peer_for(hop.protocol, literal, source)
        except TransportError as exc:
            self.failed(exc, key)
            return None
        self.transmit(response, peer, key)
        return None

    def _sent_by_lookup(self, response: Message, source: Peer | None) -> Lookup | None:
        """RFC 3263 §5 applies: the top Via's sent-by is a name without a port, and the
        response cannot go on the request's connection (gone) nor, over UDP, to a
        ``received`` address. Then the sent-by's SRV targets are used (``None`` otherwise).
        """
        # Cheapest tests first: this runs for every response not sent on a connection.
        if response.target is not None:
            return None
        via = response.headers["via"][0]
        sent_by = via.sent_by
        params = via.params
        if sent_by.port is not None or "maddr" in params:
            return None
        stream = source is not None and source.transport.stream
        if not stream and "received" in params:
            return None  # §18.2.2: UDP with received goes there
        if is_invalid_host(sent_by.host) or literal_address(sent_by.host, 0) is not None:
            return None
        if not isinstance(self.resolver, LocatingResolver):
            return None
        try:
            return Lookup.from_sent_by(via.protocol, sent_by.host, None)
        except TransportError:
            return None  # a transport DNS cannot name: the plain rules route it

    async def _send_to_sent_by(
        self,
        response: Message,
        lookup: Lookup,
        hop: NextHop,
        received: ResolvedAddress | None,
        key: TransactionKey | None,
    ) -> None:
        """§18.2.2 then RFC 3263 §5: over a stream, first a new connection to ``received``
        (``hop``, when it is an address), then each SRV target of the sent-by in turn as
        transport errors come back (``retry_response``)."""
        resolver = self.resolver
        assert isinstance(resolver, LocatingResolver)
        targets: list[Peer] = []
        if received is not None:
            with contextlib.suppress(TransportError):  # no transport for it: §5 targets only
                targets.append(self.peer_for(hop.protocol, received))
        try:
            destinations = await resolver.resolve_lookup(
                lookup, transports=(lookup.transport or hop.protocol,), families=self.families
            )
            targets += [peer for peer in self._peers(destinations) if peer not in targets]
        except TransportError as exc:
            if not targets:
                self.failed(exc, key)
                return
        first, *others = targets
        if key is not None and others:
            self._response_targets[key] = (response, others)
        self.transmit(response, first, key)

    def retry_response(self, key: TransactionKey) -> bool:
        """A transport error for the response of ``key`` sent to a §5 target: send it to
        the next one. ``False`` when none is left (the error goes to the Core)."""
        pending = self._response_targets.get(key)
        if pending is None:
            return False
        response, others = pending
        peer = others.pop(0)
        if not others:
            del self._response_targets[key]
        logger.info("%s: response %s: trying the next target %s", self.name, key, peer)
        self.transmit(response, peer, key)
        return True

    def _send_on_connection(
        self, response: Message, source: Peer, key: TransactionKey | None
    ) -> None:
        data = self._serialize(response, key)
        if data is None:
            return
        if self.trace_mode is not None:
            trace(
                self.name, self.trace_mode, "->", source.transport, source.address, response, data
            )
        if key is not None:
            self._remember(key, source)
        source.transport.send(data, source.address)

    def _serialize(self, message: Message, key: TransactionKey | None) -> bytes | None:
        try:
            return bytes(message)
        except ValueError as exc:  # e.g. a CR or LF in a header value built by the core
            logger.error("%s: cannot serialize %s: %s", self.name, message.start_line, exc)
            if key is not None:
                self._schedule(lambda: self._report_error(Reason.INVALID_MESSAGE, key))
            return None

    def failed(self, exc: TransportError, key: TransactionKey | None) -> None:
        """A message for ``key`` could not be routed: report it soon (not during a send)."""
        logger.info("%s: %s", self.name, exc)
        if key is not None:
            reason = exc.reason
            self._schedule(lambda: self._report_error(reason, key))

    # -- receiving ------------------------------------------------------------------------

    def note_request(self, transport: Transport, source: Address, request: Message) -> None:
        """What a request that came over a connection says about reaching its sender:
        ``.invalid`` names in its top Via and Contact (RFC 7118 §5) and RFC 5923 ``alias``."""
        if not transport.stream:
            return
        vias = request.headers.get("via")
        if not vias:
            return
        via = vias[0]
        peer = Peer(transport, source)
        hosts = [via.sent_by.host]
        contacts = request.headers.get("contact")
        if isinstance(contacts, list):  # not "*"
            hosts += [contact.uri.host for contact in contacts if contact.uri.host]
        for host in hosts:
            if is_invalid_host(host) and not self._names.learn(host, peer):
                logger.warning(
                    "%s: %s claims %s, the name of another open connection: not taken",
                    self.name,
                    peer,
                    host,
                )
        if "alias" in via.params:
            self._note_alias(peer, via)

    def connection_closed(self, transport: Transport, address: Address) -> None:
        """A stream transport's connection from or to ``address`` ended: the names it
        stood for are forgotten."""
        self._names.forget(Peer(transport, address))

    @property
    def connection_names(self) -> int:
        """``.invalid`` names known to stand for open connections (for tests and metrics)."""
        return len(self._names)

    def _note_alias(self, peer: Peer, via: Via) -> None:
        """RFC 5923 §5: a request whose top Via carries ``alias`` over a stream connection
        lets requests to its sent-by reuse that connection (for as long as it is open)."""
        transport, source = peer.transport, peer.address
        sent_by = via.sent_by
        port = sent_by.port if sent_by.port is not None else default_port(transport.protocol)
        literal = literal_address(sent_by.host, port)
        if literal is None:
            return  # a name: only .invalid names stand for a connection (note_request)
        transport.add_alias(source, (literal[1], port))

    # -- transport errors -----------------------------------------------------------------

    def keys_at(self, transport: Transport, destination: Address) -> list[TransactionKey]:
        """The transactions that last sent to ``destination`` over ``transport``; each is
        forgotten (one report per message sent: a later error needs a later send)."""
        keys = [
            key
            for peer, peer_keys in self._keys_at.items()
            if peer.transport is transport and peer.address == destination
            for key in peer_keys
        ]
        for key in keys:
            self._forget_peer(key)
        return keys

    def _remember(self, key: TransactionKey, peer: Peer) -> None:
        """Index ``key`` by where it sends, for transport errors (§17.1.4, §18.4)."""
        previous = self._sent_to.get(key)
        if previous == peer:
            return
        if previous is not None:
            self._forget_peer(key)
        self._sent_to[key] = peer
        keys = self._keys_at.get(peer)
        if keys is None:
            self._keys_at[peer] = {key}
        else:
            keys.add(key)

    def forget(self, key: TransactionKey) -> None:
        """The transaction ``key`` ended: it leaves the transport-error index."""
        self._response_targets.pop(key, None)
        self._forget_peer(key)

    def _forget_peer(self, key: TransactionKey) -> None:
        peer = self._sent_to.pop(key, None)
        if peer is None:
            return
        keys = self._keys_at.get(peer)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_at[peer]

    @property
    def indexed(self) -> int:
        """Transactions in the transport-error index (for tests and metrics)."""
        return len(self._sent_to)


def _is_open(peer: Peer) -> bool:
    return peer.transport.has_connection(peer.address)


def hop_server_name(hop: NextHop) -> str | None:
    """The name a TLS connection to ``hop`` verifies (RFC 5922 §4): its host when that is a
    name, ``None`` for an IP literal (then the certificate must carry the IP address)."""
    return hop.host if literal_address(hop.host, hop.port) is None else None


def _explicit_udp(request: Message) -> bool:
    routes = request.headers.get("route")
    start = request.start_line
    if routes:
        uri = routes[0].uri
    elif isinstance(start, RequestLine):
        uri = start.request_uri
    else:
        return False
    return str(uri.parameters.get("transport") or "").lower() == "udp"
