"""The one source of truth for the model's artist-facing knobs.

The exporter declares these as attributes of the TorchScript module, the .cat builder adds them to
CatFileCreator, the gizmo exposes them and the README lists them. Everything reads this table, so a
name, range or default is changed here and nowhere else.

Pure Python (3.9+): no Nuke, no torch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, cast

FLOAT = "float"
INT = "int"
BOOL = "bool"
ENUM = "enum"
KINDS = (FLOAT, INT, BOOL, ENUM)
RANGED = (FLOAT, INT)
TEXT_FIELDS = ("name", "label", "tooltip", "type")


def _finite(value: Any) -> bool:
    """A finite number that a float can hold (not a bool, not 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def short(value: Any) -> str:
    """A value for a message: its repr, cut short (a manifest field may hold a megabyte)."""
    try:
        text = repr(value)
    except RecursionError:
        text = "a deeply nested value"
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class KnobSpec:
    """One custom knob: a module attribute in TorchScript, a user knob in Nuke."""

    name: str
    kind: str
    label: str
    tooltip: str
    default: Any
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    items: Tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise ValueError("knob %s: %s" % (self.name, problem))

    def problem(self) -> Optional[str]:
        """What makes this knob unusable, naming the field; None when it is sound.

        The one set of rules for the table below and for every knob a manifest brings back: CatFileCreator and
        the gizmo would take a NaN default, a string of letters as enumeration items or an upside-down range and
        build a node that misbehaves."""
        for key, value in (("name", self.name), ("label", self.label), ("tooltip", self.tooltip)):
            if not isinstance(value, str):
                return "%r should be text, found %s" % (key, short(value))
        if self.kind not in KINDS:
            return "'kind' should be one of %s, found %s" % (", ".join(KINDS), short(self.kind))
        if self.kind == ENUM and (not self.items or not all(isinstance(i, str) and i for i in self.items)):
            return "'items' should be a list of choice names, found %s" % short(list(self.items))
        if self.kind in RANGED:
            for key, bound in (("min", self.minimum), ("max", self.maximum)):
                if not _finite(bound):
                    return "%r should be a finite number, found %s" % (key, short(bound))
            low, high = cast(float, self.minimum), cast(float, self.maximum)  # finite numbers, checked above
            if low > high:
                return "'min' (%g) is above 'max' (%g)" % (low, high)
        if not _finite(self.default) or (self.kind != FLOAT and self.default != int(self.default)):
            return "'default' should be a finite %s, found %s" % (
                "number" if self.kind == FLOAT else "whole number", short(self.default))
        if not self.low <= self.default <= self.high:
            return "'default' %g is outside %g-%g" % (self.default, self.low, self.high)
        return None

    @property
    def torch_type(self) -> str:
        """The attribute's TorchScript type: Nuke sets Float knobs as float; Int, Boolean (0/1) and
        Enumeration (the index) knobs as int."""
        return "float" if self.kind == FLOAT else "int"

    @property
    def low(self) -> float:
        if self.kind in RANGED and self.minimum is not None:
            return float(self.minimum) if self.kind == FLOAT else int(self.minimum)
        return 0

    @property
    def high(self) -> float:
        if self.kind in RANGED and self.maximum is not None:
            return float(self.maximum) if self.kind == FLOAT else int(self.maximum)
        return 1 if self.kind == BOOL else len(self.items) - 1

    @property
    def kind_name(self) -> str:
        """The kind as the docs say it."""
        return {FLOAT: "float", INT: "integer", BOOL: "checkbox", ENUM: "enumeration"}[self.kind]

    def span_text(self, separator: str = " – ") -> str:
        """The range or choices as the docs say them."""
        if self.kind in RANGED:
            return "%g%s%g" % (self.low, separator, self.high)
        return "off / on" if self.kind == BOOL else " / ".join(self.items)

    def default_text(self) -> str:
        if self.kind == ENUM:
            return self.items[int(self.default)]
        return ("on" if self.default else "off") if self.kind == BOOL else "%g" % self.default

    def far_end(self) -> Any:
        """The end of the knob's range furthest from its default: where the lanes and the self-test move it to
        show that it is live (the export's validation picks its own values: exporter/validate.py)."""
        return self.clamp(self.high if self.default == self.low else self.low)

    def clamp(self, value: Any) -> Any:
        """Bring a value into the knob's range, with the knob's Python type."""
        if self.kind == FLOAT:
            return min(max(float(value), self.low), self.high)
        return int(min(max(int(value), self.low), self.high))

    def to_manifest(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "type": self.torch_type,
            "label": self.label,
            "tooltip": self.tooltip,
            "default": self.default,
        }
        if self.kind in RANGED:
            entry["min"] = self.minimum
            entry["max"] = self.maximum
        elif self.kind == ENUM:
            entry["items"] = list(self.items)
        return entry

    @classmethod
    def from_manifest(cls, entry: Any) -> "KnobSpec":
        """A knob read back from a manifest (untrusted: any JSON value); ValueError names what is wrong."""
        if not isinstance(entry, dict):
            raise ValueError("a knob entry should be an object, found %s" % short(entry))
        name = entry.get("name", "?")
        if not isinstance(name, str):
            raise ValueError("a knob's 'name' should be text, found %s" % short(name))
        for key in TEXT_FIELDS:
            if key in entry and not isinstance(entry[key], str):
                raise ValueError("knob %s: %r should be text, found %s" % (name, key, short(entry[key])))
        if "items" in entry and not isinstance(entry["items"], list):
            what = "a list of choice names" if entry.get("kind") == ENUM else "a list"
            raise ValueError("knob %s: 'items' should be %s, found %s" % (name, what, short(entry["items"])))
        for key in ("name", "kind", "label", "default"):
            if key not in entry:
                raise ValueError("knob %s: no %r entry" % (name, key))
        knob = cls(
            name=name,
            kind=entry["kind"],
            label=entry["label"],
            tooltip=entry.get("tooltip", ""),
            default=entry["default"],
            minimum=entry.get("min"),
            maximum=entry.get("max"),
            items=tuple(entry.get("items", ())),
        )
        if entry.get("type", knob.torch_type) != knob.torch_type:
            raise ValueError("knob %s says type %s but a %s knob drives a %s attribute"
                             % (name, short(entry.get("type")), knob.kind, knob.torch_type))
        return knob


DESPILL_STRENGTH = KnobSpec(
    name="despill_strength",
    kind=FLOAT,
    label="Despill Strength",
    tooltip="Removes green spill from the foreground: 0 leaves it untouched, 10 is full despill "
    "(upstream's CLI scale; the model applies strength / 10).",
    default=0.0,
    minimum=0.0,
    maximum=10.0,
)

GAMMA_INPUT = KnobSpec(
    name="gamma_input",
    kind=ENUM,
    label="Input Gamma",
    tooltip="Transfer of the plate entering the node. sRGB: display-referred plate (e.g. a Read node set "
    "to raw sRGB). Linear: scene-linear plate, resized in linear then converted to sRGB for the model.",
    default=0,
    items=("sRGB", "Linear"),
)

REFINER_STRENGTH = KnobSpec(
    name="refiner_strength",
    kind=FLOAT,
    label="Refiner Strength",
    tooltip="Scales the CNN refiner's edge corrections: 1 is the model as trained, 0 the coarse "
    "transformer prediction only.",
    default=1.0,
    minimum=0.0,
    maximum=1.0,
)

RESAMPLE = KnobSpec(
    name="resample",
    kind=ENUM,
    label="Resample",
    tooltip="Filter that scales the model's matte and foreground back to the plate. Lanczos: upstream's "
    "CLI (sharper; may overshoot slightly below 0 and above 1). Bilinear: upstream's GPU path, softer.",
    default=0,
    items=("Lanczos", "Bilinear"),
)

AUTO_DESPECKLE = KnobSpec(
    name="auto_despeckle",
    kind=BOOL,
    label="Auto Despeckle",
    tooltip="Upstream's CLI matte clean-up: keeps only matte islands (alpha > 0.5) of at least Despeckle "
    "Size pixels, with a soft 25-pixel margin around them, so tracking markers and specks disappear.",
    default=1,
)

DESPECKLE_SIZE = KnobSpec(
    name="despeckle_size",
    kind=INT,
    label="Despeckle Size",
    tooltip="Smallest island kept by Auto Despeckle, in plate pixels (8-connected, alpha > 0.5). "
    "Upstream's CLI default is 400.",
    default=400,
    minimum=0,
    maximum=100000,
)

CLEAN_UP_ONLY = KnobSpec(
    name="clean_up_only",
    kind=BOOL,
    label="Clean-up Only",
    tooltip="Off: the whole model. On: the network does not run; the input is taken as this model's own result "
    "(straight sRGB foreground + alpha, made with Auto Despeckle off) and only Auto Despeckle and Despill Strength "
    "are applied to it. The CorridorKey gizmo runs a second node this way, so that moving Auto Despeckle or "
    "Despeckle Size never re-runs the network.",
    default=0,
)

# Knobs that choose which stages `forward` runs rather than how one acts: the gizmo holds them in each of its nodes
# (never on its panel), and the export checks them by comparing stages (exporter/validate.py).
STAGE_KNOBS: Tuple[str, ...] = (CLEAN_UP_ONLY.name,)

KNOBS: Tuple[KnobSpec, ...] = (DESPILL_STRENGTH, GAMMA_INPUT, REFINER_STRENGTH, RESAMPLE, AUTO_DESPECKLE,
                                DESPECKLE_SIZE, CLEAN_UP_ONLY)
KNOBS_BY_NAME: Dict[str, KnobSpec] = {k.name: k for k in KNOBS}


def defaults() -> Dict[str, Any]:
    return {k.name: k.default for k in KNOBS}
