"""contract.selftest.max_difference: the one comparison of a self-test report with its expectations. Its input
comes from another process (Nuke's render, a stored expected.json), so anything malformed counts as a failure,
never as a match and never as a crash."""
import math
import random

import pytest

from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.contract.selftest import max_difference


def test_numbers_lists_and_settings_compare_to_the_largest_difference():
    want = {"default": {"gradient": [[0.0, 1.0, 0.5, 1.0]], "flat": [[0.25, 0.25, 0.25, 0.0]]}}
    got = {"default": {"gradient": [[0.0, 1.0, 0.53, 1.0]], "flat": [[0.25, 0.24, 0.25, 0.0]]}}
    assert max_difference(got, want) == pytest.approx(0.03)
    assert max_difference(want, want) == 0.0
    assert max_difference([], []) == 0.0


@pytest.mark.parametrize("got", [
    {"default": {"gradient": [[0.0, 1.0, 0.5]]}},                   # a channel short
    {"default": {}},                                                # a plate missing
    {"default": {"gradient": [[0.0, 1.0, 0.5, 1.0]]}, "x": {}},     # a setting too many
    {"default": {"gradient": [[0.0, 1.0, float("nan"), 1.0]]}},     # NaN never matches
    {"default": {"gradient": [[0.0, 1.0, "0.5", None]]}},           # not numbers
    {"default": {"gradient": "0.5"}},
    [[0.0, 1.0, 0.5, 1.0]],
])
def test_anything_malformed_is_infinitely_far(got):
    assert max_difference(got, {"default": {"gradient": [[0.0, 1.0, 0.5, 1.0]]}}) == math.inf


def test_random_trees_never_raise():
    rng = random.Random(7)

    def tree(depth):
        kind = rng.choice(["num", "list", "dict", "str", "none", "bool", "big"] if depth < 4 else ["num", "str"])
        if kind == "list":
            return [tree(depth + 1) for _ in range(rng.randint(0, 3))]
        if kind == "dict":
            return {rng.choice("abc"): tree(depth + 1) for _ in range(rng.randint(0, 3))}
        return {"num": rng.uniform(-2, 2), "str": "x", "none": None, "bool": True, "big": 10 ** 400}[kind]

    for _ in range(2000):
        result = max_difference(tree(0), tree(0))
        assert result == math.inf or 0.0 <= result < math.inf


def test_every_knob_has_a_far_end_away_from_its_default_and_in_its_range():
    for knob in KNOBS:
        assert knob.far_end() != knob.default and knob.low <= knob.far_end() <= knob.high
