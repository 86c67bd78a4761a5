"""Builds a node from a .gizmo file the way Nuke does when `createNode('Name')` finds Name.gizmo.

The text is read by tests.gizmo_validator.parse_gizmo (so a gizmo Nuke would refuse is refused here too); then
every child is created from the fake's node catalogue, nested groups included, so a child knob that the real
node class lacks, a value of the wrong type or an enumeration value that is not an item fails the test, as it
fails in Nuke.
"""
from __future__ import annotations

import itertools
from typing import Any, Dict, List

from tests.gizmo_validator import GROUP_CLASSES, ChildNode, GizmoDoc, KnobValue, UserKnob

from . import knobs as K
from .nodes import GROUP_KNOBS, Node

_unnamed = itertools.count(1)


def make_user_knob(spec: UserKnob) -> K.Knob:
    cls = K.KNOB_CLASSES_BY_TYPE.get(spec.type)
    if cls is None:
        raise K.FakeLimitation("knob type %d (%s) is Nuke's but not modelled by the fake" % (spec.type, spec.name))
    name = spec.name or "_unnamed_%d" % next(_unnamed)
    label = spec.label if spec.label or spec.name else ""
    knob: K.Knob
    if issubclass(cls, K.Enumeration_Knob):
        knob = cls(name, label or name, list(spec.items))
    elif cls is K.Text_Knob:
        knob = K.Text_Knob(name, label, spec.text)
    elif cls is K.PyScript_Knob:
        knob = K.PyScript_Knob(name, label or name, spec.text)
    elif cls is K.Tab_Knob:
        knob = K.Tab_Knob(name, label or name, spec.group)
    else:
        knob = cls(name, label or name)
    if isinstance(knob, K.Link_Knob):
        knob.setLink(spec.text)
    if spec.range is not None and hasattr(knob, "setRange"):
        knob.setRange(*spec.range)
    knob.setTooltip(spec.tooltip)
    if "+INVISIBLE" in spec.flags:
        knob.setVisible(False)
    return knob


def add_user_knob(node: Node, spec: UserKnob) -> K.Knob:
    """addUserKnob as a saved file runs it. A name the node already has gets `_1` appended (again if need be):
    public files carry such names (`color_rgba_panelDropped_1`, `default_black_panelDropped_1_1_1`) beside
    the original, and one declares `cropToBbox` twice on one node (see LIMITS.md)."""
    knob = make_user_knob(spec)
    name = knob.name()
    while node.knob(name) is not None:
        name += "_1"
    if name != knob.name():
        knob._name = name
    node.addKnob(knob)
    return knob


def apply_value(node: Node, key: str, value: KnobValue, where: str) -> None:
    knob = node.knob(key)
    if knob is None:
        raise RuntimeError("%s: %s has no knob %r" % (where, node.Class(), key))
    expression = value.expression
    try:
        if expression is not None:
            knob.setExpression(expression)
        else:
            knob.fromScript(value.text)
    except (TypeError, ValueError) as exc:
        raise RuntimeError("%s: %s.%s = %r: %s" % (where, node.Class(), key, value.text, exc))


def build_gizmo_node(fake: Any, cls: str, doc: GizmoDoc, group: Node) -> Node:
    if doc.header_class not in GROUP_CLASSES:
        raise K.FakeLimitation("%s.gizmo holds a single %s node, not a group: the fake builds only group gizmos"
                               % (cls, doc.header_class))
    gizmo = Node(fake, cls, 0, GROUP_KNOBS, group, is_group=True)
    for spec in doc.user_knobs:
        add_user_knob(gizmo, spec)
    for key, value in doc.header_values.items():
        if key in ("inputs", "name"):
            continue
        apply_value(gizmo, key, value, "%s.gizmo header" % cls)
    _build_children(fake, gizmo, doc.nodes, cls)
    gizmo.forceValidate()
    return gizmo


def _build_children(fake: Any, group: Node, children: List[ChildNode], cls: str) -> None:
    """Creates a group's nodes inside it, then wires them; a nested group is built the same way, and wired to
    its own sources once its Input nodes exist."""
    made: Dict[int, Node] = {}
    fake._context.append(group)
    try:
        for child in children:
            node = fake._create(child.cls)
            made[id(child)] = node
            if child.name:
                node.setName(child.name)
            where = "%s.gizmo line %d" % (cls, child.line)
            for spec in child.user_knobs:
                add_user_knob(node, spec)
            for key, value in child.knobs.items():
                if key in ("inputs", "name"):
                    continue
                apply_value(node, key, value, where)
            if child.children is not None:
                _build_children(fake, node, child.children, cls)
        for child in children:
            _connect(made[id(child)], child, made, "%s.gizmo line %d" % (cls, child.line))
    finally:
        fake._context.pop()


def _connect(node: Node, child: ChildNode, made: Dict[int, Node], where: str) -> None:
    for index, source in enumerate(child.inputs):
        if source is None:
            continue
        if not node.setInput(index, made[id(source)]):
            raise RuntimeError("%s: %s takes at most %d inputs, the gizmo connects %d"
                               % (where, node.Class(), node.maxInputs(), len(child.inputs)))
