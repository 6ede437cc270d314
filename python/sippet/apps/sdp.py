"""Just enough SDP (RFC 4566) for test user agents: an offer, and the answer to an offer
by the rules of RFC 3264 §6. No media is sent or received: the ports are advertised, not
served (``sippet uas --help`` says so)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FIRST_MEDIA_PORT = 40000
"""Ports named in offers and answers: even numbers from here, one per stream (RTP uses
the even port, RTCP the next, RFC 3550 §11)."""

_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
# RFC 3264 §6.1: the answer's direction mirrors the offer's.
_ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


@dataclass
class SdpSession:
    """The ``o=`` origin of one side of one call: the session id stays, the version grows
    with each new description sent in the call (RFC 3264 §8, RFC 4566 §5.2)."""

    address: str
    session_id: int = field(default_factory=lambda: random.randrange(1, 2**62))
    version: int = 0

    def origin(self) -> str:
        self.version += 1
        family = _family(self.address)
        return f"o=sippet {self.session_id} {self.version} IN {family} {self.address}"

    def offer(self) -> bytes:
        """One audio stream, PCMU and PCMA (RFC 3551)."""
        return _lines(
            [
                "v=0",
                self.origin(),
                "s=sippet",
                f"c=IN {_family(self.address)} {self.address}",
                "t=0 0",
                f"m=audio {FIRST_MEDIA_PORT} RTP/AVP 0 8",
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:8 PCMA/8000",
                "a=sendrecv",
            ]
        )

    def answer(self, offer: bytes) -> bytes:
        """The answer to ``offer`` (RFC 3264 §6): one m= line per offered stream, in
        order; each accepted with the first offered format and the mirrored direction
        (§6.1: sendonly gets recvonly, recvonly sendonly, inactive inactive); a stream
        offered with port 0, or too malformed to answer, is refused with port 0 (§6).
        Without an offer, an offer (the INVITE had none, §13.2.1)."""
        text = offer.decode("utf-8", "replace")
        if "m=" not in text:
            return self.offer()
        session_direction = "sendrecv"
        streams: list[list[str]] = []
        for line in text.splitlines():
            if line.startswith("m="):
                streams.append([line])
            elif streams:
                streams[-1].append(line)
            elif line[2:] in _DIRECTIONS and line.startswith("a="):
                session_direction = line[2:]
        family = _family(self.address)
        lines = ["v=0", self.origin(), "s=sippet", f"c=IN {family} {self.address}", "t=0 0"]
        for index, stream in enumerate(streams):
            lines.extend(_answer_stream(stream, index, session_direction))
        return _lines(lines)


def _answer_stream(stream: list[str], index: int, session_direction: str) -> list[str]:
    fields = stream[0][2:].split()
    if len(fields) < 4 or not fields[1].isdigit():
        kind = fields[0] if fields else "audio"
        proto = fields[2] if len(fields) > 2 else "RTP/AVP"
        return [f"m={kind} 0 {proto} {fields[3] if len(fields) > 3 else '0'}"]
    kind, port, proto, first = fields[0], fields[1], fields[2], fields[3]
    if port == "0":
        return [f"m={kind} 0 {proto} {first}"]  # refused by the offerer: refused here (§6)
    direction = session_direction
    rtpmap = None
    for line in stream[1:]:
        if line.startswith("a=") and line[2:] in _DIRECTIONS:
            direction = line[2:]
        elif line.startswith(f"a=rtpmap:{first} "):
            rtpmap = line
    answered = [f"m={kind} {FIRST_MEDIA_PORT + 2 * index} {proto} {first}"]
    if rtpmap is not None:
        answered.append(rtpmap)
    answered.append(f"a={_ANSWER_DIRECTION[direction]}")
    return answered


def _family(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


def _lines(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


__all__ = ["FIRST_MEDIA_PORT", "SdpSession"]
