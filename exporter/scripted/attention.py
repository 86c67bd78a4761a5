"""Hiera attention recorded with the operator set a build's target Nuke can load.

timm's Hiera calls `scaled_dot_product_attention` when torch has it. That fused operator is the fastest way to
attend, and the torch of Nuke 15.1+ (2.1) and 16/17 (2.7) knows it, but the torch 1.12 inside Nuke 14 and 15.0
does not ("Unknown builtin op"). So each block's attention is one of two operator sets
(`nuke_plugin.contract.torch_targets.OPERATOR_SETS`):

- "fused": `scaled_dot_product_attention(q, k, v)`, as timm calls it;
- "portable": softmax(q·kᵀ·scale)·v from matrix products that every torch has, computed by
  `portable_attention`, a TorchScript function. The traced network calls it, so the saved file keeps its loop
  (one `prim::Loop`, not one copy of the body per chunk).

At model resolution 2048 Hiera's global stages attend over 16,384 tokens: one full score matrix is 8 heads x
16k x 16k floats, 8 GB per layer. The portable path therefore takes the queries in chunks whose score matrix
fits a budget, and reuses one buffer for all of them: on a CPU a small, reused buffer stays in the cache, where
the exponentials and sums that follow the product cost a fraction of a trip through main memory (and no page is
faulted in afresh per chunk). Each chunk's result is exact: its softmax runs over all the keys.
"""
from __future__ import annotations

from typing import Any, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from nuke_plugin.contract.torch_targets import FUSED, PORTABLE


@torch.jit.script
def score_budget(cuda: bool) -> int:
    """The score buffer of one chunk, in fp32 bytes (a chunk uses two: its scores and their softmax). CPU: small
    enough to stay in the cache (measured by benchmarks/bench_attention.py). GPU: large chunks, because there every
    chunk costs kernel launches."""
    if cuda:
        return 128 * 1024 * 1024
    return 8 * 1024 * 1024


@torch.jit.script
def chunk_sizes(groups: int, queries: int, keys: int, budget: int) -> List[int]:
    """[groups per chunk, queries per chunk] so that a chunk's fp32 score matrix fits `budget` (at least 1 x 1).

    Whole groups (heads, or heads x mask units) are taken together while one group's scores fit; a group larger
    than the budget is split along its queries."""
    per_group = queries * keys * 4
    if groups * per_group <= budget:
        return [groups, queries]
    if per_group <= budget:
        return [budget // per_group, queries]
    return [1, max(1, budget // (keys * 4))]


@torch.jit.script
def chunked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, budget: int) -> torch.Tensor:
    """softmax(q kᵀ · scale) v over the last two dims, through a score buffer of at most `budget` bytes (fp32)
    where one query row allows it. Any leading dims (batch, heads, mask units) are groups."""
    queries = q.size(-2)
    keys = k.size(-2)
    # Inference only: detached, so that the products can write into the reused buffer (out=) even where the caller
    # left autograd on with weights that require grad (a host without torch::NoGradGuard).
    q3 = q.detach().reshape(-1, queries, q.size(-1)) * scale
    k_t = k.detach().reshape(-1, keys, k.size(-1)).transpose(1, 2)
    v3 = v.detach().reshape(-1, keys, v.size(-1))
    groups = q3.size(0)
    sizes = chunk_sizes(groups, queries, keys, budget)
    group_chunk = sizes[0]
    query_chunk = sizes[1]
    out = torch.empty([groups, queries, v3.size(-1)], dtype=q3.dtype, device=q3.device)
    scores_buffer = torch.empty([group_chunk, query_chunk, keys], dtype=q3.dtype, device=q3.device)
    weights_buffer = torch.empty_like(scores_buffer)
    for group in range(0, groups, group_chunk):
        group_size = min(group_chunk, groups - group)
        for query in range(0, queries, query_chunk):
            query_size = min(query_chunk, queries - query)
            if group_size == group_chunk and query_size == query_chunk:
                scores = scores_buffer
                weights = weights_buffer
            else:
                scores = torch.empty([group_size, query_size, keys], dtype=q3.dtype, device=q3.device)
                weights = torch.empty_like(scores)
            # Three operators per chunk, each writing into a buffer: the softmax takes one row (one query's
            # scores over all keys) at a time, so its max, exponentials and sum stay in the cache.
            torch.bmm(q3.narrow(0, group, group_size).narrow(1, query, query_size),
                      k_t.narrow(0, group, group_size), out=scores)
            torch._softmax(scores, -1, False, out=weights)
            torch.bmm(weights, v3.narrow(0, group, group_size),
                      out=out.narrow(0, group, group_size).narrow(1, query, query_size))
    shape = list(q.shape)
    shape[-1] = v3.size(-1)
    return out.reshape(shape)


@torch.jit.script
def portable_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    """`chunked_attention` with the budget of the device it runs on (decided when it runs, not when traced)."""
    return chunked_attention(q, k, v, scale, score_budget(q.is_cuda))


class HieraAttention(nn.Module):
    """timm's Hiera `MaskUnitAttention` (mask-unit and global), same weights, attention by the chosen operator set.

    It takes over the timm module's `qkv` and `proj` layers, so state-dict keys do not change.
    """

    def __init__(self, timm_attention: Any, operators: str) -> None:
        super().__init__()
        if operators not in (FUSED, PORTABLE):
            raise ValueError("unknown operator set %r" % operators)
        self.operators = operators
        self.dim_out = int(timm_attention.dim_out)
        self.heads = int(timm_attention.heads)
        self.head_dim = int(timm_attention.head_dim)
        self.q_stride = int(timm_attention.q_stride)
        self.window_size = int(timm_attention.window_size)
        self.use_mask_unit_attn = bool(timm_attention.use_mask_unit_attn)
        self.scale = float(timm_attention.scale)
        self.qkv = timm_attention.qkv
        self.proj = timm_attention.proj

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if self.operators == FUSED:
            # Its default scale is head_dim ** -0.5, Hiera's own; the default arguments are not saved in the file,
            # which is why torch 2.1 loads what a newer torch wrote.
            return F.scaled_dot_product_attention(q, k, v)
        return portable_attention(q, k, v, self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        if self.use_mask_unit_attn:
            # [batch, heads, windows, tokens per window, head_dim]
            windows = tokens // (self.q_stride * self.window_size)
            qkv = self.qkv(x).reshape(batch, -1, windows, 3, self.heads, self.head_dim).permute(3, 0, 4, 2, 1, 5)
            q, k, v = qkv.unbind(0)
            if self.q_stride > 1:  # max-pool the queries: Hiera's unrolled layout puts the stride first
                q = q.view(batch, self.heads, windows, self.q_stride, -1, self.head_dim).amax(dim=3)
            out = self._attend(q, k, v)
            out = out.transpose(1, 3).reshape(batch, -1, self.dim_out)
        else:
            # [batch, heads, tokens, head_dim]; contiguous, so that the fused op can take its fastest kernel
            qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            if self.q_stride > 1:
                q = q.view(batch, self.heads, self.q_stride, -1, self.head_dim).amax(dim=2)
            out = self._attend(q.contiguous(), k.contiguous(), v.contiguous())
            out = out.transpose(1, 2).reshape(batch, -1, self.dim_out)
        return self.proj(out)


def set_attention(encoder: nn.Module, operators: str) -> int:
    """Gives every Hiera block of `encoder` the chosen operator set's attention; returns how many blocks."""
    swapped = 0
    for block in encoder.modules():
        attention = getattr(block, "attn", None)
        if attention is not None and type(attention).__name__ in ("MaskUnitAttention", "HieraAttention"):
            block.attn = HieraAttention(attention, operators)
            swapped += 1
    return swapped
