"""``sippet serve``: a registrar and a stateful record-routing proxy in one command,
scaling out over a shared location store (docs/serve.md).

- ``settings``: ``ServeSettings``, the TOML file, ``ServeError``;
- ``core``: ``ServeCore``, the registrar, the proxy, digest and the relay policy;
- ``observe``: a line per transaction (and the hook metrics use);
- ``cache``: lookups served from cache while a shared store is down;
- ``app``: ``serve(settings)``, start-up checks, SIGTERM drain.
"""

from sippet.apps.serve.settings import ServeError, ServeSettings

__all__ = ["ServeError", "ServeSettings"]
