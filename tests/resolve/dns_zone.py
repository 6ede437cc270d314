"""The records dnsmasq serves for the adapter tests: a SIP test domain, ``sippet.test``."""

from __future__ import annotations

DOMAIN = "sippet.test"
TTL = 300

HOSTS = [
    f"--host-record=h1.{DOMAIN},127.0.0.1,::1",
    f"--host-record=h2.{DOMAIN},127.0.0.2",
    f"--host-record=h3.{DOMAIN},127.0.0.3",
    f"--host-record=plain.{DOMAIN},127.0.0.4,::1",
    f"--host-record=closed.{DOMAIN},127.0.0.9",
]

# RFC 3263 §4.1's example, under naptr.sippet.test.
NAPTR = [
    f"--naptr-record=naptr.{DOMAIN},50,50,s,SIPS+D2T,,_sips._tcp.naptr.{DOMAIN}",
    f"--naptr-record=naptr.{DOMAIN},90,50,s,SIP+D2T,,_sip._tcp.naptr.{DOMAIN}",
    f"--naptr-record=naptr.{DOMAIN},100,50,s,SIP+D2U,,_sip._udp.naptr.{DOMAIN}",
    f"--srv-host=_sips._tcp.naptr.{DOMAIN},h1.{DOMAIN},5061,0,0",
    f"--srv-host=_sip._tcp.naptr.{DOMAIN},h1.{DOMAIN},5060,0,0",
    f"--srv-host=_sip._udp.naptr.{DOMAIN},h2.{DOMAIN},5062,0,0",
]

# SRV without NAPTR: three priorities over UDP, one TCP and one TLS server.
SRV = [
    f"--srv-host=_sip._udp.srv.{DOMAIN},h2.{DOMAIN},5071,20,0",
    f"--srv-host=_sip._udp.srv.{DOMAIN},h1.{DOMAIN},5070,10,0",
    f"--srv-host=_sip._udp.srv.{DOMAIN},h3.{DOMAIN},5072,30,0",
    f"--srv-host=_sip._tcp.srv.{DOMAIN},h3.{DOMAIN},5073,0,0",
    f"--srv-host=_sips._tcp.srv.{DOMAIN},h3.{DOMAIN},5074,0,0",
]

# One priority, weights 10, 30 and 0 (RFC 2782 weighted choice).
WEIGHTED = [
    f"--srv-host=_sip._udp.weighted.{DOMAIN},h1.{DOMAIN},5080,0,10",
    f"--srv-host=_sip._udp.weighted.{DOMAIN},h2.{DOMAIN},5081,0,30",
    f"--srv-host=_sip._udp.weighted.{DOMAIN},h3.{DOMAIN},5082,0,0",
]

# "." target: SIP over TCP decidedly not available (RFC 2782), though an A record exists.
CLOSED = [f"--srv-host=_sip._tcp.closed.{DOMAIN},."]

ZONE = HOSTS + NAPTR + SRV + WEIGHTED + CLOSED
