"""Atheris fuzzer for ``URI.parse`` and ``str(URI)``.

Oracle: any text is either rejected with ``sippet.ParseError`` or parsed into a ``URI``
whose text form parses back to an equal ``URI`` and is stable (RFC 3261 §19.1, §25.1).

    pip install atheris
    python fuzz/atheris/fuzz_uri.py -max_total_time=120 -artifact_prefix=/tmp/sippet-uri-
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from sippet import URI, ParseError


# The native parser is not instrumented (no coverage feedback): start most inputs with a
# scheme and a plausible prefix so that they reach past the first character.
PREFIXES = [
    "sip:",
    "sips:",
    "sip:alice@",
    "sip:[",
    "sip:a@b.example;",
    "sip:a@b.example?",
    "tel:+",
    "",
]


def check(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    prefix = PREFIXES[fdp.ConsumeIntInRange(0, len(PREFIXES) - 1)]
    text = prefix + fdp.ConsumeUnicodeNoSurrogates(len(data))
    try:
        uri = URI.parse(text)
    except ParseError as error:
        assert isinstance(error.reason, str) and error.reason, error
        return
    written = str(uri)
    again = URI.parse(written)
    assert again == uri, (text, written, again)
    assert str(again) == written


def main() -> None:
    # No coverage feedback from the native core: the corpus does not grow, so let
    # libFuzzer's own inputs be long from the start (they are the choices of the edits).
    argv = [*sys.argv, "-len_control=0", "-max_len=512"]
    atheris.Setup(argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
