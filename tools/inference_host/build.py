"""Compiles the C++ host with CMake against the installed torch's libtorch, once per sources + torch.

The binary is cached under build/inference_host/<key>/, the key hashing the C++ sources, the torch
version and location and the C++ ABI flag, so repeated test runs and render checks reuse one build and
an edit or a different torch gets a fresh one. A build happens in a temporary folder renamed into place,
so an interrupted or failed build never leaves a half-made binary behind.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

SOURCE_DIR = Path(__file__).resolve().parent
REPO_ROOT = SOURCE_DIR.parents[1]
DEFAULT_BUILD_ROOT = REPO_ROOT / "build" / "inference_host"
BINARY_NAME = "ck_inference_host" + (".exe" if os.name == "nt" else "")
BUILD_DIR_ENV = "CK_HOST_BUILD_DIR"


class HostUnavailable(RuntimeError):
    """This machine lacks CMake or a C++ compiler, so the host cannot be built here."""


class HostBuildError(RuntimeError):
    """CMake or the compiler failed; the message ends with the tail of their output."""


def toolchain_problem() -> Optional[str]:
    """Why the host cannot be built here, or None when cmake and a C++ compiler are on PATH."""
    if shutil.which("cmake") is None:
        return "cmake not found on PATH (install CMake 3.18 or newer)"
    candidates = [os.environ.get("CXX"), "c++", "g++", "clang++", "cl"]
    if not any(c and shutil.which(c) for c in candidates):
        return "no C++ compiler found on PATH (install g++ or clang++, or set CXX)"
    return None


def torch_root() -> Path:
    """The folder of the installed torch package: it holds libtorch's include/ and lib/."""
    import torch

    return Path(torch.__file__).resolve().parent


def cxx11_abi() -> int:
    import torch

    return int(bool(getattr(torch._C, "_GLIBCXX_USE_CXX11_ABI", True)))


def source_files() -> List[Path]:
    files = [SOURCE_DIR / "CMakeLists.txt"]
    files += sorted(p for p in (SOURCE_DIR / "src").iterdir() if p.suffix in (".cpp", ".hpp", ".h"))
    return files


def build_key() -> str:
    import torch

    digest = hashlib.sha256()
    for path in source_files():
        digest.update(path.relative_to(SOURCE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    for part in (torch.__version__, str(torch_root()), str(cxx11_abi()), sys.platform, os.environ.get("CXX", "")):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:16]


def _binary_in(folder: Path) -> Path:
    for candidate in (folder / BINARY_NAME, folder / "Release" / BINARY_NAME):
        if candidate.is_file():
            return candidate
    return folder / BINARY_NAME


def _run(command: List[str], verbose: bool) -> None:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if verbose:
        sys.stderr.write(result.stdout)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-40:])
        raise HostBuildError("building the inference host failed: %s\n%s" % (" ".join(command), tail))


def build_host(build_root: Optional[Path] = None, verbose: bool = False) -> Path:
    """Returns the path of a built `ck_inference_host`, building it first if this key has no build yet."""
    problem = toolchain_problem()
    if problem:
        raise HostUnavailable(problem)
    root = Path(build_root or os.environ.get(BUILD_DIR_ENV) or DEFAULT_BUILD_ROOT)
    final = root / build_key()
    if _binary_in(final).is_file():
        return _binary_in(final)

    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=final.name + ".partial-", dir=str(root)))
    try:
        sys.stderr.write("[inference_host] building against torch at %s (first run only)\n" % torch_root())
        _run(["cmake", "-S", str(SOURCE_DIR), "-B", str(work), "-DTORCH_ROOT=%s" % torch_root(),
              "-DTORCH_CXX11_ABI=%d" % cxx11_abi(), "-DCMAKE_BUILD_TYPE=Release"], verbose)
        _run(["cmake", "--build", str(work), "--config", "Release", "--parallel", str(os.cpu_count() or 2)], verbose)
        if not _binary_in(work).is_file():
            raise HostBuildError("the build finished but %s is not in %s" % (BINARY_NAME, work))
        os.chmod(str(work), 0o755)  # mkdtemp makes it private; the binary is for every user of the checkout
        try:
            os.replace(str(work), str(final))
        except OSError:
            if not _binary_in(final).is_file():  # not a concurrent build that got there first
                raise
    finally:
        if work.exists():
            shutil.rmtree(str(work), ignore_errors=True)
    return _binary_in(final)
