"""Loading a checkpoint so that no code inside it can run, on every torch the exporter supports.

torch 1.13+ has `torch.load(weights_only=True)`. The torch 1.12 of Nuke 14's export environment does not, so
there the pickle is read by an unpickler that admits only what a state dict is made of: tensors, their storages
and parameters, dtypes and sizes, and plain containers. Anything else (a function, a class, `os.system`) is
refused before it is imported, let alone called.
"""
from __future__ import annotations

import inspect
import pickle
from typing import Any, Dict

import torch

# (module, name) pairs a tensor state dict needs, whichever torch wrote it. Storage classes never get here:
# torch's own unpickler resolves every name containing "Storage" before asking this one.
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor_v3"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    ("torch.nn.parameter", "Parameter"),
    ("torch", "Tensor"),
    ("torch", "Size"),
}
_BUILTIN_CONTAINERS = {"dict", "list", "tuple", "set", "frozenset"}


def _allowed(module: str, name: str) -> bool:
    if (module, name) in _ALLOWED_GLOBALS:
        return True
    if module == "builtins":
        return name in _BUILTIN_CONTAINERS
    return module == "torch" and isinstance(getattr(torch, name, None), torch.dtype)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose `find_class` refuses every global outside the state-dict allowlist."""

    def find_class(self, module: str, name: str) -> Any:
        if not _allowed(module, name):
            raise pickle.UnpicklingError(
                "refusing %s.%s: a checkpoint holds tensors, not code" % (module, name))
        return super().find_class(module, name)


class RestrictedPickleModule:
    """What `torch.load(pickle_module=...)` needs from a pickle module, with the restricted unpickler."""

    Unpickler = RestrictedUnpickler
    UnpicklingError = pickle.UnpicklingError

    @staticmethod
    def load(file: Any, **kwargs: Any) -> Any:
        return RestrictedUnpickler(file, **kwargs).load()


def has_weights_only() -> bool:
    return "weights_only" in inspect.signature(torch.load).parameters


def load_tensors(path: str) -> Any:
    """`torch.load` of `path` on the CPU that never executes code from the file, on torch 1.12 and later."""
    kwargs: Dict[str, Any] = {"map_location": "cpu"}
    if has_weights_only():
        kwargs["weights_only"] = True
    else:
        kwargs["pickle_module"] = RestrictedPickleModule
    return torch.load(path, **kwargs)

