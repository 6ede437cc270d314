"""Digest verification cost: verifications per second and replay-table memory per nonce.

Not a test. Run: ``python bench/auth.py [N]`` (default N = 5,000; bounded: one pass of N
requests per algorithm, three passes, about a second in all on a laptop).

Each of the N requests is a REGISTER with its own nonce (the server's worst case: every
verification adds a replay-table entry), answered by ``DigestClient`` and parsed from the
wire, so ``verify`` reads credentials as the stack delivers them. What is timed is
``DigestServer.verify``: locate and read the credentials, check the nonce's HMAC and age,
the URI, the digest (three hashes, plus one for -sess), and the nonce count. Memory is what
the replay table holds per tracked nonce (tracemalloc).
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc

from sippet import Message
from sippet.auth import Algorithm, DigestClient, DigestServer, Qop, UserCredentials, Users

REALM = "bench.example"
KEY = bytes(range(32))
NOW = 1_800_000_000.0
MAX_N = 100_000

REQUEST = (
    "REGISTER sip:bench.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbench{n}\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@bench.example>;tag={n}\r\n"
    "To: <sip:alice@bench.example>\r\n"
    "Call-ID: bench-{n}\r\n"
    "CSeq: 1 REGISTER\r\n"
    "Contact: <sip:alice@192.0.2.1:5060>\r\n"
    "Content-Length: 0\r\n\r\n"
)


def server(algorithm: Algorithm, users: Users, qop: Qop = Qop.AUTH) -> DigestServer:
    return DigestServer(REALM, users, KEY, algorithms=[algorithm], qop=[qop])


def authorized_requests(algorithm: Algorithm, users: Users, n: int) -> list[Message]:
    srv = server(algorithm, users)
    client = DigestClient(default=UserCredentials("alice", "secret"))
    requests = []
    for i in range(n):
        request = Message.parse(REQUEST.format(n=i))
        challenge = Message.parse(srv.challenge(request, NOW).to_bytes())
        requests.append(Message.parse(client.authorize(request, challenge).to_bytes()))
    return requests


def verifications_per_second(algorithm: Algorithm, users: Users, requests: list[Message]) -> float:
    best = float("inf")
    for _ in range(3):
        srv = server(algorithm, users)  # a fresh replay table: every request passes once
        gc.collect()
        gc.disable()
        start = time.process_time()
        for request in requests:
            verdict = srv.verify(request, NOW)
            if not verdict.ok:
                raise SystemExit(f"verification failed: {verdict}")
        best = min(best, time.process_time() - start)
        gc.enable()
    return len(requests) / best


def replay_bytes_per_nonce(algorithm: Algorithm, users: Users, requests: list[Message]) -> float:
    srv = server(algorithm, users)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for request in requests:
        srv.verify(request, NOW)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / len(srv.replays)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    if not 0 < n <= MAX_N:
        raise SystemExit(f"N must be in 1..{MAX_N}")
    users = Users()
    users.set_password("alice", REALM, "secret")
    print(f"Python {sys.version.split()[0]}, N = {n} REGISTERs, one nonce each, qop=auth")
    print("(best of 3, CPU time, GC off during timing; memory by tracemalloc)\n")
    print(
        f"| {'algorithm':<16} | {'verifications/s':>15} | {'µs each':>8} | {'replay B/nonce':>14} |"
    )
    print(f"|{'-' * 18}|{'-' * 17}|{'-' * 10}|{'-' * 16}|")
    for algorithm in (
        Algorithm.MD5,
        Algorithm.SHA_256,
        Algorithm.SHA_256_SESS,
        Algorithm.SHA_512_256,
    ):
        requests = authorized_requests(algorithm, users, n)
        rate = verifications_per_second(algorithm, users, requests)
        memory = replay_bytes_per_nonce(algorithm, users, requests)
        print(f"| {algorithm.value:<16} | {rate:>15,.0f} | {1e6 / rate:>8.1f} | {memory:>14,.0f} |")


if __name__ == "__main__":
    main()
