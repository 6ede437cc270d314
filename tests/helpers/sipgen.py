"""Hypothesis strategies for adversarial SIP input: wire text built piece by piece from the
RFC 3261 §25.1 grammar (with the odd but legal corners: folding, compact forms, quoted-pairs,
IPv6 references, %-escapes including %00, bare LF), and mutations of the RFC 4475 / RFC 5118
torture messages.

Generated wire text is *SIP-shaped*, not always valid: the properties that use it accept a
``ParseError`` and check what happens to whatever parses.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TOKEN_CHARS = ALNUM + "-.!%*_+`'~"  # RFC 3261 §25.1 token


def valid_seeds() -> list[bytes]:
    """The torture messages the parser accepts (RFC 4475 valid ones, RFC 5118 good ones).

    Which ones are valid is decided by RFC 4475 §3.1.1/§3.2/§3.3 and RFC 5118 §4; the list
    is written out so that a parser regression cannot silently shrink the seed set.
    """
    rfc4475 = [
        "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq",
        "semiuri", "transports", "mpart01", "unreason", "noreason", "badbranch", "insuf",
        "unkscm", "novelsc", "unksm2", "bext01", "invut", "regaut01", "sdp01", "mismatch01",
        "mismatch02", "inv2543", "cparam01", "cparam02", "regescrt", "zeromf", "bcast",
    ]  # fmt: skip
    rfc5118 = [
        "ipv6-good", "port-ambiguous", "port-unambiguous", "via-received-param-with-delim",
        "via-received-param-no-delim", "ipv6-in-sdp", "mult-ip-in-header", "mult-ip-in-sdp",
        "ipv4-mapped-ipv6", "ipv6-correct-abnf-2-colons", "ipv6-bug-abnf-3-colons",
    ]  # fmt: skip
    return [(DATA_DIR / "rfc4475" / f"{name}.dat").read_bytes() for name in rfc4475] + [
        (DATA_DIR / "rfc5118" / f"{name}.dat").read_bytes() for name in rfc5118
    ]


# --- pieces ----------------------------------------------------------------------------------

tokens = st.text(TOKEN_CHARS, min_size=1, max_size=8)
lower_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6).map(
    lambda s: "x" + s
)


def _escape(text: str) -> str:
    return "".join(f"%{b:02X}" for b in text.encode())


# One URI character, sometimes %-escaped (with %00 and %25 on purpose: RFC 4475 escnull).
uri_chars = st.one_of(
    st.sampled_from(list(ALNUM + "-_.!~*'()&=+$,")),
    st.sampled_from(["%00", "%25", "%20", "%41", "%3B", "%40", "%3D", "%C3%A9", "%0D%0A", "%2C"]),
    st.characters(min_codepoint=0x20, max_codepoint=0x3FF, blacklist_categories=("Cs",)).map(
        _escape
    ),
)
uri_words = st.lists(uri_chars, min_size=1, max_size=6).map("".join)


def _hostname_label() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9-]{0,5}[a-zA-Z0-9])?\Z")


hostnames = st.builds(
    lambda labels, top: ".".join([*labels, top]),
    st.lists(_hostname_label(), max_size=3),
    st.from_regex(r"\A[a-zA-Z]([a-zA-Z0-9-]{0,5}[a-zA-Z0-9])?\Z"),
)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(lambda a: a.exploded if a.packed[0] % 2 else str(a))
wire_hosts = st.one_of(hostnames, ipv4, ipv6.map(lambda a: f"[{a}]"))
wire_ports = st.one_of(st.just(""), st.integers(0, 65535).map(lambda p: f":{p}"))


@st.composite
def sip_uri_texts(draw: st.DrawFn, *, headers: bool = True) -> str:
    """sip:/sips: URI text (RFC 3261 §19.1.1), scheme in any case, escapes anywhere."""
    scheme = draw(st.sampled_from(["sip", "sips", "SIP", "Sip", "sIPs"]))
    userinfo = ""
    if draw(st.booleans()):
        userinfo = draw(uri_words)
        if draw(st.integers(0, 3)) == 0:
            userinfo += ":" + draw(st.lists(uri_chars, max_size=4).map("".join))
        userinfo += "@"
    text = f"{scheme}:{userinfo}{draw(wire_hosts)}{draw(wire_ports)}"
    for _ in range(draw(st.integers(0, 3))):
        name = draw(
            st.sampled_from(["transport", "user", "ttl", "method", "maddr", "lr", "Lr", "X-p"])
            | lower_names
        )
        value = draw(
            st.none()
            | st.sampled_from(["udp", "TCP", "phone", "1", "INVITE", "[::1]", "192.0.2.1"])
            | uri_words
        )
        text += f";{name}" if value is None else f";{name}={value}"
    if headers and draw(st.integers(0, 3)) == 0:
        pairs = draw(st.lists(st.tuples(uri_words, st.lists(uri_chars, max_size=4)), max_size=2))
        if pairs:
            text += "?" + "&".join(f"{n}={''.join(v)}" for n, v in pairs)
    return text


tel_uri_texts = st.builds(
    lambda scheme, number, params: f"{scheme}:{number}{params}",
    st.sampled_from(["tel", "TEL", "Tel"]),
    st.one_of(
        st.from_regex(r"\A\+[0-9][0-9().-]{0,10}\Z"),
        st.from_regex(r"\A[0-9A-F*#][0-9A-F*#.-]{0,6}\Z"),
    ),
    st.lists(
        st.one_of(
            st.from_regex(r"\A;ext=[0-9]{1,4}\Z"),
            st.from_regex(r"\A;phone-context=(\+[0-9-]{1,6}|[a-z]{1,5}\.com)\Z"),
            st.builds(lambda n, v: f";{n}={v}", lower_names, uri_words),
            lower_names.map(lambda n: f";{n}"),
        ),
        max_size=3,
    ).map("".join),
)
other_uri_texts = st.builds(
    lambda scheme, rest: f"{scheme}:{rest}",
    st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9+.-]{0,8}\Z").filter(
        lambda s: s.lower() not in ("sip", "sips", "tel")
    ),
    st.from_regex(r"\A[a-zA-Z0-9/][a-zA-Z0-9\-_.~:@/?=&;%#+,!$'()*]{0,16}\Z"),
)


def uri_texts(*, headers: bool = True) -> st.SearchStrategy[str]:
    return st.one_of(
        sip_uri_texts(headers=headers),
        sip_uri_texts(headers=headers),
        tel_uri_texts,
        other_uri_texts,
    )


# quoted-string content (RFC 3261 §25.1): qdtext, and quoted-pairs of anything but CR/LF
qdtext_pieces = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(lambda c: c not in '"\\'),
    st.sampled_from(["\\\\", '\\"', "\\\x00", "\\\x07", "\\\x7f", "\\a", "\t", "é", "\u2028"]),
)
quoted_strings = st.lists(qdtext_pieces, max_size=8).map(lambda p: '"' + "".join(p) + '"')
display_names = st.one_of(
    st.just(""),
    quoted_strings.map(lambda q: q + " "),
    quoted_strings,  # no LWS before "<" (RFC 4475 lwsdisp)
    st.lists(tokens, min_size=1, max_size=3).map(lambda ts: " ".join(ts) + " "),
)
header_params = st.lists(
    st.one_of(
        st.builds(lambda n: f";{n}", lower_names),
        st.builds(lambda n, v: f";{n}={v}", lower_names, tokens),
        st.builds(lambda n, v: f";{n}={v}", lower_names, quoted_strings),
        st.builds(lambda n: f';{n}=""', lower_names),  # empty quoted value
        st.sampled_from([";lr", ";q=0.5", ";expires=3600", ";received=[2001:db8::9]", ";rport"]),
    ),
    max_size=3,
).map("".join)
# " ; " and " = " are legal LWS around separators (SEMI, EQUAL: RFC 3261 §25.1)
spaced_params = header_params.map(lambda p: p.replace(";", " ; "))


@st.composite
def name_addr_values(draw: st.DrawFn) -> str:
    params = draw(header_params | spaced_params)
    if draw(st.integers(0, 4)) == 0:
        # addr-spec without <>: no URI params or headers there, they'd be header params
        host = draw(wire_hosts)
        return f"sip:{draw(uri_words)}@{host}{params}"
    return f"{draw(display_names)}<{draw(uri_texts())}>{params}"


@st.composite
def via_values(draw: st.DrawFn) -> str:
    proto = draw(st.sampled_from(["UDP", "tcp", "TLS", "SCTP", "WS", "X-NEW"]))
    sep = draw(st.sampled_from(["/", " / "]))
    branch = ";branch=z9hG4bK" + draw(tokens)
    return (
        f"SIP{sep}2.0{sep}{proto} {draw(wire_hosts)}{draw(wire_ports)}{branch}{draw(header_params)}"
    )


def _joined(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(values, min_size=1, max_size=3).map(lambda vs: ", ".join(vs))


unknown_names = st.one_of(
    st.text(TOKEN_CHARS, min_size=1, max_size=10).map(lambda s: "X" + s),
    st.sampled_from(["NewFangledHeader", "a", "y", "d", "j", "Accept-Contact", "P-Foo"]),
)
raw_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_categories=("Cs",)),
    max_size=20,
)

# Call-ID = word [ "@" word ] (RFC 3261 §25.1), every word character used
call_ids = st.from_regex(r"\A[a-zA-Z0-9.!%*_+`'~()<>:\\\"/\[\]?{}-]{1,12}(@[a-z0-9.]{1,8})?\Z")

# (name spellings, value strategy) for the headers a message may carry
HEADERS: list[tuple[list[str], st.SearchStrategy[str]]] = [
    (["Via", "v", "VIA"], _joined(via_values())),
    (["To", "t"], name_addr_values()),
    (["From", "f"], name_addr_values()),
    (["Call-ID", "i", "call-id"], call_ids),
    (
        ["CSeq", "cseq"],
        st.builds(
            lambda n, m: f"{n} {m}",
            st.integers(0, 2**32 - 1),
            st.sampled_from(["INVITE", "OPTIONS", "FOO"]),
        ),
    ),
    (["Max-Forwards"], st.integers(0, 255).map(str)),
    (["Contact", "m"], st.one_of(st.just("*"), _joined(name_addr_values()))),
    (["Route", "Record-Route"], _joined(name_addr_values())),
    (["Subject", "s"], raw_text),
    (["Supported", "k", "Require", "Allow"], st.lists(tokens, max_size=3).map(", ".join)),
    (
        ["Content-Type", "c"],
        st.builds(lambda t, s, p: f"{t}/{s}{p}", tokens, tokens, header_params),
    ),
    (["Expires"], st.integers(0, 2**32 - 1).map(str)),
    (["Date"], st.just("Sat, 13 Nov 2010 23:29:00 GMT")),
    (["Timestamp"], st.sampled_from(["54", "54.5 0.25", "1.", "0.000001 3"])),
    (
        ["Warning"],
        st.builds(lambda c, a, q: f"{c} {a} {q}", st.integers(300, 399), tokens, quoted_strings),
    ),
    (["Retry-After"], st.sampled_from(["18000", "5 (a (nested) \\) c);duration=3", "0 ()"])),
    (
        ["Authorization"],
        st.builds(
            lambda u, r: f'Digest username={u}, realm="{r}", nonce=""', quoted_strings, tokens
        ),
    ),
    (["Event", "o"], st.builds(lambda t, p: t + p, tokens, header_params)),
    (["Organization", "Server", "User-Agent"], raw_text),
]
LIST_HEADERS = [0, 6, 7, 9]  # Via, Contact, Route/Record-Route, option tags


@st.composite
def wire_messages(draw: st.DrawFn) -> bytes:
    """A SIP-shaped message: a start line, known, unknown and compact headers (some merged
    over several lines, some folded), and a body with or without Content-Length."""
    if draw(st.booleans()):
        method = draw(st.sampled_from(["INVITE", "OPTIONS", "REGISTER", "FOO", "x.y~z"]))
        start = f"{method} {draw(uri_texts(headers=False))} SIP/2.0"
    else:
        reason = draw(
            st.text(
                st.characters(
                    min_codepoint=0x20, max_codepoint=0x2FF, blacklist_categories=("Cs",)
                ),
                max_size=15,
            )
        )
        start = f"SIP/2.0 {draw(st.integers(100, 699))} {reason}"
    lines = [start]
    # each header once (a second To or Call-ID is a plain multiple_definition error),
    # then a list header again on a line of its own, to be merged (RFC 3261 §7.3.1)
    chosen = draw(st.lists(st.sampled_from(range(len(HEADERS))), max_size=10, unique=True))
    chosen += draw(st.lists(st.sampled_from(LIST_HEADERS), max_size=2))
    for index in chosen:
        names, values = HEADERS[index]
        name = draw(st.sampled_from(names))
        colon = draw(st.sampled_from([": ", ":", " : ", "\t:\t", ":   "]))
        value = draw(values)
        if draw(st.integers(0, 5)) == 0 and " " in value:
            # RFC 3261 §7.3.1 folding: LWS may be a CRLF followed by whitespace
            value = value.replace(" ", draw(st.sampled_from(["\r\n ", "\r\n\t", " \r\n  "])), 1)
        lines.append(f"{name}{colon}{value}")
    for _ in range(draw(st.integers(0, 2))):
        name = draw(unknown_names)
        lines.extend(f"{name}: {v}" for v in draw(st.lists(raw_text, min_size=1, max_size=2)))
    body = draw(st.binary(max_size=40) | st.text(max_size=20).map(str.encode))
    mode = draw(st.sampled_from(["exact", "none", "short", "compact"]))
    if mode == "exact":
        lines.append(f"Content-Length: {len(body)}")
    elif mode == "compact":
        lines.append(f"l:{len(body)}")
    elif mode == "short" and body:
        lines.append(f"Content-Length: {len(body) // 2}")  # octets past it are ignored
    eol = draw(st.sampled_from(["\r\n", "\r\n", "\n"]))
    head = eol.join(lines) + eol + eol
    lead = draw(st.sampled_from(["", "", "\r\n", "\r\n\r\n"]))
    return (lead + head).encode("utf-8", "surrogatepass") + body


# --- mutation ---------------------------------------------------------------------------------

INTERESTING = [
    b"\r\n", b"\n", b"\r", b" ", b"\t", b"\r\n ", b"\r\n\t", b'"', b"\\", b"<", b">", b";",
    b",", b"=", b"%00", b"%", b"%41", b"%2", b"[", b"]", b":", b"@", b"?", b"&", b"\x00",
    b"\xc3\xa9", b"\xff", b"\xc3", b"sip:", b"sips:", b"tel:", b"x-y:", b";lr", b";a=",
    b';a=""', b"i:", b"m:", b"v:", b"l:", b"f:", b"t:", b"[::1]", b"(", b")", b"*", b"/",
    b"0", b"4294967296", b"-1", b"Content-Length: 0\r\n", b"\r\n\r\n", b"SIP/2.0",
]  # fmt: skip


@st.composite
def mutated_seeds(draw: st.DrawFn) -> bytes:
    """A valid torture message with up to six splices: inserted grammar fragments, deleted
    or overwritten bytes, duplicated slices."""
    seeds = valid_seeds()
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 3))
        if op == 0:
            data[at:at] = draw(st.sampled_from(INTERESTING))
        elif op == 1:
            del data[at : at + draw(st.integers(1, 8))]
        elif op == 2 and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            start = draw(st.integers(0, len(data)))
            data[at:at] = data[start : start + draw(st.integers(1, 60))]
    return bytes(data)


# One valid value of every typed header (RFC 3261 §20 and the RFCs of the extra headers),
# to be mutated one header at a time.
HEADER_SAMPLES: dict[str, str] = {
    "Accept": "application/sdp;level=1, */*;q=0.5",
    "Accept-Encoding": "gzip;q=1.0, *",
    "Accept-Language": "da, en-gb;q=0.8",
    "Alert-Info": "<http://www.example.com/sounds/moo.wav>;x=1",
    "Allow": "INVITE, ACK",
    "Allow-Events": "presence, dialog",
    "Authentication-Info": 'nextnonce="47364c23432d2e131a5fb210812c", qop=auth, nc=00000001',
    "Authorization": 'Digest username="Alice", realm="atlanta.com", nonce="84a4cc6f", '
    'response="7587245234b3434cc3412213e5f113a5432"',
    "Call-Info": "<http://wwww.example.com/alice/photo.jpg> ;purpose=icon",
    "Contact": '"Mr. Watson" <sip:watson@worcester.example.com>;q=0.7; expires=3600, '
    "<mailto:watson@bell-telephone.com> ;q=0.1",
    "Content-Disposition": "session;handling=optional",
    "Content-Encoding": "gzip",
    "Content-Language": "fr",
    "Content-Type": 'multipart/mixed;boundary="a b"',
    "Date": "Sat, 13 Nov 2010 23:29:00 GMT",
    "Error-Info": "<sip:not-in-service-recording@atlanta.com>",
    "Event": "dialog;id=a;x",
    "Expires": "5",
    "From": '"A" <sip:a@b>;tag=2',
    "In-Reply-To": "70710@saturn.bell-tel.com, 17320@saturn.bell-tel.com",
    "MIME-Version": "1.0",
    "Max-Forwards": "70",
    "Min-Expires": "60",
    "Min-SE": "90;x=1",
    "Organization": "Boxes by Bob",
    "P-Asserted-Identity": '"Cullen" <sip:fluffy@example.com>, <tel:+14085264000>',
    "P-Preferred-Identity": "<sip:a@b>",
    "Path": "<sip:p.example.com;lr>",
    "Priority": "emergency",
    "Privacy": "id;header",
    "Proxy-Authenticate": 'Digest realm="atlanta.com", domain="sip:ss1.carrier.com", '
    'qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5',
    "Proxy-Authorization": 'Digest username="Alice", realm="atlanta.com", nonce="c60f3082", '
    'response="245f23415f11432b3434341c022"',
    "Proxy-Require": "foo",
    "RAck": "776656 1 INVITE",
    "RSeq": "988789",
    "Reason": 'SIP ;cause=200 ;text="Call completed elsewhere"',
    "Record-Route": "<sip:p1.example.com;lr>",
    "Refer-To": "<sip:b@c?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345>",
    "Referred-By": '<sip:r@referrer.example>;cid="20398823.2UWQFN309shb3@referrer.example"',
    "Replaces": "98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff",
    "Reply-To": "Bob <sip:bob@biloxi.com>",
    "Require": "100rel",
    "Retry-After": "18000 (x);duration=3600",
    "Route": "<sip:bigbox3.site3.atlanta.com;lr>",
    "Server": "HomeServer v2",
    "Service-Route": "<sip:P2.HOME.EXAMPLE.COM;lr>",
    "Session-Expires": "4000;refresher=uac",
    "Subject": "Need more boxes",
    "Subscription-State": "active;expires=60",
    "Supported": "100rel",
    "Timestamp": "54 0.5",
    "To": "<sip:a@b>;tag=1",
    "Unsupported": "foo",
    "User-Agent": "Softphone Beta1.5",
    "Via": "SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK1;received=[2001:db8::9];rport",
    "WWW-Authenticate": 'Digest realm="atlanta.com", qop="auth", nonce="f84f1", opaque="", '
    "stale=FALSE, algorithm=MD5",
    "Warning": '307 isi.edu "Session parameter \'foo\' not understood", 301 [::1]:5 "x"',
}
VALUE_PIECES = [
    " ", "\t", ",", ";", "=", '"', "\\", "<", ">", "(", ")", "/", ":", "@", "?", "&", "%",
    "%00", "[", "]", "*", "+", "-", ".", "0", "9", "a", "Z", "é", "\x00", "\x7f", "\r\n ",
    '""', "sip:", "tel:",
]  # fmt: skip


@st.composite
def mutated_header_lines(draw: st.DrawFn, names: list[str]) -> tuple[str, str]:
    """(name, value): a sample value of one of ``names`` with up to four splices."""
    name = draw(st.sampled_from(names))
    value = list(HEADER_SAMPLES[name])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(value)))
        op = draw(st.integers(0, 2))
        if op == 0:
            value[at:at] = [draw(st.sampled_from(VALUE_PIECES))]
        elif op == 1:
            del value[at : at + draw(st.integers(1, 3))]
        else:
            start = draw(st.integers(0, len(value)))
            value[at:at] = value[start : start + draw(st.integers(1, 8))]
    return name, "".join(value)
