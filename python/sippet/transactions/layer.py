"""``TransactionLayer``: the table of live transactions, routing every input to its
machine and removing the finished ones (RFC 3261 §17, RFC 6026).

Sans-I/O: every input carries ``now`` (seconds, any monotonic origin) and returns the
actions to carry out; ``next_deadline()`` says when to call ``handle_timers`` next.
"""

from __future__ import annotations

import heapq
import math

from sippet.errors import TransactionError
from sippet.headers import SentBy
from sippet.message import Message, RequestLine, StatusLine
from sippet.transactions.actions import (
    Action,
    DeliverRequest,
    DeliverResponse,
    Send,
    Terminated,
    new,
)
from sippet.transactions.client_invite import ClientInviteTransaction
from sippet.transactions.client_non_invite import ClientNonInviteTransaction
from sippet.transactions.keys import (
    LEGACY_PREFIX,
    MAGIC_COOKIE,
    METHOD_TEXT,
    NORMALIZED,
    ClientKey,
    ServerKey,
    TransactionKey,
    method_text,
    normalize,
    server_key_of,
)
from sippet.transactions.machine import (
    END,
    TERMINATED,
    Event,
    State,
    Step,
    Transaction,
    absorb,
)
from sippet.transactions.matching import legacy_ack_matches, legacy_request_matches
from sippet.transactions.server_invite import ServerInviteTransaction
from sippet.transactions.server_non_invite import ServerNonInviteTransaction
from sippet.transactions.timers import TimerQueue, TimerSettings, Timing

_ACK = Event.ACK
_REQUEST = Event.REQUEST
_TRYING = State.TRYING
_CALLING = State.CALLING
_heapreplace = heapq.heapreplace
_heappop = heapq.heappop
_INFINITY = math.inf


class TransactionLayer:
    """Client and server transactions of one stack, keyed by ``ClientKey``/``ServerKey``.

    Hot paths (one call per message or timer): the transactions are looked up with plain
    tuples ``(branch, method[, sent_by])``, which hash and compare like the named-tuple keys
    they were stored under (the method may be a ``Method``, a ``StrEnum`` equal to its
    text); the ``ClientKey``/``ServerKey`` itself is built once, when a transaction starts.
    """

    __slots__ = (
        "_clients",
        "_fifos",
        "_reliable",
        "_servers",
        "_settings",
        "_timers",
        "_unreliable",
    )

    def __init__(self, settings: TimerSettings | None = None) -> None:
        self._settings = settings = TimerSettings() if settings is None else settings
        self._clients: dict[tuple[str, str], Transaction] = {}
        self._servers: dict[tuple[str, str, SentBy], Transaction] = {}
        self._timers: TimerQueue[Transaction] = TimerQueue()
        # The queue's FIFOs by delay (the same dict for the queue's life), for the inlined
        # push and cancel.
        self._fifos = self._timers._fifos
        self._unreliable = Timing(settings, False)
        self._reliable = Timing(settings, True)

    @property
    def settings(self) -> TimerSettings:
        """The timer values of this layer's transactions (fixed: resolved once, per kind of
        transport, into the ``Timing`` each transaction points to)."""
        return self._settings

    # -- requests from the network: server transactions (§17.2.3) -----------------------

    def receive_request(
        self, request: Message, source: object, reliable: bool, now: float
    ) -> list[Action]:
        """A request from the network. A new request (not ACK) creates a server transaction
        and goes to the TU with its key; a retransmission is absorbed by its transaction
        (which may resend its last response); an ACK for a non-2xx ends up in its INVITE
        transaction; any other ACK goes to the TU with key None (the ACK of a 2xx)."""
        line = request.start_line
        if not isinstance(line, RequestLine):
            raise TransactionError("receive_request got a response", reason="not_a_request")
        method = line[0]  # RequestLine.method (indexing is cheaper than a field name)
        try:
            _version, protocol, sent_by, params = request.headers["via"][0]
        except (KeyError, IndexError, TypeError):
            raise TransactionError("request without a Via", reason="invalid_message") from None
        try:
            branch = params["branch"]
        except KeyError:
            branch = None
        # §17.2.3: an RFC 3261 branch (magic cookie and more) is the whole match; anything
        # else takes the RFC 2543 rules (keys.py, matching.py).
        if branch is None or len(branch) <= 7 or not branch.startswith(MAGIC_COOKIE):
            return self._receive_legacy(request, method, source, reliable, now)
        try:
            normal = NORMALIZED[protocol][sent_by]
        except KeyError:
            normal = normalize(sent_by, protocol)
        if method == "ACK":
            # §17.2.3: an ACK matches the INVITE transaction it acknowledges.
            transaction = self._servers.get((branch, "INVITE", normal))
            if transaction is None or not transaction.IS_INVITE:
                return [new(DeliverRequest, (request, None))]
            return self._apply(
                transaction, transaction.STEPS.get((transaction.state, _ACK)), request, now
            )
        servers = self._servers
        transaction = servers.get((branch, method, normal))
        if transaction is not None:
            return self._apply(
                transaction, transaction.STEPS.get((transaction.state, _REQUEST)), request, now
            )
        key: ServerKey = new(ServerKey, (branch, METHOD_TEXT.get(method, method), normal))
        if method == "INVITE":
            return self._start_server(key, method, request, source, reliable, now)
        # §17.2.2: a new non-INVITE server transaction enters Trying and passes the request
        # up; no timer runs. ServerNonInviteTransaction.make(...), inlined (the hot path).
        transaction = ServerNonInviteTransaction()
        transaction.key = key
        transaction.request = request
        transaction.peer = source
        transaction.timing = self._reliable if reliable else self._unreliable
        transaction.state = _TRYING
        transaction.last_sent = transaction.entry = None
        transaction.retransmit_at = transaction.timeout_at = None
        servers[key] = transaction
        return [new(DeliverRequest, (request, key))]

    def _receive_legacy(
        self, request: Message, method: str, source: object, reliable: bool, now: float
    ) -> list[Action]:
        """``receive_request`` for a request matched by the RFC 2543 rules (§17.2.3)."""
        is_ack = method == "ACK"
        key = server_key_of(request, "INVITE" if is_ack else method_text(method))
        assert key is not None  # the caller checked the Via
        transaction = self._servers.get(key)
        if is_ack:
            if (
                transaction is None
                or not transaction.IS_INVITE
                or (
                    key.branch.startswith(LEGACY_PREFIX)
                    and not legacy_ack_matches(transaction, request)
                )
            ):
                return [new(DeliverRequest, (request, None))]
            return self._apply(
                transaction, transaction.STEPS.get((transaction.state, _ACK)), request, now
            )
        if transaction is not None:
            if key.branch.startswith(LEGACY_PREFIX) and not legacy_request_matches(
                transaction, request
            ):
                # Same Call-ID, From tag, CSeq and Via as a live RFC 2543 transaction, yet
                # not its retransmission: a merged request (§8.2.2.2); the TU may answer
                # it statelessly (482).
                return [new(DeliverRequest, (request, None))]
            return self._apply(
                transaction, transaction.STEPS.get((transaction.state, _REQUEST)), request, now
            )
        return self._start_server(key, method, request, source, reliable, now)

    def _start_server(
        self,
        key: ServerKey,
        method: str,
        request: Message,
        source: object,
        reliable: bool,
        now: float,
    ) -> list[Action]:
        timing = self._reliable if reliable else self._unreliable
        if method == "INVITE":
            transaction: Transaction = ServerInviteTransaction.make(key, request, source, timing)
        else:
            transaction = ServerNonInviteTransaction.make(key, request, source, timing)
        self._servers[key] = transaction
        actions = transaction.start(now)
        if transaction.retransmit_at is None and transaction.timeout_at is None:
            return actions
        return self._settle(transaction, actions)

    def send_response(self, response: Message, now: float) -> list[Action]:
        """A response from the TU, routed to its server transaction by top Via and CSeq
        method. Raises ``TransactionError`` with reason ``"no_transaction"`` when there is
        none (never started, or already terminated), and ``"response_not_allowed"`` when the
        transaction's state takes no response of that class: a final response after the
        final one (RFC 3261 §17.2.1, §17.2.2; RFC 6026 §7.1 lets only 2xx retransmissions
        through in Accepted), or a 1xx after it. Nothing is sent then."""
        line = response.start_line
        headers = response.headers
        transaction = None
        try:
            method = headers["cseq"][1]  # CSeq.method
            _version, protocol, sent_by, params = headers["via"][0]
        except (KeyError, IndexError, TypeError):
            method = None  # no CSeq or no Via: no transaction
        if method is not None and isinstance(line, StatusLine):
            try:
                branch = params["branch"]
            except KeyError:
                branch = None
            if branch is None or len(branch) <= 7 or not branch.startswith(MAGIC_COOKIE):
                key = server_key_of(response, method_text(method))
                transaction = None if key is None else self._servers.get(key)
            else:
                try:
                    normal = NORMALIZED[protocol][sent_by]
                except KeyError:
                    normal = normalize(sent_by, protocol)
                transaction = self._servers.get((branch, method, normal))
        if transaction is None:
            raise TransactionError(
                "no server transaction for this response", reason="no_transaction"
            )
        code: int = line[0]  # type: ignore[assignment]  # StatusLine.status_code (checked above)
        step = transaction.RESPONSE_STEPS[code // 100].get(transaction.state)
        if step is None:
            # The TU's own mistake (a 2xx after a 486, a second final response, a 1xx
            # after the final one): raised, never absorbed, as only the network's
            # surprises are (RFC 3261 §17.2.1, §17.2.2 list what each state accepts).
            raise _response_refused(transaction, code)
        return self._apply(transaction, step, response, now)

    def find_invite_for_cancel(self, cancel: Message) -> ServerKey | None:
        """RFC 3261 §9.2: the INVITE server transaction a CANCEL cancels, matched by the
        rules of §17.2.3 with the method INVITE. The caller checks its state
        (``state_of``): only a Proceeding INVITE can still be cancelled."""
        key = server_key_of(cancel, "INVITE")
        if key is None:
            return None
        transaction = self._servers.get(key)
        if transaction is None or not transaction.IS_INVITE:
            return None
        if key.branch.startswith(LEGACY_PREFIX) and not legacy_request_matches(transaction, cancel):
            return None
        return key

    # -- requests from the TU: client transactions (§17.1) --------------------------------

    def send_request(
        self, request: Message, destination: object, reliable: bool, now: float
    ) -> tuple[ClientKey, list[Action]]:
        """Start a client transaction for ``request`` (its top Via branch is the key).

        Raises ``TransactionError`` with reason ``"already_started"`` when the key is live,
        ``"ack_not_allowed"`` for an ACK (the ACK of a 2xx is not a transaction: the stack
        sends it directly, §17.1.1.3), ``"no_branch"`` without a top Via branch.
        """
        line = request.start_line
        if not isinstance(line, RequestLine):
            raise TransactionError("send_request got a response", reason="not_a_request")
        method = line[0]  # RequestLine.method
        method = METHOD_TEXT.get(method, method)
        if method == "ACK":
            raise TransactionError("an ACK is sent without a transaction", reason="ack_not_allowed")
        try:
            branch = request.headers["via"][0][3]["branch"]  # top Via's params
        except (KeyError, IndexError, TypeError):
            branch = None
        if branch is None:
            raise TransactionError("request without a top Via branch", reason="no_branch")
        key: ClientKey = new(ClientKey, (branch, method))
        # Client*Transaction.make(...).start(now), inlined (the hot path): §17.1.1.2 Timers
        # A and B, §17.1.2.2 Timers E and F.
        if method == "INVITE":
            transaction: Transaction = ClientInviteTransaction()
            transaction.state = _CALLING
        else:
            transaction = ClientNonInviteTransaction()
            transaction.state = _TRYING
        # One hash of the key for the check and the insertion.
        if self._clients.setdefault(key, transaction) is not transaction:
            raise TransactionError(f"transaction {key} already started", reason="already_started")
        transaction.key = key
        transaction.request = request
        transaction.peer = destination
        transaction.last_sent = None
        timing = self._reliable if reliable else self._unreliable
        transaction.timing = timing
        # B or F = 64*T1 always; A or E = T1 over unreliable transports only.
        transaction.timeout_delay = delay = timing.long
        transaction.timeout_at = deadline = now + delay
        if reliable:
            transaction.retransmit_at = None
        else:
            transaction.retransmit_interval = delay = timing.t1
            transaction.retransmit_at = deadline = now + delay
        # The queue entry, at the earlier slot (TimerQueue.push, its common case inlined).
        timers = self._timers
        transaction.entry = entry = (deadline, transaction, delay)
        fifo = self._fifos.get(delay)
        if fifo is not None and fifo[-1][0] <= deadline:
            fifo.append(entry)
        else:
            timers.push_entry(entry, delay)
        return key, [new(Send, (request, destination, key))]

    def receive_response(self, response: Message, now: float) -> list[Action]:
        """A response from the network (§17.1.3: top Via branch and CSeq method). One that
        matches no client transaction goes to the TU with key None."""
        line = response.start_line
        headers = response.headers
        try:
            # (top Via's params["branch"], CSeq.method); subscripts are cheaper than .get
            # and field names, and a missing part is an exception (no cost when absent).
            transaction = self._clients.get((headers["via"][0][3]["branch"], headers["cseq"][1]))
        except (KeyError, IndexError, TypeError):
            transaction = None  # no Via, no branch or no CSeq: matches nothing
        if transaction is None or not isinstance(line, StatusLine):
            return [new(DeliverResponse, (response, None))]
        code: int = line[0]  # StatusLine.status_code
        steps = transaction.RESPONSE_STEPS[code // 100]
        return self._apply(transaction, steps.get(transaction.state), response, now)

    # -- both kinds ------------------------------------------------------------------------

    def transport_error(self, key: TransactionKey, reason: str, now: float) -> list[Action]:
        """The transport failed to send for ``key``: the TU is told (DeliverError); a client
        transaction ends (§17.1.4), a server transaction stays in its state (RFC 6026
        §8.8). An unknown key (already ended) gives no action."""
        transaction = self._find(key)
        if transaction is None:
            return []
        return self._settle(transaction, transaction.transport_error(reason, now))

    def handle_timers(self, now: float) -> list[Action]:
        """Fire every timer due at ``now``, in deadline order. Each fires at its own
        deadline, so retransmission instants do not drift when the stack calls late."""
        actions: list[Action] = []
        timers = self._timers
        servers = self._servers
        clients = self._clients
        while True:
            # A run: entries of the earliest FIFO that are due and before every other FIFO's
            # head and the fallback heap's top, popped without TimerQueue calls. The timers
            # that only end (D, I, J, K, L, M) fire here without a call; anything else (and
            # a tie between FIFOs) goes through pop_due and _fire, which may touch the queue.
            heads = timers._heads
            heap = timers._heap
            if not heads:
                due = timers.pop_due(now)  # the fallback heap only, if anything
                if due is None:
                    return actions
                actions += self._fire(due)
                continue
            head = heads[0]
            fifo = head[2]
            first = fifo[0][0]
            if first > now and (not heap or heap[0][0] > now):
                return actions
            bound = _INFINITY if not heap else heap[0][0]
            count = len(heads)
            if count > 1:
                other = heads[1][0]
                if count > 2 and heads[2][0] < other:
                    other = heads[2][0]
                if other <= bound:
                    # Strictly before it: on a tie, pop_due picks the FIFO.
                    bound = math.nextafter(other, -_INFINITY)
            if first > now or first > bound:
                due = timers.pop_due(now)
                if due is None:
                    return actions
                actions += self._fire(due)
                continue
            if now < bound:
                bound = now
            leave: tuple[float, Transaction, float] | None = None
            popleft = fifo.popleft
            while fifo:
                entry = popleft()
                deadline = entry[0]
                if deadline > bound:
                    fifo.appendleft(entry)  # not yet: back to the front
                    break
                transaction = entry[1]
                if transaction.entry is not entry:
                    timers._dead -= 1  # cancelled (lazy deletion)
                    continue
                transaction.entry = None
                timeout_at = transaction.timeout_at
                if timeout_at is None or timeout_at > deadline:
                    leave = entry
                    break
                if transaction.TIMEOUT_STEPS.get(transaction.state) is not END:
                    leave = entry
                    break
                # A timeout that only ends: RFC 3261 §17, "destroyed immediately". (The
                # slots are left as they are: the transaction is unreachable from now on.)
                transaction.state = TERMINATED
                key = transaction.key
                if transaction.IS_SERVER:
                    del servers[key]
                else:
                    del clients[key]
                actions.append(new(Terminated, (key,)))
            # The head follows its FIFO (as in TimerQueue.pop_due).
            if fifo:
                head[0] = fifo[0][0]
                _heapreplace(heads, head)
            else:
                _heappop(heads)
                del timers._fifos[head[1]]
            if leave is not None:
                actions += self._fire(leave)

    def _fire(self, due: tuple[float, Transaction, float]) -> list[Action]:
        """Run the timer of a popped queue entry (its slot's deadline is ``due[0]``)."""
        deadline, transaction, _delay = due
        # The entry stands for the earlier of the two slots; the timeout wins a tie, so a
        # request is not resent at the instant the transaction gives up.
        timeout_at = transaction.timeout_at
        if timeout_at is not None and timeout_at <= deadline:
            transaction.timeout_at = None
            step = transaction.TIMEOUT_STEPS.get(transaction.state)
        else:
            retransmit_at = transaction.retransmit_at
            if retransmit_at is None or retransmit_at > deadline:
                # Not a slot's deadline (the entry is re-filed whenever a slot changes, so
                # this is not expected): file the entry again, fire nothing.
                return self._settle(transaction, [])
            transaction.retransmit_at = None
            step = transaction.RETRANSMIT_STEPS.get(transaction.state)
        return self._apply(transaction, step, None, deadline)

    def next_deadline(self) -> float | None:
        """The earliest pending timer deadline, or None when no timer runs."""
        return self._timers.next_deadline()

    def terminate(self, key: TransactionKey, now: float) -> list[Action]:
        """End a transaction at once, without telling the TU anything but Terminated."""
        transaction = self._find(key)
        if transaction is None:
            return []
        transaction.state = TERMINATED
        transaction.stop_timers()
        return self._settle(transaction, [])

    def state_of(self, key: TransactionKey) -> State | None:
        """The state of a live transaction, None for an unknown or ended one."""
        transaction = self._find(key)
        return None if transaction is None else transaction.state

    def __len__(self) -> int:
        return len(self._clients) + len(self._servers)

    @property
    def client_count(self) -> int:
        return len(self._clients)

    @property
    def server_count(self) -> int:
        return len(self._servers)

    @property
    def timer_count(self) -> int:
        """Entries in the timer queue, cancelled ones included until they are dropped."""
        return len(self._timers)

    # -- internals -------------------------------------------------------------------------

    def _find(self, key: TransactionKey) -> Transaction | None:
        if isinstance(key, ServerKey):
            return self._servers.get(key)
        return self._clients.get(key)

    def _apply(
        self, transaction: Transaction, step: Step | None, message: Message | None, now: float
    ) -> list[Action]:
        """Run one transition (``step``, from the transaction's tables; None: the input is
        absorbed), then settle the transaction: remove it if it ended, else file its queue
        entry at the earlier of its two timer slots. ``Transaction.dispatch`` and
        ``_settle`` in one call, as this runs for every message and timer."""
        if step is None:
            # Absorbed (no entry in the table): nothing changed. A timer that fired has no
            # queue entry any more: settle files the other slot, if it runs.
            return [] if transaction.entry is not None else self._settle(transaction, [])
        target, action = step
        transaction.state = target
        if target is TERMINATED:
            transaction.retransmit_at = transaction.timeout_at = None
            # Most ends (Timers D, I, J, K, L, M) do nothing but end: skip the call.
            actions = [] if action is absorb else action(transaction, message, now)
            return self._remove(transaction, actions)
        actions = action(transaction, message, now)
        if transaction.state is TERMINATED:  # a zero wait ended it in the same input
            return self._remove(transaction, actions)
        # The earlier of the two timer slots, with the delay it was started with.
        deadline = transaction.retransmit_at
        timeout_at = transaction.timeout_at
        if deadline is None or (timeout_at is not None and timeout_at <= deadline):
            if timeout_at is None:
                entry = transaction.entry
                if entry is not None:
                    # TimerQueue.cancel, its common case inlined: the entry is the last of
                    # its FIFO (its timer was the latest started with its delay).
                    fifo = self._fifos.get(entry[2])
                    if fifo is not None and len(fifo) > 1 and fifo[-1] is entry:
                        transaction.entry = None
                        fifo.pop()
                    else:
                        self._timers.cancel(entry)
                return actions
            deadline = timeout_at
            delay = transaction.timeout_delay
        else:
            delay = transaction.retransmit_interval
        entry = transaction.entry
        if entry is not None:
            if entry[0] == deadline:
                return actions
            self._timers.cancel(entry)
        # TimerQueue.push, its common case inlined.
        transaction.entry = entry = (deadline, transaction, delay)
        fifo = self._fifos.get(delay)
        if fifo is not None and fifo[-1][0] <= deadline:
            fifo.append(entry)
        else:
            self._timers.push_entry(entry, delay)
        return actions

    def _remove(self, transaction: Transaction, actions: list[Action]) -> list[Action]:
        """A transaction reached Terminated: drop its timer and its table entry
        (RFC 3261 §17: "destroyed immediately"); ``Terminated`` is its last action."""
        entry = transaction.entry
        if entry is not None:
            self._timers.cancel(entry)
        key = transaction.key
        if transaction.IS_SERVER:
            del self._servers[key]  # type: ignore[arg-type]
        else:
            del self._clients[key]  # type: ignore[arg-type]
        actions.append(new(Terminated, (key,)))
        return actions

    def _settle(self, transaction: Transaction, actions: list[Action]) -> list[Action]:
        """After an input: remove a finished transaction (RFC 3261 §17: "destroyed
        immediately") or move its queue entry to its next timer."""
        if transaction.state is TERMINATED:
            return self._remove(transaction, actions)
        entry = transaction.entry
        # The earlier of the two timer slots, with the delay it was started with.
        deadline = transaction.retransmit_at
        timeout_at = transaction.timeout_at
        if deadline is None or (timeout_at is not None and timeout_at <= deadline):
            deadline = timeout_at
            delay = 0.0 if deadline is None else transaction.timeout_delay
        else:
            delay = transaction.retransmit_interval
        if entry is not None:
            if entry[0] == deadline:
                return actions
            self._timers.cancel(entry)
        if deadline is None:
            transaction.entry = None
            return actions
        # TimerQueue.push, its common case inlined (as in _apply).
        timers = self._timers
        transaction.entry = entry = (deadline, transaction, delay)
        fifo = self._fifos.get(delay)
        if fifo is not None and fifo[-1][0] <= deadline:
            fifo.append(entry)
        else:
            timers.push_entry(entry, delay)
        return actions


def _response_refused(transaction: Transaction, code: int) -> TransactionError:
    return TransactionError(
        f"server transaction {transaction.key} in state {transaction.state.name} "
        f"cannot send a {code} response",
        reason="response_not_allowed",
    )
