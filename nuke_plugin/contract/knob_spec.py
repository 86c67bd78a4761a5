"""The one source of truth for the model's artist-facing knobs.

The exporter declares these as attributes of the TorchScript module, the .cat builder adds them to
CatFileCreator, the gizmo exposes them and the README lists them. Everything reads this table, so a
name, range or default is changed here and nowhere else.

Pure Python (3.9+): no Nuke, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

FLOAT = "float"
ENUM = "enum"
KINDS = (FLOAT, ENUM)


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
        if self.kind not in KINDS:
            raise ValueError("knob %r: unknown kind %r" % (self.name, self.kind))
        if self.kind == FLOAT and (self.minimum is None or self.maximum is None):
            raise ValueError("knob %r: a float knob needs a range" % self.name)
        if self.kind == ENUM and not self.items:
            raise ValueError("knob %r: an enumeration knob needs items" % self.name)

    @property
    def torch_type(self) -> str:
        """The attribute's TorchScript type: Nuke maps Float knobs to float, Enumeration knobs to int."""
        return "float" if self.kind == FLOAT else "int"

    @property
    def low(self) -> float:
        return float(self.minimum) if self.kind == FLOAT and self.minimum is not None else 0

    @property
    def high(self) -> float:
        return float(self.maximum) if self.kind == FLOAT and self.maximum is not None else len(self.items) - 1

    def clamp(self, value: Any) -> Any:
        """Bring a value into the knob's range, with the knob's Python type."""
        if self.kind == FLOAT:
            return min(max(float(value), self.low), self.high)
        return int(min(max(int(value), 0), len(self.items) - 1))

    def to_manifest(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "type": self.torch_type,
            "label": self.label,
            "tooltip": self.tooltip,
            "default": self.default,
        }
        if self.kind == FLOAT:
            entry["min"] = self.minimum
            entry["max"] = self.maximum
        else:
            entry["items"] = list(self.items)
        return entry

    @classmethod
    def from_manifest(cls, entry: Dict[str, Any]) -> "KnobSpec":
        """Read a knob back from a manifest; raises ValueError/KeyError on a malformed entry."""
        return cls(
            name=str(entry["name"]),
            kind=str(entry["kind"]),
            label=str(entry["label"]),
            tooltip=str(entry.get("tooltip", "")),
            default=entry["default"],
            minimum=entry.get("min"),
            maximum=entry.get("max"),
            items=tuple(entry.get("items", ())),
        )


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

KNOBS: Tuple[KnobSpec, ...] = (DESPILL_STRENGTH, GAMMA_INPUT, REFINER_STRENGTH)
KNOBS_BY_NAME: Dict[str, KnobSpec] = {k.name: k for k in KNOBS}


def defaults() -> Dict[str, Any]:
    return {k.name: k.default for k in KNOBS}
