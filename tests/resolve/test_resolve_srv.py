"""RFC 2782 ordering of SRV records: priority, then weighted random choice (seeded)."""

from __future__ import annotations

import math
import random
from collections import Counter

from sippet.resolve import SrvRecord, order_srv

RUNS = 20_000


def srv(priority: int, weight: int, target: str) -> SrvRecord:
    return SrvRecord(priority, weight, 5060, target)


def first_choices(records: list[SrvRecord], seed: int) -> Counter[str]:
    rng = random.Random(seed)
    return Counter(order_srv(records, rng)[0].target for _ in range(RUNS))


def assert_close(count: int, probability: float) -> None:
    """Within five standard deviations of the binomial mean: a wrong algorithm (plain
    proportional weights, or weight 0 never first) lands far outside."""
    mean = RUNS * probability
    sigma = math.sqrt(RUNS * probability * (1 - probability))
    assert abs(count - mean) <= 5 * sigma, (count, mean, sigma)


def test_lower_priority_always_comes_first() -> None:
    records = [srv(20, 100, "b"), srv(10, 0, "a"), srv(30, 5, "c"), srv(20, 1, "b2")]
    rng = random.Random(7)
    for _ in range(200):
        order = [record.target for record in order_srv(records, rng)]
        assert order[0] == "a"
        assert set(order[1:3]) == {"b", "b2"}
        assert order[3] == "c"


def test_every_record_comes_out_once() -> None:
    records = [srv(0, w, f"h{w}") for w in (0, 0, 1, 5, 10)]
    for seed in range(50):
        assert sorted(order_srv(records, random.Random(seed))) == sorted(records)


def test_weighted_choice_follows_rfc_2782_draw() -> None:
    # RFC 2782: draw uniformly in 0..sum (inclusive) and take the first record whose
    # running sum reaches the draw. Weights 10 and 30 (sum 40, 41 draws): the first record
    # wins draws 0..10 (11/41), the second 11..40 (30/41).
    counts = first_choices([srv(0, 10, "light"), srv(0, 30, "heavy")], seed=2782)
    assert_close(counts["light"], 11 / 41)
    assert_close(counts["heavy"], 30 / 41)


def test_weight_zero_keeps_a_small_chance_to_come_first() -> None:
    # Weight-0 records go to the front of the list; only the draw 0 picks one (1/(sum+1)).
    counts = first_choices([srv(0, 9, "nine"), srv(0, 0, "zero")], seed=11)
    assert counts["zero"] > 0
    assert_close(counts["zero"], 1 / 10)


def test_all_zero_weights_keep_the_given_order() -> None:
    records = [srv(0, 0, "x"), srv(0, 0, "y"), srv(0, 0, "z")]
    assert [r.target for r in order_srv(records, random.Random(3))] == ["x", "y", "z"]


def test_same_seed_same_order() -> None:
    records = [srv(0, w, f"h{i}") for i, w in enumerate((3, 1, 4, 1, 5, 9, 2, 6))]
    assert order_srv(records, random.Random(42)) == order_srv(records, random.Random(42))


def test_dot_targets_are_left_out() -> None:
    records = [srv(0, 1, "."), srv(0, 1, "real.example.com")]
    assert [r.target for r in order_srv(records, random.Random(0))] == ["real.example.com"]
