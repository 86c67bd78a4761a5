"""Builds a node from a .gizmo file the way Nuke does when `createNode('Name')` finds Name.gizmo.

The text is parsed by tests.gizmo_validator (so a gizmo Nuke would reject is refused here too); then every
child is created from the fake's node catalogue, so a child knob that the real node class lacks, a value of
the wrong type or an enumeration value that is not an item fails the test, as it fails in Nuke.
"""
from __future__ import annotations

import itertools
from typing import Any, Dict

from tests.gizmo_validator import ChildNode, GizmoDoc, KnobValue, UserKnob

from . import knobs as K
from .nodes import GROUP_KNOBS, Node

_unnamed = itertools.count(1)


def make_user_knob(spec: UserKnob) -> K.Knob:
    cls = K.KNOB_CLASSES_BY_TYPE.get(spec.type)
    if cls is None:
        raise RuntimeError("knob type %d (%s) is not modelled by the fake" % (spec.type, spec.name))
    name = spec.name or "_unnamed_%d" % next(_unnamed)
    label = spec.label if spec.label or spec.name else ""
    if cls is K.Enumeration_Knob:
        knob = cls(name, label or name, list(spec.items))
    elif cls is K.Text_Knob:
        knob = cls(name, label, spec.text)
    elif cls is K.PyScript_Knob:
        knob = cls(name, label or name, spec.text)
    else:
        knob = cls(name, label or name)
    if cls is K.Link_Knob:
        knob.setLink(spec.text)
    if spec.range is not None and hasattr(knob, "setRange"):
        knob.setRange(*spec.range)
    knob.setTooltip(spec.tooltip)
    if "+INVISIBLE" in spec.flags:
        knob.setVisible(False)
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
    gizmo = Node(fake, cls, 0, GROUP_KNOBS, group, is_group=True)
    for spec in doc.user_knobs:
        gizmo.addKnob(make_user_knob(spec))
    for key, value in doc.header_values.items():
        if key in ("inputs", "name"):
            continue
        apply_value(gizmo, key, value, "%s.gizmo header" % cls)

    made: Dict[int, Node] = {}
    fake._context.append(gizmo)
    try:
        for child in doc.nodes:
            node = fake._create(child.cls)
            made[id(child)] = node
            if child.name:
                node.setName(child.name)
            for spec in child.user_knobs:
                node.addKnob(make_user_knob(spec))
            where = "%s.gizmo line %d" % (cls, child.line)
            for key, value in child.knobs.items():
                if key in ("inputs", "name"):
                    continue
                apply_value(node, key, value, where)
            _connect(node, child, made, where)
    finally:
        fake._context.pop()
    gizmo.forceValidate()
    return gizmo


def _connect(node: Node, child: ChildNode, made: Dict[int, Node], where: str) -> None:
    for index, source in enumerate(child.inputs):
        if source is None:
            continue
        if not node.setInput(index, made[id(source)]):
            raise RuntimeError("%s: %s takes at most %d inputs, the gizmo connects %d"
                               % (where, node.Class(), node.maxInputs(), len(child.inputs)))
