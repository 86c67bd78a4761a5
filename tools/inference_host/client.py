"""Runs the built host on a numpy image, the way a script or a test drives Nuke's Inference node."""
from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

# The host's exit codes (see src/main.cpp) by name.
EXIT_CODES = {0: "ok", 1: "internal", 2: "usage", 3: "file", 4: "model", 5: "device", 6: "forward"}


class HostError(RuntimeError):
    """The host exited non-zero; `kind` names the failure class, the message is the host's own."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.kind = EXIT_CODES.get(returncode, "unknown")
        self.stderr = stderr
        super().__init__("inference host failed (%s, exit %d): %s" % (self.kind, returncode, stderr.strip()))


@dataclass
class HostResult:
    output: Any  # numpy float32 [1, C, H, W]
    report: Dict[str, Any]  # the host's --json report: timings, memory, knobs as set
    stderr: str


def knob_arguments(knobs: Union[Mapping[str, Any], Iterable[str], None]) -> List[str]:
    """NAME=VALUE arguments; floats keep full precision (repr round-trips through strtod)."""
    if knobs is None:
        return []
    if not isinstance(knobs, Mapping):
        return list(knobs)
    args = []
    for name, value in knobs.items():
        if isinstance(value, float):
            text = repr(value)
        elif isinstance(value, (bool, int)):
            text = str(int(value))
        else:
            text = str(value)
        args.append("%s=%s" % (name, text))
    return args


def run_host(binary: Path, pt: Path, image: Any, knobs: Union[Mapping[str, Any], Iterable[str], None] = None,
             device: str = "cpu", half: bool = False, runs: int = 1, warmup: int = 0,
             threads: Optional[int] = None, extra_args: Iterable[str] = (), timeout: float = 900) -> HostResult:
    """Writes `image` ([1, C, H, W]) to a .npy, runs the host on it and loads what it wrote."""
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="ck-host-") as tmp:
        source = Path(tmp) / "input.npy"
        target = Path(tmp) / "output.npy"
        np.save(str(source), np.ascontiguousarray(image, dtype="<f4"))
        command = [str(binary), str(pt), "--input", str(source), "--output", str(target), "--device", device,
                   "--runs", str(runs), "--warmup", str(warmup), "--json"]
        if half:
            command.append("--half")
        if threads:
            command += ["--threads", str(threads)]
        command += list(extra_args) + knob_arguments(knobs)
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        if result.returncode != 0:
            raise HostError(result.returncode, result.stderr)
        report = json.loads(result.stdout.strip().splitlines()[-1])
        output = np.load(str(target))
    return HostResult(output=output, report=report, stderr=result.stderr)
