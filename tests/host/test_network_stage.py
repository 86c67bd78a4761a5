"""Moving a knob that acts after the network leaves the network's stage as it was: the Inference node, every node
that feeds it and every gizmo knob they read. Nuke re-renders a node only when its knobs or inputs change, so the
network's result is kept (the line of tests/fake_nuke/LIMITS.md on the Inference node's cache). Built as Build Model
builds it, in the strict fake, from the shipped self-test model."""
import re

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import node_graph
from nuke_plugin.contract.knob_spec import (
    AUTO_DESPECKLE,
    CLEAN_UP_ONLY,
    DESPECKLE_SIZE,
    DESPILL_STRENGTH,
    KNOBS,
    REFINER_STRENGTH,
    RESAMPLE,
)
from nuke_plugin.core.gizmo import HALF_PRECISION, HINT_CHANNEL, KEYED_BUILD, OUTPUT_MODE, USE_GPU
from nuke_plugin.host.finish import finish_build
from tests import stand_in_exporter

PARENT_KNOB = re.compile(r"\bparent\.([A-Za-z_][A-Za-z0-9_]*)")
INPUT = re.compile(r"^input\d+$")
# The gizmo's knobs that only nodes after the Inference node read.
POST_KNOBS = {DESPILL_STRENGTH.name: 7.5, AUTO_DESPECKLE.name: False, DESPECKLE_SIZE.name: 37, OUTPUT_MODE.name: 4,
              node_graph.PREVIEW_COLOUR.name: [0.9, 0.1, 0.3]}


@pytest.fixture
def gizmo(fake_nuke, tmp_path):
    """The CorridorKey node, installed from an export of the shipped self-test model, with the plate connected."""
    export = tmp_path / "export"
    stand_in_exporter.write_export(str(export / contract.PT_NAME))
    finish_build(str(export), install_dir=str(tmp_path / "install"), drop=False, overwrite=True)
    node = getattr(fake_nuke.nodes, contract.MODEL_ID)()
    node.setInput(0, fake_nuke.nodes.Constant())
    assert not node.hasError(), node.error_message()
    return node


def _upstream(node):
    """`node` and every node that feeds it, inside the gizmo."""
    found, pending = [], [node]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        pending.extend(n for n in (current.input(i) for i in range(current.inputs())) if n is not None)
    return found


def network_stage(gizmo):
    """What decides the network's result: each node up to the Inference node with its inputs and every knob's
    text or expression, the Inference node's knob values as the model gets them, and the gizmo's knobs they read."""
    inference = gizmo.node(node_graph.NETWORK_NODE)
    nodes = _upstream(inference)
    texts, read = {}, set()
    for node in nodes:
        inputs = [None if n is None else n.name() for n in (node.input(i) for i in range(node.inputs()))]
        knobs = {}
        for name, knob in node.knobs().items():
            text = knob.expression() if knob.hasExpression() else knob.toScript()
            knobs[name] = text
            read.update(PARENT_KNOB.findall(text or ""))
        texts[node.name()] = (node.Class(), inputs, knobs)
    model = {k.name: inference[k.name].getValue() for k in KNOBS}
    model.update({t.name: inference[t.name].getValue() for t in (USE_GPU, HALF_PRECISION)})
    # `[exists parent.input1]` reads whether the gizmo's input is connected, not a knob.
    inputs = {name: gizmo.input(int(name[5:])) is not None for name in read if INPUT.match(name)}
    knobs = {name: gizmo[name].toScript() for name in sorted(read) if name not in inputs}
    return {"nodes": texts, "model": model, "gizmo": knobs, "inputs": inputs}


def test_the_network_stage_reads_no_knob_that_acts_after_it(gizmo):
    read = set(network_stage(gizmo)["gizmo"])
    assert read == {k.name for k in KNOBS} - set(node_graph.network_held(KNOBS)) | {
        HINT_CHANNEL.name, node_graph.HINT_SOURCE.name, node_graph.HINT_BACKING.name, node_graph.HINT_ERODE.name,
        USE_GPU.name, HALF_PRECISION.name, KEYED_BUILD.name}  # the last: the build Assert before the Inference node
    assert not read & set(POST_KNOBS)


@pytest.mark.parametrize("knob, value", sorted(POST_KNOBS.items()))
def test_a_post_knob_changes_nothing_the_network_stage_sees(gizmo, knob, value):
    before = network_stage(gizmo)
    gizmo[knob].setValue(value)
    assert gizmo[knob].toScript() != before["gizmo"].get(knob, "unchanged")
    after = network_stage(gizmo)
    assert after == before
    held = node_graph.network_held(KNOBS)
    assert {name: after["model"][name] for name in held} == held
    assert held[CLEAN_UP_ONLY.name] == 0 and held[AUTO_DESPECKLE.name] == 0


def test_the_despeckle_knobs_reach_the_clean_up_node_and_it_never_runs_the_network(gizmo):
    """The CleanUp node: the same .cat on the network node's result, Clean-up Only on, despeckle following the
    gizmo, and every knob the network stage reads held (so it re-renders for nothing but its own knobs and input)."""
    clean_up = gizmo.node(node_graph.CLEAN_UP_NODE)
    network = gizmo.node(node_graph.NETWORK_NODE)
    assert clean_up.input(0) is network and clean_up["modelFile"].value() == network["modelFile"].value()
    assert clean_up[CLEAN_UP_ONLY.name].getValue() == 1
    for knob, value in ((AUTO_DESPECKLE.name, False), (DESPECKLE_SIZE.name, 37)):
        gizmo[knob].setValue(value)
        assert clean_up[knob].getValue() == value
    gizmo[REFINER_STRENGTH.name].setValue(0.25)
    gizmo[RESAMPLE.name].setValue(1)
    assert clean_up[REFINER_STRENGTH.name].getValue() == REFINER_STRENGTH.default
    assert clean_up[RESAMPLE.name].getValue() == RESAMPLE.default


@pytest.mark.parametrize("knob, value", [(REFINER_STRENGTH.name, 0.25), (node_graph.HINT_ERODE.name, 9)])
def test_a_knob_before_or_inside_the_network_does_change_it(gizmo, knob, value):
    """The comparison above can fail: moving a knob the network depends on shows in what it sees."""
    before = network_stage(gizmo)
    gizmo[knob].setValue(value)
    assert network_stage(gizmo) != before
