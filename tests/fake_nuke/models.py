"""Tiny TorchScript modules for testing the fake CatFileCreator's own checks (fast; no network weights).

`GoodModel` has the three knob attributes of the real export with the real types; each other class breaks
one rule that Nuke enforces. `save(cls, path)` scripts and saves one.
"""
import torch


class GoodModel(torch.nn.Module):
    despill_strength: float
    gamma_input: int
    refiner_strength: float

    def __init__(self) -> None:
        super().__init__()
        self.despill_strength = 0.0
        self.gamma_input = 0
        self.refiner_strength = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.refiner_strength + self.despill_strength + float(self.gamma_input)
        return x * scale


class MissingAttributeModel(torch.nn.Module):
    """No refiner_strength attribute."""

    despill_strength: float
    gamma_input: int

    def __init__(self) -> None:
        super().__init__()
        self.despill_strength = 0.0
        self.gamma_input = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.despill_strength + float(self.gamma_input))


class WrongTypeModel(torch.nn.Module):
    """gamma_input is a float, so an Enumeration knob cannot drive it."""

    despill_strength: float
    gamma_input: float
    refiner_strength: float

    def __init__(self) -> None:
        super().__init__()
        self.despill_strength = 0.0
        self.gamma_input = 0.0
        self.refiner_strength = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.despill_strength + self.gamma_input + self.refiner_strength)


class BoolAttributeModel(torch.nn.Module):
    """A bool attribute: Nuke's Boolean knob sets an int 0/1, so this one cannot be a knob."""

    flag: bool

    def __init__(self) -> None:
        super().__init__()
        self.flag = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2.0 if self.flag else x


class ConstantAttributeModel(torch.nn.Module):
    """despill_strength is a TorchScript constant: it has a value but cannot be set at render time."""

    __constants__ = ["despill_strength"]

    def __init__(self) -> None:
        super().__init__()
        self.despill_strength = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.despill_strength


class PointModel(torch.nn.Module):
    """Tensor attributes, which XY and XYZ knobs drive."""

    offset: torch.Tensor
    position: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.offset = torch.zeros(2)
        self.position = torch.zeros(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.offset.sum() + self.position.sum()


class RetimeModel(torch.nn.Module):
    """The knob attributes of the public RIFE port's .cat (serialiseKnob timestep, scale, optical_flow)."""

    timestep: float
    scale: float
    optical_flow: int

    def __init__(self) -> None:
        super().__init__()
        self.timestep = 0.5
        self.scale = 1.0
        self.optical_flow = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.timestep + self.scale + float(self.optical_flow))


def save(cls, path) -> str:
    module = torch.jit.script(cls())
    torch.jit.save(module, str(path))
    return str(path)
