"""Finds the export interpreter and checks, in a subprocess with a timeout, that it can run the exporter.

Why a subprocess: importing torch inside Nuke would load a second libtorch beside Nuke's own; and an interpreter
that hangs (a broken CUDA driver, a network home folder) must not freeze Nuke, so the probe has a time limit.
The report says exactly what is missing and gives the command that fixes it.

Pure Python 3.9+: no Nuke, no torch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from ..contract.files import parse_json
from ..contract.torch_targets import PROVEN_EXPORT_TORCHES, TorchTarget, version_tuple
from ..core.paths import path_key, plugin_root
from ..core.settings import Settings, corridorkey_home
from . import process

REQUIRED_PACKAGES = ("torch", "torchvision", "timm", "numpy")
PROBE_MARK = "CORRIDORKEY_PROBE "
DEFAULT_TIMEOUT = 90.0  # first torch import on a cold network disk can take a while

# Runs inside the candidate interpreter: must stay valid for any Python 3 and import nothing of ours.
PROBE_SCRIPT = r"""
import json, sys
out = {"python": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable, "packages": {}}
for name in ("torch", "torchvision", "timm", "numpy"):
    try:
        module = __import__(name)
        out["packages"][name] = {"version": str(getattr(module, "__version__", "unknown")).split("+")[0],
                                 "full_version": str(getattr(module, "__version__", "unknown"))}
    except BaseException as exc:
        out["packages"][name] = {"error": "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")}
try:
    import torch
    out["cuda"] = bool(torch.cuda.is_available())
    out["cuda_version"] = getattr(torch.version, "cuda", None)
    out["cuda_device"] = torch.cuda.get_device_name(0) if out["cuda"] else None
except BaseException:
    out["cuda"] = None
sys.stdout.write("CORRIDORKEY_PROBE " + json.dumps(out) + "\n")
"""


# Written by env_setup.run_plan once every step of Set up succeeded: an environment with a python but without it was
# left half-made (Nuke killed during Set up, a machine that went down).
READY_STAMP = ".corridorkey-env-ready"


def half_made(env_dir: str) -> bool:
    """Whether `env_dir` has a python that Set up never finished (no ready stamp)."""
    return os.path.isfile(venv_python(env_dir)) and not os.path.isfile(os.path.join(env_dir, READY_STAMP))


def venv_python(env_dir: str) -> str:
    """The interpreter inside a virtual environment folder, on this OS."""
    if os.name == "nt":
        return os.path.join(env_dir, "Scripts", "python.exe")
    return os.path.join(env_dir, "bin", "python")


def candidate_interpreters(settings: Settings, root: Optional[str] = None,
                           environ: Optional[Mapping[str, str]] = None) -> List[Tuple[str, str]]:
    """(interpreter, why it is a candidate), best first: the configured one, then CorridorKey environments."""
    root = root or plugin_root()
    found: List[Tuple[str, str]] = []
    if settings.python:
        source = settings.overrides.get("python")
        found.append((settings.python, "set by %s" % source if source else "configured in Build Model"))
    found.append((venv_python(settings.resolved_env_dir(environ)),
                  "CorridorKey environment for %s" % settings.target.nuke))
    found.append((venv_python(os.path.join(root, ".venv")), "environment inside the plugin folder"))
    if settings.install_dir:
        found.append((venv_python(os.path.join(settings.install_dir, ".venv")), "environment in the install folder"))
    found.append((venv_python(os.path.join(corridorkey_home(environ), "venv")), "CorridorKey environment"))
    seen = set()
    unique = []
    for path, why in found:
        key = path_key(path)
        if key not in seen:
            seen.add(key)
            unique.append((path, why))
    return unique


def locate_interpreter(settings: Settings, root: Optional[str] = None,
                       environ: Optional[Mapping[str, str]] = None) -> Tuple[Optional[str], str]:
    """The interpreter to use and why. A configured interpreter is used even if broken (the probe says why);
    otherwise the first candidate that exists. (None, reason) when there is none."""
    candidates = candidate_interpreters(settings, root, environ)
    if settings.python:
        return candidates[0]
    for path, why in candidates:
        if os.path.isfile(path):
            return path, why
    return None, "no export environment found (looked in: %s)" % ", ".join(p for p, _ in candidates)


@dataclass
class ProbeResult:
    """What an interpreter can do for the export. `ok` means the exporter can run with it."""

    python: str
    ok: bool = False
    python_version: str = ""
    versions: Dict[str, str] = field(default_factory=dict)
    missing: List[str] = field(default_factory=list)   # package names that failed to import
    errors: Dict[str, str] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)  # sentences for a person, one per problem
    warnings: List[str] = field(default_factory=list)
    fix: str = ""                                      # the command that fixes it, if there is one
    cuda: Optional[bool] = None
    cuda_device: Optional[str] = None
    timed_out: bool = False

    def summary(self) -> str:
        """One line for the dialog's status label."""
        if not self.python_version:
            return self.problems[0] if self.problems else "not checked"
        parts = ["Python %s" % self.python_version]
        for name in REQUIRED_PACKAGES:
            parts.append("%s %s" % (name, self.versions.get(name, "MISSING")))
        if self.cuda is not None:
            parts.append("CUDA: %s" % (self.cuda_device or "yes") if self.cuda else "CUDA: no (export runs on CPU)")
        return " | ".join(parts)

    def report(self) -> str:
        """Several lines, each problem once with the fix under it: the interpreter (or, when none was found, the
        one problem that says so), what it holds, problems, warnings, the fix."""
        problems = list(self.problems)
        if self.python:
            lines = [("Ready: " if self.ok else "Not ready: ") + self.python]
        else:
            lines = ["Not ready: " + (problems.pop(0) if problems else "no export interpreter")]
        if self.python_version:
            lines.append(self.summary())  # without a version, the summary is only the first problem again
        lines += ["Problem: " + p for p in problems]
        lines += ["Warning: " + w for w in self.warnings]
        if self.fix:
            lines.append("Fix: " + self.fix)
        return "\n".join(lines)


def setup_advice(target: TorchTarget) -> str:
    """The one piece of advice for an interpreter that lacks packages: a separate environment made by Set up.

    Why never a pip command for the interpreter itself: it may be an environment other things rely on (the
    project's tested .venv, a studio's Python), and every supported torch makes a build that loads in every Nuke,
    so there is no reason to change its torch."""
    return ("create a separate export environment and leave this Python unchanged: Set up... in Build Model "
            "(torch %s, Python %s, as in %s), or `bash tools/env.sh` in the plugin folder (its .venv)."
            % (target.torch, target.python_text, target.nuke))


def interpret(python: str, data: Mapping[str, object], target: TorchTarget) -> ProbeResult:
    """Turns the probe's JSON into problems, warnings and the fixing command (pure: unit-testable)."""
    result = ProbeResult(python=python, python_version=str(data.get("python", ""))[:40])
    packages = data.get("packages")
    if not isinstance(packages, dict):
        packages = {}
    for name in REQUIRED_PACKAGES:
        entry = packages.get(name)
        if not isinstance(entry, dict):
            entry = {"error": "not reported"}
        if "version" in entry:
            result.versions[name] = str(entry["version"])[:40]
        else:
            result.missing.append(name)
            result.errors[name] = str(entry.get("error", ""))[:300]
    cuda = data.get("cuda")
    result.cuda = None if cuda is None else bool(cuda)
    device = data.get("cuda_device")
    result.cuda_device = str(device) if device else None

    if result.missing:
        for name in result.missing:
            result.problems.append("cannot import %s (%s)" % (name, result.errors[name] or "not installed"))
        result.fix = setup_advice(target)
    torch_version = result.versions.get("torch")
    if torch_version and version_tuple(torch_version)[:3] not in PROVEN_EXPORT_TORCHES:
        result.warnings.append(
            "torch %s is not one this plugin was proven with (%s). The manifest will still say which torch "
            "releases (and so which Nukes) can load the build, but only a proven torch is tested end to end: Set "
            "up creates one."
            % (torch_version, ", ".join(sorted(".".join(map(str, v)) for v in PROVEN_EXPORT_TORCHES))))
    if not target.supported:
        result.problems.append(target.note)
    result.ok = not result.problems
    return result


def probe(python: str, target: TorchTarget, timeout: float = DEFAULT_TIMEOUT,
          environ: Optional[Mapping[str, str]] = None) -> ProbeResult:
    """Runs PROBE_SCRIPT in `python` (never in this process) and interprets what it says."""
    if not python:
        return ProbeResult(python="", problems=["no export interpreter is set"], fix="")
    if not os.path.isfile(python):
        return ProbeResult(python=python, problems=["%s does not exist" % python],
                           fix="Use Set up to create the CorridorKey environment, or pick an interpreter.")
    lines: List[str] = []
    outcome = process.run_streaming(
        [python, "-c", PROBE_SCRIPT], lambda event: lines.append(str(event.get("message", ""))),
        timeout=timeout, grace=2.0, env=process.child_environment(environ))
    if outcome.kind == "timeout":
        return ProbeResult(python=python, timed_out=True, problems=[
            "%s did not answer within %.0f s (importing torch hung). Check that it runs from a terminal: %s"
            % (python, timeout, process.format_command([python, "-c", "import torch"]))])
    for line in lines:
        if line.startswith(PROBE_MARK):
            try:
                data = parse_json(line[len(PROBE_MARK):])  # another program's output: nesting, huge numbers
            except ValueError:
                break
            if isinstance(data, dict):
                return interpret(python, data, target)
            break
    detail = outcome.stderr_tail.strip().splitlines()[-3:] if outcome.stderr_tail else []
    return ProbeResult(python=python, problems=[
        "%s is not a working Python (%s)%s" % (python, outcome.message.splitlines()[0] if outcome.message else
                                                "no answer", (": " + " / ".join(detail)) if detail else "")])


def check_environment(settings: Settings, root: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
                      environ: Optional[Mapping[str, str]] = None) -> ProbeResult:
    """Locate + probe, as the dialog's status line and Build Model use it."""
    python, why = locate_interpreter(settings, root, environ)
    if python is None:
        return ProbeResult(python="", problems=[why],
                           fix="Click Set up to create it (or set CORRIDORKEY_PYTHON to a Python with torch "
                               "and timm).")
    result = probe(python, settings.target, timeout, environ)
    env_dir = settings.resolved_env_dir(environ)
    own = os.path.normcase(os.path.abspath(python)) == os.path.normcase(os.path.abspath(venv_python(env_dir)))
    if not result.ok and own and half_made(env_dir):  # older, finished environments have no stamp but pass
        result.problems.insert(0, "the environment %s was left half-made (its set-up did not finish)" % env_dir)
        result.fix = "Click Set up to make it again."
    return result

