"""Colour maths of the keyer, written for TorchScript and for any device and dtype.

Every constant is a Python float so that it takes the tensor's dtype and device; nothing here creates a
tensor on a fixed device.
"""

import torch


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
    # Literals: TorchScript cannot read Python globals.
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb - mean) / std


def despill_in_place(rgba: torch.Tensor, strength: float) -> None:
    """Green despill, "average" limit, on the RGB of an [N, 4, H, W] tensor, in place.

    Green above (R+B)/2 is removed and half of it given to R and to B; `strength` (0-1) blends with the
    original. Blending the result is the same as scaling the spill, which lets this touch each pixel once
    instead of building a despilled copy and mixing two full frames.
    """
    if strength <= 0.0:
        return
    r = rgba[:, 0:1]
    g = rgba[:, 1:2]
    b = rgba[:, 2:3]
    spill = (g - (r + b) * 0.5).clamp_(min=0.0)
    if strength < 1.0:
        spill.mul_(strength)
    g.sub_(spill)
    spill.mul_(0.5)
    r.add_(spill)
    b.add_(spill)
