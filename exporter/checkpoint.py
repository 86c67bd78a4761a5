"""Reading a CorridorKey checkpoint into the network, refusing anything that is not one with a clear message."""
from __future__ import annotations

import math
import os
import re
import stat
import zipfile
from typing import Any, Dict, List, Mapping

import torch
import torch.nn.functional as F

from nuke_plugin.contract import WEIGHTS_FILE, WEIGHTS_URL

from .errors import ExportCancelled, ExportError
from .safe_load import load_tensors

_LFS_SIGNATURE = b"version https://git-lfs"
_COMPILE_PREFIX = "_orig_mod."
_POS_EMBED = "encoder.model.pos_embed"
_MAX_LISTED = 5
# Keys under which training scripts commonly nest the state dict, tried in this order.
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_DOWNLOAD_HINT = "Download %s from %s and point --checkpoint at it." % (WEIGHTS_FILE, WEIGHTS_URL)


def _check_readable_file(path: str) -> None:
    """Refuses, before opening it, anything that is not a regular file this user can read: a FIFO or a device
    would block the read forever, and a permission problem must not read as a missing file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ExportError("Checkpoint not found: %s. %s" % (path, _DOWNLOAD_HINT))
    except OSError as exc:
        raise ExportError("Cannot look at the checkpoint %s: %s. Check the path and its permissions."
                          % (path, exc.strerror or exc))
    if stat.S_ISDIR(info.st_mode):
        raise ExportError("Checkpoint path is a folder, not a file: %s. Point --checkpoint at the .pth file." % path)
    if not stat.S_ISREG(info.st_mode):
        raise ExportError("Checkpoint %s is not a regular file (a pipe, socket or device). Point --checkpoint at "
                          "the downloaded .pth file." % path)
    if not os.access(path, os.R_OK):
        raise ExportError("Permission denied reading the checkpoint %s. Ask its owner for read access, or copy "
                          "it somewhere you can read it." % path)


def _is_torchscript_archive(path: str) -> bool:
    """A TorchScript export (what this tool writes) rather than a checkpoint: its archive holds code."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.split("/", 1)[-1].startswith(("code/", "constants.pkl")) for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return False


def _torch_message(exc: BaseException) -> str:
    """torch's own words, first line only, without colour codes and without its advice to load the file with
    weights_only=False (which would run any code the file holds)."""
    text = _ANSI.sub("", str(exc)).strip()
    if "weights_only" in text or "Weights only load failed" in text:
        return "it holds objects other than tensors"
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _find_state(loaded: Any, path: str) -> Mapping:
    """The mapping of tensors: the file itself, or under one of the wrapper keys training scripts use."""
    if isinstance(loaded, Mapping):
        for key in _WRAPPER_KEYS:
            if isinstance(loaded.get(key), Mapping) and loaded[key]:
                return loaded[key]
        if any(isinstance(v, torch.Tensor) for v in loaded.values()):
            return loaded
        nested = [str(k) for k, v in loaded.items()
                  if isinstance(v, Mapping) and any(isinstance(t, torch.Tensor) for t in v.values())]
        if nested:
            raise ExportError("%s keeps its tensors under %s, not at the top or under %s. Is it a CorridorKey "
                              "checkpoint? Save that entry on its own and export that file."
                              % (path, _listed(["'%s'" % n for n in nested]), "/".join(_WRAPPER_KEYS)))
        raise ExportError("%s holds no tensors. Is it a CorridorKey checkpoint?" % path)
    raise ExportError("%s holds no state dict (found %s). Is it a CorridorKey checkpoint?"
                      % (path, type(loaded).__name__))


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Loads the tensors of a checkpoint file (bare or under a wrapper key), with `_orig_mod.` stripped.

    Every outcome is a state dict or an ExportError that says what to do: this reads files from anywhere.
    """
    _check_readable_file(path)
    with open(path, "rb") as handle:
        head = handle.read(len(_LFS_SIGNATURE))
    if head == _LFS_SIGNATURE:
        raise ExportError(
            "%s is a Git LFS pointer (%d bytes), not the weights: the repository was cloned without LFS. "
            "Run `git lfs pull` in that clone, or download the file directly. %s"
            % (path, os.path.getsize(path), _DOWNLOAD_HINT))
    if _is_torchscript_archive(path):
        raise ExportError("%s is an exported TorchScript model (what this tool writes), not a checkpoint. Point "
                          "--checkpoint at the CorridorKey .pth weights. %s" % (path, _DOWNLOAD_HINT))
    try:
        loaded = load_tensors(path)
    except ExportCancelled:
        raise
    except Exception as exc:  # torch.load raises anything on a hostile or damaged file; none of it is a bug here
        raise ExportError(
            "%s is not a readable PyTorch checkpoint (%s). The file may be truncated by an interrupted "
            "download or be another kind of file; download it again. %s" % (path, _torch_message(exc), _DOWNLOAD_HINT))
    state = {}
    for key, value in _find_state(loaded, path).items():
        if not isinstance(value, torch.Tensor):
            continue
        name = str(key)
        while name.startswith(_COMPILE_PREFIX):
            name = name[len(_COMPILE_PREFIX):]
        state[name] = value
    if not state:
        raise ExportError("%s holds no tensors. Is it a CorridorKey checkpoint?" % path)
    bad = [name for name, value in state.items()
           if value.is_floating_point() and value.numel() and not bool(torch.isfinite(value).all())]
    if bad:
        raise ExportError("%s holds NaN or infinite values in %s: the weights are damaged (a diverged training "
                          "run or a corrupt download). Use another copy of the checkpoint." % (path, _listed(bad)))
    return state


def resize_pos_embed(pos_embed: torch.Tensor, tokens: int) -> torch.Tensor:
    """Bicubic resize of Hiera's [1, N, C] position embedding, seen as a square grid, to `tokens` entries."""
    _, n_src, channels = pos_embed.shape
    side_src, side_dst = math.isqrt(n_src), math.isqrt(tokens)
    if n_src == 0 or channels == 0:
        raise ExportError("pos_embed holds no tokens (shape %s): the checkpoint is damaged. Use another copy of "
                          "%s." % (tuple(pos_embed.shape), WEIGHTS_FILE))
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
            "(%s); other models cannot be exported by this tool." % (source, "\n  ".join(problems), WEIGHTS_FILE))
    floats = {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in state.items()}
    network.load_state_dict(floats, strict=True)
