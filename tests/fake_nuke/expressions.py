"""The part of Nuke's knob-expression language that gizmos' Assert nodes and links use, evaluated for the fake.

What public gizmos write (tests/data/gizmos): `parent.knob`, `parent.Node.knob`, numbers, comparisons and `&&`
(`width == 1024 && height == 1024` in SegmentAnything), Nuke's Tcl variables substituted first
(`\\$nuke_version > 14.1` in RIFE, ViTMatte and SegmentAnything; `$nuke_version_major` in RIFE's modelFile).
Supported here: numbers, `parent.<knob>` / `parent.<Node>.<knob>` (one dimension with `.x` / `.0`), the C-like
operators `! - + * / < <= > >= == != && || ?:` and parentheses, and the Tcl variables tcl.py knows. Anything
else (`width`, `frame`, function calls, `[exists ...]`) raises FakeLimitation: the fake does not guess.
"""
from __future__ import annotations

import re
from typing import Any, Callable, List, Tuple

from .knobs import FakeLimitation

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|(?P<name>[A-Za-z_][A-Za-z0-9_]*"
                    r"(?:\.[A-Za-z_0-9]+)*)|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/<>!?:()]))")
Resolver = Callable[[str], float]


def _tokens(text: str) -> List[Tuple[str, str]]:
    tokens, i = [], 0
    text = text.rstrip()
    while i < len(text):
        match = _TOKEN.match(text, i)
        if not match or match.end() == i:
            raise FakeLimitation("the fake cannot read the expression %r (at %r)" % (text, text[i:i + 12]))
        kind = match.lastgroup or "number"
        value = match.group(0).strip()
        tokens.append(("number" if kind == "number" else kind, value))
        i = match.end()
    return tokens


class _Parser(object):
    def __init__(self, text: str, resolve: Resolver) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.resolve = resolve

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self, expected: str = "") -> Tuple[str, str]:
        if self.at >= len(self.tokens) or (expected and self.tokens[self.at][1] != expected):
            raise FakeLimitation("the fake cannot read the expression %r (expected %r)" % (self.text, expected))
        self.at += 1
        return self.tokens[self.at - 1]

    def parse(self) -> float:
        value = self.ternary()
        if self.at != len(self.tokens):
            raise FakeLimitation("the fake cannot read the expression %r (left over: %r)"
                                 % (self.text, " ".join(t for _k, t in self.tokens[self.at:])))
        return value

    def ternary(self) -> float:
        condition = self.binary(0)
        if self.peek() != "?":
            return condition
        self.take("?")
        yes = self.ternary()
        self.take(":")
        no = self.ternary()
        return yes if condition else no

    LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/"))

    def binary(self, level: int) -> float:
        if level == len(self.LEVELS):
            return self.unary()
        value = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take()[1]
            right = self.binary(level + 1)
            value = _apply(op, value, right)
        return value

    def unary(self) -> float:
        op = self.peek()
        if op in ("!", "-", "+"):
            self.take()
            value = self.unary()
            return float(not value) if op == "!" else -value if op == "-" else value
        return self.primary()

    def primary(self) -> float:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if text == "(":
            value = self.ternary()
            self.take(")")
            return value
        if kind == "name":
            if self.peek() == "(":
                raise FakeLimitation("the fake does not evaluate the function %s() in %r" % (text, self.text))
            return self.resolve(text)
        raise FakeLimitation("the fake cannot read the expression %r (at %r)" % (self.text, text))


def _apply(op: str, a: float, b: float) -> float:
    if op == "||":
        return float(bool(a) or bool(b))
    if op == "&&":
        return float(bool(a) and bool(b))
    if op == "/":
        return a / b if b else 0.0
    results = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    if op in results:
        return float(results[op])
    return a + b if op == "+" else a - b if op == "-" else a * b


def evaluate(text: str, resolve: Resolver) -> float:
    """The value of expression `text` (Tcl variables already substituted); `resolve` gives a reference's value."""
    return _Parser(text, resolve).parse()


def as_number(value: Any) -> float:
    """A knob value as an expression sees it: a bool is 0 / 1."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    raise FakeLimitation("the fake cannot use %r as a number in an expression" % (value,))
