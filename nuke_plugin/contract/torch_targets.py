"""The one table of torch versions: which torch each supported Nuke embeds, and what each export environment pins.

Why one table: the Build Model dialog's Set up, `tools/env.sh`, the compatibility lanes of CI
(`tools/compat.sh`) and the exporter's manifest all need the same versions; they read them here (shell scripts
through `python -m nuke_plugin.contract.torch_targets`). Each supported Nuke's embedded torch is one "lane": a
venv of that torch on that Nuke's Python is a faithful stand-in for the libtorch inside the Nuke.

Part of the contract: pure Python 3.9+, standard library only.
"""
from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

# One Hiera implementation everywhere: the last timm release that still installs on Python 3.9 (Nuke 14's).
TIMM_PIN = "timm==1.0.30"

# The operator sets a build's attention can be recorded with (exporter/scripted/attention.py). "fused" is
# scaled_dot_product_attention, the fastest, which torch knows from 2.0 on; "portable" is made of matrix products
# that every supported Nuke's torch knows. Which torches have proven each set is exporter/lanes/portable_ops.json.
FUSED = "fused"
PORTABLE = "portable"
OPERATOR_SETS = (FUSED, PORTABLE)


@dataclass(frozen=True)
class TorchTarget:
    key: str
    nuke: str                       # the Nuke releases it suits, for people
    torch: str                      # the torch release that Nuke embeds (and its lane installs)
    python: Tuple[int, int]         # that Nuke's own Python: its export environment and lane use the same
    requirements: Tuple[str, ...]   # pip requirement strings of its export environment
    source: str                     # how we know which torch that Nuke embeds
    supported: bool = True
    note: str = ""
    # What installing requirements downloads on Linux, where PyPI's torch bundles CUDA libraries (and, from
    # torch 2.x, triton) even on a machine without a GPU: the sizes of the wheels pip fetched (x86-64, 2026-12-03:
    # the lanes' wheels in ~/.cache/corridorkey-nuke/wheels, 0.83, 2.74 and 3.04 GB; the project's, resolved by
    # `pip install --dry-run --report`, 3.06 GB), not the installed size (about twice that).
    linux_download_gb: float = 0.0
    # The operator set of a build for this Nuke: the fastest one its torch loads (proven in its CI lane).
    operators: str = PORTABLE

    @property
    def label(self) -> str:
        return "%s  (torch %s, Python %s)" % (self.nuke, self.torch, self.python_text)

    @property
    def torch_tuple(self) -> Tuple[int, ...]:
        return version_tuple(self.torch)[:2]

    @property
    def python_text(self) -> str:
        return "%d.%d" % self.python

    @property
    def lane(self) -> str:
        """The name of its compatibility lane (and cached environment folder)."""
        return "torch-" + self.torch


# fp32 outputs of one .pt in two torches (a Nuke's and the exporter's; or the self-test model's stored expectations):
# the same kernels, so only summation order may differ. The lanes, --verify-with and the self-test check use it.
CROSS_TORCH_TOLERANCE = 1e-5


def release(version: str) -> str:
    """A torch version as the tables and manifests name it: '2.7.1+cu126' -> '2.7.1' (the build label dropped)."""
    return str(version).split("+")[0].strip()


def version_tuple(text: str) -> Tuple[int, ...]:
    """'2.7.1+cu126' -> (2, 7, 1); stops at the first part that is not a number ('2.1.0a0' -> (2, 1, 0))."""
    out = []
    for part in release(text).split("."):
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


TORCH_TARGETS = (
    TorchTarget(
        "nuke16", "Nuke 16 / 17", "2.7.1", (3, 11),
        ("torch==2.7.1", "torchvision==0.22.1", TIMM_PIN, "numpy<2"), "reported", linux_download_gb=3.0,
        operators=FUSED,
        note="A public Nuke 17 port exported with torch 2.7.1; Foundry's documentation does not name the version."),
    TorchTarget(
        "nuke15.1", "Nuke 15.1 / 15.2", "2.1.1", (3, 10),
        ("torch==2.1.1", "torchvision==0.16.1", TIMM_PIN, "numpy<2"), "reported", linux_download_gb=2.7,
        operators=FUSED,
        note="Reported, not documented: check Nuke's own torch with `import torch` in its Script Editor."),
    TorchTarget(
        "nuke14", "Nuke 14 / 15.0", "1.12.1", (3, 9),
        ("torch==1.12.1", "torchvision==0.13.1", TIMM_PIN, "numpy<2"), "Foundry's guide", linux_download_gb=0.8),
    TorchTarget(
        "nuke13", "Nuke 13", "1.6.0", (3, 7),
        ("torch==1.6.0", "torchvision==0.7.0", "numpy<2"), "Foundry's guide",
        supported=False,
        note="Not supported: the encoder comes from timm >= 1.0 (Hiera), which needs a newer torch than 1.6."),
)
TORCH_TARGETS_BY_KEY: Dict[str, TorchTarget] = {t.key: t for t in TORCH_TARGETS}
SUPPORTED_TARGETS = tuple(t for t in TORCH_TARGETS if t.supported)
DEFAULT_TORCH_TARGET = "nuke16"

# The project's own export environment (`tools/env.sh`, the tests): the newest torch this project is tested
# with. A build it makes without a target is portable and loads in every supported Nuke (proven by the lanes).
PROJECT_ENVIRONMENT = TorchTarget(
    "project", "this project's environment", "2.14.1", (3, 11),
    ("torch==2.14.1", "torchvision==0.29.1", TIMM_PIN, "numpy"), "tested here", linux_download_gb=3.1)


# PyTorch's CPU-only wheels: on Linux and Windows PyPI's torch carries CUDA libraries (and from 2.x triton), most
# of the download, used or not. The export only needs a CPU (Nuke's own torch does the rendering), so a machine
# without an NVIDIA GPU can take these instead. macOS wheels are CPU-only already.
CPU_INDEX_URL = "https://download.pytorch.org/whl/cpu"
PYPI_INDEX_URL = "https://pypi.org/simple"


def cpu_only_offered(platform: str = sys.platform) -> bool:
    return platform.startswith(("linux", "win"))


def cpu_index_options(installer: str = "pip") -> Tuple[str, ...]:
    """Installer options that take torch and torchvision from the CPU-only index and the rest (timm) from PyPI.

    pip compares every index's candidates and prefers '2.7.1+cpu' to '2.7.1'; uv takes a package from the first
    index that has it, and searches its extra indexes first.
    """
    if installer == "uv":
        return ("--extra-index-url", CPU_INDEX_URL)
    return ("--index-url", CPU_INDEX_URL, "--extra-index-url", PYPI_INDEX_URL)


CPU_ONLY_PACKAGES = ("torch", "torchvision")
CPU_LOCAL_VERSION = "+cpu"  # how PyTorch's CPU-only index names its x86-64 builds: torch-2.7.1+cpu
CPU_LABELLED_MACHINES = ("x86_64", "amd64")


def cpu_requirements(requirements: Sequence[str], machine: Optional[str] = None) -> Tuple[str, ...]:
    """The requirements with torch and torchvision pinned to the CPU-only index's own builds ('torch==2.7.1+cpu')
    on x86-64, where that index labels them so: only that index has them, so when it cannot be reached pip stops
    with "no matching distribution" instead of taking PyPI's CUDA build (gigabytes) in silence. Elsewhere (arm64
    builds carry no label) the pins stay as they are, and the installed torch is checked afterwards."""
    if (machine if machine is not None else platform.machine()).lower() not in CPU_LABELLED_MACHINES:
        return tuple(requirements)
    pinned = []
    for requirement in requirements:
        name, separator, version = requirement.partition("==")
        if separator and name in CPU_ONLY_PACKAGES and "+" not in version:
            requirement = "%s==%s%s" % (name, version, CPU_LOCAL_VERSION)
        pinned.append(requirement)
    return tuple(pinned)


# Torches whose exports the compatibility lanes prove to load in every supported Nuke (tools/compat.sh).
PROVEN_EXPORT_TORCHES = frozenset(version_tuple(t.torch) for t in SUPPORTED_TARGETS + (PROJECT_ENVIRONMENT,))


def operators_for(target_key: str) -> str:
    """The operator set of a build for `target_key` (a table key); a build without a target is portable, so that
    it loads in every supported Nuke."""
    target = TORCH_TARGETS_BY_KEY.get(target_key)
    return target.operators if target is not None and target.supported else PORTABLE


def nukes_loading(compatible_torch: Sequence[str]) -> Tuple[TorchTarget, ...]:
    """The supported Nukes whose embedded torch is among `compatible_torch` (a manifest's list), oldest first."""
    versions = {version_tuple(v)[:3] for v in compatible_torch}
    return tuple(t for t in reversed(SUPPORTED_TARGETS) if version_tuple(t.torch)[:3] in versions)


def nukes_for_target(target_key: str) -> Tuple[TorchTarget, ...]:
    """The supported Nukes a build for `target_key` ("" for none) loads in, oldest first: those whose own builds
    use the same operator set, or all of them for a portable build."""
    operators = operators_for(target_key)
    return tuple(t for t in reversed(SUPPORTED_TARGETS) if operators == PORTABLE or t.operators == operators)


def torch_target_for_nuke(major: int, minor: int = 0) -> TorchTarget:
    """The target that suits a Nuke version (used to pre-select the running Nuke's own)."""
    if major >= 16:
        return TORCH_TARGETS_BY_KEY["nuke16"]
    if major == 15 and minor >= 1:
        return TORCH_TARGETS_BY_KEY["nuke15.1"]
    if major in (14, 15):
        return TORCH_TARGETS_BY_KEY["nuke14"]
    return TORCH_TARGETS_BY_KEY["nuke13"]


def parse_torch_target(text: str) -> TorchTarget:
    """Accepts a target key ('nuke16') or a Nuke version ('16', '15.1', '14.0v5'); ValueError otherwise."""
    text = text.strip().lower()
    if text in TORCH_TARGETS_BY_KEY:
        return TORCH_TARGETS_BY_KEY[text]
    version = text[4:] if text.startswith("nuke") else text
    version = version.split("v")[0]
    parts = version.split(".")
    try:
        major = int(parts[0])
        minor = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    except ValueError:
        raise ValueError("unknown target %r: use one of %s or a Nuke version such as 15.1"
                         % (text, ", ".join(TORCH_TARGETS_BY_KEY)))
    return torch_target_for_nuke(major, minor)


def _lookup(key: str) -> TorchTarget:
    return PROJECT_ENVIRONMENT if key == PROJECT_ENVIRONMENT.key else parse_torch_target(key)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Prints the table for shell scripts: `lanes` (one line per supported Nuke: lane python torch key operators),
    `loads-in KEY` (the keys of the Nukes a build for KEY loads in, one per line), `requirements KEY [--cpu]` (its
    pip requirements, one per line; KEY `project` is this project's environment; --cpu pins the CPU-only index's
    torch builds), `download-gb KEY` (what installing them downloads on Linux, in GB), or `cpu-index-options`
    (pip's options for the CPU-only torch, one per line)."""
    parser = argparse.ArgumentParser(prog="python -m nuke_plugin.contract.torch_targets", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("lanes", help="one line per supported Nuke: LANE PYTHON TORCH KEY OPERATORS")
    loads = sub.add_parser("loads-in", help="the keys of the Nukes a build for one target loads in")
    loads.add_argument("key", help="a target key (nuke16) or a Nuke version (15.1)")
    req = sub.add_parser("requirements", help="the pip requirements of one environment")
    req.add_argument("key", help="project, a target key (nuke16) or a Nuke version (15.1)")
    req.add_argument("--cpu", action="store_true", help="torch and torchvision as the CPU-only index's builds")
    size = sub.add_parser("download-gb", help="what installing one environment downloads on Linux, in GB")
    size.add_argument("key", help="as for requirements")
    sub.add_parser("cpu-index-options", help="pip options that take torch from PyTorch's CPU-only index")
    args = parser.parse_args(argv)
    lines: List[str] = []
    if args.command == "lanes":
        lines = ["%s %s %s %s %s" % (t.lane, t.python_text, t.torch, t.key, t.operators) for t in SUPPORTED_TARGETS]
    elif args.command == "cpu-index-options":
        lines = list(cpu_index_options("pip"))
    else:
        try:
            target = _lookup(args.key)
        except ValueError as exc:
            sys.stderr.write("%s\n" % exc)
            return 2
        if args.command == "loads-in":
            lines = [t.key for t in nukes_for_target(target.key)]
        elif args.command == "requirements":
            lines = list(cpu_requirements(target.requirements) if args.cpu else target.requirements)
        else:
            lines = ["%g" % target.linux_download_gb]
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
