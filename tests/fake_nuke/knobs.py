"""Knob classes of the fake `nuke` module: typed values, ranges, items, expressions, strict setValue.

Each class accepts only the Python types the real knob accepts (an int for a Double_Knob is fine, a string
is not; an Enumeration_Knob takes an index in range or one of its items). Expressions are stored and, when
read, evaluated only in the forms gizmos use (`parent.<knob>`, `parent.<knob>.x`, or a number); anything else
raises FakeLimitation instead of pretending to know Nuke's expression language.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

# `parent.knob`, or one dimension of a multi-value knob: `parent.offset.x` (x y z) or `parent.offset.1`.
PARENT_EXPR = re.compile(r"^\s*parent\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([xyz]|[0-9]+))?\s*$")
DIMENSION_NAMES = {"x": 0, "y": 1, "z": 2}


class FakeLimitation(NotImplementedError):
    """The fake cannot model this faithfully; the test must not rely on it."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Knob(object):
    """Base knob: a name, a label, a tooltip, flags, an owner node."""

    knob_type = 0          # nuke.KnobType number used by addUserKnob
    has_value = True

    def __init__(self, name: str, label: Optional[str] = None, *args: Any) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError("%s needs a knob name (str), got %r" % (type(self).__name__, name))
        if label is not None and not isinstance(label, str):
            raise TypeError("%s %s: label must be a str, got %r" % (type(self).__name__, name, label))
        self._name = name
        self._label = label if label is not None else name
        self._tooltip = ""
        self._flags: set = set()
        self._visible = True
        self._enabled = True
        self._expression: Optional[str] = None
        self._node = None
        self._value = self.default()
        self.user = False  # added with addKnob / addUserKnob, as opposed to built in

    # -- identity
    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def setLabel(self, label: str) -> None:
        self._label = self._check_str(label)

    def tooltip(self) -> str:
        return self._tooltip

    def setTooltip(self, text: str) -> None:
        self._tooltip = self._check_str(text)

    def Class(self) -> str:
        return type(self).__name__

    def node(self):
        return self._node

    def setFlag(self, flag: int) -> None:
        self._flags.add(int(flag))

    def clearFlag(self, flag: int) -> None:
        self._flags.discard(int(flag))

    def getFlag(self, flag: int) -> bool:
        return int(flag) in self._flags

    def setVisible(self, visible: bool) -> None:
        self._visible = bool(visible)

    def visible(self) -> bool:
        return self._visible

    def setEnabled(self, enabled: bool) -> None:
        self._enabled = bool(enabled)

    def enabled(self) -> bool:
        return self._enabled

    # -- values
    def default(self) -> Any:
        return None

    def _check_str(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError("%s %s: expected a str, got %s" % (self.Class(), self._name, type(value).__name__))
        return value

    def coerce(self, value: Any) -> Any:
        raise TypeError("%s %s holds no value" % (self.Class(), self._name))

    def setValue(self, value: Any, *channel: Any) -> bool:
        self._owner_alive()
        self._value = self.coerce(value)
        self._expression = None
        return True

    def value(self) -> Any:
        self._owner_alive()
        if self._expression is not None:
            return self.coerce(self._evaluate_expression())
        return self._value

    def getValue(self) -> Any:
        return self.value()

    def setExpression(self, expression: str, channel: int = -1) -> bool:
        self._expression = self._check_str(expression)
        return True

    def hasExpression(self) -> bool:
        return self._expression is not None

    def expression(self) -> Optional[str]:
        return self._expression

    def _evaluate_expression(self) -> Any:
        return self._evaluate(self._expression or "")

    def _evaluate(self, expr: str) -> Any:
        match = PARENT_EXPR.match(expr)
        if match:
            value = self._parent_value(expr, match.group(1), match.group(2))
            # a checkbox read by a number knob's expression is 1 or 0
            return float(value) if isinstance(value, bool) and not isinstance(self, Boolean_Knob) else value
        try:
            return float(expr)
        except ValueError:
            pass
        from . import expressions, tcl

        node = self._node
        fake = node.fake if node is not None else None
        if fake is None:
            raise FakeLimitation("expression %r on %s: the knob belongs to no node" % (expr, self._name))
        return expressions.evaluate(tcl.substitute(expr, fake), lambda name: self._reference(expr, name))

    def _parent_value(self, expr: str, name: str, dimension: Optional[str], node_name: str = "") -> Any:
        """`parent.name` (or `parent.node_name.name`), one dimension of it if given."""
        node = self._node
        group = node.parent_group() if node is not None else None
        if group is None or group.is_root():
            raise FakeLimitation("expression %r on %s has no parent group to read" % (expr, self._name))
        owner = group
        if node_name:
            owner = next((n for n in group._children if n.name() == node_name), None)
            if owner is None:
                raise NameError("expression %r: the parent has no node %r" % (expr, node_name))
        knob = owner.knob(name)
        if knob is None:
            raise NameError("expression %r: %s has no knob %r" % (expr, owner.name() if node_name else "the parent",
                                                                 name))
        # In an expression an enumeration knob is its index, as in Nuke.
        value = knob.index() if isinstance(knob, Enumeration_Knob) else knob.value()
        if dimension is None:
            return value
        index = DIMENSION_NAMES.get(dimension, None)
        values = value if isinstance(value, tuple) else (value,)
        return values[int(dimension) if index is None else index]

    def _reference(self, expr: str, name: str) -> float:
        """A name inside a larger expression: `parent.knob[.x]` or `parent.Node.knob[.x]`."""
        from .expressions import as_number

        parts = name.split(".")
        if parts[0] != "parent" or len(parts) < 2:
            raise FakeLimitation("the fake evaluates only parent.<knob> references, not %r in %r" % (name, expr))
        rest = parts[1:]
        dimension = rest.pop() if len(rest) > 1 and (rest[-1] in DIMENSION_NAMES or rest[-1].isdigit()) else None
        if len(rest) == 1:
            return as_number(self._parent_value(expr, rest[0], dimension))
        if len(rest) == 2:
            return as_number(self._parent_value(expr, rest[1], dimension, rest[0]))
        raise FakeLimitation("the fake cannot follow the reference %r in %r" % (name, expr))

    def fromScript(self, text: str) -> None:
        """Sets the value from .nk text (what a gizmo file holds)."""
        self.setValue(text)

    def toScript(self) -> str:
        return "" if self._value is None else str(self._value)

    def _owner_alive(self) -> None:
        if self._node is not None:
            self._node._check_alive()

    def __repr__(self) -> str:
        return "<fake %s %s>" % (self.Class(), self._name)


class Tab_Knob(Knob):
    """A tab, or (`group` 1 / 2, `n 1` in .nk text) the start of a tab group, whose value is its open (1) or
    closed (0) state; -1, -2, -3 close groups. A tab that opens no group holds no value."""

    knob_type = 20
    has_value = False

    def __init__(self, name: str, label: Optional[str] = None, group: int = 0) -> None:
        super(Tab_Knob, self).__init__(name, label)
        if isinstance(group, bool) or not isinstance(group, int):
            raise TypeError("Tab_Knob %s: the group code is an int, got %r" % (name, group))
        self.group = group
        self._value = 1 if group > 0 else None

    def setValue(self, value: Any, *channel: Any) -> bool:
        if self.group <= 0:
            raise TypeError("Tab_Knob %s holds no value (it opens no tab group)" % self._name)
        if isinstance(value, bool) or value not in (0, 1):
            raise ValueError("Tab_Knob %s: a tab group is open (1) or closed (0), not %r" % (self._name, value))
        self._value = int(value)
        return True

    def fromScript(self, text: str) -> None:
        if text not in ("0", "1"):
            raise ValueError("Tab_Knob %s: %r is not 0 or 1" % (self._name, text))
        self.setValue(int(text))


class Text_Knob(Knob):
    knob_type = 26
    has_value = False

    def __init__(self, name: str, label: Optional[str] = None, text: str = "") -> None:
        super(Text_Knob, self).__init__(name, label)
        self._value = self._check_str(text)

    def coerce(self, value: Any) -> str:
        return self._check_str(value)


class String_Knob(Knob):
    knob_type = 1

    def __init__(self, name: str, label: Optional[str] = None, text: str = "") -> None:
        super(String_Knob, self).__init__(name, label)
        self._value = self._check_str(text)

    def default(self) -> str:
        return ""

    def coerce(self, value: Any) -> str:
        return self._check_str(value)


class Multiline_Eval_String_Knob(String_Knob):
    knob_type = 43


class Password_Knob(String_Knob):
    knob_type = 61


class File_Knob(String_Knob):
    knob_type = 2

    def evaluate(self) -> str:
        from .tcl import evaluate_tcl

        node = self._node
        return evaluate_tcl(self.value(), node.fake if node is not None else None)


class Int_Knob(Knob):
    knob_type = 3

    def __init__(self, name: str, label: Optional[str] = None) -> None:
        super(Int_Knob, self).__init__(name, label)
        self._range = (0, 100)

    def default(self) -> int:
        return 0

    def coerce(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer() and self._expression is not None:
                return int(value)
            raise TypeError("Int_Knob %s: expected an int, got %r" % (self._name, value))
        return value

    def setRange(self, minimum: int, maximum: int) -> None:
        if not (_is_number(minimum) and _is_number(maximum)):
            raise TypeError("Int_Knob %s: setRange takes numbers" % self._name)
        self._range = (int(minimum), int(maximum))

    def min(self) -> int:
        return self._range[0]

    def max(self) -> int:
        return self._range[1]

    def fromScript(self, text: str) -> None:
        self.setValue(int(text, 0))  # .nk files write colours as 0xRRGGBBAA


class Double_Knob(Knob):
    knob_type = 7

    def __init__(self, name: str, label: Optional[str] = None) -> None:
        super(Double_Knob, self).__init__(name, label)
        self._range = (0.0, 1.0)

    def default(self) -> float:
        return 0.0

    def coerce(self, value: Any) -> float:
        if not _is_number(value):
            raise TypeError("Double_Knob %s: expected a number, got %r" % (self._name, value))
        return float(value)

    def setRange(self, minimum: float, maximum: float) -> None:
        if not (_is_number(minimum) and _is_number(maximum)):
            raise TypeError("Double_Knob %s: setRange takes numbers, got %r, %r" % (self._name, minimum, maximum))
        self._range = (float(minimum), float(maximum))

    def min(self) -> float:
        return self._range[0]

    def max(self) -> float:
        return self._range[1]

    def fromScript(self, text: str) -> None:
        self.setValue(float(text))


class Boolean_Knob(Knob):
    knob_type = 6

    def __init__(self, name: str, label: Optional[str] = None, value: bool = False) -> None:
        super(Boolean_Knob, self).__init__(name, label)
        self._value = self.coerce(value)

    def default(self) -> bool:
        return False

    def coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        raise TypeError("Boolean_Knob %s: expected a bool, got %r" % (self._name, value))

    def fromScript(self, text: str) -> None:
        if text not in ("true", "false", "0", "1"):
            raise ValueError("Boolean_Knob %s: %r is not true/false" % (self._name, text))
        self.setValue(text in ("true", "1"))


class Enumeration_Knob(Knob):
    """value() is the item's text, getValue() its index (as real Nuke does)."""

    knob_type = 4

    def __init__(self, name: str, label: Optional[str] = None, values: Sequence[str] = ()) -> None:
        if isinstance(values, str) or not all(isinstance(v, str) for v in values):
            raise TypeError("Enumeration_Knob %s: items must be a list of str, got %r" % (name, values))
        self._items: List[str] = list(values)
        super(Enumeration_Knob, self).__init__(name, label)

    def default(self) -> int:
        return 0

    def values(self) -> List[str]:
        return list(self._items)

    def setValues(self, items: Sequence[str]) -> None:
        if isinstance(items, str) or not all(isinstance(v, str) for v in items):
            raise TypeError("Enumeration_Knob %s: items must be a list of str" % self._name)
        self._items = list(items)
        self._value = 0

    def numValues(self) -> int:
        return len(self._items)

    def coerce(self, value: Any) -> int:
        if isinstance(value, str):
            if value not in self._items:
                raise ValueError("Enumeration_Knob %s: %r is not one of %s" % (self._name, value, self._items))
            return self._items.index(value)
        if _is_number(value) and float(value).is_integer() and 0 <= int(value) < len(self._items):
            return int(value)
        raise ValueError("Enumeration_Knob %s: %r is neither an item nor an index below %d"
                         % (self._name, value, len(self._items)))

    def value(self) -> str:
        return self._items[self.index()]

    def index(self) -> int:
        self._owner_alive()
        if self._expression is not None:
            return self.coerce(self._evaluate_expression())
        return self._value

    def getValue(self) -> float:
        return float(self.index())

    def fromScript(self, text: str) -> None:
        self.setValue(int(text) if text.isdigit() and text not in self._items else text)


class PyScript_Knob(Knob):
    """A button: execute() runs its command (a Python string or, for built-in buttons, a callable)."""

    knob_type = 22
    has_value = False

    def __init__(self, name: str, label: Optional[str] = None, command: Any = "") -> None:
        super(PyScript_Knob, self).__init__(name, label)
        self._command = command

    def setCommand(self, command: str) -> None:
        self._command = self._check_str(command)

    def command(self) -> Any:
        return self._command

    def execute(self) -> Any:
        self._owner_alive()
        if callable(self._command):
            return self._command()
        node = self._node
        fake = node.fake if node is not None else None
        namespace = {"nuke": fake}
        if fake is None:
            exec(self._command, namespace)
        else:
            with fake.fake_this(node):  # a button's script runs with nuke.thisNode() its node
                exec(self._command, namespace)
        return None


class Link_Knob(Knob):
    knob_type = 41
    has_value = False

    def setLink(self, target: str) -> None:
        self._value = self._check_str(target)

    def getLink(self) -> str:
        return self._value or ""


class Channel_Knob(String_Knob):
    """A single channel, e.g. rgba.alpha (or none; `-rgba.alpha` is the channel switched off)."""

    knob_type = 11

    def coerce(self, value: Any) -> str:
        text = self._check_str(value)
        if text != "none" and "." not in text:
            raise ValueError("%s %s: %r is not a channel (layer.channel or none)" % (self.Class(), self._name, text))
        return text


class ChannelMask_Knob(String_Knob):
    """A set of channels: a layer name, all/none, or a braced channel list."""

    knob_type = 10




class Float_Knob(Double_Knob):
    knob_type = 8


class Radio_Knob(Enumeration_Knob):
    """An enumeration shown as radio buttons (`addUserKnob {83 name M {items}}`)."""

    knob_type = 83


class Array_Knob(Knob):
    """A knob of numbers, each with its own value or expression; `dimensions` fixes their count (XY_Knob,
    XYZ_Knob), None takes any count (Array_Knob, Size_Knob)."""

    knob_type = 9
    dimensions: Optional[int] = None

    def __init__(self, name: str, label: Optional[str] = None) -> None:
        super(Array_Knob, self).__init__(name, label)
        self._dim_expressions: Dict[int, str] = {}
        self._range = (0.0, 1.0)

    def default(self) -> Tuple[float, ...]:
        return (0.0,) * (self.dimensions or 1)

    def coerce(self, value: Any) -> Tuple[float, ...]:
        if _is_number(value):
            return (float(value),) * (self.dimensions or 1)
        if isinstance(value, (list, tuple)) and value and all(_is_number(v) for v in value) and \
                len(value) == (self.dimensions or len(value)):
            return tuple(float(v) for v in value)
        raise TypeError("%s %s: expected %s numbers, got %r" % (self.Class(), self._name, self.dimensions or "some",
                                                                value))

    def setValue(self, value: Any, *channel: Any) -> bool:
        if channel and channel[0] is not None and int(channel[0]) >= 0:
            index = int(channel[0])
            if not 0 <= index < len(self._value) or not _is_number(value):
                raise TypeError("%s %s: cannot set %r at %r" % (self.Class(), self._name, value, index))
            values = list(self._value)
            values[index] = float(value)
            self._dim_expressions.pop(index, None)
            self._value = tuple(values)
            return True
        self._dim_expressions.clear()
        return super(Array_Knob, self).setValue(value)

    def setExpression(self, expression: str, channel: int = -1) -> bool:
        if channel < 0:
            self._dim_expressions.clear()
            return super(Array_Knob, self).setExpression(expression)
        if channel >= len(self._value):
            raise IndexError("%s %s has %d dimensions" % (self.Class(), self._name, len(self._value)))
        self._dim_expressions[channel] = self._check_str(expression)
        return True

    def hasExpression(self) -> bool:
        return self._expression is not None or bool(self._dim_expressions)

    def value(self) -> Tuple[float, ...]:
        values = list(super(Array_Knob, self).value())
        for index, expression in self._dim_expressions.items():
            result = self._evaluate(expression)
            values[index] = result[index] if isinstance(result, tuple) else float(result)
        return tuple(values)

    def setRange(self, minimum: float, maximum: float) -> None:
        self._range = (float(minimum), float(maximum))

    def fromScript(self, text: str) -> None:
        """`1.5`, `10 20`, or per dimension a number or a braced expression: `{parent.x} 100`."""
        from tests.gizmo_validator import tokenize

        words = [w for command in tokenize(text) for w in command]
        self.setValue(tuple(0.0 if w.kind == "braced" else float(w.text) for w in words) if len(words) > 1
                      else float(text))
        for index, word in enumerate(words if len(words) > 1 else []):
            if word.kind == "braced":
                self.setExpression(word.text.strip().strip('"'), index)


class Color_Knob(Array_Knob):
    """r g b: one number sets all three; each channel may hold its own expression (`{parent.c} 0 0`)."""

    knob_type = 18
    dimensions = 3


class AColor_Knob(Color_Knob):
    """r g b a."""

    knob_type = 19
    dimensions = 4


class Size_Knob(Array_Knob):
    knob_type = 16


class XY_Knob(Array_Knob):
    knob_type = 12
    dimensions = 2


class WH_Knob(Array_Knob):
    """Width and height; .nk text may hold one number for both (`overscan 4`)."""

    knob_type = 14
    dimensions = 2


class BBox_Knob(Array_Knob):
    """x y r t (`box {0 0 {width} {height}}`)."""

    knob_type = 15
    dimensions = 4


class Eyedropper_Knob(Array_Knob):
    """A colour picker's sample (Cryptomatte writes eight numbers)."""

    knob_type = 36


class XYZ_Knob(Array_Knob):
    knob_type = 13
    dimensions = 3


class Format_Knob(String_Knob):
    knob_type = 17


class Obsolete_Knob(String_Knob):
    pass


# addUserKnob type number (Foundry's nuke.KnobType, tests.gizmo_validator.KNOB_TYPES) -> the knob class the fake
# builds for it. Other numbers are real knob types the fake does not model (FakeLimitation).
KNOB_CLASSES_BY_TYPE = {
    1: String_Knob,
    2: File_Knob,
    3: Int_Knob,
    4: Enumeration_Knob,
    6: Boolean_Knob,
    7: Double_Knob,
    8: Float_Knob,
    9: Array_Knob,
    10: ChannelMask_Knob,
    11: Channel_Knob,
    12: XY_Knob,
    13: XYZ_Knob,
    14: WH_Knob,
    15: BBox_Knob,
    16: Size_Knob,
    17: Format_Knob,
    18: Color_Knob,
    19: AColor_Knob,
    20: Tab_Knob,
    22: PyScript_Knob,
    26: Text_Knob,
    36: Eyedropper_Knob,
    41: Link_Knob,
    43: Multiline_Eval_String_Knob,
    61: Password_Knob,
    83: Radio_Knob,
}

PUBLIC_KNOB_CLASSES = (
    Tab_Knob, Text_Knob, String_Knob, Multiline_Eval_String_Knob, File_Knob, Int_Knob, Double_Knob,
    Boolean_Knob, Enumeration_Knob, PyScript_Knob, Link_Knob, Color_Knob, AColor_Knob, Float_Knob, Array_Knob,
    XY_Knob, XYZ_Knob, WH_Knob, BBox_Knob, Size_Knob, Password_Knob, Format_Knob, Channel_Knob, ChannelMask_Knob,
    Radio_Knob,
)
