"""A small reader and validator for Nuke's .nk / .gizmo text, written for this project's tests.

Why our own: no published parser reads real gizmo files (the PyPI `nkparser` rejects the standard layout), and
the fake `nuke` module needs to instantiate an installed gizmo the way Nuke would. So this module does both:
`parse_gizmo(text)` returns the gizmo's user knobs and its child nodes wired by Nuke's stack program, and
`validate_gizmo(text)` raises `GizmoError` listing every problem it finds:

- quote and brace balance (the tokenizer refuses unterminated words);
- exactly one `Gizmo {` (or `Group {`) header, closed by a bare `end_group`;
- `addUserKnob` lines with a known knob type number, unique names, enumeration items and slider ranges that
  parse, value lines that name a declared knob (enumeration values among its items, numbers for numeric knobs);
- the stack arithmetic of the child nodes: `inputs N` pops N (default 1), `push $VAR` / `push 0`, `set VAR
  [stack 0]`, a clone's original `clone NAME Class {...}` and its copies `clone $VAR {...}`; no underflow, no
  unknown variables, unique node names;
- exactly one `Output` taking one input; `Input` nodes numbered 0..N-1 matching the header's `inputs`;
- every `parent.X` reference in a child's knobs names a knob the gizmo declares or one every node has
  (`parent.width`, `parent.height`, `parent.input1`, ...).

A knob set twice in one node is not an error: Nuke keeps the last value, and public gizmos do it.

Tcl semantics are kept only as far as .nk files use them: words are bare, "quoted" (backslash escapes) or
{braced} (nested, raw); a newline ends a command unless it is inside quotes or braces.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

# nuke.KnobType numbers that addUserKnob accepts in gizmos written by this project and by Foundry's Cattery.
KNOB_TYPES = {
    1: "String_Knob",
    2: "File_Knob",
    3: "Int_Knob",
    4: "Enumeration_Knob",
    6: "Boolean_Knob",
    7: "Double_Knob",
    8: "Float_Knob",
    9: "Array_Knob",
    12: "XY_Knob",
    13: "XYZ_Knob",
    14: "WH_Knob",
    16: "Size_Knob",
    17: "Format_Knob",
    18: "Color_Knob",
    19: "AColor_Knob",
    20: "Tab_Knob",
    22: "PyScript_Knob",
    26: "Text_Knob",
    41: "Link_Knob",
    43: "Multiline_Eval_String_Knob",
    61: "Password_Knob",
}
NUMERIC_TYPES = {3, 7, 8, 9, 12, 13, 14, 16, 18, 19}
# Knobs every Group/Gizmo has, which a value line may set without an addUserKnob.
GROUP_KNOBS = {
    "name", "label", "inputs", "help", "tile_color", "note_font", "note_font_size", "note_font_color",
    "onCreate", "onDestroy", "knobChanged", "updateUI", "autolabel", "xpos", "ypos", "selected", "icon",
    "disable", "hide_input", "postage_stamp", "gl_color", "lock_connections", "addUserKnob",
}
PARENT_REF = re.compile(r"\bparent\.([A-Za-z_][A-Za-z0-9_]*)")
# What an expression can read from any node besides its knobs: its format's size and its inputs.
NODE_PROPERTY = re.compile(r"^(width|height|input[0-9]*)$")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


@dataclass
class KnobValue:
    text: str
    kind: str               # the tokenizer kind: 'bare' | 'quoted' | 'braced'

    @property
    def expression(self) -> Optional[str]:
        """`{{expr}}` (a knob expression) returns expr; a plain value returns None."""
        if self.kind == "braced":
            inner = self.text.strip()
            if inner.startswith("{") and inner.endswith("}"):
                inner = inner[1:-1].strip()
                if inner.startswith('"') and inner.endswith('"'):
                    inner = _unescape(inner[1:-1])
                return inner
        return None


@dataclass
class ChildNode:
    cls: str
    knobs: Dict[str, KnobValue]
    inputs: List[Optional["ChildNode"]] = field(default_factory=list)
    line: int = 0
    user_knobs: List[UserKnob] = field(default_factory=list)

    @property
    def name(self) -> str:
        value = self.knobs.get("name")
        return value.text if value else ""


@dataclass
class GizmoDoc:
    header_class: str
    user_knobs: List[UserKnob]
    header_values: Dict[str, KnobValue]
    nodes: List[ChildNode]

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

    @property
    def output(self) -> ChildNode:
        return self.nodes_of_class("Output")[0]

    def input_named(self, name: str) -> ChildNode:
        node = self.node(name)
        if node.cls != "Input":
            raise KeyError(name)
        return node


# ----------------------------------------------------------------------------------------------- parser
def _parse_user_knob(words: List[Word], problems: List[str]) -> Optional[UserKnob]:
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
        problems.append("line %d: addUserKnob type %d is not a knob type Nuke knows" % (line, ktype))
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
            pass
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
        problems.append("line %d: enumeration knob %s has no items (M {...})" % (line, name))
    if ktype == 41 and not knob.text:
        problems.append("line %d: link knob %s has no target (T Node.knob)" % (line, name))
    if knob.range and knob.range[0] > knob.range[1]:
        problems.append("line %d: knob %s: range %s is reversed" % (line, name, knob.range))
    return knob


def _knob_block(word: Word, problems: List[str]
                ) -> Tuple[Dict[str, KnobValue], List[UserKnob], List[Tuple[str, KnobValue, int]]]:
    """Parses the inside of `Class { ... }`: knob value lines and addUserKnob lines, in order."""
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
            knob = _parse_user_knob(inner, problems)
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
    if knob.type == 4 and knob.items:
        text = value.text
        if text not in knob.items and not (text.isdigit() and int(text) < len(knob.items)):
            problems.append("line %d: %s = %r is not one of %s" % (line, knob.name, text, list(knob.items)))
    elif knob.type == 6:
        if value.text not in ("true", "false", "0", "1"):
            problems.append("line %d: boolean %s = %r (true/false expected)" % (line, knob.name, value.text))
    elif knob.type in NUMERIC_TYPES:
        parts = value.text.split() if value.kind == "braced" else [value.text]
        for part in parts:
            try:
                float(part)
            except ValueError:
                problems.append("line %d: %s = %r is not a number" % (line, knob.name, value.text))
                break


def parse_gizmo(text: str) -> GizmoDoc:
    """Reads gizmo text into a GizmoDoc; raises GizmoError listing every problem (see module docstring)."""
    problems: List[str] = []
    commands = tokenize(text)
    header: Optional[Tuple[str, Dict[str, KnobValue], List[UserKnob], List[Tuple[str, KnobValue, int]]]] = None
    nodes: List[ChildNode] = []
    stack: List[Optional[ChildNode]] = []
    variables: Dict[str, Optional[ChildNode]] = {}
    ended = False
    for cmd in commands:
        head = cmd[0]
        line = head.line
        if ended:
            problems.append("line %d: %r after end_group" % (line, head.text))
            continue
        if head.text == "version" and header is None:
            continue
        if head.text in ("Gizmo", "Group") and header is None and not nodes:
            if len(cmd) != 2 or cmd[1].kind != "braced":
                problems.append("line %d: %s header needs a {...} block" % (line, head.text))
                continue
            values, user, ordered = _knob_block(cmd[1], problems)
            header = (head.text, values, user, ordered)
            continue
        if header is None:
            problems.append("line %d: %r before the Gizmo { } header" % (line, head.text))
            continue
        if head.text in ("Gizmo", "Group") and len(cmd) == 2:
            problems.append("line %d: a second %s header (nested groups are not supported here)" % (line, head.text))
            continue
        if head.text == "end_group":
            ended = True
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
        if len(cmd) != 2 or cmd[1].kind != "braced" or not VAR_NAME.match(head.text):
            problems.append("line %d: %r is neither a node nor a stack command" % (line, " ".join(w.text for w in cmd)))
            continue
        values, user, _ = _knob_block(cmd[1], problems)
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
        node = ChildNode(head.text, values, popped, line, user)
        nodes.append(node)
        stack.append(node)

    if header is None:
        raise GizmoError("no Gizmo { } header" + ("; " + "; ".join(problems) if problems else ""))
    if not ended:
        problems.append("the gizmo does not end with end_group")
    header_class, header_values, user_knobs, ordered = header
    declared: Dict[str, UserKnob] = {}
    for knob in user_knobs:
        if knob.type in (20, 26) and not knob.name:
            continue
        if not VAR_NAME.match(knob.name):
            problems.append("line %d: knob name %r is not a valid identifier" % (knob.line, knob.name))
        elif knob.name in declared and knob.type not in (20,):
            problems.append("line %d: knob %r declared twice" % (knob.line, knob.name))
        declared[knob.name] = knob
    for key, value, line in ordered:
        if key in declared:
            _check_value(declared[key], value, line, problems)
        elif key not in GROUP_KNOBS:
            problems.append("line %d: value for %r, which the gizmo does not declare" % (line, key))

    names = [n.name for n in nodes if n.name]
    for name in sorted(set(x for x in names if names.count(x) > 1)):
        problems.append("node name %r used twice" % name)
    outputs = [n for n in nodes if n.cls == "Output"]
    if len(outputs) != 1:
        problems.append("the gizmo must hold exactly one Output node, found %d" % len(outputs))
    elif len(outputs[0].inputs) != 1 or outputs[0].inputs[0] is None:
        problems.append("the Output node must be connected to one node")
    inputs = [n for n in nodes if n.cls == "Input"]
    numbers = []
    for n in inputs:
        raw = n.knobs.get("number")
        try:
            numbers.append(int(raw.text) if raw else 0)
        except ValueError:
            problems.append("Input %s: number %r is not an integer" % (n.name, raw.text if raw else ""))
    if sorted(numbers) != list(range(len(inputs))):
        problems.append("Input nodes must be numbered 0..%d once each, found %s" % (len(inputs) - 1, sorted(numbers)))
    declared_inputs = header_values.get("inputs")
    if declared_inputs is not None and declared_inputs.text != str(len(inputs)):
        problems.append("header says inputs %s but the gizmo holds %d Input nodes"
                        % (declared_inputs.text, len(inputs)))
    for node in nodes:
        for key, value in node.knobs.items():
            for ref in PARENT_REF.findall(value.text):
                if ref not in declared and ref not in GROUP_KNOBS and not NODE_PROPERTY.match(ref):
                    problems.append("line %d: %s.%s refers to parent.%s, which the gizmo does not declare"
                                    % (node.line, node.name or node.cls, key, ref))
    if problems:
        raise GizmoError("invalid gizmo:\n  " + "\n  ".join(problems))
    return GizmoDoc(header_class, user_knobs, header_values, nodes)


def validate_gizmo(text: str) -> GizmoDoc:
    """Raises GizmoError if Nuke would not load `text` as a gizmo; returns the parsed document."""
    return parse_gizmo(text)


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
