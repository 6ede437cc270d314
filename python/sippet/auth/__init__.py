"""Digest authentication for SIP (RFC 3261 §22; RFC 2617, RFC 7616, RFC 8760), sans-I/O.

- ``DigestClient``: answer a 401/407 by building the request to send again.
- ``DigestServer``: challenge requests and verify their credentials, with stateless nonces
  (``NonceFactory``) and replay protection by nonce count (``NonceCountTracker``).
- ``Users``: HA1 values per user, realm and algorithm, and the users file format.
- ``digest``: the computations themselves.

Nothing here does I/O or reads a clock: ``now`` is passed in. See docs/auth.md.
"""

from __future__ import annotations

from sippet.auth.algorithms import (
    BASE_ALGORITHMS,
    DEFAULT_SERVER_ALGORITHMS,
    Algorithm,
    parse_algorithm,
    parse_algorithm_list,
)
from sippet.auth.client import DigestClient, UserCredentials
from sippet.auth.digest import Qop, password_ha1, response
from sippet.auth.errors import AuthError, AuthReason
from sippet.auth.fields import Challenge, Credentials, MalformedCredentials
from sippet.auth.nonce import NonceCheck, NonceFactory, NonceState, generate_key
from sippet.auth.replay import NonceCountTracker
from sippet.auth.server import DigestServer, HA1Store, Verdict, challengeable
from sippet.auth.users import DEFAULT_REALM, Users, UsersFileError

__all__ = [
    "BASE_ALGORITHMS",
    "DEFAULT_REALM",
    "DEFAULT_SERVER_ALGORITHMS",
    "Algorithm",
    "AuthError",
    "AuthReason",
    "Challenge",
    "Credentials",
    "DigestClient",
    "DigestServer",
    "HA1Store",
    "MalformedCredentials",
    "NonceCheck",
    "NonceCountTracker",
    "NonceFactory",
    "NonceState",
    "Qop",
    "UserCredentials",
    "Users",
    "UsersFileError",
    "Verdict",
    "challengeable",
    "generate_key",
    "parse_algorithm",
    "parse_algorithm_list",
    "password_ha1",
    "response",
]
