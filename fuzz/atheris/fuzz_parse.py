"""Atheris fuzzer for ``Message.parse`` and the serializer.

The native core is not instrumented, so libFuzzer gets no coverage feedback from it and
would keep only a couple of inputs: instead, each input picks one of the RFC 4475 / RFC 5118
messages and a few byte edits to apply to it, so that most inputs are near-valid SIP.
(The cargo-fuzz targets under ``fuzz/`` cover the Rust core with coverage feedback.)

Oracle (as in websockets' fuzzers): every input is either rejected with ``sippet.ParseError``
(a ``ValueError`` carrying a ``reason`` and a ``status_code``) or accepted as a ``Message``
that serializes to bytes that parse back to the same values (RFC 3261 §7; Content-Length
is always written, so it is the one header allowed to appear). Anything else is a bug.

    pip install atheris
    python fuzz/atheris/fuzz_parse.py -max_total_time=120 -artifact_prefix=/tmp/sippet-
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import sippet
    from sippet import Message, ParseError


DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
SEEDS = [path.read_bytes() for path in sorted(DATA.glob("rfc*/**/*.dat"))]


def mutate(data: bytes) -> bytes:
    """A seed message with up to 8 edits (insert, delete, overwrite, duplicate a slice)."""
    fdp = atheris.FuzzedDataProvider(data)
    message = bytearray(SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)])
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        at = fdp.ConsumeIntInRange(0, len(message))
        op = fdp.ConsumeIntInRange(0, 3)
        if op == 0:
            message[at:at] = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 4))
        elif op == 1:
            del message[at : at + fdp.ConsumeIntInRange(1, 16)]
        elif op == 2:
            message[at : at + 1] = fdp.ConsumeBytes(1)
        else:
            end = min(len(message), at + fdp.ConsumeIntInRange(1, 64))
            message[at:at] = message[at:end]
    return bytes(message)


def check(data: bytes) -> None:
    data = mutate(data)
    try:
        message = Message.parse(data)
    except ParseError as error:
        assert isinstance(error, ValueError)
        assert isinstance(error.reason, str) and error.reason, error
        assert isinstance(error.status_code, int), error
        return
    assert isinstance(message, Message)
    wire = bytes(message)
    again = Message.parse(wire)
    expected = dict(message.headers)
    expected.setdefault("content_length", len(message.body))
    assert again.start_line == message.start_line, (message.start_line, again.start_line)
    assert again.headers == expected, (expected, again.headers)
    assert again.body == message.body
    assert bytes(again) == wire


def main() -> None:
    assert sippet.Message is Message
    assert SEEDS, f"no seed messages under {DATA}"
    # No coverage feedback from the native core: the corpus does not grow, so let
    # libFuzzer's own inputs be long from the start (they are the choices of the edits).
    argv = [*sys.argv, "-len_control=0", "-max_len=512"]
    atheris.Setup(argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
