"""Stateless nonces (sippet.auth.nonce) and replay protection (sippet.auth.replay)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sippet.auth import NonceCountTracker, NonceFactory, NonceState, generate_key

KEY = bytes(range(32))
T0 = 1_800_000_000.0  # wall-clock seconds


def factory(**options: float) -> NonceFactory:
    return NonceFactory(KEY, "example.com", **options)


def test_a_fresh_nonce_checks_valid_and_carries_its_issue_time() -> None:
    nonces = factory()
    nonce = nonces.make(T0)
    check = nonces.check(nonce, T0 + 1)
    assert check.state is NonceState.VALID
    assert check.issued == T0
    assert nonce != nonces.make(T0)  # the salt makes every nonce unique


def test_any_node_with_the_key_verifies_and_others_do_not() -> None:
    nonce = factory().make(T0)
    assert NonceFactory(KEY, "example.com").check(nonce, T0).state is NonceState.VALID
    assert NonceFactory(generate_key(), "example.com").check(nonce, T0).state is NonceState.INVALID
    # Bound to the realm: another realm sharing the key refuses it.
    assert NonceFactory(KEY, "example.org").check(nonce, T0).state is NonceState.INVALID


def test_expiry_and_clock_skew_make_a_genuine_nonce_stale() -> None:
    nonces = factory(lifetime=30.0, max_clock_skew=2.0)
    nonce = nonces.make(T0)
    assert nonces.check(nonce, T0 + 30.0).state is NonceState.VALID
    assert nonces.check(nonce, T0 + 30.01).state is NonceState.STALE
    assert nonces.check(nonce, T0 - 2.0).state is NonceState.VALID
    assert nonces.check(nonce, T0 - 2.01).state is NonceState.STALE


def test_binding_must_match() -> None:
    nonces = factory()
    nonce = nonces.make(T0, binding="192.0.2.1")
    assert nonces.check(nonce, T0, binding="192.0.2.1").state is NonceState.VALID
    assert nonces.check(nonce, T0, binding="192.0.2.2").state is NonceState.INVALID
    assert nonces.check(nonce, T0).state is NonceState.INVALID


@given(st.integers(min_value=0, max_value=43), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_or_character_is_refused(position: int, delta: int) -> None:
    nonces = factory()
    nonce = nonces.make(T0)
    raw = bytearray(base64.urlsafe_b64decode(nonce))
    raw[position % len(raw)] = (raw[position % len(raw)] + delta) % 256
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode()
    assert nonces.check(tampered, T0).state is NonceState.INVALID


@pytest.mark.parametrize("text", ["", "x", "é", "!!!!", "AAAA", "a" * 44, "a" * 10_000, "=" * 44])
def test_garbage_is_invalid_not_an_exception(text: str) -> None:
    assert factory().check(text, T0).state is NonceState.INVALID


def test_one_nonce_has_one_spelling() -> None:
    # base64 decoding skips characters outside the alphabet; such a spelling would be a
    # different key in the replay table, so it is refused.
    nonces = factory()
    nonce = nonces.make(T0)
    assert nonces.check(nonce[:10] + "\n" + nonce[10:], T0).state is NonceState.INVALID
    assert nonces.check(nonce + "=", T0).state is NonceState.INVALID


def test_weak_keys_and_bad_lifetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        NonceFactory(b"short", "r")
    with pytest.raises(ValueError):
        NonceFactory(KEY, "r", lifetime=0)
    assert len(generate_key()) == 32


# -- replay window --------------------------------------------------------------------


def test_each_count_is_accepted_once_and_out_of_order_within_the_window() -> None:
    tracker = NonceCountTracker(300.0, window=4)
    assert tracker.accept("n", T0, 1, T0)
    assert not tracker.accept("n", T0, 1, T0)
    assert tracker.accept("n", T0, 5, T0)
    assert tracker.accept("n", T0, 3, T0)  # within the window below 5, not seen yet
    assert not tracker.accept("n", T0, 3, T0)
    assert tracker.accept("n", T0, 2, T0)
    assert not tracker.accept("n", T0, 1, T0)  # 5 - 1 = 4: outside the 4-count window
    assert tracker.accept("n", T0, 100, T0)  # a jump clears the window
    assert not tracker.accept("n", T0, 99 - 3, T0)
    assert tracker.accept("n", T0, 97, T0)


def test_nonces_are_independent() -> None:
    tracker = NonceCountTracker(300.0)
    assert tracker.accept("a", T0, 1, T0)
    assert tracker.accept("b", T0, 1, T0)
    assert not tracker.accept("a", T0, 1, T0)


def test_memory_is_bounded_and_forgetting_never_admits_a_replay() -> None:
    tracker = NonceCountTracker(300.0, max_nonces=3)
    for i in range(3):
        assert tracker.accept(f"n{i}", T0 + i, 1, T0 + 3)
    assert tracker.accept("n3", T0 + 3, 1, T0 + 3)  # evicts n0 (issued at T0)
    assert len(tracker) == 3
    # n0's history is gone: its replay must not pass, nor any nonce issued no later.
    assert not tracker.accept("n0", T0, 1, T0 + 3)
    assert not tracker.accept("older", T0 - 1, 1, T0 + 3)
    assert len(tracker) == 3


def test_expired_entries_are_dropped() -> None:
    tracker = NonceCountTracker(10.0)
    for i in range(100):
        tracker.accept(f"n{i}", T0, 1, T0)
    assert len(tracker) == 100
    assert tracker.accept("late", T0 + 11, 1, T0 + 11)
    assert len(tracker) == 1
