"""Interop tests: sippet against SIPp and Kamailio on loopback (a package, so that this
directory's conftest does not shadow tests/conftest.py as the module `conftest`)."""
