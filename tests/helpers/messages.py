"""Types of the message fixtures in ``tests/conftest.py``, for test annotations."""

from __future__ import annotations

from collections.abc import Callable

from sippet import Message

# ``rfc4475(name)`` / ``rfc5118(name)``: the bytes of one torture message.
Load = Callable[[str], bytes]
# ``round_trip(message)``: see ``conftest.check_round_trip``.
RoundTrip = Callable[[Message], Message]
