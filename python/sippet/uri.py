"""``sippet.URI``: SIP, SIPS and tel URIs, and any other absolute URI kept opaque.

RFC 3261 §19.1 (sip, sips), RFC 3966 (tel), RFC 3986 (anything else). Parsing and
serializing are done by the native core; this module is the typed value and the
comparison rules of RFC 3261 §19.1.4.
"""

from __future__ import annotations

from typing import Any

from sippet import _native


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

    @classmethod
    def parse(cls, text: str) -> URI:
        """Parse a URI; raises ``sippet.ParseError`` (reason ``"invalid_uri"``...)."""
        return _native.parse_uri(text)

    def __str__(self) -> str:
        return _native.serialize_uri(self)

    def __repr__(self) -> str:
        return f"URI({str(self)!r})"
