"""``sippet serve`` with real peers: SIPp registers (with digest) SIPp callees as contacts,
SIPp callers call them through it; two nodes share a real Redis; two workers share a port.

proxy-uac.xml and serve-uac-auth.xml fail a call whose 2xx lacks Record-Route and send ACK
and BYE through the route set; proxy-uas.xml fails a call whose ACK or BYE did not come
through a sippet proxy (its branch form).
"""

from __future__ import annotations

import re
import subprocess
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from registrar.redis_server import RedisServer

from interop.serve_node import ServeNode
from interop.sip_peers import DATA, HOST, Sipp, free_tcp_port, options_probe, sippet_command

REGISTER = DATA / "sipp" / "register-contact.xml"
UAC = DATA / "sipp" / "proxy-uac.xml"
UAC_AUTH = DATA / "sipp" / "serve-uac-auth.xml"
UAS = DATA / "sipp" / "proxy-uas.xml"
DOMAIN = "example.com"
CALLS = 5


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


def users_file(tmp_path: Path, *users: tuple[str, str]) -> Path:
    path = tmp_path / "users"
    for user, password in users:
        command = sippet_command("passwd", str(path), user, "--realm", DOMAIN)
        subprocess.run([*command, "--password", password], check=True, timeout=20)
    return path


def register(
    tmp_path: Path, node: ServeNode, user: str, contact_port: int, *auth: str, name: str = ""
) -> Sipp:
    """One REGISTER of ``sip:USER@HOST:CONTACT_PORT`` for ``sip:USER@example.com``."""
    args = ["-sf", str(REGISTER), f"{HOST}:{node.port}", "-s", user, *auth]
    args += ["-key", "domain", DOMAIN, "-key", "contact_port", str(contact_port)]
    return Sipp(tmp_path, name or f"register-{contact_port}", args, calls=1, timeout=15)


def callee(tmp_path: Path, calls: int, name: str = "uas") -> Sipp:
    return Sipp(tmp_path, name, ["-sf", str(UAS)], calls=calls, timeout=40).start().wait_bound()


def caller(tmp_path: Path, node: ServeNode, calls: int, name: str = "uac") -> Sipp:
    args = ["-sf", str(UAC), f"{HOST}:{node.port}", "-s", "bob", "-r", "10"]
    return Sipp(tmp_path, name, args, calls=calls, timeout=40)


def assert_all_succeeded(calls: int, *runs: Sipp) -> None:
    for sipp in runs:
        run = sipp.wait()
        assert run.stats is not None, run.report()
        assert (run.stats.successful, run.stats.failed) == (calls, 0), run.report()


def test_digest_registration_and_an_authenticated_call_follow_the_route_set(
    tmp_path: Path,
) -> None:
    users = users_file(tmp_path, ("bob", "bob-secret"), ("alice", "alice-secret"))
    # SIPp answers the first challenge and knows only MD5: offer it first (SHA-256 too).
    extra = ["--domain", DOMAIN, "--users", str(users), "--algorithms", "md5,sha-256"]
    with ServeNode(tmp_path, extra) as node:
        uas = callee(tmp_path, CALLS)
        # With a wrong password the registration is refused (the scenario then fails).
        wrong = ("-au", "bob", "-ap", "not-the-password")
        refused = register(tmp_path, node, "bob", uas.port, *wrong, name="refused").run()
        assert refused.stats is not None and refused.stats.failed == 1, refused.report()
        registered = register(tmp_path, node, "bob", uas.port, "-au", "bob", "-ap", "bob-secret")
        assert registered.run().stats.successful == 1  # type: ignore[union-attr]
        args = ["-sf", str(UAC_AUTH), f"{HOST}:{node.port}", "-s", "bob", "-r", "10"]
        args += ["-key", "caller", "alice", "-key", "domain", DOMAIN]
        args += ["-au", "alice", "-ap", "alice-secret"]
        uac = Sipp(tmp_path, "uac", args, calls=CALLS, timeout=40).start()
        assert_all_succeeded(CALLS, uac, uas)
        invites = node.transactions("INVITE")
    statuses = Counter(re.search(r"status=(\d+)", line).group(1) for line in invites)  # type: ignore[union-attr]
    assert statuses == {"407": CALLS, "200": CALLS}, invites


def test_a_caller_from_elsewhere_reaches_a_registered_user_and_metrics_count_it(
    tmp_path: Path,
) -> None:
    metrics_port = free_tcp_port()
    extra = ["--domain", DOMAIN, "--metrics", f"{HOST}:{metrics_port}"]
    with ServeNode(tmp_path, extra) as node:
        uas = callee(tmp_path, CALLS)
        assert register(tmp_path, node, "bob", uas.port).run().stats.successful == 1  # type: ignore[union-attr]
        assert_all_succeeded(CALLS, caller(tmp_path, node, CALLS).start(), uas)
        text = urllib.request.urlopen(f"http://{HOST}:{metrics_port}/metrics", timeout=10).read()
    samples = {
        f"{sample.name}{sorted(sample.labels.items())}": sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }
    assert samples["sippet_requests_total[('method', 'INVITE')]"] == CALLS
    assert samples["sippet_requests_total[('method', 'BYE')]"] == CALLS
    assert samples["sippet_requests_total[('method', 'REGISTER')]"] == 1
    assert samples["sippet_responses_total[('class', '2xx')]"] >= 2 * CALLS + 1
    assert samples["sippet_registered_contacts[]"] == 1
    assert samples["sippet_dialogs[]"] == 0  # every call was hung up
    assert "sippet_transactions[]" in samples


def test_lookups_are_served_from_cache_while_redis_is_down(tmp_path: Path) -> None:
    (tmp_path / "redis").mkdir()
    redis = RedisServer(tmp_path / "redis").start()
    try:
        extra = ["--domain", DOMAIN, "--store", redis.url]
        with ServeNode(tmp_path, extra) as node:
            uas = callee(tmp_path, 2)
            assert register(tmp_path, node, "bob", uas.port).run().stats.successful == 1  # type: ignore[union-attr]
            assert_all_succeeded(1, caller(tmp_path, node, 1, "uac-before").start())
            redis.stop()
            assert_all_succeeded(1, caller(tmp_path, node, 1, "uac-during").start())
            assert_all_succeeded(2, uas)
            # A registration cannot be stored: refused rather than confirmed (500).
            refused = register(tmp_path, node, "bob", uas.port, name="register-down").run()
            assert refused.stats is not None and refused.stats.failed == 1
            assert "location store unavailable" in node.output()
            assert "status=500" in node.transactions("REGISTER")[-1]
    finally:
        redis.stop()


def test_two_nodes_sharing_redis_register_through_one_and_call_through_the_other(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    redis_server.flush()
    extra = ["--domain", DOMAIN, "--store", redis_server.url]
    with (
        ServeNode(tmp_path, extra, name="node-a") as node_a,
        ServeNode(tmp_path, extra, name="node-b") as node_b,
    ):
        uas = callee(tmp_path, CALLS)
        assert register(tmp_path, node_a, "bob", uas.port).run().stats.successful == 1  # type: ignore[union-attr]
        assert_all_succeeded(CALLS, caller(tmp_path, node_b, CALLS).start(), uas)
        assert len(node_a.transactions("REGISTER")) == 1
        assert len(node_b.transactions("INVITE")) == CALLS
        assert node_a.transactions("INVITE") == []


def test_two_workers_on_one_port_share_the_calls(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'location.sqlite'}"
    with ServeNode(tmp_path, ["--domain", DOMAIN, "--store", store, "--workers", "2"]) as node:
        uas = callee(tmp_path, 2 * CALLS)
        assert register(tmp_path, node, "bob", uas.port).run().stats.successful == 1  # type: ignore[union-attr]
        # Two callers on two source ports: SO_REUSEPORT hashes UDP by source address and
        # port, so several sources are needed to reach both workers.
        callers = [caller(tmp_path, node, CALLS, f"uac{n}").start() for n in range(2)]
        assert_all_succeeded(CALLS, *callers)
        assert_all_succeeded(2 * CALLS, uas)
        invites = worker_counts(node.transactions("INVITE"))
        assert sum(invites.values()) == 2 * CALLS, node.output()
        # The kernel hashes each source: from 32 sources, both workers answer (the chance
        # that all 32 land on one worker is 2**-31).
        for _ in range(32):
            assert options_probe(node.port, timeout=5.0) is not None
        probes = worker_counts(
            [line for line in node.transactions("OPTIONS") if "from=sip:probe@" in line]
        )
    assert set(probes) == {"0", "1"}, node.output()
    print("INVITEs per worker:", dict(invites), "OPTIONS per worker:", dict(probes))


def worker_counts(lines: list[str]) -> Counter[str]:
    return Counter(re.search(r"worker=(\d+)", line).group(1) for line in lines)  # type: ignore[union-attr]
