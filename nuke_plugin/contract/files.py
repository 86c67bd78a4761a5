"""Files written all at once, several files committed together, and files read without trusting them.

Writing: a file is written under a temporary name beside its final one, ``.<final name>.partial-<host>-<pid>-<random>``
(or, when the extension must stay last, ``.<stem>.partial-<host>-<pid>-<random><ext>``), flushed to the disk, and
moved into place with os.replace only when complete (`write_partial`, `atomic_write`). It is created with the mode
wanted: a replaced file's own mode, else what the user's umask gives (the kernel applies the umask at creation, so
the process-wide umask is never changed: Nuke's other threads create files too). Any exception, KeyboardInterrupt
included, removes the partial. The exporter and the Nuke side both clean up after a process killed outright, so they
share the naming: the host and process in the name say whose partial it is, and clean-up deletes only those whose
process has ended on this machine (two exports may share a folder), reading names literally (an output called
``shot[1].pt`` is not a pattern).

Committing several files (`commit_files`: the exporter's .pt and manifest, the installed node's files): every
old file is kept (a hard link, else a copy) before the first move, and any failure puts every moved file back, so
the folder holds the whole previous set or the whole new one; when even that fails, the error says which file is
which and where the old copies are kept.

Reading (`read_bytes`, `read_json`): a file a user or another process can touch is opened without blocking (a named
pipe must not hang Nuke's start-up), refused unless it is a regular file, and read only up to a size limit (a link
to an endless device must not fill the memory). What goes wrong is an OSError or a ValueError, never anything else.
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import secrets
import socket
import stat
import sys
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

PARTIAL_MARK = ".partial-"
# What follows the mark: the host, the owning process id, then random letters (no dots).
_OWNER = re.compile(r"([A-Za-z0-9]+)-([0-9]+)-[A-Za-z0-9_]+\Z")

Content = Union[str, bytes, memoryview, Callable[[IO[bytes]], object]]


# --------------------------------------------------------------------------------------------------------------
# Partial-file names and their clean-up
# --------------------------------------------------------------------------------------------------------------


def partial_prefix(final_name: str) -> str:
    """What every temporary file of `final_name` starts with."""
    return "." + final_name + PARTIAL_MARK


def this_host() -> str:
    """The machine's name as partial names carry it (letters and digits only)."""
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname().split(".")[0])[:32] or "host"


def partial_path(folder: str, final_name: str, keep_suffix: bool = False) -> str:
    """A fresh temporary name beside `final_name` in `folder`, not created (CatFileCreator must not find a file).

    keep_suffix: the extension stays last (CatFileCreator wants a name ending in .cat)."""
    tag = "%s-%d-%s" % (this_host(), os.getpid(), secrets.token_hex(6))
    if keep_suffix:
        stem, ext = os.path.splitext(final_name)
        return os.path.join(folder, "." + stem + PARTIAL_MARK + tag + ext)
    return os.path.join(folder, partial_prefix(final_name) + tag)


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


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


# --------------------------------------------------------------------------------------------------------------
# Writing one file
# --------------------------------------------------------------------------------------------------------------


def existing_mode(path: str) -> Optional[int]:
    """The permission bits of an existing file, None when there is none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


def _create(path: str, mode: Optional[int]) -> int:
    """Creates `path` (which must not exist) for writing and returns its descriptor. mode None: 0666 less the umask,
    applied by the kernel; a mode given is set exactly, past the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o666 if mode is None else mode & 0o7777)
    try:
        if mode is not None:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:
                os.chmod(path, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_content(handle: IO[bytes], content: Content, encoding: str, newline: Optional[str]) -> None:
    if callable(content):
        content(handle)
    elif isinstance(content, str):
        text = io.TextIOWrapper(handle, encoding=encoding, newline=newline)
        text.write(content)
        text.flush()
        text.detach()
    else:
        handle.write(content)


def fsync_folder(folder: str) -> None:
    """Makes a rename in `folder` survive a power cut (POSIX; Windows has no folder handles to flush)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot flush a folder; the rename itself has happened
        pass
    finally:
        os.close(fd)


def write_partial(folder: str, final_name: str, content: Content, *, mode: Optional[int] = None,
                  keep_suffix: bool = False, encoding: str = "utf-8", newline: Optional[str] = None) -> str:
    """Writes `content` (bytes, text, or a function that writes to a binary handle) to a new partial file beside
    `final_name`, flushed to the disk; returns its path. Any exception removes the file again.

    mode: None gives what the user's umask gives; a number is set exactly. newline as for open()."""
    while True:
        path = partial_path(folder, final_name, keep_suffix)
        try:
            fd = _create(path, mode)
        except FileExistsError:
            continue  # the same random letters twice: another name
        except BaseException:
            if os.path.lexists(path):  # created, then interrupted before the descriptor came back
                _remove_quietly(path)
            raise
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_content(handle, content, encoding, newline)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        _remove_quietly(path)
        raise
    return path


def new_partial(folder: str, final_name: str, keep_suffix: bool = False, create: bool = True) -> str:
    """A fresh partial of `final_name`: an empty file (create=True) or only its name (create=False)."""
    if not create:
        return partial_path(folder, final_name, keep_suffix)
    return write_partial(folder, final_name, b"", keep_suffix=keep_suffix)


def replace_file(temp: str, final: str) -> None:
    """os.replace, then the folder flushed so that the rename survives a power cut."""
    os.replace(temp, final)
    fsync_folder(os.path.dirname(os.path.abspath(final)))


def atomic_write(path: str, data: Content, encoding: str = "utf-8", newline: Optional[str] = None,
                 mode: Optional[int] = None) -> str:
    """Writes `data` to `path` all at once: a partial file beside it, flushed, then os.replace.

    A crash leaves either the old file or the new one, never half of one, and no partial file (except after
    SIGKILL). mode: None keeps an existing file's mode and gives a new one the umask's. Returns `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    temp = write_partial(folder, os.path.basename(path), data, mode=existing_mode(path) if mode is None else mode,
                         encoding=encoding, newline=newline)
    try:
        replace_file(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    return path


# --------------------------------------------------------------------------------------------------------------
# Committing several files together
# --------------------------------------------------------------------------------------------------------------


def foreign_owner(path: str) -> Optional[str]:
    """The owner's name when this user cannot replace the existing `path` because its folder is sticky (/tmp-like,
    mode 1777: only the file's owner, the folder's or root may replace it); None when it can, or cannot be told."""
    if not hasattr(os, "geteuid"):
        return None
    try:
        st = os.lstat(path)
        folder = os.stat(os.path.dirname(os.path.abspath(path)))
    except (OSError, ValueError):
        return None
    if folder.st_mode & stat.S_ISVTX and os.geteuid() not in (0, st.st_uid, folder.st_uid):
        return _user_name(st.st_uid)
    return None


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return "uid %d" % uid


class CommitError(OSError):
    """Several files could not be committed together. str() says why, which file, and what is in place now.

    restored: every file is as it was before (the previous set, or none). kept: final path -> the partial that
    still holds its previous file, for files that could not be put back."""

    def __init__(self, message: str, reason: str, failed: str, restored: bool,
                 in_place: Dict[str, str], kept: Dict[str, str]) -> None:
        super().__init__(message)
        self.reason = reason
        self.failed = failed
        self.restored = restored
        self.in_place = in_place
        self.kept = kept

    def __str__(self) -> str:
        return str(self.args[0])


NEW, PREVIOUS, NONE = "new", "previous", "none"


class FileCommit:
    """Moves staged files over their final names as one change. Use `commit_files`; then `finish()` (drop the
    copies of the previous files) or `undo()` (put the previous files back)."""

    def __init__(self, moves: Sequence[Tuple[str, str]]) -> None:
        self.moves = [(os.path.abspath(t), os.path.abspath(f)) for t, f in moves]
        self.backups: Dict[str, str] = {}  # final -> the partial holding the previous file
        self.moved: List[str] = []         # finals now holding the new file

    def _keep_previous(self, final: str) -> None:
        folder, name = os.path.split(final)
        backup = self.backups[final] = partial_path(folder, name)  # named first: an interruption leaves no stray
        try:  # the previous file stays in place until the new one replaces it; a link is kept as the link itself
            if os.link in os.supports_follow_symlinks:
                os.link(final, backup, follow_symlinks=False)
            else:
                os.link(final, backup)
        except OSError:  # no hard links here (FAT, SMB), or another user's file: a copy
            def copy(out: IO[bytes]) -> None:
                with open_regular(final) as source:
                    while True:
                        block = source.read(1 << 20)
                        if not block:
                            return
                        out.write(block)

            self.backups[final] = write_partial(folder, name, copy, mode=existing_mode(final))

    def run(self) -> None:
        """All the moves, or none: on any exception every file is put back, then the exception is raised again
        (a CommitError for an OSError or a ValueError, or whenever the files could not be put back)."""
        current = ""
        try:
            for _temp, final in self.moves:
                current = final
                if os.path.isdir(final) and not os.path.islink(final):
                    raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file")
                owner = foreign_owner(final)
                if owner:
                    raise PermissionError(1, "it belongs to another user (%s), and its folder is shared (sticky): "
                                          "only that user can replace it" % owner)
            for _temp, final in self.moves:
                current = final
                if os.path.lexists(final):
                    self._keep_previous(final)
            for temp, final in self.moves:
                current = final
                os.replace(temp, final)
                self.moved.append(final)
            for folder in sorted({os.path.dirname(f) for _t, f in self.moves}):
                fsync_folder(folder)
        except BaseException as exc:
            self._fail(exc, current)
            raise

    def _fail(self, exc: BaseException, current: str) -> None:
        failures = self._put_back()
        for temp, _final in self.moves:
            if os.path.lexists(temp):
                _remove_quietly(temp)
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc) or type(exc).__name__
        if failures or isinstance(exc, (OSError, ValueError)):
            raise self._error("%s could not be replaced (%s)" % (current, reason), reason, current,
                              failures) from exc

    def _put_back(self) -> Dict[str, str]:
        """Every moved file back to its previous one (or away, where there was none); the rest of the copies go.
        Returns final -> why it could not be put back."""
        failures: Dict[str, str] = {}
        for final in reversed(self.moved):
            try:
                if final in self.backups:
                    os.replace(self.backups[final], final)
                else:
                    os.remove(final)
            except OSError as exc:
                failures[final] = exc.strerror or str(exc)
        for final, backup in self.backups.items():
            if final not in failures and os.path.lexists(backup):
                _remove_quietly(backup)  # a hard link or a copy: the previous file never left
        self.moved = [f for f in self.moved if f in failures]
        return failures

    def _error(self, what: str, reason: str, failed: str, failures: Dict[str, str]) -> CommitError:
        """`what` went wrong; the message goes on to say what is in place now."""
        in_place = {final: NEW if final in self.moved else PREVIOUS if os.path.lexists(final) else NONE
                    for _t, final in self.moves}
        kept = {final: self.backups[final] for final in failures if final in self.backups}
        if not failures:
            message = "%s. Nothing was changed: %s" % (what, self.describe(in_place))
        else:
            message = "%s, and putting the previous files back failed too (%s). Now in place: %s. %s" % (
                what, "; ".join("%s: %s" % (os.path.basename(f), why) for f, why in failures.items()),
                self.describe(in_place), " ".join("The previous %s is kept as %s: rename it to %s to use it again."
                                                  % (os.path.basename(f), b, os.path.basename(f))
                                                  for f, b in kept.items()))
        return CommitError(message, reason, failed, not failures, in_place, kept)

    @staticmethod
    def describe(in_place: Dict[str, str]) -> str:
        """Which build each file is: 'the previous files are in place' when nothing is new."""
        if all(state != NEW for state in in_place.values()):
            if all(state == NONE for state in in_place.values()):
                return "none of the files was there before, and none is now."
            return "the previous files are in place, as they were."
        return ", ".join("%s (%s)" % (os.path.basename(f), {NEW: "new", PREVIOUS: "previous",
                                                           NONE: "absent"}[s]) for f, s in in_place.items())

    def undo(self, reason: str) -> None:
        """After a successful run: every previous file back (a cancel that came during the commit, `reason`)."""
        failures = self._put_back()
        if failures:
            raise self._error(reason, reason, next(iter(failures)), failures)

    def finish(self) -> None:
        """After a successful run: the copies of the previous files go."""
        for backup in self.backups.values():
            _remove_quietly(backup)
        self.backups.clear()


def commit_files(moves: Sequence[Tuple[str, str]]) -> FileCommit:
    """Moves each (staged temp, final) pair into place, all of them or none (see FileCommit.run). The caller then
    calls finish() (or undo())."""
    commit = FileCommit(moves)
    commit.run()
    return commit


# --------------------------------------------------------------------------------------------------------------
# Reading files a user or another process can touch
# --------------------------------------------------------------------------------------------------------------


class FileRefused(ValueError):
    """A file a reader will not read: not a regular file, too large, or not the JSON it should be."""


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def open_regular(path: str) -> IO[bytes]:
    """Opens `path` for reading without blocking (a named pipe with no writer would wait forever) and only if it
    is a regular file (a link is followed to what it names). Raises OSError, or FileRefused (a ValueError)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise FileRefused("%s is %s, not a file" % (path, kind))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str, limit: int) -> bytes:
    """The contents of the regular file `path`, refused (FileRefused) past `limit` bytes."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileRefused("%s is larger than %d bytes, too large for this file" % (path, limit))
    return data


_MAX_DIGITS = 100


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise FileRefused("a number with %d digits" % len(text))
    return int(text)


def parse_json(text: Union[str, bytes]) -> Any:
    """json.loads for untrusted text: ValueError (FileRefused) for nesting too deep or numbers too long."""
    try:
        return json.loads(text, parse_int=_bounded_int)
    except RecursionError:
        raise FileRefused("values nested too deeply") from None


def read_json(path: str, limit: int) -> Any:
    """The JSON value in the regular file `path` (UTF-8, at most `limit` bytes). Raises OSError or ValueError."""
    data = read_bytes(path, limit)
    try:
        return parse_json(data.decode("utf-8"))
    except ValueError as exc:
        raise FileRefused("%s is not valid JSON (%s)" % (path, exc)) from None


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a regular file, read in chunks (a 2048 export is hundreds of MB)."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
