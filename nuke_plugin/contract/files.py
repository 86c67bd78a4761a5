"""Files written all at once: partial-file naming and clean-up, the atomic write, the sha256 of a file.

A file is written under a temporary name beside its final one, ``.<final name>.partial-<host>-<pid>-<random>``
(or, when the extension must stay last, ``.<stem>.partial-<host>-<pid>-<random><ext>``), and moved into place with
os.replace only when complete. The exporter and the Nuke side both clean up after an export that was killed
outright, so they share the naming here. The host and process in the name say whose partial it is: clean-up
deletes only those whose process has ended on this machine, never a running export's (two exports may share a
folder), and reads names literally (an output called ``shot[1].pt`` is not a pattern). New files get the modes
the user's umask gives (mkstemp's private 0600 is fixed); a replaced file keeps its own mode.
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import sys
import tempfile
from typing import List, Optional, Sequence, Tuple, Union

PARTIAL_MARK = ".partial-"
# What follows the mark: the host, the owning process id, then mkstemp's random letters (no dots).
_OWNER = re.compile(r"([A-Za-z0-9]+)-([0-9]+)-[A-Za-z0-9_]+\Z")


def partial_prefix(final_name: str) -> str:
    """What every temporary file of `final_name` starts with."""
    return "." + final_name + PARTIAL_MARK


def this_host() -> str:
    """The machine's name as partial names carry it (letters and digits only)."""
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname().split(".")[0])[:32] or "host"


def _owner_tag() -> str:
    return "%s-%d-" % (this_host(), os.getpid())


def partial_owner(entry: str, final_name: str) -> Optional[Tuple[str, int]]:
    """(host, pid) when the file name `entry` is a partial of `final_name` (either form), else None."""
    stem, ext = os.path.splitext(final_name)
    for prefix, suffix in ((partial_prefix(final_name), ""), ("." + stem + PARTIAL_MARK, ext)):
        if entry.startswith(prefix) and entry.endswith(suffix) and len(entry) > len(prefix) + len(suffix):
            match = _OWNER.match(entry[len(prefix):len(entry) - len(suffix)])
            if match:
                return match.group(1), int(match.group(2))
    return None


def process_alive(pid: int) -> bool:
    """Whether process `pid` on this machine may still be running (True when it cannot be told)."""
    if pid <= 0 or pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() != 87  # ERROR_INVALID_PARAMETER: no such process
        try:
            code = ctypes.c_ulong()
            return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def default_mode() -> int:
    """The mode a new file gets from open(): 0666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def new_partial(folder: str, final_name: str, keep_suffix: bool = False, create: bool = True) -> str:
    """A fresh temporary path beside `final_name` in `folder`, created empty with the default mode.

    keep_suffix: the extension stays last (CatFileCreator wants a name ending in .cat). create=False removes the
    file again, for a writer that must not find one there.
    """
    if keep_suffix:
        stem, ext = os.path.splitext(final_name)
        handle, path = tempfile.mkstemp(prefix="." + stem + PARTIAL_MARK + _owner_tag(), suffix=ext, dir=folder)
    else:
        handle, path = tempfile.mkstemp(prefix=partial_prefix(final_name) + _owner_tag(), dir=folder)
    os.close(handle)
    if create:
        os.chmod(path, default_mode())
    else:
        os.remove(path)
    return path


def remove_partials(folder: str, final_names: Sequence[str]) -> List[str]:
    """Deletes the stale temporary files of `final_names` in `folder`: those whose process, on this machine, has
    ended (killed outright). A running export's partials, and another machine's, are left alone."""
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return []
    here = this_host()
    removed = []
    for entry in entries:
        for name in final_names:
            owner = partial_owner(entry, name)
            if owner is None or owner[0] != here or process_alive(owner[1]):
                continue
            path = os.path.join(folder, entry)
            try:
                os.remove(path)
                removed.append(path)
            except OSError:
                pass
            break
    return removed


def existing_mode(path: str) -> Optional[int]:
    """The permission bits of an existing file, None when there is none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def atomic_write(path: str, data: Union[str, bytes], encoding: str = "utf-8", newline: Optional[str] = None) -> str:
    """Writes `data` to `path` all at once: a partial file beside it, then os.replace.

    A crash leaves either the old file or the new one, never half of one, and no partial file (except after
    SIGKILL). An existing file keeps its mode; a new one gets the umask's. Returns `path`.
    """
    folder = os.path.dirname(os.path.abspath(path))
    mode = existing_mode(path)
    temp = new_partial(folder, os.path.basename(path))
    try:
        if isinstance(data, bytes):
            with open(temp, "wb") as handle:
                handle.write(data)
        else:
            with open(temp, "w", encoding=encoding, newline=newline) as handle:
                handle.write(data)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    return path


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks (a 2048 export is hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
