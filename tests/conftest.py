"""Shared fixtures. Keep this file small; add fixtures, never remove them."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
import sippet

DATA_DIR = Path(__file__).parent / "data"
RFC4475_DIR = DATA_DIR / "rfc4475"
RFC5118_DIR = DATA_DIR / "rfc5118"

REQUIRE_IPV6 = "SIPPET_REQUIRE_IPV6"
"""Set (to anything but "" or "0") in CI: a test marked ``ipv6`` fails, instead of being
skipped, when the machine has no IPv6 loopback."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ipv6: needs the IPv6 loopback (::1); skipped without it, unless "
        f"{REQUIRE_IPV6} is set, then it fails",
    )


@cache
def ipv6_loopback() -> bool:
    """Whether a UDP socket can bind ``::1`` here (some containers have no IPv6)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def pytest_runtest_setup(item: pytest.Item) -> None:
    # One precondition for every IPv6 test, so that none passes, fails or skips on its own
    # terms; a skip is listed by -ra with this reason, never counted as a pass.
    if item.get_closest_marker("ipv6") is None or ipv6_loopback():
        return
    if os.environ.get(REQUIRE_IPV6, "") not in ("", "0"):
        pytest.fail(f"no IPv6 loopback (::1) on this machine, and {REQUIRE_IPV6} is set")
    pytest.skip("no IPv6 loopback (::1) on this machine")


@pytest.fixture(scope="session")
def rfc4475_dir() -> Path:
    """The 50 byte-exact RFC 4475 Appendix A messages (``<name>.dat``)."""
    return RFC4475_DIR


@pytest.fixture(scope="session")
def rfc4475() -> Callable[[str], bytes]:
    """``rfc4475("wsinv")`` -> the bytes of ``tests/data/rfc4475/wsinv.dat``."""
    return lambda name: (RFC4475_DIR / f"{name}.dat").read_bytes()


@pytest.fixture(scope="session")
def rfc5118() -> Callable[[str], bytes]:
    """``rfc5118("ipv6-good")`` -> the bytes of ``tests/data/rfc5118/ipv6-good.dat``."""
    return lambda name: (RFC5118_DIR / f"{name}.dat").read_bytes()


def wire_content_length(wire: bytes) -> int | None:
    """The Content-Length written in a serialized message's header section (or None)."""
    head = wire.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            return int(value.strip())
    return None


def check_round_trip(message: sippet.Message) -> sippet.Message:
    """Serialize ``message``, parse it back, and check nothing was lost.

    RFC 3261 §7: the serialized form is CRLF-terminated lines, then an empty line, then the
    body; its Content-Length equals the body length in octets (§20.14), and is added when the
    message had none. The parsed copy equals ``message`` (header for header), and keeps the
    header order of a parsed ``message`` (Content-Length moves last), and serializes to the
    same octets again. Returns the parsed copy.
    """
    wire = bytes(message)
    head, sep, body = wire.partition(b"\r\n\r\n")
    assert sep, "serialized message has no empty line after the headers"
    assert b"\n" not in head.replace(b"\r\n", b""), "bare LF in serialized header section"
    assert body == message.body
    assert wire_content_length(wire) == len(message.body)
    again = sippet.Message.parse(wire)
    expected = dict(message.headers)
    expected.setdefault("content_length", len(message.body))
    assert again.start_line == message.start_line
    assert again.headers == expected
    assert again.body == message.body
    # Content-Length is always written last (serializer contract); a parsed message keeps
    # the wire order of every other header.
    assert list(again.headers)[-1] == "content_length"
    # serializing is stable: the parsed copy writes the very same octets
    assert bytes(again) == wire
    if message.wire_order:
        kept = [key for key in again.headers if key in message.headers and key != "content_length"]
        assert kept == [key for key in message.headers if key != "content_length"]
    return again


@pytest.fixture(scope="session")
def round_trip() -> Callable[[sippet.Message], sippet.Message]:
    """``round_trip(msg)``: see ``check_round_trip``."""
    return check_round_trip
