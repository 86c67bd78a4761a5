"""Files written all at once: partial-file naming and clean-up, the atomic write, the sha256 of a file.

A file is written under a temporary name beside its final one, ``.<final name>.partial-<random>`` (or, when the
extension must stay last, ``.<stem>.partial-<random><ext>``), and moved into place with os.replace only when
complete. The exporter and the Nuke side both clean up after an export that was killed outright, so they share
the naming here. New files get the modes the user's umask gives (mkstemp's private 0600 is fixed); a replaced
file keeps its own mode.
"""
from __future__ import annotations

import glob
import hashlib
import os
import stat
import tempfile
from typing import List, Optional, Sequence, Union

PARTIAL_MARK = ".partial-"


def partial_prefix(final_name: str) -> str:
    """What every temporary file of `final_name` starts with."""
    return "." + final_name + PARTIAL_MARK


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
        handle, path = tempfile.mkstemp(prefix="." + stem + PARTIAL_MARK, suffix=ext, dir=folder)
    else:
        handle, path = tempfile.mkstemp(prefix=partial_prefix(final_name), dir=folder)
    os.close(handle)
    if create:
        os.chmod(path, default_mode())
    else:
        os.remove(path)
    return path


def remove_partials(folder: str, final_names: Sequence[str]) -> List[str]:
    """Deletes the temporary files of `final_names` in `folder` (left only by a process killed outright)."""
    removed = []
    for name in final_names:
        for path in glob.glob(os.path.join(glob.escape(folder), glob.escape(partial_prefix(name)) + "*")):
            try:
                os.remove(path)
                removed.append(path)
            except OSError:
                pass
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
