"""The gizmo validator accepts well-formed gizmo text and names every kind of mistake Nuke would choke on."""
import os
import re

import pytest

from tests.gizmo_validator import (
    KNOB_TYPES,
    GizmoError,
    parse_gizmo,
    parse_serialise_knob,
    tokenize,
    validate_gizmo,
)

# A hand-written gizmo in the layout Nuke itself writes (two inputs, a Copy, a Switch fed from a `set` variable).
SAMPLE = r"""version 14.0 v1
Gizmo {
 inputs 2
 help "Line one\nLine \"two\" with \[brackets\]"
 tile_color 0xff0000ff
 addUserKnob {20 Main l "Main Tab"}
 addUserKnob {7 size l Size t "How big" R 0 10}
 size 3
 addUserKnob {4 mode l Mode M {first "second item" third}}
 mode "second item"
 addUserKnob {6 enable l Enable +STARTLINE}
 enable true
 addUserKnob {26 ""}
}
 Input {
  inputs 0
  name Matte
  number 1
 }
 Input {
  inputs 0
  name Source
 }
 Copy {
  inputs 2
  from0 rgba.alpha
  to0 rgba.alpha
  name Copy1
 }
set N1 [stack 0]
 Blur {
  size {{parent.size}}
  name Blur1
 }
push $N1
 Switch {
  inputs 2
  which {{parent.mode}}
  disable {{!parent.enable}}
  name Switch1
 }
 Output {
  name Output1
 }
end_group
"""


def test_a_well_formed_gizmo_parses_with_its_wiring():
    doc = validate_gizmo(SAMPLE)
    assert [k.name for k in doc.user_knobs if k.name] == ["Main", "size", "mode", "enable"]
    assert doc.knob("mode").items == ("first", "second item", "third")
    assert doc.knob("size").range == (0.0, 10.0) and doc.knob("size").tooltip == "How big"
    assert doc.header_values["help"].text == 'Line one\nLine "two" with [brackets]'
    copy = doc.node("Copy1")
    assert [n.name for n in copy.inputs] == ["Source", "Matte"]  # input 0 is the top of the stack
    assert [n.name for n in doc.node("Switch1").inputs] == ["Copy1", "Blur1"]
    assert doc.node("Switch1").knobs["which"].expression == "parent.mode"
    assert doc.output.inputs[0].name == "Switch1"


@pytest.mark.parametrize("mutation, message", [
    (lambda t: t.replace(" Blur {", " Blur {{", 1), "never closed"),
    (lambda t: t.replace('t "How big"', 't "How big'), "never closed"),
    (lambda t: t + "}\n", "without a matching"),
    (lambda t: t.replace("Gizmo {", "Gizmoo {"), "its header, Gizmoo, is a single node"),
    (lambda t: t.replace("version 14.0 v1\n", "version 14.0 v1\nBlur {}\n"), "its header, Blur, is a single node"),
    (lambda t: t.replace("version 14.0 v1\n", "version 14.0 v1\npush $N1\n"), "before the Gizmo"),
    (lambda t: t.replace("end_group\n", " Group {\n }\n"), "1 nested group\\(s\\) are not closed"),
    (lambda t: t.replace("{7 size", "{48 size"), "not in nuke.KnobType"),
    (lambda t: t.replace("{6 enable", "{6 \"en able\""), "not a valid identifier"),
    (lambda t: t.replace('addUserKnob {26 ""}', 'addUserKnob {41 link l Link}'), "no target"),
    (lambda t: t.replace('addUserKnob {20 Main l "Main Tab"}', 'addUserKnob {20 Main l "Main Tab"}\n Main 1'),
     "only a tab group"),
    (lambda t: t.replace(" Input {\n  inputs 0\n  name Matte", "add_layer {matte other.red}\n Input {\n  inputs 0\n"
                         "  name Matte"), "is not matte.<channel>"),
    (lambda t: t.replace("end_group\n", ""), "end_group"),
    (lambda t: t.replace(" Output {\n  name Output1\n }\n", ""), "exactly one Output"),
    (lambda t: t.replace("end_group", " Output {\n  name Output2\n }\nend_group"), "exactly one Output"),
    (lambda t: t.replace("push $N1", "push $N2"), "unknown variable"),
    (lambda t: t.replace("  inputs 2\n  which", "  inputs 4\n  which"), "stack holds"),
    (lambda t: t.replace("{7 size", "{99 size"), "not in nuke.KnobType"),
    (lambda t: t.replace("{{parent.size}}", "{{parent.sizes}}"), "parent.sizes"),
    (lambda t: t.replace('mode "second item"', "mode fourth"), "not one of"),
    (lambda t: t.replace("size 3", "size big"), "not a number"),
    (lambda t: t.replace("enable true", "enable maybe"), "true/false"),
    (lambda t: t.replace("  number 1\n", ""), "numbered"),
    (lambda t: t.replace(" inputs 2\n help", " inputs 3\n help"), "header says inputs 3"),
    (lambda t: t.replace("name Blur1", "name Copy1"), "used twice"),
    (lambda t: t.replace(" size 3\n", " sise 3\n"), "does not declare"),
    (lambda t: t.replace('M {first "second item" third}', "M {}"), "no items"),
    (lambda t: t.replace("R 0 10", "R 10 0"), "reversed"),
])
def test_each_mistake_is_reported(mutation, message):
    broken = mutation(SAMPLE)
    assert broken != SAMPLE
    with pytest.raises(GizmoError, match=message):
        validate_gizmo(broken)


def test_all_problems_are_listed_together():
    broken = SAMPLE.replace("{{parent.size}}", "{{parent.a}}").replace("{{parent.mode}}", "{{parent.b}}")
    with pytest.raises(GizmoError) as info:
        validate_gizmo(broken)
    assert "parent.a" in str(info.value) and "parent.b" in str(info.value)


def test_tokenizer_keeps_brackets_of_bare_commands_and_counts_lines():
    commands = tokenize('set N1 [stack 0]\nName {\n a 1\n}\nknob "x\\"y"\n')
    assert [[w.text for w in c] for c in commands] == [["set", "N1", "[stack 0]"], ["Name", "\n a 1\n"],
                                                         ["knob", 'x"y']]
    assert [c[0].line for c in commands] == [1, 2, 5]


def test_serialise_knob_entries():
    entries = parse_serialise_knob('a:{"parent.a"};b:sRGB;c:{"2*(parent.c)"};')
    assert entries == {"a": '{"parent.a"}', "b": "sRGB", "c": '{"2*(parent.c)"}'}
    with pytest.raises(GizmoError):
        parse_serialise_knob('a:{"parent.a";')
    with pytest.raises(GizmoError):
        parse_serialise_knob("a:1;a:2;")


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "gizmos")
FIXTURE_NAMES = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".gizmo"))
# The Cattery ports among them (an Inference node reading a .cat found on the plugin path).
CATTERY_FIXTURES = {"Constructs.gizmo", "RIFE.gizmo", "SegmentAnything.gizmo", "ViTMatte.gizmo"}


def _fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_public_gizmos_that_nuke_loads_are_accepted(name):
    """Real gizmos from several authors (and a small equivalent for constructs they lack), see
    tests/data/gizmos/README.md: Nuke loads them, so both levels of checks must accept them."""
    doc = validate_gizmo(_fixture(name))
    assert doc.lint == [] and doc.all_nodes()
    assert bool(doc.nodes_of_class("Inference")) == (name in CATTERY_FIXTURES)


def test_every_fixture_is_listed_with_its_licence():
    with open(os.path.join(FIXTURES, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    for name in FIXTURE_NAMES:
        assert "`%s`" % name in readme
    licences = sorted(n for n in os.listdir(FIXTURES) if n.startswith("LICENSE-"))
    assert licences and all("`%s`" % n in readme for n in licences)


def test_the_crop_to_the_format_before_inference_in_a_public_port():
    """RIFE crops the plate to its format before Inference (the CorridorKey gizmo does the same)."""
    doc = validate_gizmo(_fixture("RIFE.gizmo"))
    crop = doc.node("Crop1")
    assert crop.knobs["crop"].text == "false"
    assert [w.text for w in crop.knobs["box"].words()] == ["0", "0", "width", "height"]
    assert [w.kind for w in crop.knobs["box"].words()] == ["bare", "bare", "braced", "braced"]
    downstream = doc.node("FrameHold1")
    assert downstream.inputs[0] is crop


def test_nested_groups_keep_their_own_nodes_stack_and_knobs():
    doc = validate_gizmo(_fixture("NST_TransformCutOut.gizmo"))
    inner = doc.node("BBoxToFormat")
    assert inner.is_group and inner.inputs[0].name == "Dot6"
    assert {n.name for n in inner.children} >= {"Input", "Crop6", "Output1", "OutputBBox1", "Transform1"}
    assert doc.node("Transform1").cls == "Transform"  # the same name inside the nested group is another node
    crop = [n for n in inner.children if n.name == "Crop6"][0]
    assert [k.name for k in crop.user_knobs].count("cropToBbox") == 2
    merge = [n for n in inner.children if n.name == "Merge1"][0]
    assert merge.knobs["disable"].expression == "!parent.Crop6.intersect"
    tab = [k for k in inner.user_knobs if k.name == "inputBbox"][0]
    assert tab.opens_group and tab.group == 1
    assert [k.group for k in inner.user_knobs if k.name == "endGroup"] == [-1]
    assert doc.output.inputs[0].name == "Switch1"


def test_add_layer_lines_declare_layers():
    doc = validate_gizmo(_fixture("L_ChannelSolo.gizmo"))
    assert doc.layers == {"gzmoTmp": ("gzmoTmp.red", "gzmoTmp.green", "gzmoTmp.blue", "gzmoTmp.alpha")}
    dissolve = doc.node("Dissolve1")
    # inputs 5+1: five images and a mask, which sits at input 2 (here `push 0`, unconnected)
    assert len(dissolve.inputs) == 6 and dissolve.inputs[2] is None
    assert [n.name for n in dissolve.inputs if n] == ["FloodRed1", "GreenFlood", "BlueFlood", "AlphaFlood",
                                                      "expression_MONO"]
    assert dissolve.knobs["which"].expression == "parent.channelSelector i"


def test_a_tab_groups_open_state_and_type_19_and_83_knobs():
    doc = validate_gizmo(_fixture("NST_ConstantPro.gizmo"))
    assert doc.knob("moreSettings").opens_group and doc.header_values["moreSettings"].text == "0"
    assert doc.knob("color").type == 19 and doc.knob("color_panelDropped").type == 6
    radio = validate_gizmo(_fixture("NST_InjectMatteChannel.gizmo")).knob("channel_select")
    assert (radio.type, radio.items) == (83, ("red", "green", "blue", "alpha"))


PASTED = """set cut_paste_input [stack 0]
version 16.0 v1
push $cut_paste_input
Group {
 name Outer
 addUserKnob {20 User}
 addUserKnob {41 "Inner_Red Hue" l "Red Hue" T "Inner1.Inner_Red Hue"}
 addUserKnob {7 gain}
 gain 2
 addUserKnob {26 "Local GPU: " T ""}
}
 Input {
  inputs 0
  name Input1
 }
 Group {
  name Inner1
  addUserKnob {20 User}
  addUserKnob {4 direction M {forward inverse}}
  direction inverse
 }
  Input {
   inputs 0
   name Input
  }
  Multiply {
   value {{parent.parent.gain} {parent.Scale.value} 1 1}
   name Scale
  }
  Switch {
   which {{parent.direction}}
   name Pick
  }
  Output {
   name Output1
  }
 end_group
 OFXuk.co.thefoundry.keylight.keylight_v201 {
  "Screen Matte" 0
  name Keylight1
 }
 Output {
  name Output1
 }
end_group
"""


def test_what_copy_paste_writes_loads_nested_groups_and_spaced_names_included():
    doc = validate_gizmo(PASTED)
    assert doc.header_class == "Group" and doc.knob("Inner_Red Hue").text == "Inner1.Inner_Red Hue"
    inner = doc.node("Inner1")
    assert [n.name for n in inner.children] == ["Input", "Scale", "Pick", "Output1"]
    assert doc.node("Keylight1").inputs[0] is inner and doc.node("Keylight1").knobs["Screen Matte"].text == "0"
    with pytest.raises(GizmoError, match="parent.parent.gains"):
        validate_gizmo(PASTED.replace("parent.parent.gain}", "parent.parent.gains}"))
    with pytest.raises(GizmoError, match="parent.Scales.value"):
        validate_gizmo(PASTED.replace("parent.Scale.value", "parent.Scales.value"))
    with pytest.raises(GizmoError, match="direction = 'sideways'"):
        validate_gizmo(PASTED.replace("direction inverse", "direction sideways"))
    with pytest.raises(GizmoError, match="not a valid identifier"):
        validate_gizmo(PASTED.replace("{7 gain}", '{7 "ga in"}').replace(" gain 2\n", ""))


@pytest.mark.parametrize("mutation, message", [
    (lambda t: t.replace(" Output {\n  name Output1\n }\n", ""), "exactly one Output"),
    (lambda t: t.replace(" inputs 2\n help", " inputs 3\n help"), "header says inputs 3"),
    (lambda t: t.replace("{{parent.size}}", "{{parent.sizes}}"), "parent.sizes"),
    (lambda t: t.replace("name Blur1", "name Copy1"), "used twice"),
])
def test_what_nuke_loads_but_this_project_must_not_ship_is_lint(mutation, message):
    """Public files show Nuke loads a group without an Output, an `inputs` line that disagrees with the Input
    nodes and dangling expressions: parse_gizmo (the fake's loader) accepts them, validate_gizmo does not."""
    doc = parse_gizmo(mutation(SAMPLE))
    assert any(re.search(message, problem) for problem in doc.lint)
    with pytest.raises(GizmoError, match=message):
        validate_gizmo(mutation(SAMPLE))


def test_a_single_node_gizmo_is_its_header():
    doc = validate_gizmo("NoOp {\n name Blocker\n hide_input true\n addUserKnob {20 Blocker}\n"
                         " addUserKnob {1 viewer}\n viewer Viewer1\n}\n")
    assert doc.header_class == "NoOp" and doc.nodes == [] and doc.knob("viewer").type == 1


def test_what_every_node_has_is_not_an_undeclared_parent_knob():
    text = SAMPLE.replace("{{parent.size}}", '{{"parent.width / parent.height + \\[exists parent.input1]"}}')
    assert validate_gizmo(text).node("Blur1").knobs["size"].expression.startswith("parent.width")
    with pytest.raises(GizmoError, match="parent.widths"):
        validate_gizmo(SAMPLE.replace("{{parent.size}}", "{{parent.widths}}"))


def test_a_knob_set_twice_keeps_the_last_value():
    doc = validate_gizmo(SAMPLE.replace("  name Blur1\n", "  size 4\n  name Blur1\n"))
    assert doc.node("Blur1").knobs["size"].text == "4"


def test_clones_share_the_originals_class_and_knobs():
    text = SAMPLE.replace(" Blur {\n  size {{parent.size}}\n  name Blur1\n }\n",
                          "clone node1f2e|Blur|7 Blur {\n  size 5\n  name Blur1\n }\nset C1f2e [stack 0]\n"
                          "clone $C1f2e {\n  xpos 10\n }\n")
    text = text.replace("push $N1\n", "push $N1\n Dot {\n  inputs 2\n  name Join\n }\npush $N1\n")
    doc = validate_gizmo(text)
    copy = doc.node("Join").inputs[1]  # input 0 is the top of the stack: Copy1, pushed again
    assert copy.cls == "Blur" and copy.knobs["size"].text == "5" and copy.inputs[0].name == "Blur1"
    with pytest.raises(GizmoError, match="clone \\$C9: unknown variable"):
        validate_gizmo(text.replace("clone $C1f2e", "clone $C9"))


def test_knob_type_numbers_are_foundrys():
    """nuke.KnobType as Foundry lists it: numbers 0-88 without 48 (eGPUEngineKnob left after Nuke 7)."""
    assert {n: KNOB_TYPES[n] for n in (8, 14, 15, 19, 30, 32, 40, 52, 68, 78, 83)} == {
        8: "eFloatKnob", 14: "eWHKnob", 15: "eBBoxKnob", 19: "eAColorKnob", 30: "eUVKnob", 32: "eScriptKnob",
        40: "eColorChipKnob", 52: "ePythonKnob", 68: "eCascadingEnumerationKnob", 78: "eSimpleArrayKnob",
        83: "eRadioKnob"}
    assert sorted(KNOB_TYPES) == [n for n in range(89) if n != 48]
    assert len(set(KNOB_TYPES.values())) == len(KNOB_TYPES)


def test_serialise_knob_values_with_one_word_per_dimension():
    assert parse_serialise_knob('p1:{parent.x} 100;p2:{"parent.a"} {parent.b} 7;m:sRGB;') == {
        "p1": "{parent.x} 100", "p2": '{"parent.a"} {parent.b} 7', "m": "sRGB"}
