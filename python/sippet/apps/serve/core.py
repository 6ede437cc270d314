"""The core of ``sippet serve``: a registrar and a stateful record-routing proxy sharing
one location store, with digest authentication and a relay policy in front of the proxy.

- REGISTER for a served domain: the registrar (RFC 3261 §10.3), digest-challenged with 401
  when there is a users file; a user may change only its own AOR's bindings (§10.3 step 4).
- Any other request: the proxy (§16). Before it, for a new request (no To tag, no Route):
  a caller of a served domain authenticates with 407 when there is a users file (§22.3),
  as the user its From names. A request for a user with no binding that is neither in a
  served domain nor for the proxy's own address is relayed by its Request-URI only when
  relaying is on and, with a users file, only for an authenticated local caller (no open
  relay); else 403.
  ACK, CANCEL and in-dialog requests follow the route set unchallenged (§22.1: ACK and
  CANCEL cannot be challenged; the dialog was authorized when it was set up).
- Target determination (§16.5): the bindings of the Request-URI's AOR (forking when there
  are several, ``sippet.registrar.targets``); a Request-URI naming the proxy's own
  address stands for the served domain(s). No binding in a served domain: 480. A
  relayed request goes to the first RFC 3263 destination of its Request-URI (NAPTR, SRV,
  A/AAAA through ``DnsResolver``) over a transport this node has.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Protocol

from sippet.apps.serve.observe import Transactions
from sippet.auth import Algorithm, DigestServer, HA1Store
from sippet.errors import SippetError, TransportError
from sippet.headers import RetryAfter
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.proxy import ProxyConfig, StatefulProxy
from sippet.proxy.forward import ProxyTarget
from sippet.proxy.service import ProxyService, interfaces_of
from sippet.registrar import Authenticated, Registrar, RegistrarPolicy, aor_key
from sippet.registrar.service import RegistrarService
from sippet.registrar.store import LocationStore
from sippet.registrar.targets import targets_of
from sippet.resolve import Destination
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey
from sippet.uri import URI

logger = logging.getLogger("sippet.serve")

ALLOW = (
    Method.INVITE,
    Method.ACK,
    Method.CANCEL,
    Method.BYE,
    Method.OPTIONS,
    Method.REGISTER,
)
"""What an OPTIONS to the node itself lists (§11.2): the registrar's and the proxy's
dialog methods (any other method is proxied as well)."""

_NOT_FOUND = frozenset({"nxdomain", "service_unavailable", "unsupported_transport"})
"""RFC 3263 failures that mean the domain has no SIP server we can use (404), rather than
a DNS failure (500)."""

RETRY_AFTER = 5
"""Seconds a request refused while stopping is told to wait before trying again."""


class Resolver3263(Protocol):
    """RFC 3263 §4 for a URI: its destinations, best first (``DnsResolver``);
    ``TransportError`` when there are none."""

    async def resolve_uri(self, uri: URI) -> list[Destination]: ...


class ServeCore(Core):
    """Registrar + proxy on ``stack`` over ``store``.

    ``domains``: the served domains (empty: every domain); ``users``: digest credentials
    (``None``: nobody is challenged); ``relay``: forward requests for other domains.
    """

    def __init__(
        self,
        stack: Stack,
        store: LocationStore,
        *,
        domains: Sequence[str] = (),
        users: HA1Store | None = None,
        realm: str = "sippet",
        algorithms: Sequence[Algorithm] = (Algorithm.SHA_256, Algorithm.MD5),
        auth_key: bytes = b"",
        relay: bool = True,
        resolver: Resolver3263 | None = None,
    ) -> None:
        self.stack = stack
        self.store = store
        self.transactions: Transactions | None = None
        self.draining = False
        """Set when stopping: new requests get 503 with Retry-After (RFC 3261 §21.5.4)."""
        self.domains = tuple(dict.fromkeys(domain.lower() for domain in domains))
        self.relay = relay
        self.resolver = resolver
        self.config = ProxyConfig(
            interfaces=interfaces_of(stack), domains=frozenset(self.domains), any_domain=True
        )
        self.own_addresses = frozenset(
            (transport.local_address[0].lower(), transport.local_address[1])
            for transport in stack.transports
        )
        self.proxy = ProxyService(stack, StatefulProxy(self.config), self.locate)
        self.registrar_auth: DigestServer | None = None
        self.proxy_auth: DigestServer | None = None
        if users is not None:
            self.registrar_auth = DigestServer(realm, users, auth_key, algorithms=algorithms)
            # §22.4 item 6: a proxy need not check ``uri``: a proxy upstream may have
            # changed the Request-URI the credentials were computed over.
            self.proxy_auth = DigestServer(
                realm, users, auth_key, proxy=True, algorithms=algorithms, check_uri=False
            )
        policy = RegistrarPolicy(
            is_our_domain=self.serves,
            aor_is_valid=self._aor_is_valid,
            authenticate=self._authenticate_register if users is not None else None,
            authorize=self._authorize_register if users is not None else None,
        )
        self.registrar = RegistrarService(
            stack, Registrar(policy), store, fallback=self.route_request
        )

    # -- what is ours ----------------------------------------------------------------------

    def names_us(self, host: str | None, port: int | None = None) -> bool:
        """``host`` (and ``port`` when given) is one of the addresses this node listens
        on (every transport's, a worker's own UDP port as well as the shared one)."""
        if host is None:
            return False
        host = host.lower().strip("[]")
        if port is None:
            return any(own_host == host for own_host, _ in self.own_addresses)
        return (host, port) in self.own_addresses

    def serves(self, host: str) -> bool:
        """A domain this node is the registrar and home proxy for (its own address too)."""
        return not self.domains or host.lower() in self.domains or self.names_us(host)

    def _aor_is_valid(self, aor: URI, request_uri: URI) -> bool:
        if not self.domains:
            return (aor.host or "").lower() == (request_uri.host or "").lower()
        return (aor.host or "").lower() in self.domains or self.names_us(aor.host)

    # -- digest ----------------------------------------------------------------------------

    def _authenticate_register(self, request: Message) -> Authenticated | Message:
        assert self.registrar_auth is not None
        now = time.time()  # the nonces carry wall-clock time: shared by nodes and workers
        verdict = self.registrar_auth.verify(request, now)
        if verdict.ok:
            return Authenticated(verdict.username)
        return self.registrar_auth.refuse(request, verdict, now)

    def _authorize_register(self, identity: str | None, aor: URI) -> bool:
        return identity is not None and identity == aor.user

    # -- requests other than REGISTER ------------------------------------------------------

    async def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        if self.transactions is not None:
            self.transactions.request(request)
        if self.draining and server_key is not None and self.is_new(request):
            response = request.to_response(503, "Shutting Down")
            response.headers["retry_after"] = RetryAfter(RETRY_AFTER, None, {})
            self._answer(request, response)
            return
        await self.registrar.receive_request(request, server_key)

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        await self.proxy.receive_response(response, client_key)

    async def receive_error(self, reason: str, key: ClientKey | ServerKey) -> None:
        await self.proxy.receive_error(reason, key)

    async def route_request(self, request: Message, server_key: ServerKey | None) -> None:
        """The gate before the proxy (see the module docstring)."""
        if server_key is not None and self._for_us_alone(request):
            # §11.2: the node itself is asked; the proxy core would answer only for the
            # address its Via names, not for a shared worker port.
            response = request.to_response(200)
            response.headers["allow"] = list(ALLOW)
            self._answer(request, response)
            return
        refusal = self._refusal(request) if server_key is not None else None
        if refusal is None:
            await self.proxy.receive_request(request, server_key)
        else:
            self._answer(request, refusal)

    def _answer(self, request: Message, response: Message) -> None:
        try:
            self.stack.send_response(response)
        except SippetError as exc:
            logger.info("cannot answer %s: %s", request.start_line, exc)

    def _refusal(self, request: Message) -> Message | None:
        """The 407 (or 403) a new request from a local caller gets without valid
        credentials (the relay policy is applied in ``locate``)."""
        start = request.start_line
        assert isinstance(start, RequestLine)
        if self.proxy_auth is None or start.method in (Method.ACK, Method.CANCEL):
            return None
        if not self.is_new(request) or self._for_us_alone(request):
            return None
        if not self._local_caller(request):
            return None
        now = time.time()
        verdict = self.proxy_auth.verify(request, now)
        if not verdict.ok:
            return self.proxy_auth.refuse(request, verdict, now)
        if verdict.username != request.headers["from"].uri.user:
            return request.to_response(403, "Identity Does Not Match From")
        return None

    def _local_caller(self, request: Message) -> bool:
        caller = request.headers["from"].uri
        return caller.scheme in ("sip", "sips") and self.serves(caller.host or "")

    def is_new(self, request: Message) -> bool:
        """Outside a dialog, and not routed through us by a route set."""
        return request.headers["to"].params.get("tag") is None and not request.headers.get("route")

    def _for_us_alone(self, request: Message) -> bool:
        """An OPTIONS to this node's own address (no user, no Route): answered, never
        forwarded."""
        start = request.start_line
        assert isinstance(start, RequestLine)
        uri = start.request_uri
        if start.method != Method.OPTIONS or uri.user or request.headers.get("route"):
            return False
        default_port = 5061 if uri.scheme == "sips" else 5060
        return uri.scheme in ("sip", "sips") and self.names_us(uri.host, uri.port or default_port)

    def _is_foreign(self, uri: URI) -> bool:
        """Neither a served domain nor the proxy's own address (host and port)."""
        if uri.scheme not in ("sip", "sips"):
            return False  # the proxy core answers 416
        host = (uri.host or "").lower()
        default_port = 5061 if uri.scheme == "sips" else 5060
        return host not in self.domains and not self.names_us(host, uri.port or default_port)

    # -- target determination ----------------------------------------------------------------

    async def locate(self, request: Message) -> list[ProxyTarget] | int:
        """RFC 3261 §16.5 (see the module docstring)."""
        start = request.start_line
        assert isinstance(start, RequestLine)
        uri = start.request_uri
        for candidate in self._aors(uri):
            bindings = await self.store.lookup(aor_key(candidate))
            if bindings:
                return targets_of(bindings)
        if not self._is_foreign(uri):
            return []  # a user of ours with no binding: 480 (Temporarily Unavailable)
        if not self.relay or (self.proxy_auth is not None and not self._local_caller(request)):
            return 403  # no relaying, or no open relay for callers we cannot authenticate
        return await self._relay_target(uri)

    async def _relay_target(self, uri: URI) -> list[ProxyTarget] | int:
        """The Request-URI itself: the stack locates its servers (RFC 3263: NAPTR, SRV,
        A/AAAA through its ``DnsResolver``) and fails over between them (§4.3). The
        resolution is made here first (the stack then reads it from the cache) so that a
        domain without a usable server gets 404 rather than a failed branch's 500."""
        if self.resolver is not None:
            try:
                await self.resolver.resolve_uri(uri)
            except TransportError as exc:
                logger.info("cannot relay to %s: %s", uri, exc)
                return 404 if exc.reason in _NOT_FOUND else 500
        return [ProxyTarget(uri)]

    def _aors(self, uri: URI) -> list[URI]:
        """The AORs the Request-URI may stand for: itself; when it names the proxy, also
        without the port and in each served domain (a UA may dial ``bob@<proxy>``)."""
        candidates = [uri]
        if self.names_us(uri.host):
            candidates.append(uri.replace(port=None))
            candidates += [uri.replace(host=domain, port=None) for domain in self.domains]
        return candidates

    def close(self) -> None:
        self.proxy.close()
