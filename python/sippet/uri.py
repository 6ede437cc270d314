"""``sippet.URI``: SIP, SIPS and tel URIs, and any other absolute URI kept opaque.

RFC 3261 §19.1 (sip, sips), RFC 3966 (tel), RFC 3986 (anything else). Parsing and
serializing are done by the native core; this module is the typed value and the
comparison rules of RFC 3261 §19.1.4.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sippet import _native

_FIELDS: tuple[str, ...] = (
    "scheme",
    "user",
    "password",
    "host",
    "port",
    "parameters",
    "headers",
    "opaque",
)

_DEFAULT_PORTS: dict[str, int] = {"sip": 5060, "sips": 5061}

# RFC 3261 §19.1.4: these uri-parameters, present in one URI only, make the URIs differ
# ("A user, ttl, or method uri-parameter appearing in only one URI never matches";
# "A URI that includes an maddr parameter will not match a URI that contains no maddr";
# the transport-parameter is listed with the components that have a default value).
_STRICT_PARAMETERS: frozenset[str] = frozenset({"user", "ttl", "method", "maddr", "transport"})

# RFC 3966 §5.1.1: visual separators do not take part in tel URI comparison.
_VISUAL_SEPARATORS = str.maketrans("", "", "-.()")


def default_port(scheme: str) -> int | None:
    """The port a SIP or SIPS URI without one resolves to (RFC 3261 §19.1.2): 5060 for
    ``sip``, 5061 for ``sips``; ``None`` for any other scheme."""
    return _DEFAULT_PORTS.get(scheme.lower())


class URI(tuple[Any, ...]):
    """A parsed URI. Compares by value (``==``); use ``equivalent`` for RFC 3261 §19.1.4.

    Fields:

    - ``scheme``: lowercased scheme (``"sip"``, ``"sips"``, ``"tel"``, or any other).
    - ``user``, ``password``: sip/sips userinfo, percent-decoded; for tel, ``user`` is the
      telephone number.
    - ``host``: hostname, IPv4 address, or IPv6 address **without** brackets.
    - ``port``: the explicit port, or ``None`` (RFC 3261 §19.1.4: ``sip:a@b`` and
      ``sip:a@b:5060`` are not equivalent, so no default is filled in).
    - ``parameters``: ``dict[str, str | None]``, names lowercased, values decoded;
      ``None`` is a parameter without a value.
    - ``headers``: ``dict[str, str]``, decoded.
    - ``opaque``: for other schemes, the text after ``scheme:``, verbatim.

    A ``URI`` is a tuple underneath so that the native parser can build it cheaply; treat
    it as an immutable record and use ``replace`` to derive a changed copy.
    """

    __slots__ = ()

    def __new__(
        cls,
        scheme: str,
        user: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | None = None,
        parameters: dict[str, str | None] | None = None,
        headers: dict[str, str] | None = None,
        opaque: str | None = None,
    ) -> URI:
        return tuple.__new__(
            cls,
            (
                scheme.lower(),
                user,
                password,
                host,
                port,
                {} if parameters is None else parameters,
                {} if headers is None else headers,
                opaque,
            ),
        )

    @property
    def scheme(self) -> str:
        return self[0]  # type: ignore[no-any-return]

    @property
    def user(self) -> str | None:
        return self[1]  # type: ignore[no-any-return]

    @property
    def password(self) -> str | None:
        return self[2]  # type: ignore[no-any-return]

    @property
    def host(self) -> str | None:
        return self[3]  # type: ignore[no-any-return]

    @property
    def port(self) -> int | None:
        return self[4]  # type: ignore[no-any-return]

    @property
    def parameters(self) -> dict[str, str | None]:
        return self[5]  # type: ignore[no-any-return]

    @property
    def headers(self) -> dict[str, str]:
        return self[6]  # type: ignore[no-any-return]

    @property
    def opaque(self) -> str | None:
        return self[7]  # type: ignore[no-any-return]

    @property
    def is_sip(self) -> bool:
        """A SIP or SIPS URI (RFC 3261 §19.1)."""
        return self.scheme in _DEFAULT_PORTS

    @property
    def is_secure(self) -> bool:
        """A SIPS URI: every hop must be secured with TLS (RFC 3261 §19.1, §26.2.2)."""
        return self.scheme == "sips"

    def replace(self, **changes: Any) -> URI:
        """A copy with the named fields changed: ``uri.replace(port=5070)``.

        The parameters and headers dicts of the copy are new dicts, so editing them does
        not change ``self``.
        """
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise TypeError(f"URI has no field(s) {', '.join(sorted(unknown))}")
        values = dict(zip(_FIELDS, self, strict=True))
        values["parameters"] = dict(values["parameters"])
        values["headers"] = dict(values["headers"])
        values.update(changes)
        return URI(**values)

    def __getnewargs__(self) -> tuple[Any, ...]:
        # tuple's own __getnewargs__ would hand __new__ one tuple; ours takes the fields.
        # This is what makes pickle, copy.copy and copy.deepcopy work.
        return tuple(self)

    def equivalent(self, other: URI) -> bool:
        """RFC 3261 §19.1.4 equivalence for SIP and SIPS URIs, RFC 3966 §4 for tel URIs.

        SIP/SIPS, rule by rule:

        - a ``sip`` and a ``sips`` URI are never equivalent;
        - user and password compare case-sensitively, after unescaping (the fields are
          stored decoded, so ``%61lice`` and ``alice`` are equal);
        - the host compares case-insensitively; IP addresses compare as addresses
          (``2001:db8::1`` is ``2001:DB8:0::1``), and never equal a host name;
        - the port must match, and an absent port does not match an explicit 5060;
        - a uri-parameter present in both URIs must match (names and values
          case-insensitive); ``user``, ``ttl``, ``method``, ``maddr`` and ``transport``
          present in one URI only make the URIs differ; any other parameter present in one
          URI only is ignored, which makes equivalence non-transitive
          (``sip:carol@chicago.com`` is equivalent to both ``;security=on`` and
          ``;security=off``, which are not equivalent to each other);
        - every header must be in both URIs, header names compared case-insensitively and
          values exactly (§20 gives each header its own rules; exact comparison is the
          conservative reading).

        Any other scheme: equal scheme and equal opaque text.
        """
        if self.scheme != other.scheme:
            return False
        if self.is_sip:
            return _sip_equivalent(self, other, lazy=False)
        if self.scheme == "tel":
            return _tel_equivalent(self, other)
        return tuple(self) == tuple(other)

    def lazy_equivalent(self, other: URI) -> bool:
        """Equivalence that fills in the defaults §19.1.4 refuses to assume, as Sippet's
        ``lazy_equivalent`` does: an absent port counts as the scheme's default port, and
        an absent ``transport`` as ``udp`` for SIP and TLS-over-TCP for SIPS (``tls`` and
        ``tcp`` are then the same transport). Useful to decide whether a URI names this
        very element (``sip:example.com`` and ``sip:example.com:5060;transport=udp``);
        not for registrar bindings, which §10.3 compares with ``equivalent``.

        Every other rule is that of ``equivalent``; tel and other schemes compare as there.
        """
        if self.scheme != other.scheme:
            return False
        if self.is_sip:
            return _sip_equivalent(self, other, lazy=True)
        return self.equivalent(other)

    @classmethod
    def parse(cls, text: str) -> URI:
        """Parse a URI; raises ``sippet.ParseError`` (reason ``"invalid_uri"``...)."""
        return _native.parse_uri(text)

    def __str__(self) -> str:
        return _native.serialize_uri(self)

    def __repr__(self) -> str:
        return f"URI({str(self)!r})"


def _host_key(host: str | None) -> str | None:
    """A host as compared: IP addresses in canonical form, names lowercased."""
    if host is None:
        return None
    # A maddr value keeps the brackets of an IPv6 reference as written (``[::1]``).
    address = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return host.lower()


def _parameter_value(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _lazy_parameters(uri: URI) -> dict[str, str | None]:
    parameters = {name.lower(): value for name, value in uri.parameters.items()}
    transport = parameters.get("transport")
    if uri.scheme == "sips":
        # SIPS runs over TLS on TCP whether or not the deprecated transport=tls is written.
        if transport is None or transport.lower() == "tls":
            parameters["transport"] = "tcp"
    elif transport is None:
        parameters["transport"] = "udp"
    return parameters


def _sip_equivalent(a: URI, b: URI, *, lazy: bool) -> bool:
    if a.user != b.user or a.password != b.password:
        return False
    if _host_key(a.host) != _host_key(b.host):
        return False
    if lazy:
        port_a = a.port if a.port is not None else default_port(a.scheme)
        port_b = b.port if b.port is not None else default_port(b.scheme)
        params_a, params_b = _lazy_parameters(a), _lazy_parameters(b)
    else:
        port_a, port_b = a.port, b.port
        params_a = {name.lower(): value for name, value in a.parameters.items()}
        params_b = {name.lower(): value for name, value in b.parameters.items()}
    if port_a != port_b:
        return False
    for name in params_a.keys() | params_b.keys():
        if name in params_a and name in params_b:
            value_a, value_b = params_a[name], params_b[name]
            if name == "maddr":
                if _host_key(value_a) != _host_key(value_b):
                    return False
            elif _parameter_value(value_a) != _parameter_value(value_b):
                return False
        elif name in _STRICT_PARAMETERS:
            return False
    # §19.1.4: header components are never ignored; names compare case-insensitively
    # (§7.3.1). As sorted pairs, two names that differ only in case both count.
    headers_a = sorted((name.lower(), value) for name, value in a.headers.items())
    headers_b = sorted((name.lower(), value) for name, value in b.headers.items())
    return headers_a == headers_b


def _tel_number(number: str | None) -> str:
    return (number or "").translate(_VISUAL_SEPARATORS).upper()


def _tel_parameter(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if name == "ext" or (name == "phone-context" and value.startswith("+")):
        # RFC 3966 §4: extensions and global-number contexts compare digit by digit.
        return _tel_number(value)
    return value.lower()


def _tel_equivalent(a: URI, b: URI) -> bool:
    """RFC 3966 §4: both global or both local, equal digits without visual separators,
    the same set of parameters with equal values, all case-insensitive."""
    number_a, number_b = _tel_number(a.user), _tel_number(b.user)
    if number_a.startswith("+") != number_b.startswith("+") or number_a != number_b:
        return False
    params_a = {name.lower(): value for name, value in a.parameters.items()}
    params_b = {name.lower(): value for name, value in b.parameters.items()}
    if params_a.keys() != params_b.keys():
        return False
    return all(
        _tel_parameter(name, params_a[name]) == _tel_parameter(name, params_b[name])
        for name in params_a
    )
