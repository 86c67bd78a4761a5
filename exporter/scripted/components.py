"""Exact 8-connected components of a binary mask, for TorchScript, with a loop count that grows like log n.

The despeckle keeps islands of at least N pixels, so it needs every island's area, exactly and the same on
every render (no random labels). Full-frame work is a fixed handful of passes; only a small graph iterates:
- 2x2 blocks: any two pixels of a block touch under 8-connectivity, so a block's set pixels are one piece.
  Two neighbouring blocks are joined when set pixels on their shared side or corner touch.
- Runs: horizontally joined blocks of a block row form one node (numbered by a running sum of run starts).
- Links: a vertical or diagonal join between two runs is kept only where it starts along the row, so a blob
  gives about one link per block row instead of one per block.
- The run graph is solved FastSV-style: each tree's root is hooked onto the smallest grandparent label seen
  across a link (a scatter-min), then labels jump to their grandparent. Labels only decrease and stay in
  their component, and the loop stops exactly when every link has one label on both ends and every tree is
  a star, so the result is exact whatever the number of rounds.
"""
from typing import List, Tuple

import torch


def _links(joined: torch.Tensor, run_upper: torch.Tensor, run_lower: torch.Tensor,
           start_upper: torch.Tensor, start_lower: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run-id pairs of one join direction, minus joins that repeat the pair of the join just left of them."""
    repeat = torch.zeros_like(joined)
    repeat[:, 1:] = joined[:, :-1] & ~start_upper[:, 1:] & ~start_lower[:, 1:]
    where = (joined & ~repeat).nonzero()
    rows = where[:, 0]
    cols = where[:, 1]
    return run_upper[rows, cols], run_lower[rows, cols]


def _solve(count: int, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Component label (its smallest run id) of each of `count` runs joined by the links first[i]-second[i]."""
    label = torch.arange(count, dtype=torch.long, device=first.device)
    settled = False
    while not settled:
        grand = label.index_select(0, label)
        low = grand.clone()
        low.scatter_reduce_(0, first, grand.index_select(0, second), "amin")
        low.scatter_reduce_(0, second, grand.index_select(0, first), "amin")
        hooked = label.scatter_reduce(0, label, low, "amin")
        hooked = torch.minimum(torch.minimum(hooked, low), grand)
        hooked = hooked.index_select(0, hooked)
        settled = torch.equal(hooked, label)
        label = hooked
    return label


def keep_large_components(mask: torch.Tensor, min_area: int) -> torch.Tensor:
    """mask: [H, W] bool. The set pixels whose 8-connected component has at least `min_area` pixels."""
    height = mask.shape[0]
    width = mask.shape[1]
    if not bool(mask.any()):
        return mask
    padded = torch.zeros([height + height % 2, width + width % 2], dtype=torch.bool, device=mask.device)
    padded[0:height, 0:width] = mask
    top_left = padded[0::2, 0::2]
    top_right = padded[0::2, 1::2]
    bottom_left = padded[1::2, 0::2]
    bottom_right = padded[1::2, 1::2]
    left = top_left | bottom_left
    right = top_right | bottom_right
    top = top_left | top_right
    bottom = bottom_left | bottom_right
    occupied = left | right
    cols = occupied.shape[1]

    # A run starts at every occupied block not joined to its left neighbour; runs are numbered in raster order.
    joined_left = torch.zeros_like(occupied)
    joined_left[:, 1:] = right[:, :-1] & left[:, 1:]
    start = occupied & ~joined_left
    run = (torch.cumsum(start.view(-1).long(), dim=0) - 1).clamp(min=0).view(occupied.shape)
    runs = int(run[-1, -1]) + 1

    pairs: List[Tuple[torch.Tensor, torch.Tensor]] = [
        _links(bottom[:-1, :] & top[1:, :], run[:-1, :], run[1:, :], start[:-1, :], start[1:, :]),
        _links(bottom_right[:-1, :-1] & top_left[1:, 1:], run[:-1, :-1], run[1:, 1:], start[:-1, :-1],
               start[1:, 1:]),
        _links(bottom_left[:-1, 1:] & top_right[1:, :-1], run[:-1, 1:], run[1:, :-1], start[:-1, 1:],
               start[1:, :-1]),
    ]
    first = torch.cat([p[0] for p in pairs])
    second = torch.cat([p[1] for p in pairs])
    label = _solve(runs, first, second)

    pixels = (top_left.long() + top_right.long() + bottom_left.long() + bottom_right.long()).view(-1)
    run_area = torch.zeros([runs], dtype=torch.long, device=mask.device).index_add_(0, run.view(-1), pixels)
    area = torch.zeros_like(run_area).index_add_(0, label, run_area).index_select(0, label)
    kept_block = (area >= min_area).index_select(0, run.view(-1)).view(occupied.shape)
    rows = occupied.shape[0]
    kept = kept_block.view(rows, 1, cols, 1).expand(rows, 2, cols, 2).reshape(rows * 2, cols * 2)
    return mask & kept[0:height, 0:width]
