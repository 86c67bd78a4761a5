"""Colour maths of the keyer, written for TorchScript and for any device and dtype.

Every constant is a Python float so that it takes the tensor's dtype and device; nothing here creates a
tensor on a fixed device.
"""

import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 encoding (the exact piecewise curve, not a 2.2 power); negatives clamp to 0 first."""
    x = x.clamp(min=0.0)
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.pow(1.0 / 2.4) - 0.055)


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 decoding; negatives clamp to 0 first."""
    x = x.clamp(min=0.0)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055).pow(2.4))


def imagenet_normalise(rgb: torch.Tensor) -> torch.Tensor:
    """ImageNet mean/std normalisation of an [N, 3, H, W] tensor, constants built on its device and dtype."""
    # Literals, not the module tuples: TorchScript cannot read Python globals.
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb - mean) / std


def despill_average(rgb: torch.Tensor, strength: float) -> torch.Tensor:
    """Green despill, "average" limit: green above (R+B)/2 is removed and half of it given to R and to B.

    `strength` is 0-1 and blends the despilled result with the original.
    """
    if strength <= 0.0:
        return rgb
    r = rgb[:, 0:1]
    g = rgb[:, 1:2]
    b = rgb[:, 2:3]
    spill = (g - (r + b) * 0.5).clamp(min=0.0)
    despilled = torch.cat([r + spill * 0.5, g - spill, b + spill * 0.5], dim=1)
    if strength >= 1.0:
        return despilled
    return rgb * (1.0 - strength) + despilled * strength
