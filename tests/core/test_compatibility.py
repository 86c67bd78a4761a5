"""Which Nukes can load a build: the install and Build Model refuse, naming both versions, what the running Nuke
cannot load."""
import pytest

from nuke_plugin.contract import torch_targets
from nuke_plugin.core.compatibility import load_problem, nukes_text, target_problem

FUSED_NUKES = ("nuke15.1", "nuke16")


def test_a_fused_build_is_refused_in_nuke_14_naming_both_versions():
    problem = load_problem(FUSED_NUKES, 14, 0, "14.0v5")
    assert problem.startswith("This CorridorKey build loads in Nuke 15.1 / 15.2 and Nuke 16 / 17; this is Nuke "
                              "14.0v5, whose torch 1.12.1 cannot load it.")
    assert "Target Nuke Nuke 14 / 15.0: that build loads in Nuke 14 / 15.0, Nuke 15.1 / 15.2 and Nuke 16 / 17" \
        in problem
    assert load_problem(FUSED_NUKES, 15, 0, "15.0v4") is not None  # 15.0 embeds Nuke 14's torch


@pytest.mark.parametrize("major, minor", [(15, 1), (15, 2), (16, 0), (17, 0)])
def test_a_fused_build_installs_where_its_operator_is_known(major, minor):
    assert load_problem(FUSED_NUKES, major, minor, "%d.%dv1" % (major, minor)) is None


def test_builds_that_do_not_say_are_not_refused_and_builds_for_no_nuke_always_are():
    assert load_problem(None, 14, 0, "14.0v5") is None
    assert "loads in no supported Nuke; this is Nuke 16.0v2" in load_problem((), 16, 0, "16.0v2")
    assert "Nuke 13" in load_problem(FUSED_NUKES, 13, 2, "13.2v1") and "not supported" in load_problem(
        FUSED_NUKES, 13, 2, "13.2v1").lower()


def test_before_an_export_the_target_says_where_its_build_will_load():
    assert target_problem("nuke16", 16, 0, "16.0v2") is None
    assert target_problem("nuke15.1", 16, 0, "16.0v2") is None
    assert target_problem("nuke14", 14, 0, "14.0v5") is None
    assert target_problem("", 14, 0, "14.0v5") is None  # no target: portable, loads everywhere
    assert "this is Nuke 14.0v5" in target_problem("nuke16", 14, 0, "14.0v5")


def test_the_torch_table_is_the_one_home_of_each_targets_operator_set():
    assert [t.key for t in torch_targets.nukes_for_target("nuke16")] == list(FUSED_NUKES)
    assert [t.key for t in torch_targets.nukes_for_target("nuke14")] == ["nuke14", "nuke15.1", "nuke16"]
    assert torch_targets.operators_for("") == torch_targets.operators_for("nuke14") == torch_targets.PORTABLE
    assert torch_targets.operators_for("nuke16") == torch_targets.operators_for("nuke15.1") == torch_targets.FUSED
    assert torch_targets.operators_for("nuke13") == torch_targets.PORTABLE  # unsupported: never a set it cannot load
    assert [t.key for t in torch_targets.nukes_loading(["2.1.1", "2.7.1+cu126", "2.14.1"])] == list(FUSED_NUKES)
    assert nukes_text(["nuke14"]) == "Nuke 14 / 15.0" and nukes_text([]) == "no supported Nuke"
