"""Property: whatever the branches of a forked INVITE answer, in any order, with timeouts,
transport errors, Timer C and an upstream CANCEL mixed in, the response context answers
the caller with at most one non-2xx final and never after a 2xx (every 2xx is forwarded),
never sends a provisional after a final, cancels each branch at most once and only when it
can be cancelled (a provisional seen, no final), and leaves nothing behind."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sippet import URI, Message
from sippet.proxy import (
    Lookup,
    ProxyAction,
    ProxyTarget,
    SendRequest,
    SendResponse,
    StatefulProxy,
)
from sippet.transactions import ClientKey
from sippet.transactions.keys import server_key_of

from .messages import CONFIG, code, method, request, response_to

EVENTS = st.sampled_from(
    ["180", "183", "200", "486", "404", "503", "603", "401", "timeout", "error", "tick", "cancel"]
)


def _key(message: Message) -> ClientKey:
    return ClientKey(message.headers["via"][0].branch, method(message))


@settings(max_examples=200, deadline=None)
@given(
    qs=st.lists(st.sampled_from([1.0, 0.5]), min_size=1, max_size=4),
    script=st.lists(st.tuples(st.integers(0, 3), EVENTS), max_size=25),
)
def test_a_context_answers_once_and_ends(qs: list[float], script: list[tuple[int, str]]) -> None:
    proxy = StatefulProxy(CONFIG)
    invite = request()
    key = server_key_of(invite, "INVITE")
    assert key is not None
    now = 0.0
    (lookup,) = proxy.receive_request(invite, key, now)
    targets = [ProxyTarget(URI.parse(f"sip:t{i}@192.0.2.{30 + i}"), q=q) for i, q in enumerate(qs)]
    branches: list[Message] = []  # INVITEs sent, in order
    finals: list[int] = []  # final responses sent upstream
    provisional_after_final = False
    cancelled: set[str] = set()
    answered: set[str] = set()  # branches that sent a final
    rang: set[str] = set()

    def run(actions: list[ProxyAction]) -> None:
        nonlocal provisional_after_final
        for action in actions:
            if isinstance(action, SendRequest):
                sent = action.request
                if method(sent) == "INVITE":
                    branches.append(sent)
                else:
                    assert method(sent) == "CANCEL"
                    branch = sent.headers["via"][0].branch
                    assert branch not in cancelled, "a branch cancelled twice"
                    assert branch in rang and branch not in answered, "CANCEL too early or late"
                    cancelled.add(branch)
            elif isinstance(action, Lookup):
                # A CANCEL whose context is gone is routed like any request (§16.10).
                run(proxy.forward(action.handle, [], now))
            elif isinstance(action, SendResponse):
                status = code(action.response)
                if status < 200:
                    provisional_after_final |= any(f >= 200 for f in finals)
                elif str(action.response.headers["cseq"].method) == "INVITE":
                    finals.append(status)

    run(proxy.forward(lookup.handle, targets, now))
    for index, event in script:
        now += 1.0
        live = [b for b in branches if b.headers["via"][0].branch not in answered]
        if event == "tick":
            now += 200.0  # past Timer C
            run(proxy.handle_timers(now))
            continue
        if event == "cancel":
            cancel = request("CANCEL")
            cancel_key = server_key_of(cancel, "CANCEL")
            assert cancel_key is not None
            run(proxy.receive_request(cancel, cancel_key, now))
            continue
        if not live:
            continue
        branch = live[index % len(live)]
        branch_id = branch.headers["via"][0].branch
        if event in ("timeout", "error"):
            answered.add(branch_id)
            run(proxy.receive_error(event, _key(branch), now))
            continue
        status = int(event)
        if status >= 200:
            answered.add(branch_id)
        else:
            rang.add(branch_id)
        run(proxy.receive_response(response_to(branch, status), _key(branch), now))
    # Every branch still open ends (Timer B would end it), then time runs out.
    for branch in branches:
        branch_id = branch.headers["via"][0].branch
        if branch_id not in answered:
            answered.add(branch_id)
            now += 1.0
            run(proxy.receive_error("timeout", _key(branch), now))
    for _ in range(4):
        now += 300.0
        run(proxy.handle_timers(now))

    non_2xx = [f for f in finals if f >= 300]
    assert finals, "the caller never got a final response"
    assert len(non_2xx) <= 1, finals
    if non_2xx:
        # Never a non-2xx after a 2xx; a 2xx may still follow it (§16.7 step 5: every
        # 2xx is forwarded, e.g. a branch answering before its CANCEL arrived).
        assert finals[0] == non_2xx[0], finals
        assert non_2xx[0] != 503  # §16.7 step 6: sent as 500
    assert not provisional_after_final
    assert len(proxy) == 0 and proxy.next_deadline() is None
