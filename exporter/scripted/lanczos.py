"""Lanczos-4 resampling as OpenCV's `cv2.resize(..., INTER_LANCZOS4)` does it, for TorchScript.

Upstream's CLI scales the network's output back to the plate with that call. OpenCV maps each output pixel
centre onto the source the same way when enlarging and when shrinking, always weighs the 8 nearest source
pixels with the normalised Lanczos window (no antialiasing when shrinking), and repeats the edge pixel for
taps past the border. This module does the same as two separable passes of 8 gathers each: a dense matrix
would cost a matmul of plate width x model size per row, while the gathers stay memory-bound. Maths is fp32
and every index and weight is built on the input's device.
"""
import math
from typing import Tuple

import torch


def _taps(source: int, target: int, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Source indices and weights, both [target, 8], of every output position along one axis.

    The output centre (d + 0.5) * source / target - 0.5 is split into its floor and fraction with integer
    maths ((2d + 1) * source - target over 2 * target), so positions stay exact at 8K where fp32 would not.
    """
    d = torch.arange(target, dtype=torch.long, device=device)
    numerator = (2 * d + 1) * source - target
    denominator = 2 * target
    first = torch.div(numerator, denominator, rounding_mode="floor")
    fraction = (numerator - first * denominator).float() / float(denominator)
    offsets = torch.arange(-3, 5, dtype=torch.long, device=device)
    distance = fraction.unsqueeze(1) - offsets.float().unsqueeze(0)
    angle = distance * math.pi
    # sinc(d) * sinc(d / 4) = 4 sin(pi d) sin(pi d / 4) / (pi d)^2, which is 1 at d = 0.
    window = 4.0 * torch.sin(angle) * torch.sin(angle * 0.25) / (angle * angle).clamp(min=1e-20)
    window = torch.where(distance.abs() < 1e-6, torch.ones_like(window), window)
    weights = window / window.sum(dim=1, keepdim=True)
    index = (first.unsqueeze(1) + offsets.unsqueeze(0)).clamp(0, source - 1)
    return index, weights


def _resample_rows(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resamples [N, C, H, W] fp32 along H to `size`. Gathering whole rows keeps every read contiguous."""
    source = x.shape[2]
    if source == size:
        return x
    index, weights = _taps(source, size, x.device)
    out = x.index_select(2, index[:, 0]) * weights[:, 0].view(1, 1, size, 1)
    for tap in range(1, 8):
        out.addcmul_(x.index_select(2, index[:, tap]), weights[:, tap].view(1, 1, size, 1))
    return out


def resize_lanczos4(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[N, C, h, w] fp32 -> [N, C, height, width]. Columns are resampled as rows of the transposed image (a
    gather along the last axis is several times slower on the CPU than two transposing copies)."""
    if x.shape[3] == width:
        return _resample_rows(x, height)
    return _resample_rows(_resample_rows(x, height).transpose(2, 3).contiguous(), width).transpose(2, 3).contiguous()
