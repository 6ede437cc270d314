"""A registrar and a stateful record-routing proxy for one domain, composed from the blocks.

    python examples/registrar_proxy.py --listen udp:127.0.0.1:5060 --domain example.com \
        [--store sqlite:location.sqlite | --store redis://127.0.0.1:6379/0]

REGISTER for the domain goes to the registrar (RFC 3261 §10.3), which writes the location
store; every other request goes to the proxy (§16). A request for a user of the domain is
sent to the user's bindings (§16.5: forking when there are several, each with its Path as
Route and, for a UA behind NAT or on a connection, to where its REGISTER came from); a
request for another domain is relayed by its Request-URI. The proxy's own address stands
for the domain: ``sip:bob@<proxy address>`` reaches ``sip:bob@example.com``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from sippet import Message, RequestLine
from sippet.proxy import ProxyConfig, StatefulProxy
from sippet.proxy.forward import ProxyTarget
from sippet.proxy.service import ProxyService, interfaces_of
from sippet.registrar import Registrar, RegistrarPolicy, aor_key
from sippet.registrar.service import RegistrarService, sweep_periodically
from sippet.registrar.store import LocationStore
from sippet.registrar.stores import open_store
from sippet.registrar.targets import targets_of
from sippet.stack import Core, Stack, run
from sippet.transactions import ClientKey, ServerKey
from sippet.transports import format_address
from sippet.transports.listen import make_transport, parse_listen
from sippet.uri import URI

SWEEP_INTERVAL = 300.0  # seconds between two clean-ups of expired bindings (space only)


class RegistrarProxy(Core):
    """REGISTER to the registrar; everything else, and every answer, to the proxy."""

    def __init__(self, stack: Stack, store: LocationStore, domain: str) -> None:
        self.domain = domain.lower()
        self.store = store
        self.config = ProxyConfig(interfaces=interfaces_of(stack), domains=frozenset({self.domain}))
        self.proxy = ProxyService(stack, StatefulProxy(self.config), self.locate)
        policy = RegistrarPolicy(
            is_our_domain=lambda host: host.lower() == self.domain or self._names_us(host),
            aor_is_valid=lambda aor, _: (aor.host or "").lower() == self.domain,
        )
        self.registrar = RegistrarService(
            stack, Registrar(policy), store, fallback=self.proxy.receive_request
        )

    def _names_us(self, host: str) -> bool:
        return any(host.lower() == sent_by.host for sent_by in self.config.interfaces.values())

    async def locate(self, request: Message) -> list[ProxyTarget]:
        """§16.5: the bindings of the Request-URI's AOR (none: 480, from the proxy core)."""
        start = request.start_line
        assert isinstance(start, RequestLine)
        uri: URI = start.request_uri
        if self.config.is_own(uri.host, uri.port):
            uri = uri.replace(host=self.domain, port=None)
        return targets_of(await self.store.lookup(aor_key(uri)))

    async def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        await self.registrar.receive_request(request, server_key)

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        await self.proxy.receive_response(response, client_key)

    async def receive_error(self, reason: str, key: ClientKey | ServerKey) -> None:
        await self.proxy.receive_error(reason, key)


async def main(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(number, stop.set)
    async with open_store(args.store) as store, Stack(name="registrar-proxy") as stack:
        for protocol, address in args.listen or [("UDP", ("127.0.0.1", 5060))]:
            await stack.add_transport(make_transport(protocol, address))
        core = RegistrarProxy(stack, store, args.domain)
        stack.register_core(core)
        sweeper = asyncio.create_task(sweep_periodically(store, SWEEP_INTERVAL))
        for transport in stack.transports:
            name = format_address(transport.protocol, *transport.local_address[:2])
            print("listening on", name, flush=True)
        await stop.wait()
        sweeper.cancel()
        core.proxy.close()
    return 0


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=parse_listen, action="append", help="udp|tcp:HOST:PORT")
    parser.add_argument("--domain", required=True, help="the domain served, e.g. example.com")
    parser.add_argument("--store", default="memory:", help="sqlite:PATH or redis://HOST:PORT/DB")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(main(parse_arguments(sys.argv[1:]))))
