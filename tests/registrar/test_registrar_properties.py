"""Hypothesis: random REGISTER sequences on a fake clock keep the §10.3 invariants.

After every request: a request touching a binding of its Call-ID with a CSeq not lower is
refused, and only such a request is refused as out of order; a refusal changed nothing; a
200 lists exactly the live bindings, each with 0 < expires <= the maximum; an AOR never
holds more than ``max_bindings``; every contact a 200 wrote holds that request's Call-ID
and CSeq; ``Contact: *`` left nothing.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sippet.registrar import RegistrarPolicy

from .conftest import FakeClock
from .sip import DOMAIN, Desk, contact_expiries, register, status

MAX_BINDINGS = 3
MAX_EXPIRES = 7200

# Weighted towards requests that add bindings, so that AORs fill up to the limit; the
# rarer values still come: removals (0), too brief (30), too long (clamped), Contact: *.
contact = st.tuples(
    st.integers(0, 4),
    st.sampled_from([None, None, 600, 600, 5000, 100_000, 2**40, 0, 30]),
)
register_step = st.tuples(
    st.just("register"),
    st.lists(contact, max_size=3),
    st.sampled_from([None, None, 600, 0]),  # Expires header
    st.integers(0, 2),  # Call-ID
    st.integers(1, 6),  # CSeq
    st.sampled_from([False] * 7 + [True]),  # Contact: * instead of the contacts
)
advance_step = st.tuples(st.just("advance"), st.integers(0, 3000))
steps = st.lists(
    st.one_of(register_step, register_step, register_step, advance_step), min_size=1, max_size=25
)


def contact_text(host: int, expires: int | None) -> str:
    return f"<sip:alice@h{host}.example.net>" + ("" if expires is None else f";expires={expires}")


@settings(max_examples=300, deadline=None)
@given(steps)
def test_random_register_sequences_keep_the_invariants(sequence: list[tuple]) -> None:  # type: ignore[type-arg]
    clock = FakeClock()
    policy = RegistrarPolicy.for_domains(
        DOMAIN, max_bindings=MAX_BINDINGS, min_expires=60, max_expires=MAX_EXPIRES
    )
    desk = Desk(policy, clock)
    for step in sequence:
        if step[0] == "advance":
            clock.advance(step[1])
            continue
        _, contacts, header_expires, call, cseq, star = step
        lines = ["*"] if star else [contact_text(host, expires) for host, expires in contacts]
        before = desk.live()
        touched = {f"h{host}.example.net" for host, _ in contacts}
        # §10.3 steps 6 and 7: a binding of this Call-ID with a CSeq not lower is stale.
        stale = any(
            b.call_id == f"call-{call}" and cseq <= b.cseq and (star or b.contact.host in touched)
            for b in before
        )
        response = desk.send(
            register(lines, call_id=f"call-{call}", cseq=cseq, expires=header_expires)
        )
        code = status(response)
        after = desk.live()
        assert code in (200, 400, 403, 423)
        out_of_order = response.start_line.reason_phrase.startswith("Out Of Order")  # type: ignore[union-attr]
        assert stale or not out_of_order
        if stale:
            assert code != 200
        assert len(after) <= MAX_BINDINGS
        if code != 200:
            assert after == before
            continue
        listed = contact_expiries(response)
        assert listed == {str(b.contact): b.remaining(clock.now) for b in after}
        assert all(0 < seconds <= MAX_EXPIRES for seconds in listed.values())
        if star:
            assert after == ()
        for binding in after:
            written = (
                any(binding.contact.host == f"h{host}.example.net" for host, _ in contacts)
                and not star
            )
            if written:
                assert (binding.call_id, binding.cseq) == (f"call-{call}", cseq)
