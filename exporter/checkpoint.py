"""Reading a CorridorKey checkpoint into the network, refusing anything that is not one with a clear message."""
from __future__ import annotations

import math
import os
import pickle
import zipfile
from typing import Dict, List, Mapping

import torch
import torch.nn.functional as F

from .errors import ExportError
from .safe_load import load_tensors

_LFS_SIGNATURE = b"version https://git-lfs"
_COMPILE_PREFIX = "_orig_mod."
_POS_EMBED = "encoder.model.pos_embed"
_MAX_LISTED = 5
_DOWNLOAD_HINT = ("Download CorridorKey_v1.0.pth from the Hugging Face repository nikopueringer/CorridorKey_v1.0 "
                  "and point --checkpoint at it.")


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Loads the tensors of a checkpoint file (bare or under `state_dict`), with `_orig_mod.` stripped."""
    if not os.path.exists(path):
        raise ExportError("Checkpoint not found: %s. %s" % (path, _DOWNLOAD_HINT))
    if os.path.isdir(path):
        raise ExportError("Checkpoint path is a folder, not a file: %s. Point --checkpoint at the .pth file." % path)
    with open(path, "rb") as handle:
        head = handle.read(len(_LFS_SIGNATURE))
    if head == _LFS_SIGNATURE:
        raise ExportError(
            "%s is a Git LFS pointer (%d bytes), not the weights: the repository was cloned without LFS. "
            "Run `git lfs pull` in that clone, or download the file directly. %s"
            % (path, os.path.getsize(path), _DOWNLOAD_HINT))
    try:
        loaded = load_tensors(path)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(
            "%s is not a readable PyTorch checkpoint (%s). The file may be truncated by an interrupted "
            "download or be another kind of file; download it again. %s" % (path, first_line[:200], _DOWNLOAD_HINT))
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping) or not loaded:
        raise ExportError("%s holds no state dict (found %s). Is it a CorridorKey checkpoint?"
                          % (path, type(loaded).__name__))
    state = {}
    for key, value in loaded.items():
        if not isinstance(value, torch.Tensor):
            continue
        name = str(key)
        while name.startswith(_COMPILE_PREFIX):
            name = name[len(_COMPILE_PREFIX):]
        state[name] = value
    if not state:
        raise ExportError("%s holds no tensors. Is it a CorridorKey checkpoint?" % path)
    return state


def resize_pos_embed(pos_embed: torch.Tensor, tokens: int) -> torch.Tensor:
    """Bicubic resize of Hiera's [1, N, C] position embedding, seen as a square grid, to `tokens` entries."""
    _, n_src, channels = pos_embed.shape
    side_src, side_dst = math.isqrt(n_src), math.isqrt(tokens)
    if side_src * side_src != n_src or side_dst * side_dst != tokens:
        raise ExportError("pos_embed of %d tokens cannot be resized to %d: both must be square grids."
                          % (n_src, tokens))
    grid = pos_embed.float().permute(0, 2, 1).reshape(1, channels, side_src, side_src)
    grid = F.interpolate(grid, size=(side_dst, side_dst), mode="bicubic", align_corners=False)
    return grid.flatten(2).transpose(1, 2).to(pos_embed.dtype)


def _listed(keys: List[str]) -> str:
    shown = ", ".join(keys[:_MAX_LISTED])
    return shown + (" and %d more" % (len(keys) - _MAX_LISTED) if len(keys) > _MAX_LISTED else "")


def load_into(network: torch.nn.Module, state: Dict[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Checks every key and shape against the network, resizes pos_embed if needed, then loads strictly."""
    expected = network.state_dict()
    state = dict(state)
    if _POS_EMBED in state and _POS_EMBED in expected:
        have, want = state[_POS_EMBED], expected[_POS_EMBED]
        if have.dim() == 3 and have.shape != want.shape and have.shape[2] == want.shape[2]:
            state[_POS_EMBED] = resize_pos_embed(have, want.shape[1])
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshapen = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    problems = []
    if missing:
        problems.append("%d missing key(s): %s" % (len(missing), _listed(missing)))
    if unexpected:
        problems.append("%d unexpected key(s): %s" % (len(unexpected), _listed(unexpected)))
    if misshapen:
        shapes = ["%s %s (model wants %s)" % (k, tuple(state[k].shape), tuple(expected[k].shape)) for k in misshapen]
        problems.append("%d key(s) of the wrong shape: %s" % (len(misshapen), _listed(shapes)))
    if problems:
        raise ExportError(
            "%s does not match the CorridorKey network:\n  %s\nUse the CorridorKey v1.0 checkpoint "
            "(CorridorKey_v1.0.pth); other models cannot be exported by this tool." % (source, "\n  ".join(problems)))
    floats = {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in state.items()}
    network.load_state_dict(floats, strict=True)
