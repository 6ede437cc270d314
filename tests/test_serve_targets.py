"""The seam between the location service and the proxy: bindings become targets
(``sippet.registrar.targets``), and ``ProxyConfig.any_domain`` sends every request with no
Route left to the application's lookup."""

from __future__ import annotations

import dataclasses

from proxy.messages import CONFIG, request
from sippet import URI
from sippet.headers import NameAddr
from sippet.message import Target
from sippet.proxy import Lookup, SendRequest, StatefulProxy
from sippet.proxy.forward import ProxyTarget
from sippet.registrar import Binding, Source
from sippet.registrar.targets import target_of, targets_of
from sippet.transactions.keys import server_key_of

CONTACT = URI.parse("sip:bob@192.0.2.7:5062")


def binding(**changes: object) -> Binding:
    base = Binding(CONTACT, 1000.0, "reg-1", 1, source=Source("UDP", "192.0.2.7", 5062))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_contact_on_the_host_that_registered_it_is_reached_at_its_own_address() -> None:
    source = Source("UDP", "192.0.2.7", 40000)  # another port: a tool registering a contact
    assert target_of(binding(source=source)) == ProxyTarget(CONTACT, 1.0, (), None)


def test_a_contact_behind_nat_is_reached_where_its_register_came_from() -> None:
    behind_nat = URI.parse("sip:bob@10.0.0.5:5060")
    source = Source("UDP", "198.51.100.1", 33000)
    target = target_of(binding(contact=behind_nat, source=source))
    assert target.uri == behind_nat
    assert target.next_hop == Target("UDP", "198.51.100.1", 33000)


def test_a_contact_registered_over_a_connection_is_reached_on_that_connection() -> None:
    for protocol in ("TCP", "TLS"):
        source = Source(protocol, "192.0.2.7", 51000)
        assert target_of(binding(source=source)).next_hop == Target(protocol, "192.0.2.7", 51000)


def test_a_websocket_contact_is_left_to_the_transport_layer() -> None:
    browser = URI.parse("sip:browser@df7jal23ls0d.invalid;transport=ws")
    for protocol in ("WS", "WSS"):
        source = Source(protocol, "192.0.2.7", 443)
        assert target_of(binding(contact=browser, source=source)).next_hop is None


def test_a_path_becomes_the_route_and_wins_over_the_source() -> None:
    edge = URI.parse("sip:edge.example.com;lr")
    source = Source("TCP", "192.0.2.99", 5060)
    target = target_of(binding(path=(NameAddr("", edge, {}),), source=source, q=0.5))
    assert target == ProxyTarget(CONTACT, 0.5, (edge,), None)


def test_targets_keep_the_stored_order_and_q_defaults_to_one() -> None:
    other = URI.parse("sip:bob@192.0.2.8")
    targets = targets_of([binding(q=0.3), binding(contact=other, source=None)])
    assert [(t.uri, t.q) for t in targets] == [(CONTACT, 0.3), (other, 1.0)]


def test_any_domain_asks_the_application_for_a_foreign_request_uri() -> None:
    foreign = request(uri="sip:carol@elsewhere.example.org")
    key = server_key_of(foreign, "INVITE")
    plain = StatefulProxy(CONFIG).receive_request(foreign, key, 0.0)
    assert [type(action) for action in plain] == [SendRequest]  # relayed by its URI
    everything = StatefulProxy(dataclasses.replace(CONFIG, any_domain=True))
    assert [type(a) for a in everything.receive_request(foreign.copy(), key, 0.0)] == [Lookup]


def test_any_domain_leaves_requests_inside_a_dialog_to_their_request_uri() -> None:
    bye = request("BYE", "sip:carol@198.51.100.9:5062", extra="")
    bye.headers["to"] = bye.headers["to"]._replace(params={"tag": "callee"})
    everything = StatefulProxy(dataclasses.replace(CONFIG, any_domain=True))
    actions = everything.receive_request(bye, server_key_of(bye, "BYE"), 0.0)
    assert [type(action) for action in actions] == [SendRequest]
    assert str(actions[0].request.start_line.request_uri) == "sip:carol@198.51.100.9:5062"  # type: ignore[attr-defined]
