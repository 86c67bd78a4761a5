"""Upstream's CLI matte clean-up (auto-despeckle) as OpenCV computes it, for TorchScript.

Steps, each matching the OpenCV call upstream makes on its 8-bit mask: alpha > 0.5; keep the 8-connected
islands of at least `min_area` pixels; dilate with the 51 x 51 elliptical structuring element
(cv2.getStructuringElement(MORPH_ELLIPSE), pixels past the frame never set anything); Gaussian-blur 11 x 11
with OpenCV's 8-bit fixed-point kernel and rounding and its reflect-101 border; multiply alpha by the
result / 255. Everything is exact integer arithmetic held in fp32 (sums stay below 2^24), so the safe zone
is bit-identical to OpenCV's and a render never flickers.
"""
import math

import torch

from .components import keep_large_components


def _row_distance(mask: torch.Tensor, limit: int) -> torch.Tensor:
    """[H, W] bool -> uint8 distance along its row to the nearest set pixel, capped at `limit` (< 256)."""
    width = mask.shape[1]
    column = torch.arange(width, dtype=torch.int32, device=mask.device).expand(mask.shape[0], width)
    never = torch.full_like(column, -width - limit)
    last_left = torch.cummax(torch.where(mask, column, never), dim=1)[0]
    mirrored = torch.where(mask, width - 1 - column, never).flip([1])
    next_right = width - 1 - torch.cummax(mirrored, dim=1)[0].flip([1])
    return torch.minimum(column - last_left, next_right - column).clamp(max=limit).to(torch.uint8)


def dilate_ellipse_51(mask: torch.Tensor) -> torch.Tensor:
    """[H, W] bool dilated by OpenCV's 51 x 51 ellipse, whose row dy spans +-round(sqrt(25^2 - dy^2)).

    A pixel is set when, for some dy, the row dy away has a set pixel within that row's half-width. The
    half-width only shrinks as |dy| grows, so it is enough to ask, at the last dy of each half-width, whether
    the rows within +-dy have one that close: a running minimum of the row distance over a window of 2dy + 1
    rows, taken from power-of-two windows (5 doublings) instead of 51 shifted passes.
    """
    radius = 25
    height = mask.shape[0]
    far = _row_distance(mask, radius + 1)
    # Rows past the frame hold nothing: pad with the cap so every window can be a plain slice.
    border = torch.full([radius, mask.shape[1]], radius + 1, dtype=torch.uint8, device=mask.device)
    padded = torch.cat([border, far, border], dim=0)
    windows = [padded]
    span = 1
    while span * 2 <= 2 * radius + 1:
        last = windows[-1]
        windows.append(torch.minimum(last[:-span], last[span:]))
        span *= 2
    out = torch.zeros_like(mask)
    for dy in range(radius + 1):
        half = int(round(math.sqrt(float(radius * radius - dy * dy))))
        if dy < radius and int(round(math.sqrt(float(radius * radius - (dy + 1) * (dy + 1))))) == half:
            continue
        level = 0
        while (2 << level) <= 2 * dy + 1:
            level += 1
        size = 1 << level
        table = windows[level]
        # Rows y - dy .. y + dy of the frame are rows radius + y - dy .. of `padded`.
        low = table[radius - dy:radius - dy + height]
        high = table[radius + dy - size + 1:radius + dy - size + 1 + height]
        out.logical_or_(torch.minimum(low, high) <= half)
    return out


def _reflect101(size: int, pad: int, device: torch.device) -> torch.Tensor:
    """Source index of each position of a line of `size` padded by `pad` (OpenCV's BORDER_REFLECT_101)."""
    position = torch.arange(-pad, size + pad, dtype=torch.long, device=device)
    if size == 1:
        return torch.zeros_like(position)
    period = 2 * (size - 1)
    folded = torch.remainder(position, period)
    return torch.where(folded < size, folded, period - folded)


def blur_mask_11(mask: torch.Tensor) -> torch.Tensor:
    """[H, W] bool -> uint8-valued fp32 [H, W]: cv2.GaussianBlur(mask * 255, (11, 11), 0) bit for bit.

    OpenCV blurs 8-bit images with an 8.8 fixed-point kernel (for ksize 11 its sigma is 2.0, and the taps
    below are its rounding, which sums to 256) and rounds the 16-bit-fraction result once at the end.
    """
    taps = [2.0, 7.0, 17.0, 31.0, 45.0, 52.0, 45.0, 31.0, 17.0, 7.0, 2.0]
    height = mask.shape[0]
    width = mask.shape[1]
    rows = _reflect101(height, 5, mask.device)
    cols = _reflect101(width, 5, mask.device)
    padded = mask.float().index_select(0, rows).index_select(1, cols)
    across = padded[:, 0:width] * taps[0]
    for i in range(1, 11):
        across.add_(padded[:, i:i + width], alpha=taps[i])
    summed = across[0:height] * taps[0]
    for i in range(1, 11):
        summed.add_(across[i:i + height], alpha=taps[i])
    return torch.floor((summed * 255.0 + 32768.0) / 65536.0)


def despeckle(alpha: torch.Tensor, min_area: int) -> torch.Tensor:
    """[H, W] fp32 alpha times upstream's safe zone around the islands of at least `min_area` pixels."""
    kept = keep_large_components(alpha > 0.5, min_area)
    if not bool(kept.any()):
        return alpha * 0.0
    safe = blur_mask_11(dilate_ellipse_51(kept)) / 255.0
    return alpha * safe
