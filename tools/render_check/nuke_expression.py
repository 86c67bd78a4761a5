"""Evaluates the Nuke expressions the gizmo writes, over whole images in numpy, so the replica of a node reads the
very text the gizmo holds instead of a restatement of it.

The subset is what the gizmo uses, each part as Foundry's expression reference gives it: numbers; the pixel's
`r g b a` and `x y` (integer pixel indices from the bottom left, as the self-test checks in a real Nuke);
`parent.knob` and `parent.knob.r|g|b|x|y|N`; temporary variables; `+ - * /`, comparisons (1 or 0), `!`, `&&`, `||`
and `c ? a : b`, with C's precedence; `max min pow abs floor fmod clamp`; and the Tcl `[exists parent.inputN]` of
public gizmos. Anything else raises ExpressionError rather than guessing.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

TOKEN = re.compile(r"\s*(?:(?P<number>\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
                   r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)"
                   r"|(?P<tcl>\[[^\]]*\])"
                   r"|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/<>!?:(),]))")
EXISTS = re.compile(r"^\[\s*exists\s+parent\.input(\d+)\s*\]$")
DIMENSIONS = {"r": 0, "g": 1, "b": 2, "a": 3, "x": 0, "y": 1, "z": 2}
FUNCTIONS: Dict[str, Tuple[Tuple[int, ...], Callable[..., Any]]] = {
    "max": ((2,), np.maximum),
    "min": ((2,), np.minimum),
    "pow": ((2,), np.power),
    "abs": ((1,), np.abs),
    "floor": ((1,), np.floor),
    "fmod": ((2,), np.fmod),
    "clamp": ((1, 3), lambda v, lo=0.0, hi=1.0: np.minimum(np.maximum(v, lo), hi)),
}
Value = Any  # a float or a numpy array


class ExpressionError(ValueError):
    """The text is outside the subset this module evaluates."""


class Context(object):
    """What an expression can read: the pixel's channels and position, the gizmo's knobs, its inputs, temps."""

    def __init__(self, pixels: Mapping[str, Value], knobs: Mapping[str, Any],
                 connected: Optional[Mapping[int, bool]] = None) -> None:
        self.pixels = dict(pixels)
        self.knobs = knobs
        self.connected = connected or {}
        self.temps: Dict[str, Value] = {}

    def name(self, text: str) -> Value:
        if text in self.temps:
            return self.temps[text]
        if text in self.pixels:
            return self.pixels[text]
        parts = text.split(".")
        if parts[0] != "parent" or len(parts) not in (2, 3) or parts[1] not in self.knobs:
            raise ExpressionError("unknown name %r" % text)
        value = self.knobs[parts[1]]
        if len(parts) == 2:
            return float(value[0] if isinstance(value, (tuple, list)) else value)
        index = DIMENSIONS.get(parts[2], int(parts[2]) if parts[2].isdigit() else None)
        if index is None or not isinstance(value, (tuple, list)) or index >= len(value):
            raise ExpressionError("%r is not a dimension of %s" % (parts[2], parts[1]))
        return float(value[index])

    def tcl(self, text: str) -> Value:
        match = EXISTS.match(text)
        if match is None:
            raise ExpressionError("the only Tcl evaluated is [exists parent.inputN], not %r" % text)
        return 1.0 if self.connected.get(int(match.group(1)), False) else 0.0


def tokenize(text: str) -> List[Tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError("cannot read %r at %r" % (text, text[position:]))
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _truth(value: Value) -> Value:
    return np.asarray(value) != 0


class _Parser(object):
    """Recursive descent, lowest precedence first: ?:, ||, &&, == !=, < > <= >=, + -, * /, unary ! - +."""

    def __init__(self, text: str, context: Context) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0
        self.context = context

    def peek(self) -> Optional[str]:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self, expected: Optional[str] = None) -> Tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ExpressionError("%r ends early" % self.text)
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExpressionError("%r: expected %r, found %r" % (self.text, expected, token[1]))
        self.position += 1
        return token

    def parse(self) -> Value:
        value = self.ternary()
        if self.position != len(self.tokens):
            raise ExpressionError("%r: unexpected %r" % (self.text, self.peek()))
        return value

    def ternary(self) -> Value:
        condition = self.binary(0)
        if self.peek() != "?":
            return condition
        self.take("?")
        if_true = self.ternary()
        self.take(":")
        if_false = self.ternary()
        return np.where(_truth(condition), if_true, if_false)

    LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/"))

    def binary(self, level: int) -> Value:
        if level == len(self.LEVELS):
            return self.unary()
        value = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            operator = self.take()[1]
            other = self.binary(level + 1)
            value = _apply(operator, value, other)
        return value

    def unary(self) -> Value:
        if self.peek() in ("-", "+", "!"):
            operator = self.take()[1]
            value = self.unary()
            return -value if operator == "-" else value if operator == "+" else np.where(_truth(value), 0.0, 1.0)
        return self.primary()

    def primary(self) -> Value:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "tcl":
            return self.context.tcl(text)
        if text == "(":
            value = self.ternary()
            self.take(")")
            return value
        if kind != "name":
            raise ExpressionError("%r: unexpected %r" % (self.text, text))
        if self.peek() == "(":
            return self.call(text)
        return self.context.name(text)

    def call(self, name: str) -> Value:
        if name not in FUNCTIONS:
            raise ExpressionError("the function %s is not evaluated here" % name)
        self.take("(")
        args = [self.ternary()]
        while self.peek() == ",":
            self.take(",")
            args.append(self.ternary())
        self.take(")")
        counts, function = FUNCTIONS[name]
        if len(args) not in counts:
            raise ExpressionError("%s takes %s arguments, got %d" % (name, " or ".join(map(str, counts)), len(args)))
        return function(*args)


def _apply(operator: str, left: Value, right: Value) -> Value:
    if operator == "||":
        return np.where(_truth(left) | _truth(right), 1.0, 0.0)
    if operator == "&&":
        return np.where(_truth(left) & _truth(right), 1.0, 0.0)
    if operator in ("==", "!=", "<", ">", "<=", ">="):
        compare = {"==": np.equal, "!=": np.not_equal, "<": np.less, ">": np.greater, "<=": np.less_equal,
                   ">=": np.greater_equal}[operator]
        return np.where(compare(left, right), 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[operator](left, right)


def evaluate(text: str, context: Context) -> Value:
    """One expression's value (a float, or an array shaped like the context's pixels)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _Parser(text, context).parse()


def image_context(rgba: np.ndarray, knobs: Mapping[str, Any],
                  connected: Optional[Mapping[int, bool]] = None) -> Context:
    """The context of an Expression node over an image [H, W, 4] whose row 0 is the top (Nuke's y = H - 1)."""
    height, width = rgba.shape[:2]
    y, x = np.mgrid[height - 1:-1:-1, 0:width].astype(np.float64)
    pixels = {c: rgba[..., i].astype(np.float64) for i, c in enumerate("rgba")}
    pixels.update(x=x, y=y)
    return Context(pixels, knobs, connected)


def expression_node(rgba: np.ndarray, node_knobs: Mapping[str, str], knobs: Mapping[str, Any]) -> np.ndarray:
    """Nuke's Expression node: temporaries first (each on its own), then every channel that has an expression; a
    channel without one passes through. Returns [H, W, 4] float32."""
    context = image_context(rgba, knobs)
    for index in range(4):
        name = node_knobs.get("temp_name%d" % index)
        if name:
            context.temps[name] = evaluate(node_knobs["temp_expr%d" % index], context)
    out = rgba.astype(np.float32).copy()
    for index in range(4):
        text = node_knobs.get("expr%d" % index)
        if text:
            out[..., index] = np.broadcast_to(evaluate(text, context), out.shape[:2])
    return out
