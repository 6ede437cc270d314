"""``sippet serve`` as a user runs it: defaults, settings from flags and TOML, start-up
errors without traceback, a line per transaction, SIGTERM, the relay policy (subprocesses
on loopback, raw UDP sockets as peers)."""

from __future__ import annotations

import re
import socket
import sys
import time
import uuid
from pathlib import Path

import pytest
from interop.serve_node import ServeNode, run_serve
from interop.sip_peers import HOST, free_udp_port
from resolve.dnsmasq_server import Dnsmasq
from sippet import Message
from sippet.apps.serve.settings import DEFAULT_LISTEN, ServeError, ServeSettings
from sippet.cli import build_parser
from sippet.cli.serve import settings_from

TIMEOUT = 10.0
REDIS = "redis://127.0.0.1:6379/0"


def settings(*argv: str) -> ServeSettings:
    return settings_from(build_parser().parse_args(["serve", *argv]))


def request(method: str, uri: str, local_port: int, extra: str = "") -> bytes:
    local = f"{HOST}:{local_port}"
    return (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {local};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:alice@{local}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <{uri}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}\r\n"
        f"CSeq: 1 {method}\r\n"
        f"Contact: <sip:alice@{local}>\r\n"
        f"{extra}Content-Length: 0\r\n\r\n"
    ).encode()


def wait_for_line(node: ServeNode, line: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while line not in node.lines():
        assert time.monotonic() < deadline, node.output()
        time.sleep(0.05)


def final_response(sock: socket.socket) -> Message:
    sock.settimeout(TIMEOUT)
    while True:
        message = Message.parse(sock.recv(65535))
        if message.start_line.status_code >= 200:  # type: ignore[union-attr]
            return message


@pytest.fixture
def client() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    return sock


# -- settings ------------------------------------------------------------------------------


def test_no_option_means_udp_and_tcp_on_loopback_5060_any_domain_embedded_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    chosen = settings()
    assert chosen.listen == DEFAULT_LISTEN
    assert DEFAULT_LISTEN == (("UDP", ("127.0.0.1", 5060)), ("TCP", ("127.0.0.1", 5060)))
    assert chosen.domains == () and chosen.relay and chosen.workers == 1
    assert chosen.store_url == f"sqlite:{tmp_path / 'sippet' / 'location.sqlite'}"


def test_the_config_file_gives_the_settings_and_a_flag_wins(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text(
        'listen = ["udp:127.0.0.1:5070", "tcp:127.0.0.1:5070"]\n'
        'domain = ["example.com", "example.org"]\n'
        'store = "redis://127.0.0.1:6379/0"\nrelay = false\nworkers = 2\n'
        'metrics = "127.0.0.1:9100"\nquiet = true\n'
    )
    from_file = settings("--config", str(config))
    assert from_file.listen == (("UDP", ("127.0.0.1", 5070)), ("TCP", ("127.0.0.1", 5070)))
    assert from_file.domains == ("example.com", "example.org")
    assert (from_file.store, from_file.relay, from_file.workers) == (REDIS, False, 2)
    assert from_file.metrics == ("127.0.0.1", 9100) and from_file.quiet
    both = settings("--config", str(config), "--domain", "example.net", "--workers", "3")
    assert both.domains == ("example.net",) and both.workers == 3
    assert both.listen == from_file.listen  # not given as a flag: the file's


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'blue'\n", "unknown setting(s): colour"),
        ("workers = 'two'\n", "workers: expected a number"),
        ("listen = [", "not valid TOML"),
        # The same parser as --listen, refusing with a ValueError the reader reports.
        ("listen = ['udp:[::1']\n", "listen: unclosed '[' in '[::1'"),
        ("metrics = '127.0.0.1:99999'\n", "metrics: bad port in '127.0.0.1:99999'"),
    ],
)
def test_a_bad_config_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "serve.toml"
    config.write_text(text)
    with pytest.raises(ServeError, match=re.escape(message)):
        settings("--config", str(config))


# -- start-up errors -----------------------------------------------------------------------


def assert_clear_error(result: object, fragment: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr  # type: ignore[attr-defined]
    assert fragment in result.stderr, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((HOST, 0))
        port = taken.getsockname()[1]
        result = run_serve(tmp_path, "--listen", f"udp:{HOST}:{port}", "--store", "memory:")
    assert_clear_error(result, f"error: cannot bind udp {HOST}:{port}: Address already in use")


def test_an_unreadable_users_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-users"
    result = run_serve(tmp_path, "--listen", f"udp:{HOST}:0", "--users", str(missing))
    assert_clear_error(result, f"error: cannot read the users file {missing}")


def test_an_unreachable_store_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind((HOST, 0))
        port = closed.getsockname()[1]  # nobody listens there once closed
    result = run_serve(tmp_path, "--listen", f"udp:{HOST}:0", "--store", f"redis://{HOST}:{port}/0")
    assert_clear_error(result, f"error: cannot use the location store redis://{HOST}:{port}/0")


def test_a_store_file_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--listen", f"udp:{HOST}:0", "--store", "sqlite:/proc/x/l.db")
    assert_clear_error(result, "error: cannot use the location store sqlite:/proc/x/l.db")


def test_tls_without_a_certificate_is_a_clear_error(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--listen", f"tls:{HOST}:0")
    assert_clear_error(result, "error: tls: and wss: need --cert")


def test_a_wildcard_listen_address_is_a_clear_error(tmp_path: Path) -> None:
    # A proxy writes its address into Via and Record-Route (RFC 3261 §16.6): 0.0.0.0 is not
    # one a peer can reach.
    result = run_serve(tmp_path, "--listen", "udp:0.0.0.0:0", "--store", "memory:")
    assert_clear_error(result, "error: --listen udp:0.0.0.0:0: a proxy puts its address in Via")


# -- serving -------------------------------------------------------------------------------


def test_it_prints_its_store_answers_on_udp_and_tcp_logs_each_transaction_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    node = ServeNode(tmp_path, tcp=True).start()
    try:
        store = node.state / "sippet" / "location.sqlite"
        assert f"location store: sqlite:{store}" in node.lines()
        assert store.is_file()
        assert f"listening on udp:{HOST}:{node.port}" in node.lines()
        assert f"listening on tcp:{HOST}:{node.port}" in node.lines()
        for transport in ("udp", "tcp"):
            uri = f"sip:{HOST}:{node.port};transport={transport}"
            answer = subprocess_options(uri)
            assert answer.startswith("200 OK"), answer
        lines = [line for line in node.transactions("OPTIONS") if "from=sip:sippet@" in line]
        assert len(lines) == 2, node.lines()
        assert all(f"to=sip:{HOST}:{node.port}" in line for line in lines), lines
        assert all(" status=200 time=" in line for line in lines), lines
    finally:
        status = node.terminate()
    assert status == 0, node.output()


def subprocess_options(uri: str) -> str:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "sippet", "options", uri, "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return result.stdout + result.stderr


def test_a_user_of_a_served_domain_without_binding_gets_480(
    tmp_path: Path, client: socket.socket
) -> None:
    with ServeNode(tmp_path, ["--store", "memory:", "--domain", "example.com"]) as node:
        port = client.getsockname()[1]
        client.sendto(request("INVITE", "sip:nobody@example.com", port), (HOST, node.port))
        assert final_response(client).start_line.status_code == 480  # type: ignore[union-attr]


def test_a_request_for_another_domain_is_relayed_with_record_route(
    tmp_path: Path, client: socket.socket
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as elsewhere:
        elsewhere.bind((HOST, 0))
        elsewhere.settimeout(TIMEOUT)
        target = f"sip:carol@{HOST}:{elsewhere.getsockname()[1]}"
        with ServeNode(tmp_path, ["--store", "memory:"]) as node:
            client.sendto(request("INVITE", target, client.getsockname()[1]), (HOST, node.port))
            forwarded = Message.parse(elsewhere.recv(65535))
        assert str(forwarded.start_line.request_uri) == target  # type: ignore[union-attr]
        record_route = forwarded.headers["record_route"][0].uri
        assert (record_route.host, record_route.port) == (HOST, node.port)
        assert "lr" in record_route.parameters


def test_no_relay_refuses_other_domains_with_403(tmp_path: Path, client: socket.socket) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as elsewhere:
        elsewhere.bind((HOST, 0))
        target = f"sip:carol@{HOST}:{elsewhere.getsockname()[1]}"
        with ServeNode(tmp_path, ["--store", "memory:", "--no-relay"]) as node:
            client.sendto(request("INVITE", target, client.getsockname()[1]), (HOST, node.port))
            assert final_response(client).start_line.status_code == 403  # type: ignore[union-attr]


def test_a_free_port_is_reported_for_port_0(tmp_path: Path) -> None:
    port = free_udp_port()
    with ServeNode(tmp_path, ["--store", "memory:"], port=port) as node:
        assert node.port == port


def test_a_relayed_request_goes_where_rfc3263_says_failing_over(
    tmp_path: Path, client: socket.socket
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as far_server:
        far_server.bind((HOST, 0))
        far_server.settimeout(TIMEOUT)
        port = far_server.getsockname()[1]
        dead = free_udp_port()  # nobody there: ICMP port unreachable
        records = [  # RFC 2782: priority 0 first, then 10
            f"--srv-host=_sip._udp.far.sippet.test,sip0.far.sippet.test,{dead},0,10",
            f"--srv-host=_sip._udp.far.sippet.test,sip1.far.sippet.test,{port},10,10",
            "--host-record=sip0.far.sippet.test,127.0.0.1",
            "--host-record=sip1.far.sippet.test,127.0.0.1",
        ]
        dns = Dnsmasq(records, domain="sippet.test", ttl=60).start()
        try:
            extra = ["--store", "memory:", "--resolver", dns.address]
            with ServeNode(tmp_path, extra) as node:
                local = client.getsockname()[1]
                target = "sip:carol@far.sippet.test"
                client.sendto(request("INVITE", target, local), (HOST, node.port))
                # SRV, then A; the first server fails, the stack fails over (RFC 3263 §4.3).
                forwarded = Message.parse(far_server.recv(65535))
                assert str(forwarded.start_line.request_uri) == target  # type: ignore[union-attr]
                client.sendto(
                    request("INVITE", "sip:x@nowhere.sippet.test", local), (HOST, node.port)
                )
                assert final_response(client).start_line.status_code == 404  # type: ignore[union-attr]
        finally:
            dns.stop()


def test_sigterm_refuses_new_requests_finishes_open_transactions_and_exits_0(
    tmp_path: Path, client: socket.socket
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as callee:
        callee.bind((HOST, 0))
        callee.settimeout(TIMEOUT)
        target = f"sip:carol@{HOST}:{callee.getsockname()[1]}"
        node = ServeNode(tmp_path, ["--store", "memory:"]).start()
        try:
            local = client.getsockname()[1]
            client.sendto(request("INVITE", target, local), (HOST, node.port))
            invite, proxy = callee.recvfrom(65535)  # open: the callee has not answered
            assert node.process is not None
            node.process.terminate()
            wait_for_line(node, "stopping: new requests refused, 1 open")
            # A new request while draining: 503 with Retry-After.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as late:
                late.bind((HOST, 0))
                late.sendto(request("OPTIONS", target, late.getsockname()[1]), (HOST, node.port))
                refused = final_response(late)
            assert refused.start_line.status_code == 503  # type: ignore[union-attr]
            assert refused.headers["retry_after"].seconds > 0
            # The open INVITE still gets its answer through the proxy, then the node exits.
            busy = Message.parse(invite).to_response(486, to_tag="callee")
            callee.sendto(bytes(busy), proxy)
            assert final_response(client).start_line.status_code == 486  # type: ignore[union-attr]
            assert node.process.wait(timeout=TIMEOUT) == 0
        finally:
            node.stop()


def test_several_workers_need_a_shared_store() -> None:
    with pytest.raises(ServeError, match="--workers needs a shared store"):
        settings("--workers", "2", "--store", "memory:")


def test_workers_that_cannot_bind_stop_the_node_with_a_clear_error(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'location.sqlite'}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((HOST, 0))  # without SO_REUSEPORT: nobody may share it
        port = taken.getsockname()[1]
        listen = f"udp:{HOST}:{port}"
        result = run_serve(tmp_path, "--listen", listen, "--workers", "2", "--store", store)
    assert_clear_error(result, f"cannot bind udp {HOST}:{port}: Address already in use")


def test_quiet_prints_no_transaction_lines(tmp_path: Path) -> None:
    with ServeNode(tmp_path, ["--store", "memory:", "--quiet"]) as node:
        answer = subprocess_options(f"sip:{HOST}:{node.port}")
        assert answer.startswith("200 OK"), answer
        assert f"listening on udp:{HOST}:{node.port}" in node.lines()
        assert node.transactions("OPTIONS") == []
