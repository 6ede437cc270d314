"""TLS on a connection's bytes: ``ssl.SSLObject`` over memory BIOs (RFC 8446 / 5246 by the
stdlib), so that a stream connection holds only what TLS needs.

asyncio's own TLS layer keeps a 256 KiB read buffer per connection and admits a connection
only after its handshake; with ``TLSSession`` a connection costs a few KiB when idle and the
stream transport counts (and limits) it from its first byte.
"""

from __future__ import annotations

import ssl

_READ_CHUNK = 16_384
"""Plaintext read per call: one TLS record at most (RFC 8446 §5.1)."""


class TLSSession:
    """One side of a TLS connection: ciphertext in, plaintext out, and back.

    ``start`` returns the first flight (the ClientHello; nothing for a server); ``receive``
    takes ciphertext and returns the plaintext it carried and the ciphertext to send back
    (handshake messages, alerts, session tickets); ``send`` wraps plaintext. ``ssl.SSLError``
    (``ssl.SSLCertVerificationError`` for a certificate that did not verify) ends it.
    """

    __slots__ = ("_incoming", "_object", "_outgoing", "closed", "established")

    def __init__(
        self, context: ssl.SSLContext, *, server_side: bool, server_hostname: str | None
    ) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._object = context.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=server_side,
            server_hostname=None if server_side else server_hostname,
        )
        self.established = False
        self.closed = False
        """The peer sent close_notify."""

    def start(self) -> bytes:
        self._handshake()
        return self._outgoing.read()

    def receive(self, data: bytes) -> tuple[bytes, bytes]:
        """``(plaintext, to_send)`` for ``data`` received from the peer."""
        self._incoming.write(data)
        if not self.established and not self._handshake():
            return b"", self._outgoing.read()
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self._object.read(_READ_CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.closed = True
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks), self._outgoing.read()

    def send(self, plaintext: bytes) -> bytes:
        """The ciphertext carrying ``plaintext`` (the session must be established)."""
        self._object.write(plaintext)
        return self._outgoing.read()

    def _handshake(self) -> bool:
        try:
            self._object.do_handshake()
        except ssl.SSLWantReadError:
            return False
        self.established = True
        return True
