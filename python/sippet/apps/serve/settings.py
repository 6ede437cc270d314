"""What ``sippet serve`` runs with: ``ServeSettings``, read from flags and a TOML file.

The TOML file (``--config FILE``) holds the same settings as the flags, with the same
names (``listen``, ``domain``, ``store``, ``users``, ``realm``, ``cert``, ``key``, ``ca``,
``algorithms``, ``relay``, ``resolver``, ``workers``, ``metrics``, ``trace``,
``quiet``)::

    listen = ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]
    domain = ["example.com"]
    store = "redis://127.0.0.1:6379/0"
    users = "/etc/sippet/users"
    relay = false
    workers = 2
    metrics = "127.0.0.1:9060"

A flag given on the command line wins over the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sippet.auth import DEFAULT_REALM, Algorithm, parse_algorithm_list
from sippet.stack.trace import TraceMode
from sippet.transports.listen import parse_host_port, parse_listen

Listen = tuple[str, tuple[str, int]]

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
"""``("UDP", ("127.0.0.1", 5060))``: a protocol and the address to bind."""

DEFAULT_LISTEN: tuple[Listen, ...] = (("UDP", ("127.0.0.1", 5060)), ("TCP", ("127.0.0.1", 5060)))
MAX_WORKERS = 64
"""More processes than this on one host is a mistake, not a configuration."""


class ServeError(Exception):
    """A setting or a resource ``sippet serve`` cannot use: printed as one line, exit 2."""


def default_store_url() -> str:
    """The embedded SQLite store: ``$XDG_STATE_HOME/sippet/location.sqlite`` (default
    ``~/.local/state``), so that registrations outlive a restart wherever it is run from."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return f"sqlite:{Path(base) / 'sippet' / 'location.sqlite'}"


@dataclass(frozen=True)
class ServeSettings:
    """Everything ``sippet serve`` needs; the defaults are the no-option behaviour.

    - ``domains``: the domains served (registrar and proxy); empty: any domain.
    - ``store``: location store URL (``sqlite:PATH``, ``redis://...``, ``memory:``);
      ``None``: the embedded SQLite file of ``default_store_url``.
    - ``users``, ``realm``: digest users file (``sippet passwd``) and its realm.
    - ``algorithms``: the digest challenges offered, in order of preference (RFC 7616
      §3.7: a client takes the first it supports). SHA-256 then MD5 by default; a client
      that reads only the first challenge and knows only MD5 (SIPp) needs MD5 first.
    - ``relay``: send requests for other domains out (RFC 3263); off: 403.
    - ``resolver``: the name server (``HOST:PORT``) with which the node locates the
      servers it sends to (RFC 3263); ``None``: the system's (``/etc/resolv.conf``).
    - ``workers``: processes sharing the port (SO_REUSEPORT) and the store.
    - ``metrics``: where to serve Prometheus text, or ``None``.
    - ``quiet``: no line per transaction (a loaded node spends its time writing them).
    """

    listen: tuple[Listen, ...] = DEFAULT_LISTEN
    domains: tuple[str, ...] = ()
    store: str | None = None
    users: Path | None = None
    realm: str | None = None
    algorithms: tuple[Algorithm, ...] = (Algorithm.SHA_256, Algorithm.MD5)
    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None
    relay: bool = True
    resolver: str | None = None
    workers: int = 1
    metrics: tuple[str, int] | None = None
    trace: TraceMode = None
    quiet: bool = False

    @property
    def store_url(self) -> str:
        return self.store if self.store is not None else default_store_url()

    @property
    def auth_realm(self) -> str:
        """The digest realm: ``realm``, else the first domain, else sippet's default."""
        if self.realm:
            return self.realm
        return self.domains[0] if self.domains else DEFAULT_REALM

    def checked(self) -> ServeSettings:
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ServeError(f"--workers must be within 1..{MAX_WORKERS}, not {self.workers}")
        if self.workers > 1 and any(p in ("WS", "WSS") for p, _ in self.listen):
            raise ServeError("--workers cannot share ws: or wss: ports (no SO_REUSEPORT there)")
        if self.workers > 1 and self.store == "memory:":
            raise ServeError("--workers needs a shared store (sqlite:PATH or redis://...)")
        if not self.listen:
            raise ServeError("nothing to listen on")
        for protocol, (host, port) in self.listen:
            if host in WILDCARD_HOSTS:
                # RFC 3261 §16.6 items 4 and 8: a proxy writes its own address into
                # Record-Route and Via, so it must listen on an address peers can reach.
                raise ServeError(
                    f"--listen {protocol.lower()}:{host}:{port}: a proxy puts its address in "
                    "Via and Record-Route; listen on the interface's own address instead "
                    "(e.g. udp:192.0.2.10:5060)"
                )
        secure = any(protocol in ("TLS", "WSS") for protocol, _ in self.listen)
        if secure and self.cert is None:
            raise ServeError("tls: and wss: need --cert (and --key)")
        return self


_NAMES = {f.name for f in fields(ServeSettings)} - {"domains"} | {"domain"}


def read_config(path: Path) -> dict[str, Any]:
    """The TOML file's table (``ServeError`` when unreadable or not TOML, or when it
    names a setting that does not exist)."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServeError(f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ServeError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(table) - _NAMES)
    if unknown:
        raise ServeError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    return table


def from_table(table: Mapping[str, Any], where: str = "config") -> dict[str, Any]:
    """The settings a TOML table gives, converted as the flags convert them."""
    values: dict[str, Any] = {}
    for name, value in table.items():
        try:
            values.update(_convert(name, value))
        except (TypeError, ValueError) as exc:
            raise ServeError(f"{where}: {name}: {exc}") from None
    return values


def _convert(name: str, value: Any) -> dict[str, Any]:
    if name == "listen":
        return {"listen": tuple(parse_listen(_text(item)) for item in _list(value))}
    if name == "domain":
        return {"domains": tuple(_text(item) for item in _list(value))}
    if name in ("users", "cert", "key", "ca"):
        return {name: Path(_text(value))}
    if name == "algorithms":
        return {name: parse_algorithm_list(",".join(_text(item) for item in _list(value)))}
    if name in ("relay", "quiet"):
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return {name: value}
    if name == "workers":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected a number")
        return {name: value}
    if name == "metrics":
        return {name: parse_host_port(_text(value), 0)}
    if name == "trace":
        if value not in ("line", "full"):
            raise ValueError(f"expected 'line' or 'full', not {value!r}")
        return {name: value}
    return {name: _text(value)}  # store, realm, resolver


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {value!r}")
    return value


def merge(base: ServeSettings, overrides: Mapping[str, Any]) -> ServeSettings:
    """``base`` with the values of ``overrides`` that are not ``None``."""
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
