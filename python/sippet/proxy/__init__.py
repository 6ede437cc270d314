"""The proxy core (RFC 3261 §16): sans-I/O request checks, route processing, forwarding
and response contexts, in a stateful and a stateless mode.

``StatefulProxy`` and ``StatelessProxy`` take what the stack delivers (with ``now``) and
return actions (``sippet.proxy.actions``); ``next_deadline()`` is their one timer. The
asyncio binder that runs them on a ``sippet.Stack`` is ``sippet.proxy.service`` (imported
on its own, so that this package stays free of I/O). See docs/proxy.md.
"""

from sippet.proxy.actions import (
    EndTransaction,
    Lookup,
    ProxyAction,
    SendRequest,
    SendResponse,
    SendStateless,
)
from sippet.proxy.config import ProxyConfig
from sippet.proxy.forward import ProxyTarget
from sippet.proxy.stateful import StatefulProxy
from sippet.proxy.stateless import StatelessProxy

__all__ = [
    "EndTransaction",
    "Lookup",
    "ProxyAction",
    "ProxyConfig",
    "ProxyTarget",
    "SendRequest",
    "SendResponse",
    "SendStateless",
    "StatefulProxy",
    "StatelessProxy",
]
