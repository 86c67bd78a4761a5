"""The gizmo validator accepts well-formed gizmo text and names every kind of mistake Nuke would choke on."""
import os

import pytest

from tests.gizmo_validator import KNOB_TYPES, GizmoError, parse_serialise_knob, tokenize, validate_gizmo

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
    (lambda t: t.replace("Gizmo {", "Gizmoo {"), "header"),
    (lambda t: t.replace("end_group\n", ""), "end_group"),
    (lambda t: t.replace(" Output {\n  name Output1\n }\n", ""), "exactly one Output"),
    (lambda t: t.replace("end_group", " Output {\n  name Output2\n }\nend_group"), "exactly one Output"),
    (lambda t: t.replace("push $N1", "push $N2"), "unknown variable"),
    (lambda t: t.replace("  inputs 2\n  which", "  inputs 4\n  which"), "stack holds"),
    (lambda t: t.replace("{7 size", "{99 size"), "not a knob type"),
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


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(FIXTURES) if n.endswith(".gizmo")))
def test_public_gizmos_that_nuke_loads_are_accepted(name):
    """Real Cattery gizmos (and a small equivalent for constructs they lack), see tests/data/gizmos/README.md."""
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        doc = validate_gizmo(handle.read())
    assert doc.nodes_of_class("Inference")


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


def test_knob_type_numbers_are_nukes():
    assert {n: KNOB_TYPES[n] for n in (8, 9, 12, 13, 16, 17, 43, 61)} == {
        8: "Float_Knob", 9: "Array_Knob", 12: "XY_Knob", 13: "XYZ_Knob", 16: "Size_Knob", 17: "Format_Knob",
        43: "Multiline_Eval_String_Knob", 61: "Password_Knob"}
    assert 32 not in KNOB_TYPES


def test_serialise_knob_values_with_one_word_per_dimension():
    assert parse_serialise_knob('p1:{parent.x} 100;p2:{"parent.a"} {parent.b} 7;m:sRGB;') == {
        "p1": "{parent.x} 100", "p2": '{"parent.a"} {parent.b} 7', "m": "sRGB"}
