"""Hiera attention recorded with matrix products only, so that every supported Nuke's libtorch can run it.

timm's Hiera calls `scaled_dot_product_attention` when torch has it; a trace then records that op, which the
torch 1.12 inside Nuke 14 and 15.0 does not know ("Unknown builtin op"). The plain formula
softmax(q·kᵀ·scale)·v exists in every torch, but at model resolution 2048 Hiera's global stages attend over
16,384 tokens: one full attention matrix is 8 heads × 16k × 16k floats, 8 GB per layer. So the queries are
processed in chunks whose score matrix stays under `SCORE_BUDGET_BYTES`; each chunk's result is exact (the
softmax runs over all keys), so chunking changes memory, not the numbers.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

# The largest score matrix (heads x query chunk x keys, fp32) one chunk may hold: 256 MB keeps the 2048 export
# and a CPU render inside the RAM they already need for the refiner's full-resolution maps.
SCORE_BUDGET_BYTES = 256 * 1024 * 1024
_FLOAT_BYTES = 4


def query_chunk(heads: int, queries: int, keys: int, budget: int = SCORE_BUDGET_BYTES) -> int:
    """How many queries one chunk may hold so that its score matrix fits `budget` (at least one)."""
    per_query = heads * keys * _FLOAT_BYTES
    return max(1, min(queries, budget // per_query))


def chunked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float,
                      budget: int = SCORE_BUDGET_BYTES) -> torch.Tensor:
    """softmax(q kᵀ · scale) v over the last two dims, queries taken in chunks (dim -2 of q)."""
    queries, keys = q.shape[-2], k.shape[-2]
    heads = 1
    for size in q.shape[:-2]:
        heads *= int(size)
    chunk = query_chunk(heads, int(queries), int(keys), budget)
    k_t = k.transpose(-1, -2)
    if chunk >= queries:
        return torch.matmul(q * scale, k_t).softmax(dim=-1).matmul(v)
    parts = []
    for start in range(0, int(queries), chunk):
        scores = torch.matmul(q[..., start:start + chunk, :] * scale, k_t)
        parts.append(scores.softmax(dim=-1).matmul(v))
    return torch.cat(parts, dim=-2)


class PortableMaskUnitAttention(nn.Module):
    """timm's Hiera `MaskUnitAttention` (mask-unit and global), same weights, attention by `chunked_attention`.

    It takes over the timm module's `qkv` and `proj` layers, so state-dict keys do not change.
    """

    def __init__(self, timm_attention: Any) -> None:
        super().__init__()
        self.dim_out = int(timm_attention.dim_out)
        self.heads = int(timm_attention.heads)
        self.head_dim = int(timm_attention.head_dim)
        self.q_stride = int(timm_attention.q_stride)
        self.window_size = int(timm_attention.window_size)
        self.use_mask_unit_attn = bool(timm_attention.use_mask_unit_attn)
        self.scale = float(timm_attention.scale)
        self.qkv = timm_attention.qkv
        self.proj = timm_attention.proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        if self.use_mask_unit_attn:
            # [batch, heads, windows, tokens per window, head_dim]
            windows = tokens // (self.q_stride * self.window_size)
            qkv = self.qkv(x).reshape(batch, -1, windows, 3, self.heads, self.head_dim).permute(3, 0, 4, 2, 1, 5)
            q, k, v = qkv.unbind(0)
            if self.q_stride > 1:  # max-pool the queries: Hiera's unrolled layout puts the stride first
                q = q.view(batch, self.heads, windows, self.q_stride, -1, self.head_dim).amax(dim=3)
            out = chunked_attention(q, k, v, self.scale)
            out = out.transpose(1, 3).reshape(batch, -1, self.dim_out)
        else:
            # [batch, heads, tokens, head_dim]
            qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            if self.q_stride > 1:
                q = q.view(batch, self.heads, self.q_stride, -1, self.head_dim).amax(dim=2)
            out = chunked_attention(q, k, v, self.scale)
            out = out.transpose(1, 2).reshape(batch, -1, self.dim_out)
        return self.proj(out)


def make_attention_portable(encoder: nn.Module) -> int:
    """Swaps every Hiera block's attention for the portable one; returns how many were swapped."""
    swapped = 0
    for block in encoder.modules():
        attention = getattr(block, "attn", None)
        if attention is not None and type(attention).__name__ == "MaskUnitAttention":
            block.attn = PortableMaskUnitAttention(attention)
            swapped += 1
    return swapped
