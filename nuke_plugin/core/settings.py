"""Per-user settings for Build Model, with environment-variable overrides for studios.

Why a file of our own: an artist picks the checkpoint, export interpreter, resolution and target Nuke once, and
the next Build Model should remember them. Why env vars on top: a TD pins a studio-wide interpreter or install
folder for everybody (wrapper scripts, farm jobs) without touching anyone's file; a value set by an environment
variable wins over the file, is shown as locked in the dialog and is never written back.

The file lives at ``<Nuke's user folder>/CorridorKey/settings.json``. Nuke's user folder is ``.nuke`` under
``HOME`` (on Windows ``HOME`` if set, else ``USERPROFILE``), the same rule Nuke itself follows;
``CORRIDORKEY_HOME`` moves the whole CorridorKey folder and ``CORRIDORKEY_SETTINGS`` names the file itself.

Pure Python 3.9+: no Nuke, no Qt, no torch.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field, fields
from typing import Dict, List, Mapping, Optional

from .. import contract
from ..contract.costs import OPERATOR_SET_NAMES, frame_cost
from ..contract.files import atomic_write, read_json
from ..contract.torch_targets import (
    DEFAULT_TORCH_TARGET,
    TORCH_TARGETS_BY_KEY,
    TorchTarget,
    operators_for,
    parse_torch_target,
)
from .paths import nuke_user_dir

SETTINGS_FILE_NAME = "settings.json"
SETTINGS_FORMAT_VERSION = 1
SETTINGS_SIZE_LIMIT = 1 << 20  # a settings file is a few hundred bytes; anything near this is not one
PATH_FIELDS = ("python", "checkpoint", "install_dir", "build_dir", "env_dir")

# Environment variable -> settings field. A studio sets these in its Nuke launcher.
ENV_OVERRIDES = (
    ("CORRIDORKEY_PYTHON", "python"),
    ("CORRIDORKEY_CHECKPOINT", "checkpoint"),
    ("CORRIDORKEY_INSTALL_DIR", "install_dir"),
    ("CORRIDORKEY_BUILD_DIR", "build_dir"),
    ("CORRIDORKEY_ENV_DIR", "env_dir"),
    ("CORRIDORKEY_RESOLUTION", "resolution"),
    ("CORRIDORKEY_TORCH", "torch_target"),
    ("CORRIDORKEY_CPU_ONLY_TORCH", "cpu_only_torch"),
)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


# --------------------------------------------------------------------------------------------------------------
# Model resolution: what each choice costs. The CPU figures are the measured table of contract/costs.py, for the
# build the chosen target gets. GPU memory was not measured on this project's machines (no GPU was available);
# tools/gpu_check.sh measures it where there is one.
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionChoice:
    value: int
    summary: str
    gpu: str  # what is known of its GPU memory

    @property
    def label(self) -> str:
        return "%d  (%s)" % (self.value, self.summary)


RESOLUTIONS = (
    ResolutionChoice(2048, "native, best edges", "GPU memory not measured; needs the most VRAM of the three."),
    ResolutionChoice(1536, "less GPU memory",
                     "GPU memory not measured; estimate: roughly 55-60 % of 2048's."),
    ResolutionChoice(1024, "smaller GPUs, softer edges",
                     "GPU memory not measured; estimate: roughly a quarter to a third of 2048's."),
)
RESOLUTIONS_BY_VALUE: Dict[int, ResolutionChoice] = {r.value: r for r in RESOLUTIONS}
DEFAULT_RESOLUTION = contract.NATIVE_RESOLUTION


def cost_text(resolution: int, target_key: str) -> str:
    """The dialog's note on a resolution: the measured CPU cost of the build `target_key` gets, dated."""
    choice = RESOLUTIONS_BY_VALUE.get(resolution)
    cost = frame_cost(operators_for(target_key), resolution)
    if choice is None or cost is None:
        return "Custom size: not measured."
    return ("Measured on CPU (2 cores, %s, load %.1f): about %.0f s per HD frame, %.1f GB peak RAM (%s). %s"
            % (cost.measured, cost.load, cost.seconds, cost.peak_rss_gb, OPERATOR_SET_NAMES[cost.operators],
               choice.gpu))


# --------------------------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------------------------


def corridorkey_home(environ: Optional[Mapping[str, str]] = None) -> str:
    """Where our settings, builds and export environments live by default."""
    env = os.environ if environ is None else environ
    return env.get("CORRIDORKEY_HOME") or os.path.join(nuke_user_dir(env), contract.MODEL_ID)


def settings_path(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("CORRIDORKEY_SETTINGS") or os.path.join(corridorkey_home(env), SETTINGS_FILE_NAME)


# --------------------------------------------------------------------------------------------------------------
# The settings
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Settings:
    """What Build Model remembers. Empty strings mean "find it for me"."""

    python: str = ""           # export interpreter; "" = search (see runner.env_probe.candidate_interpreters)
    checkpoint: str = ""       # CorridorKey .pth
    install_dir: str = ""      # where the built node is installed; "" = the plugin's default
    build_dir: str = ""        # where the exporter writes the .pt + manifest; "" = <CorridorKey home>/build
    env_dir: str = ""          # where "Set up" creates the export environment; "" = <home>/envs/<target>
    resolution: int = DEFAULT_RESOLUTION
    torch_target: str = DEFAULT_TORCH_TARGET
    cpu_only_torch: bool = False  # Set up takes PyTorch's CPU-only torch (Linux, Windows: a much smaller download)
    # field name -> the environment variable that set it (those are locked in the dialog, never saved)
    overrides: Dict[str, str] = field(default_factory=dict, compare=False)
    # what the file held for overridden fields, so saving keeps the user's own value
    _file_values: Dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def target(self) -> TorchTarget:
        return TORCH_TARGETS_BY_KEY.get(self.torch_target, TORCH_TARGETS_BY_KEY[DEFAULT_TORCH_TARGET])

    def resolved_build_dir(self, environ: Optional[Mapping[str, str]] = None) -> str:
        return self.build_dir or os.path.join(corridorkey_home(environ), "build")

    def resolved_env_dir(self, environ: Optional[Mapping[str, str]] = None) -> str:
        return self.env_dir or os.path.join(corridorkey_home(environ), "envs", self.target.key)

    def is_locked(self, name: str) -> bool:
        return name in self.overrides

    def to_dict(self) -> Dict[str, object]:
        """The values as the user chose them (overridden fields keep what the file had)."""
        out: Dict[str, object] = {}
        for f in _persisted_fields():
            out[f] = self._file_values.get(f, getattr(self, f)) if f in self.overrides else getattr(self, f)
        return out


def _persisted_fields() -> List[str]:
    return [f.name for f in fields(Settings) if not f.name.startswith("_") and f.name != "overrides"]


def path_problem(value: str) -> Optional[str]:
    """Why the OS cannot take `value` as a path (a NUL character, text its file names cannot encode), or None."""
    if "\0" in value:
        return "it contains a NUL character, which no file name can hold"
    try:
        os.fsencode(value)
    except UnicodeError:
        return "it contains characters this system's file names cannot hold"
    return None


def _coerce(name: str, value: object) -> object:
    """Type-check one value from the file or the environment; ValueError says what is wrong."""
    if name == "resolution":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("expected a whole number of pixels, got %.80r" % (value,))
        text = str(value).strip()
        if len(text) > 12:  # int() of a million digits takes seconds on Python 3.9, at Nuke's start-up
            raise ValueError("expected a whole number of pixels, got %d characters" % len(text))
        number = int(text)
        problem = contract.resolution_problem(number)
        if problem:
            raise ValueError(problem)
        return number
    if name == "torch_target":
        if not isinstance(value, str) or len(value) > 32:
            raise ValueError("expected a Nuke version such as 16 or 15.1, got %.80r" % (value,))
        return parse_torch_target(value).key
    if name == "cpu_only_torch":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE + _FALSE:
            return text in _TRUE
        raise ValueError("expected true or false, got %r" % (value,))
    if not isinstance(value, str):
        raise ValueError("expected text, got %.80r" % (value,))
    problem = path_problem(value) if name in PATH_FIELDS else None
    if problem:
        raise ValueError("%.200r is not a usable path: %s" % (value, problem))
    return value


def load_settings(path: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Reads the file (missing -> defaults; unreadable -> defaults, with a warning), then applies env overrides.

    Never raises and never blocks for a bad file: Nuke's start-up reads this (init.py -> the install folder), and a
    broken settings file must not stop an artist from building. A named pipe, a device or a folder in its place is
    refused without being opened for a blocking read, and a file is read only up to SETTINGS_SIZE_LIMIT.
    """
    env = os.environ if environ is None else environ
    path = path or settings_path(env)
    settings = Settings()
    raw: Dict[str, object] = {}
    try:
        loaded = read_json(path, SETTINGS_SIZE_LIMIT)
        if not isinstance(loaded, dict):
            raise ValueError("the top level is not an object")
        raw = loaded
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        warnings.warn("CorridorKey: ignoring unreadable settings file %s (%s); using defaults. Fix or delete "
                      "it; the next save rewrites it." % (path, exc), RuntimeWarning, stacklevel=2)
    for name in _persisted_fields():
        if name in raw:
            try:
                setattr(settings, name, _coerce(name, raw[name]))
            except (TypeError, ValueError, RecursionError) as exc:
                warnings.warn("CorridorKey: settings file %s: ignoring %s (%.300s)" % (path, name, exc),
                              RuntimeWarning, stacklevel=2)
    for variable, name in ENV_OVERRIDES:
        value = env.get(variable)
        if value is None or value == "":
            continue
        try:
            coerced = _coerce(name, value)
        except ValueError as exc:
            warnings.warn("CorridorKey: ignoring %s=%r (%s)" % (variable, value, exc), RuntimeWarning, stacklevel=2)
            continue
        settings._file_values[name] = getattr(settings, name)
        setattr(settings, name, coerced)
        settings.overrides[name] = variable
    return settings


def save_settings(settings: Settings, path: Optional[str] = None,
                  environ: Optional[Mapping[str, str]] = None) -> str:
    """Writes atomically (temp file + os.replace) so a crash never leaves half a settings file."""
    path = path or settings_path(environ)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    payload = dict(settings.to_dict())
    payload["format_version"] = SETTINGS_FORMAT_VERSION
    atomic_write(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path
