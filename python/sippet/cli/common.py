"""Helpers shared by the ``sippet`` subcommands: address arguments, logging, signals."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket

from sippet.transports.base import Address


def parse_host_port(text: str, default_port: int) -> Address:
    """``HOST:PORT``, ``HOST``, ``[V6]:PORT`` or ``[V6]`` -> ``(host, port)``."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise argparse.ArgumentTypeError(f"unclosed '[' in {text!r}")
        if not rest:
            return host, default_port
        if not rest.startswith(":"):
            raise argparse.ArgumentTypeError(f"expected ':PORT' after ']' in {text!r}")
        return host, _port(rest[1:], text)
    if text.count(":") > 1:  # a bare IPv6 address
        return text, default_port
    host, sep, port = text.partition(":")
    return host, _port(port, text) if sep else default_port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"bad port in {whole!r}")
    return int(text)


def parse_listen(text: str) -> tuple[str, Address]:
    """``udp:HOST:PORT`` (or ``HOST:PORT``, UDP implied) -> ``("UDP", (host, port))``."""
    protocol, sep, rest = text.partition(":")
    if sep and protocol.lower() in ("udp", "tcp", "tls"):
        if protocol.lower() != "udp":
            raise argparse.ArgumentTypeError(f"only udp is supported, not {protocol!r}")
        return "UDP", parse_host_port(rest, 5060)
    return "UDP", parse_host_port(text, 5060)


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")


def local_address_towards(family: int, host: str, port: int) -> str | None:
    """The local IP the OS would use to reach ``host:port`` (a connected UDP socket sends
    nothing), for a Via sent-by that the peer can answer to."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((host, port))
            return str(probe.getsockname()[0])
    except OSError:
        return None


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop`` (a clean exit instead of a traceback)."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread, or on Windows: Ctrl-C still interrupts.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, stop.set)
