"""Where an export writes: checked before the minutes-long work, saved with its size known, committed as a pair.

Why here and not after the trace: a wrong --output (the checkpoint itself, a folder, a file the user cannot
replace, a full disk, a `ulimit -f` smaller than the model) should cost the user seconds, not a full export, and a
failure or a cancel at the very end must leave the previous .pt and manifest exactly as they were (or say exactly
what is where).
"""
from __future__ import annotations

import errno
import os
import shutil
import stat
from typing import List, Optional

from nuke_plugin import contract
from nuke_plugin.contract import files, manifest_schema
from nuke_plugin.contract.files import CommitError, commit_files, foreign_owner
from nuke_plugin.contract.files import write_partial as write_file

from . import cancel
from .errors import ExportCancelled, ExportError

# The manifest and the TorchScript archive's own bookkeeping, above the sum of the tensors.
SPACE_MARGIN = 16 << 20


def megabytes(size: int) -> str:
    return "%.0f MB" % (size / 1e6)


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (a symlink or a hard link included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _replace_problem(path: str) -> Optional[str]:
    """Why an existing `path` cannot (or must not) be replaced by a new file, or None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if os.path.isdir(path):
        return "%s is a folder. Give --output a .pt file name (e.g. %s)" % (
            path, os.path.join(path, contract.PT_NAME))
    if stat.S_ISREG(st.st_mode) and (not st.st_mode & 0o222 or not os.access(path, os.W_OK)):
        return "%s is read-only. Make it writable, or choose another --output" % path
    if foreign_owner(path):  # a sticky folder such as /tmp: only the file's owner may replace it
        return "%s belongs to another user (%s), and its folder lets only the owner replace it. Choose " \
               "another --output" % (path, foreign_owner(path))
    return None


def check_output(checkpoint: str, output: str) -> str:
    """The absolute .pt path, once nothing about it will fail after the export; raises ExportError."""
    output = os.path.abspath(output)
    if not output.endswith(".pt"):
        raise ExportError("--output must name a .pt file (e.g. build/%s), got %s" % (contract.PT_NAME, output))
    for path in (output, manifest_schema.path_for(output)):
        if _same_file(path, checkpoint):
            raise ExportError("--output would overwrite the checkpoint %s (%s is that very file). Choose "
                              "another --output, e.g. a build folder beside it." % (checkpoint, path))
        problem = _replace_problem(path)
        if problem:
            raise ExportError(problem + ".")
    return output


def make_folder(folder: str) -> List[str]:
    """Creates `folder` and returns the folders that did not exist before (outermost first)."""
    created: List[str] = []
    path = folder
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        created.insert(0, path)
        path = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        remove_folders(created)
        raise ExportError("Cannot create the output folder %s: %s" % (folder, exc.strerror or exc))
    if not os.access(folder, os.W_OK):
        raise ExportError("The output folder %s is not writable; choose another with --output." % folder)
    return created


def remove_folders(created: List[str]) -> None:
    """Removes the folders an export created, innermost first, as long as they are still empty."""
    for path in reversed(created):
        try:
            os.rmdir(path)
        except OSError:
            return


def file_size_limit() -> Optional[int]:
    """The largest file this process may write (`ulimit -f`), None when unlimited."""
    try:
        import resource
    except ImportError:  # Windows has no such limit
        return None
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def require_space(folder: str, size: int) -> None:
    """Refuses to save `size` bytes into `folder` when the disk or `ulimit -f` cannot hold them."""
    limit = file_size_limit()
    if limit is not None and limit < size:
        raise ExportError("The model file needs %s, but this shell limits files to %s (ulimit -f). Raise the "
                          "limit (ulimit -f unlimited) and export again." % (megabytes(size), megabytes(limit)))
    free = shutil.disk_usage(folder).free
    if free < size:
        raise ExportError("Not enough disk space in %s: the model needs %s and %s is free. Free some space or "
                          "choose another --output folder." % (folder, megabytes(size), megabytes(free)))


def write_partial(folder: str, final_name: str, data: memoryview) -> str:
    """Writes `data` to a new partial file beside `final_name`; a full disk or a file-size limit becomes an
    ExportError that names the folder and the size, with no partial left."""
    try:
        return write_file(folder, final_name, data)
    except OSError as exc:
        why = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file is larger than this shell allows "
               "(ulimit -f)", getattr(errno, "EDQUOT", -1): "your disk quota is used up"}.get(exc.errno, exc.strerror)
        raise ExportError("Could not save the model in %s: %s (it needs %s). Free some space or choose another "
                          "--output folder." % (folder, why or exc, megabytes(len(data))))


def commit_pair(pt_partial: str, pt: str, manifest_partial: str, manifest: str) -> None:
    """Moves a finished .pt and its manifest into place together, or neither (contract.files.commit_files), and
    holds a cancel off while it does (exporter.cancel): a cancel that comes during the moves undoes them, so the
    previous pair (or, on a first export, no pair) is what a cancelled export leaves, at every instruction."""
    with cancel.commit_window() as cancel_requested:
        try:
            commit = commit_files([(pt_partial, pt), (manifest_partial, manifest)])
        except CommitError as exc:
            raise ExportError("Could not write %s (%s). %s" % (exc.failed, exc.reason, _state_advice(exc)))
        if cancel_requested():
            try:
                commit.undo("The export was cancelled while its files were moved into place")
            except CommitError as exc:
                raise ExportError(str(exc))
            raise ExportCancelled("export cancelled while committing")
        cancel.committed()
    commit.finish()


def _state_advice(exc: CommitError) -> str:
    """Which build is in place after a failed commit, and what to do."""
    if not exc.restored:
        return str(exc)
    fix = "make the folder writable or choose another --output, and export again."
    if all(state == files.NONE for state in exc.in_place.values()):
        return "Nothing was written (there was no previous build there); " + fix
    return "The previous build was left as it was; " + fix
