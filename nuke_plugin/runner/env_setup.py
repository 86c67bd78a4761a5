"""Creates the export environment: a venv holding the target Nuke's torch, torchvision, timm and numpy.

Why: an artist should not need a terminal to get a working exporter. uv is used when it is on PATH (fast, and it
can fetch a Python of the right version: torch 1.12 has no wheels past Python 3.10); otherwise the standard
``python -m venv`` + pip. Each step is a plain command run through runner.process, so it streams its output,
can be cancelled, and never runs on Nuke's UI thread (the caller owns the thread). A failed or cancelled
creation removes the folder it made, and a ready stamp written last (env_probe.READY_STAMP) tells an environment
that Nuke's end interrupted from a finished one: the next Set up makes it again, the probe says so.

Pure Python 3.9+: no Nuke, no torch.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, List, Mapping, Optional, Sequence, Tuple

from ..contract.files import atomic_write
from ..contract.torch_targets import CPU_INDEX_URL, TorchTarget, cpu_index_options, cpu_only_offered, cpu_requirements
from . import process
from .env_probe import READY_STAMP, venv_python


@dataclass(frozen=True)
class Step:
    description: str
    argv: Tuple[str, ...]


def download_note(target: TorchTarget, platform: str = sys.platform, cpu_only: bool = False) -> str:
    """How much Set up downloads, said before it starts: on Linux PyPI's torch carries CUDA libraries."""
    if cpu_only and cpu_only_offered(platform):
        return "PyTorch's CPU-only torch: a much smaller download"
    if platform.startswith("linux") and target.linux_download_gb:
        return ("about %.1f GB to download: PyPI's Linux torch includes its CUDA libraries even without a GPU"
                % target.linux_download_gb)
    return "a few hundred MB to download"


# Run by the new environment's Python after a CPU-only install: the CPU pins (torch_targets.cpu_requirements) keep
# pip from falling back to PyPI's CUDA torch on x86-64; elsewhere this says so if it did.
CPU_TORCH_CHECK = (
    "import sys, torch\n"
    "if torch.version.cuda is not None:\n"
    "    sys.exit('torch %%s here is built for CUDA %%s, not the CPU-only build asked for: PyTorch\\'s CPU-only index "
    "(%s) was probably unreachable. Remove this environment and Set up again when it answers, or untick the "
    "CPU-only torch.' %% (torch.__version__, torch.version.cuda))\n"
    "print('torch %%s: a CPU-only build' %% torch.__version__)\n" % CPU_INDEX_URL)


def find_uv(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    env = os.environ if environ is None else environ
    return shutil.which("uv", path=env.get("PATH"))


def _python_version(python: str) -> Optional[Tuple[int, int]]:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             env=process.child_environment(), timeout=20, universal_newlines=True)
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        major, minor = out.stdout.strip().split(".")
        return int(major), int(minor)
    except ValueError:
        return None


def find_base_python(target: TorchTarget, environ: Optional[Mapping[str, str]] = None,
                     candidates: Optional[Sequence[str]] = None) -> Optional[str]:
    """A Python on PATH of the target Nuke's own version (its torch's wheels exist for it)."""
    env = os.environ if environ is None else environ
    if candidates is None:
        names = ["python" + target.python_text, "python3", "python"]
        candidates = [p for p in (shutil.which(n, path=env.get("PATH")) for n in names) if p]
    for python in candidates:
        if _python_version(python) == target.python:
            return python
    return None


def plan_environment(env_dir: str, target: TorchTarget, uv: Optional[str] = None,
                     base_python: Optional[str] = None, cpu_only: bool = False) -> List[Step]:
    """The commands that create `env_dir` for `target`. Needs uv or a base Python of a suitable version.
    `cpu_only` takes torch from PyTorch's CPU-only index where it has one (Linux, Windows)."""
    if not target.supported:
        raise ValueError(target.note)
    python = venv_python(env_dir)
    cpu = cpu_only and cpu_only_offered()
    requirements = list(cpu_requirements(target.requirements) if cpu else target.requirements)
    what = "Installing %s%s" % (", ".join(requirements), " (CPU-only torch)" if cpu else "")
    check = [Step("Checking that torch is a CPU-only build", (python, "-c", CPU_TORCH_CHECK))] if cpu else []
    if uv:
        version = target.python_text
        return [
            Step("Creating the environment (Python %s) with uv" % version,
                 (uv, "venv", "--python", version, env_dir)),
            Step(what, (uv, "pip", "install", "--python", python)
                 + (cpu_index_options("uv") if cpu else ()) + tuple(requirements)),
        ] + check
    if not base_python:
        raise ValueError("No Python %s found to create the environment for torch %s. Install uv "
                         "(https://docs.astral.sh/uv/) or that Python, or set CORRIDORKEY_PYTHON."
                         % (target.python_text, target.torch))
    return [
        Step("Creating the environment with %s" % base_python, (base_python, "-m", "venv", env_dir)),
        Step("Updating pip", (python, "-m", "pip", "install", "--upgrade", "pip")),
        Step(what, (python, "-m", "pip", "install") + (cpu_index_options("pip") if cpu else ()) + tuple(requirements)),
    ] + check


def describe_plan(steps: Sequence[Step]) -> str:
    """The plan as shell commands, for the confirmation prompt and for TDs who prefer to run it themselves."""
    return "\n".join(process.format_command(s.argv) for s in steps)


def run_plan(steps: Sequence[Step], env_dir: str, on_message: Callable[[str, float], None],
             is_cancelled: Callable[[], bool] = lambda: False,
             environ: Optional[Mapping[str, str]] = None) -> process.CommandOutcome:
    """Runs the steps in order (call from a worker thread). `on_message(text, fraction)` reports progress.

    A half-made environment (a python, no ready stamp) is removed first and made again; a folder of other files is
    refused. On failure or cancel the environment folder is removed if this run created it; the ready stamp is
    written only once every step succeeded.
    """
    stamp = os.path.join(env_dir, READY_STAMP)
    problem = _clear_half_made(env_dir, on_message)
    if problem:
        return process.CommandOutcome(process.FAILED, problem, kind="user")
    existed = os.path.exists(env_dir)
    if os.path.lexists(stamp):
        os.remove(stamp)  # being changed: until every step has run again, it is not a finished environment
    env = process.child_environment(environ)
    env.pop("VIRTUAL_ENV", None)  # uv and pip would otherwise target the caller's venv
    outcome = process.CommandOutcome(process.DONE, "Nothing to do.")
    for index, step in enumerate(steps):
        base = float(index) / len(steps)
        on_message(step.description, base)

        def relay(event, _base=base):
            text = str(event.get("message", "")).strip()
            if text:
                on_message(text, _base)

        outcome = process.run_streaming(step.argv, relay, is_cancelled=is_cancelled, env=env, grace=5.0)
        if not outcome.ok:
            if not existed and os.path.isdir(env_dir):
                shutil.rmtree(env_dir, ignore_errors=True)
            if outcome.status == process.FAILED:
                outcome.message = "%s failed: %s\nCommand: %s" % (
                    step.description, outcome.message, process.format_command(step.argv))
            return outcome
    try:
        atomic_write(stamp, describe_plan(steps) + "\n")  # what made it, for a TD who wonders
    except OSError as exc:
        return process.CommandOutcome(process.FAILED, "The environment %s was made, but its ready stamp cannot be "
                                      "written (%s)." % (env_dir, exc.strerror or exc), kind="user")
    on_message("Environment ready: %s" % env_dir, 1.0)
    outcome.message = "Environment ready: %s" % venv_python(env_dir)
    return outcome


def _clear_half_made(env_dir: str, on_message: Callable[[str, float], None]) -> Optional[str]:
    """Removes an environment an earlier Set up did not finish; returns why it cannot go ahead, or None."""
    if not os.path.isdir(env_dir) or os.path.isfile(os.path.join(env_dir, READY_STAMP)):
        return None
    if os.path.isfile(os.path.join(env_dir, "pyvenv.cfg")) or os.path.isfile(venv_python(env_dir)):
        on_message("Removing the half-made environment %s (an earlier set-up did not finish)" % env_dir, 0.0)
        shutil.rmtree(env_dir, ignore_errors=True)
        if os.path.exists(env_dir):
            return "The half-made environment %s cannot be removed; delete it and run Set up again." % env_dir
        return None
    if os.listdir(env_dir):
        return ("%s holds other files and no environment: Set up never clears a folder it did not make. Choose an "
                "empty or new folder." % env_dir)
    return None
