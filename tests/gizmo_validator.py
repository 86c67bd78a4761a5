"""A small reader and validator for Nuke's .nk / .gizmo text, written for this project's tests.

Why our own: no published parser reads real gizmo files (the PyPI `nkparser` rejects the standard layout), and
the fake `nuke` module needs to instantiate an installed gizmo the way Nuke would. Two levels of checks:

`parse_gizmo(text)` reads the gizmo as Nuke loads it (the fake loads gizmos through it) and raises `GizmoError`
for what Nuke refuses, as far as public files show it:
- quote and brace balance (the tokenizer refuses unterminated words);
- one header node: `Gizmo {` or `Group {` (its nodes follow, closed by a bare `end_group`), or any single node
  with user knobs; before it only what Nuke's copy/paste writes (`version`, `set cut_paste_input [stack 0]`,
  `push $cut_paste_input`, `push 0`); `add_layer {name name.chan ...}` anywhere;
- `addUserKnob` lines with a type number from Foundry's `nuke.KnobType` and well-formed options; value lines
  that name a declared knob and fit it (enumeration values among its items, numbers for numeric knobs, true /
  false, a tab group's 0 / 1);
- the stack program of each group: `inputs N` pops N (default 1; `2+1` counts a mask input), `push $VAR` /
  `push 0`, `set VAR [stack 0]`, a clone's original `clone NAME Class {...}` and its copies `clone $VAR {...}`,
  nested `Group {...} ... end_group`; no underflow, no unknown variables.

`validate_gizmo(text)` also refuses what Nuke loads but what no file this project ships may hold (`lint`):
- a top-level group without exactly one `Output` taking one input; `Input` nodes not numbered 0..N-1 in each
  group, or a header `inputs` that disagrees with them; node names used twice in one group;
- a `parent.X` reference (also `parent.parent.X`, `parent.Node.knob`) that resolves to no knob the enclosing
  group declares, no knob every node has (`parent.width`, `parent.input1`, ...) and no node of that group;
- an enumeration without items, a link without a target, a reversed range, a knob name that is not an
  identifier (tabs, buttons, text and links may carry spaces, as public files show).

A knob set twice in one node is not an error: Nuke keeps the last value, and public gizmos do it.

Tcl semantics are kept only as far as .nk files use them: words are bare, "quoted" (backslash escapes) or
{braced} (nested, raw); a newline ends a command unless it is inside quotes or braces.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

# Foundry's nuke.KnobType: the number addUserKnob takes -> the constant's name. Nuke 14-17's Python reference
# lists these names (and ePathKnob / ePathExpressionKnob, whose numbers no public source shows); the numbers are
# those of the Nuke 7 reference and of a public stub of the module (48, eGPUEngineKnob, left the list after 7).
KNOB_TYPES = {
    0: "eObsoleteKnob", 1: "eStringKnob", 2: "eFileKnob", 3: "eIntKnob", 4: "eEnumKnob", 5: "eBitMaskKnob",
    6: "eBoolKnob", 7: "eDoubleKnob", 8: "eFloatKnob", 9: "eArrayKnob", 10: "eChannelMaskKnob",
    11: "eChannelKnob", 12: "eXYKnob", 13: "eXYZKnob", 14: "eWHKnob", 15: "eBBoxKnob", 16: "eSizeKnob",
    17: "eFormatKnob", 18: "eColorKnob", 19: "eAColorKnob", 20: "eTabKnob", 21: "eCustomKnob",
    22: "ePyScriptKnob", 23: "eTextEditorKnob", 24: "eTransform2DKnob", 25: "eSpacerKnob", 26: "eTextKnob",
    27: "eHelpKnob", 28: "eMultilineStringKnob", 29: "eAxisKnob", 30: "eUVKnob", 31: "eBox3Knob",
    32: "eScriptKnob", 33: "eLookupCurvesKnob", 34: "eTooltipKnob", 35: "ePulldownKnob", 36: "eEyeDropperKnob",
    37: "eRangeKnob", 38: "eHistogramKnob", 39: "eKeyerKnob", 40: "eColorChipKnob", 41: "eLinkKnob",
    42: "eScaleKnob", 43: "eMultilineEvalStringKnob", 44: "eOneViewKnob", 45: "eMultiViewKnob",
    46: "eViewViewKnob", 47: "ePyPulldownKnob", 49: "eMultiArrayKnob", 50: "eViewPairKnob", 51: "eListKnob",
    52: "ePythonKnob", 53: "eMetaDataKnob", 54: "ePixelAspectKnob", 55: "eCpKnob", 56: "eToolbarKnob",
    57: "eTabGroupKnob", 58: "ePluginPythonKnob", 59: "eExoGroupKnob", 60: "eMenuKnob", 61: "ePasswordKnob",
    62: "eToolboxKnob", 63: "eTableKnob", 64: "eGeoSelectKnob", 65: "eInputOnlyChannelMaskKnob",
    66: "eInputOnlyChannelKnob", 67: "eControlPointCollectionKnob", 68: "eCascadingEnumerationKnob",
    69: "eDynamicBitmaskKnob", 70: "eMetaKeyFrameKnob", 71: "ePositionVectorKnob", 72: "eCachedFileKnob",
    73: "eTransformJackKnob", 74: "eRippleKnob", 75: "eSceneViewKnob", 76: "eVSpacerKnob",
    77: "eCancelExecutionKnob", 78: "eSimpleArrayKnob", 79: "eResizableArrayKnob", 80: "eDisableKnob",
    81: "eIconKnob", 82: "eFrameExtentKnob", 83: "eRadioKnob", 84: "eFreeTypeKnob",
    85: "eEditableEnumerationKnob", 86: "eColorspaceKnob", 87: "eParticleChannelsKnob", 88: "eSceneGraphKnob",
}
TAB = 20
TEXT = 26
LINK = 41
# Types whose value lines hold numbers (one per dimension; a braced word is that dimension's expression).
NUMERIC_TYPES = {3, 7, 8, 9, 12, 13, 14, 15, 16, 18, 19, 30, 31, 36, 42, 78}
# Types whose value is one of the M {items} (an item or its index).
ITEM_TYPES = {4, 83}
# Types public files (that Nuke loads) give names with spaces: tab groups, buttons and links (and any text
# knob name: "Local GPU: ").
SPACED_NAME_TYPES = {TAB, 22, LINK}
# Knobs every Group/Gizmo has, which a value line may set without an addUserKnob.
GROUP_KNOBS = {
    "name", "label", "inputs", "help", "tile_color", "note_font", "note_font_size", "note_font_color",
    "onCreate", "onDestroy", "knobChanged", "updateUI", "autolabel", "xpos", "ypos", "selected", "icon",
    "disable", "hide_input", "postage_stamp", "gl_color", "lock_connections", "addUserKnob", "mapsize",
    "bookmark", "dope_sheet", "lifetimeStart", "lifetimeEnd", "indicators",
}
# Knobs that hold Python, where `parent.` is Python text and no expression.
SCRIPT_KNOBS = {"onCreate", "onDestroy", "knobChanged", "updateUI", "autolabel", "beforeRender", "afterRender",
                "beforeFrameRender", "afterFrameRender"}
# `parent.knob`, `parent.Node.knob` (a node inside the same group), `parent.parent.knob` (one group further
# out): the extra `.parent`s, the name and the field after it, if any.
PARENT_REF = re.compile(r"\bparent((?:\.parent)*)\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?")
# What an expression can read from any node besides its knobs: its format's size and its inputs.
NODE_PROPERTY = re.compile(r"^(width|height|input[0-9]*)$")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Node classes: plug-ins carry dots (OFXuk.co.thefoundry.keylight.keylight_v201).
CLASS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
GROUP_CLASSES = ("Gizmo", "Group")
# A knob name with spaces, as tabs, buttons and links carry in public files ("ReuleauxUser_Red Hue").
KNOB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]*$")


class GizmoError(ValueError):
    """The text is not a gizmo Nuke would load; the message lists every problem found."""


# ----------------------------------------------------------------------------------------------- tokenizer
@dataclass(frozen=True)
class Word:
    text: str        # unescaped for quoted words, raw inside the braces for braced words
    kind: str        # 'bare' | 'quoted' | 'braced'
    line: int


def _unescape(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> List[List[Word]]:
    """Splits text into commands (lists of words). Raises GizmoError on unbalanced quotes or braces."""
    commands: List[List[Word]] = []
    current: List[Word] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            if current:
                commands.append(current)
                current = []
            line += 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif ch == "#" and not current:
            while i < n and text[i] != "\n":
                i += 1
        elif ch == "}":
            raise GizmoError("line %d: '}' without a matching '{'" % line)
        elif ch == "{":
            start_line, depth, j = line, 1, i + 1
            while j < n and depth:
                c = text[j]
                if c == "\\":
                    j += 2
                    continue
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                elif c == "\n":
                    line += 1
                j += 1
            if depth:
                raise GizmoError("line %d: '{' is never closed" % start_line)
            current.append(Word(text[i + 1:j - 1], "braced", start_line))
            i = j
        elif ch == '"':
            start_line, j = line, i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 1
                if j < n and text[j] == "\n":
                    line += 1
                j += 1
            if j >= n:
                raise GizmoError('line %d: \'"\' is never closed' % start_line)
            current.append(Word(_unescape(text[i + 1:j]), "quoted", start_line))
            i = j + 1
        else:
            j = i
            depth = 0  # brackets of a bare [command] may hold spaces: `[stack 0]`
            while j < n:
                c = text[j]
                if c == "\\" and j + 1 < n:
                    j += 2
                    continue
                if c == "[":
                    depth += 1
                elif c == "]" and depth:
                    depth -= 1
                elif depth == 0 and (c in " \t\r\n{}" or c == '"'):
                    break
                elif c == "\n":
                    break
                j += 1
            if depth:
                raise GizmoError("line %d: '[' is never closed" % line)
            current.append(Word(text[i:j], "bare", line))
            i = j
    if current:
        commands.append(current)
    return commands


# ------------------------------------------------------------------------------------------ data model
@dataclass
class UserKnob:
    type: int
    name: str
    label: str = ""
    tooltip: str = ""
    range: Optional[Tuple[float, float]] = None
    items: Tuple[str, ...] = ()
    text: str = ""          # T argument: Text_Knob text, PyScript command, Link target
    flags: Tuple[str, ...] = ()
    line: int = 0
    group: int = 0          # a tab's `n`: 1 opens a group, 2 a tab inside one, -1 / -2 / -3 close them

    @property
    def opens_group(self) -> bool:
        return self.type == TAB and self.group > 0


@dataclass
class KnobValue:
    text: str
    kind: str               # the tokenizer kind: 'bare' | 'quoted' | 'braced'

    @property
    def expression(self) -> Optional[str]:
        """`{{expr}}` (a knob expression) returns expr; a plain value, or one word per dimension such as
        `{{parent.x} {parent.y}}`, returns None."""
        if self.kind != "braced":
            return None
        try:
            words = self.words()
        except GizmoError:
            return None
        if len(words) != 1 or words[0].kind != "braced":
            return None
        inner = words[0].text.strip()
        if len(inner) > 1 and inner.startswith('"') and inner.endswith('"'):
            inner = _unescape(inner[1:-1])
        return inner

    def words(self) -> List[Word]:
        """The value's words: one per dimension of a multi-value knob (`{0 0 {width} {height}}`)."""
        if self.kind != "braced":
            return [Word(self.text, self.kind, 0)]
        return [w for command in tokenize(self.text) for w in command]


@dataclass
class ChildNode:
    cls: str
    knobs: Dict[str, KnobValue]
    inputs: List[Optional["ChildNode"]] = field(default_factory=list)
    line: int = 0
    user_knobs: List[UserKnob] = field(default_factory=list)
    children: Optional[List["ChildNode"]] = None   # a nested Group's nodes (None: not a group)

    @property
    def name(self) -> str:
        value = self.knobs.get("name")
        return value.text if value else ""

    @property
    def is_group(self) -> bool:
        return self.children is not None


@dataclass
class GizmoDoc:
    header_class: str
    user_knobs: List[UserKnob]
    header_values: Dict[str, KnobValue]
    nodes: List[ChildNode]
    layers: Dict[str, Tuple[str, ...]] = field(default_factory=dict)   # add_layer {name name.chan ...}
    lint: List[str] = field(default_factory=list)   # what Nuke loads but this project's files must not hold

    def knob(self, name: str) -> UserKnob:
        for k in self.user_knobs:
            if k.name == name:
                return k
        raise KeyError(name)

    def node(self, name: str) -> ChildNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def nodes_of_class(self, cls: str) -> List[ChildNode]:
        return [n for n in self.nodes if n.cls == cls]

    def all_nodes(self) -> List[ChildNode]:
        """Every node, nested groups' nodes included (depth first)."""
        found: List[ChildNode] = []
        pending = list(reversed(self.nodes))
        while pending:
            node = pending.pop()
            found.append(node)
            pending.extend(reversed(node.children or []))
        return found

    @property
    def output(self) -> ChildNode:
        return self.nodes_of_class("Output")[0]

    def input_named(self, name: str) -> ChildNode:
        node = self.node(name)
        if node.cls != "Input":
            raise KeyError(name)
        return node


# ----------------------------------------------------------------------------------------------- parser
class _Problems(object):
    """What Nuke refuses (`load`) and what only this project's own files must avoid (`lint`)."""

    def __init__(self) -> None:
        self.load: List[str] = []
        self.lint: List[str] = []


def _parse_user_knob(words: List[Word], found: _Problems) -> Optional[UserKnob]:
    problems = found.load
    line = words[0].line if words else 0
    if not words:
        problems.append("line %d: empty addUserKnob" % line)
        return None
    try:
        ktype = int(words[0].text)
    except ValueError:
        problems.append("line %d: addUserKnob type %r is not a number" % (line, words[0].text))
        return None
    if ktype not in KNOB_TYPES:
        problems.append("line %d: addUserKnob type %d is not in nuke.KnobType" % (line, ktype))
    name = words[1].text if len(words) > 1 else ""
    knob = UserKnob(ktype, name, line=line)
    flags = []
    i = 2
    while i < len(words):
        key = words[i].text
        arg = words[i + 1] if i + 1 < len(words) else None
        if key.startswith(("+", "-")) and words[i].kind == "bare":
            flags.append(key)
            i += 1
            continue
        if arg is None:
            problems.append("line %d: addUserKnob %s: %r has no argument" % (line, name, key))
            break
        if key == "l":
            knob.label = arg.text
        elif key == "t":
            knob.tooltip = arg.text
        elif key == "T":
            knob.text = arg.text
        elif key == "n":
            try:
                knob.group = int(arg.text)
            except ValueError:
                problems.append("line %d: addUserKnob %s: n %r is not a number" % (line, name, arg.text))
        elif key == "M":
            try:
                knob.items = tuple(w.text for c in tokenize(arg.text) for w in c)
            except GizmoError as exc:
                problems.append("line %d: addUserKnob %s items: %s" % (line, name, exc))
        elif key == "R":
            lo = arg.text
            hi = words[i + 2].text if i + 2 < len(words) else None
            try:
                knob.range = (float(lo), float(hi))
            except (TypeError, ValueError):
                problems.append("line %d: addUserKnob %s: range %r %r is not two numbers" % (line, name, lo, hi))
            i += 3
            continue
        else:
            problems.append("line %d: addUserKnob %s: unknown option %r" % (line, name, key))
        i += 2
    knob.flags = tuple(flags)
    if ktype == 4 and not knob.items:
        found.lint.append("line %d: enumeration knob %s has no items (M {...})" % (line, name))
    if ktype == LINK and not knob.text:
        found.lint.append("line %d: link knob %s has no target (T Node.knob)" % (line, name))
    if knob.range and knob.range[0] > knob.range[1]:
        found.lint.append("line %d: knob %s: range %s is reversed" % (line, name, knob.range))
    if name and ktype != TEXT and not VAR_NAME.match(name) and not (
            ktype in SPACED_NAME_TYPES and KNOB_NAME.match(name)):
        found.lint.append("line %d: knob name %r is not a valid identifier" % (line, name))
    return knob


def _knob_block(word: Word, found: _Problems
                ) -> Tuple[Dict[str, KnobValue], List[UserKnob], List[Tuple[str, KnobValue, int]]]:
    """Parses the inside of `Class { ... }`: knob value lines and addUserKnob lines, in order."""
    problems = found.load
    values: Dict[str, KnobValue] = {}
    user: List[UserKnob] = []
    ordered: List[Tuple[str, KnobValue, int]] = []
    try:
        commands = tokenize(word.text)
    except GizmoError as exc:
        problems.append("node starting line %d: %s" % (word.line, exc))
        return values, user, ordered
    for cmd in commands:
        line = word.line + cmd[0].line - 1
        key = cmd[0].text
        if key == "addUserKnob":
            if len(cmd) != 2 or cmd[1].kind != "braced":
                problems.append("line %d: addUserKnob needs one {...} argument" % line)
                continue
            inner = [w for c in tokenize(cmd[1].text) for w in c]
            inner = [Word(w.text, w.kind, line) for w in inner]
            knob = _parse_user_knob(inner, found)
            if knob:
                user.append(knob)
            continue
        if len(cmd) != 2:
            problems.append("line %d: knob %r needs exactly one value, got %d words" % (line, key, len(cmd) - 1))
            continue
        value = KnobValue(cmd[1].text, cmd[1].kind)
        values[key] = value  # set twice: the last value wins, as in Nuke
        ordered.append((key, value, line))
    return values, user, ordered


def _parse_inputs(value: Optional[KnobValue], line: int, problems: List[str]) -> int:
    if value is None:
        return 1
    try:
        return sum(int(part) for part in value.text.split("+"))
    except ValueError:
        problems.append("line %d: inputs %r is not a number" % (line, value.text))
        return 1


def _check_value(knob: UserKnob, value: KnobValue, line: int, problems: List[str]) -> None:
    if value.expression is not None:
        return
    if knob.type in ITEM_TYPES and knob.items:
        text = value.text
        if text not in knob.items and not (text.isdigit() and int(text) < len(knob.items)):
            problems.append("line %d: %s = %r is not one of %s" % (line, knob.name, text, list(knob.items)))
    elif knob.type == 6:
        if value.text not in ("true", "false", "0", "1"):
            problems.append("line %d: boolean %s = %r (true/false expected)" % (line, knob.name, value.text))
    elif knob.type == TAB:
        # A group's open (1) or closed (0) state; a tab that opens no group holds no value.
        if not knob.opens_group or value.text not in ("0", "1"):
            problems.append("line %d: tab %s = %r (only a tab group, n 1 or n 2, holds 0 or 1)"
                            % (line, knob.name, value.text))
    elif knob.type in NUMERIC_TYPES:
        try:
            words = value.words()
        except GizmoError as exc:
            problems.append("line %d: %s = %r: %s" % (line, knob.name, value.text, exc))
            return
        for word in words:
            if word.kind == "braced":
                continue  # that dimension's expression or animation curve
            try:
                float(word.text)
            except ValueError:
                problems.append("line %d: %s = %r is not a number" % (line, knob.name, value.text))
                break


def _check_declared_values(user_knobs: List[UserKnob], ordered: List[Tuple[str, KnobValue, int]],
                           problems: List[str], where: str, group: bool = True) -> Dict[str, UserKnob]:
    """A group's own value lines must name a knob it declares (or one every group has) and fit its type; any
    other node's may also set the knobs of its class, which this module does not know."""
    declared: Dict[str, UserKnob] = {}
    for knob in user_knobs:
        if knob.name:
            declared.setdefault(knob.name, knob)  # a name declared twice: see LIMITS.md
    for key, value, line in ordered:
        if key in declared:
            _check_value(declared[key], value, line, problems)
        elif group and key not in GROUP_KNOBS:
            problems.append("line %d: value for %r, which %s does not declare" % (line, key, where))
    return declared


@dataclass
class _Frame:
    """One group being read: its nodes and its stack."""

    nodes: List[ChildNode]
    stack: List[Optional[ChildNode]] = field(default_factory=list)


@dataclass
class _Scope:
    """What `parent.` reaches from inside a group: the knobs it declares and its nodes' names."""

    declared: Dict[str, UserKnob]
    children: List[str]

    def resolves(self, name: str, field_name: str) -> bool:
        if name in self.declared or name in GROUP_KNOBS or NODE_PROPERTY.match(name):
            return True
        return bool(field_name) and name in self.children  # parent.<Node>.<knob>


def _check_group(nodes: List[ChildNode], scopes: List[_Scope], label: str, lint: List[str]) -> None:
    """Soundness of one group's nodes: unique names, Inputs numbered 0..N-1, `parent.` references that resolve.
    `scopes` run from this group outwards (a reference past the gizmo itself is not checked)."""
    names = [n.name for n in nodes if n.name]
    for name in sorted(set(x for x in names if names.count(x) > 1)):
        lint.append("%snode name %r used twice" % (label, name))
    inputs = [n for n in nodes if n.cls == "Input"]
    numbers = []
    for n in inputs:
        raw = n.knobs.get("number")
        try:
            numbers.append(int(raw.text) if raw else 0)
        except ValueError:
            lint.append("%sInput %s: number %r is not an integer" % (label, n.name, raw.text if raw else ""))
    if sorted(numbers) != list(range(len(inputs))):
        lint.append("%sInput nodes must be numbered 0..%d once each, found %s" % (label, len(inputs) - 1,
                                                                                 sorted(numbers)))
    for node in nodes:
        for key, value in node.knobs.items():
            if key in SCRIPT_KNOBS:
                continue
            for up, ref, field_name in PARENT_REF.findall(value.text):
                depth = up.count(".parent")
                if depth >= len(scopes) or scopes[depth].resolves(ref, field_name):
                    continue
                lint.append("line %d: %s%s.%s refers to parent%s.%s, which %s does not declare"
                            % (node.line, label, node.name or node.cls, key, up, ref + ("." + field_name if field_name
                                                                                       else ""),
                               "its group" if label or depth else "the gizmo"))


def _parse_layer(cmd: List[Word], problems: List[str]) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """`add_layer {name name.red name.green ...}`: a layer and its channels, each `layer.channel`."""
    line = cmd[0].line
    if len(cmd) != 2 or cmd[1].kind != "braced":
        problems.append("line %d: add_layer needs one {...} argument" % line)
        return None
    words = [w.text for c in tokenize(cmd[1].text) for w in c]
    if len(words) < 2 or not VAR_NAME.match(words[0]):
        problems.append("line %d: add_layer {%s}: a layer name and its channels expected" % (line, cmd[1].text))
        return None
    for channel in words[1:]:
        layer, _, rest = channel.partition(".")
        if layer != words[0] or not rest or " " in rest:
            problems.append("line %d: add_layer %s: %r is not %s.<channel>" % (line, words[0], channel, words[0]))
    return words[0], tuple(words[1:])


def parse_gizmo(text: str) -> GizmoDoc:
    """Reads gizmo text as Nuke loads it; raises GizmoError listing what Nuke refuses (see module docstring).
    What only this project's own files must avoid is in the result's `lint`."""
    doc, found = _read(text)
    if found.load:
        raise GizmoError("invalid gizmo:\n  " + "\n  ".join(found.load))
    return doc


def _read(text: str) -> Tuple[GizmoDoc, _Problems]:
    found = _Problems()
    problems = found.load
    commands = tokenize(text)
    header: Optional[Tuple[str, Dict[str, KnobValue], List[UserKnob], List[Tuple[str, KnobValue, int]]]] = None
    top = _Frame([])
    frames: List[_Frame] = []
    groups: List[Tuple[ChildNode, List[Tuple[str, KnobValue, int]]]] = []
    variables: Dict[str, Optional[ChildNode]] = {}
    layers: Dict[str, Tuple[str, ...]] = {}
    ended = False
    for cmd in commands:
        head = cmd[0]
        line = head.line
        if head.text == "add_layer":
            layer = _parse_layer(cmd, problems)
            if layer:
                layers[layer[0]] = layer[1]
            continue
        if ended:
            problems.append("line %d: %r after the gizmo's end%s" % (line, head.text, "" if header is None or header[0]
                                                                      in GROUP_CLASSES else
                            " (its header, %s, is a single node: only Gizmo { } and Group { } hold nodes)"
                            % header[0]))
            continue
        if header is None:
            # Before the header, what Nuke's copy/paste writes: the version, and the stack the node was pasted on.
            if head.text == "version":
                continue
            if head.text == "set" and len(cmd) == 3 and cmd[2].text == "[stack 0]" and VAR_NAME.match(cmd[1].text):
                variables[cmd[1].text] = None
                continue
            if head.text == "push" and len(cmd) == 2 and (cmd[1].text == "0" or cmd[1].text[1:] in variables):
                continue
            if len(cmd) == 2 and cmd[1].kind == "braced" and CLASS_NAME.match(head.text):
                values, user, ordered = _knob_block(cmd[1], found)
                header = (head.text, values, user, ordered)
                if head.text in GROUP_CLASSES:
                    frames.append(top)
                else:
                    ended = True  # a single node with user knobs: nothing follows it
                continue
            problems.append("line %d: %r before the Gizmo { } header" % (line, head.text))
            continue
        frame = frames[-1]
        stack = frame.stack
        if head.text == "end_group":
            if len(cmd) != 1:
                problems.append("line %d: end_group takes no arguments" % line)
            frames.pop()
            ended = not frames
            continue
        if head.text == "push":
            if len(cmd) != 2:
                problems.append("line %d: push needs one argument" % line)
                continue
            arg = cmd[1].text
            if arg == "0":
                stack.append(None)
            elif arg.startswith("$") and arg[1:] in variables:
                stack.append(variables[arg[1:]])
            else:
                problems.append("line %d: push %s: unknown variable" % (line, arg))
            continue
        if head.text == "set":
            if len(cmd) != 3 or cmd[2].text != "[stack 0]" or not VAR_NAME.match(cmd[1].text):
                problems.append("line %d: set must read `set NAME [stack 0]`" % line)
                continue
            if not stack:
                problems.append("line %d: set %s on an empty stack" % (line, cmd[1].text))
                continue
            variables[cmd[1].text] = stack[-1]
            continue
        original: Optional[ChildNode] = None
        if head.text == "clone":
            # `clone node1a2b|Blur|42 Blur {...}` is the original; `clone $C1a2b {...}` a copy of it.
            if len(cmd) == 3 and cmd[1].text.startswith("$") and cmd[2].kind == "braced":
                original = variables.get(cmd[1].text[1:])
                if original is None:
                    problems.append("line %d: clone %s: unknown variable" % (line, cmd[1].text))
                    continue
                cmd = [Word(original.cls, "bare", line), cmd[2]]
            elif len(cmd) == 4 and cmd[3].kind == "braced":
                cmd = cmd[2:]
            else:
                problems.append("line %d: clone must read `clone NAME Class {...}` or `clone $VAR {...}`" % line)
                continue
            head = cmd[0]
        # A node: `Class {knobs}` (a bare `Class {}` is allowed too).
        if len(cmd) != 2 or cmd[1].kind != "braced" or not CLASS_NAME.match(head.text):
            problems.append("line %d: %r is neither a node nor a stack command" % (line, " ".join(w.text for w in cmd)))
            continue
        values, user, ordered = _knob_block(cmd[1], found)
        if original is not None:  # a copy shares the original's knobs; only its own name and place differ
            shared = {k: v for k, v in original.knobs.items() if k not in ("name", "xpos", "ypos", "selected")}
            values = dict(shared, **values)
        count = _parse_inputs(values.get("inputs"), line, problems)
        if head.text == "Input" and count != 0:
            problems.append("line %d: an Input node must say `inputs 0`" % line)
        if len(stack) < count:
            problems.append("line %d: %s takes %d inputs but the stack holds %d" % (line, head.text, count, len(stack)))
            popped = list(reversed(stack))
            stack.clear()
        else:
            popped = list(reversed(stack[len(stack) - count:])) if count else []
            del stack[len(stack) - count:]
        children: Optional[List[ChildNode]] = [] if head.text in GROUP_CLASSES else None
        node = ChildNode(head.text, values, popped, line, user, children)
        frame.nodes.append(node)
        stack.append(node)
        if children is not None:  # its nodes follow, up to its own end_group
            groups.append((node, ordered))
            frames.append(_Frame(children))

    if header is None:
        raise GizmoError("no Gizmo { } header" + ("; " + "; ".join(problems) if problems else ""))
    if not ended:
        problems.append("the gizmo does not end with end_group" if len(frames) <= 1 else
                        "%d nested group(s) are not closed by end_group" % (len(frames) - 1))
    header_class, header_values, user_knobs, ordered = header
    declared = _check_declared_values(user_knobs, ordered, problems, "the gizmo", header_class in GROUP_CLASSES)
    scopes: Dict[int, List[_Scope]] = {id(None): [_Scope(declared, [n.name for n in top.nodes if n.name])]}
    for group, group_ordered in groups:
        label = "group %s" % (group.name or "at line %d" % group.line)
        inner = _check_declared_values(group.user_knobs, group_ordered, problems, label)
        scopes[id(group)] = [_Scope(inner, [n.name for n in group.children or [] if n.name])]
    _lint_groups(header_class, header_values, top.nodes, scopes, found.lint)
    return GizmoDoc(header_class, user_knobs, header_values, top.nodes, layers, found.lint), found


def _lint_groups(header_class: str, header_values: Dict[str, KnobValue], nodes: List[ChildNode],
                 scopes: Dict[int, List[_Scope]], lint: List[str]) -> None:
    if header_class in GROUP_CLASSES:
        outputs = [n for n in nodes if n.cls == "Output"]
        if len(outputs) != 1:
            lint.append("the gizmo must hold exactly one Output node, found %d" % len(outputs))
        elif len(outputs[0].inputs) != 1 or outputs[0].inputs[0] is None:
            lint.append("the Output node must be connected to one node")
        count = len([n for n in nodes if n.cls == "Input"])
        declared_inputs = header_values.get("inputs")
        if declared_inputs is not None and declared_inputs.text != str(count):
            lint.append("header says inputs %s but the gizmo holds %d Input nodes" % (declared_inputs.text, count))
    pending: List[Tuple[List[ChildNode], List[_Scope], str]] = [(nodes, scopes[id(None)], "")]
    while pending:
        group_nodes, chain, label = pending.pop()
        _check_group(group_nodes, chain, label, lint)
        for node in group_nodes:
            if node.is_group:
                pending.append((node.children or [], scopes[id(node)] + chain,
                                "group %s: " % (node.name or "at line %d" % node.line)))


def validate_gizmo(text: str) -> GizmoDoc:
    """Raises GizmoError if Nuke would not load `text` or it is not sound enough for this project to ship (the
    lint above); returns the parsed document."""
    doc, found = _read(text)
    if found.load or found.lint:
        raise GizmoError("invalid gizmo:\n  " + "\n  ".join(found.load + found.lint))
    return doc


def parse_serialise_knob(text: str) -> Dict[str, str]:
    """Splits an Inference node's serialiseKnob text `name:{"expr"};name:value;` into {name: raw value}."""
    entries: Dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\n;":
            i += 1
        if i >= n:
            break
        colon = text.find(":", i)
        if colon < 0:
            raise GizmoError("serialiseKnob: %r has no ':'" % text[i:])
        name = text[i:colon].strip()
        # The value runs to the next ";" outside braces: `{"parent.a"}`, `sRGB`, or one word per dimension of a
        # multi-value knob, such as `{parent.x} 100`.
        j, depth = colon + 1, 0
        while j < n and (depth or text[j] != ";"):
            if text[j] == "\\":
                j += 2
                continue
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth < 0:
                raise GizmoError("serialiseKnob: unbalanced '}' in the value of %s" % name)
            j += 1
        if depth:
            raise GizmoError("serialiseKnob: value of %s is never closed" % name)
        value = text[colon + 1:j].strip()
        if not VAR_NAME.match(name):
            raise GizmoError("serialiseKnob: %r is not a knob name" % name)
        if name in entries:
            raise GizmoError("serialiseKnob: %s given twice" % name)
        entries[name] = value
        i = j + 1
    return entries
