"""One-step install: tell Nuke where this plugin lives by adding one marked block to ~/.nuke/init.py.

    python -m nuke_plugin.register_with_nuke            # run from the plugin folder (any Python 3.9+)
    python -m nuke_plugin.register_with_nuke --remove   # undo

Why a block in ~/.nuke/init.py: Nuke runs that file at every start, in every mode (GUI, terminal, farm), and
`nuke.pluginAddPath` on this folder then runs our init.py and menu.py. The init.py is the user's file, so only the
lines this command wrote are touched: the mark, and after it `import nuke` and one `nuke.pluginAddPath(...)` line
exactly as written (a line the user edited stays). The rest keeps its bytes, line endings, mode and, for a
symbolic link, the link (its target is edited). A file it cannot edit safely (read-only, not UTF-8, hard-linked)
is refused with what to do. The file is rewritten atomically. Pure Python: no Nuke needed.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import stat
import sys
from typing import List, Optional, Tuple

from ..contract.exits import EXIT_OK, EXIT_USER
from ..contract.files import FileRefused, atomic_write, read_bytes
from ..core.paths import nuke_user_dir, plugin_root

MARK = "# CorridorKey plugin (added by nuke_plugin.register_with_nuke)"
_IMPORT = "import nuke"
_ADD_PATH = re.compile(r"nuke\.pluginAddPath\((.*)\)\Z")
_LINE_END = re.compile(r"\r\n|\r|\n")


class RegisterError(Exception):
    """init.py cannot be edited safely; str(error) says why and what to do."""
INIT_PY_SIZE_LIMIT = 16 << 20  # Nuke's init.py is a script; a file this large is not one


def default_nuke_dir() -> str:
    """Nuke's user folder, found as Nuke (and the settings) find it."""
    return nuke_user_dir()


def registration_lines(root: str, newline: str = "\n") -> List[str]:
    return [MARK + newline, _IMPORT + newline, "nuke.pluginAddPath(%r)" % root.replace(os.sep, "/") + newline]


def _split_lines(text: str) -> List[str]:
    """The lines of `text`, each with its own ending (a mixed or CRLF file comes back byte for byte)."""
    lines, start = [], 0
    for match in _LINE_END.finditer(text):
        lines.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def _is_our_add_path(line: str) -> bool:
    """True for a pluginAddPath line exactly as registration_lines writes it, for whatever folder."""
    match = _ADD_PATH.match(_body(line))
    if not match:
        return False
    try:
        folder = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return False
    return isinstance(folder, str) and "nuke.pluginAddPath(%r)" % folder == _body(line)


def _without_our_block(lines: List[str]) -> List[str]:
    """`lines` less each mark and, right after it, our `import nuke` + pluginAddPath pair if still as written."""
    kept, index = [], 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _body(line) != MARK:
            kept.append(line)
            continue
        following = lines[index:index + 2]
        if len(following) == 2 and _body(following[0]) == _IMPORT and _is_our_add_path(following[1]):
            index += 2
        elif following and _is_our_add_path(following[0]):  # the user took out `import nuke`
            index += 1
    return kept


def _newline_of(lines: List[str]) -> str:
    """The file's own line ending (its first), so an added block matches a CRLF file."""
    for line in lines:
        body = _body(line)
        if body != line:
            return line[len(body):]
    return "\n"


def _manual_lines(root: str) -> str:
    return "".join("    " + line for line in registration_lines(root))


def _init_py(nuke_dir: str) -> str:
    """<nuke_dir>/init.py, after checking that nuke_dir is a folder (or not there yet)."""
    if os.path.exists(nuke_dir) and not os.path.isdir(nuke_dir):
        hint = ""
        if os.path.basename(nuke_dir) == "init.py":
            hint = " (that is init.py itself: give its folder, %s)" % os.path.dirname(nuke_dir)
        raise RegisterError("%s is a file, not a folder%s. --nuke-dir takes Nuke's user folder, the one that holds "
                            "init.py (usually ~/.nuke)." % (nuke_dir, hint))
    return os.path.join(nuke_dir, "init.py")


def _editable_target(path: str, root: str) -> str:
    """The real file behind `path` (a symbolic link stays a link), refused when editing it would not be safe."""
    target = os.path.realpath(path)
    info = os.stat(target)
    if not os.access(target, os.W_OK) or not stat.S_IMODE(info.st_mode) & 0o222:
        raise RegisterError("%s is read-only, so it was left as it is. Make it writable (e.g. chmod u+w) and run "
                            "this again, or add these lines to it yourself:\n%s" % (target, _manual_lines(root)))
    if info.st_nlink > 1:
        raise RegisterError("%s has %d hard links; rewriting it would separate them. Add these lines to it "
                            "yourself:\n%s" % (target, info.st_nlink, _manual_lines(root)))
    return target


def register(nuke_dir: Optional[str] = None, root: Optional[str] = None,
             remove: bool = False) -> Tuple[str, bool]:
    """Adds (or with remove=True, takes out) the plugin's block in <nuke_dir>/init.py.

    Returns (the path of init.py, whether the file changed). Raises RegisterError for what the user must fix
    and OSError when the file or its folder cannot be read or written.
    """
    nuke_dir = os.path.abspath(os.path.expanduser(nuke_dir or default_nuke_dir()))
    root = root or plugin_root()
    path = _init_py(nuke_dir)
    if not os.path.exists(path):
        if remove:
            return path, False
        if os.path.lexists(path):  # a link to nothing: writing would create a file wherever it points
            raise RegisterError("%s is a link to %s, which does not exist. Fix or remove the link, then run this "
                                "again." % (path, os.path.realpath(path)))
        os.makedirs(nuke_dir, exist_ok=True)
        atomic_write(path, "".join(registration_lines(root)).encode("utf-8"))
        return path, True
    try:
        data = read_bytes(path, INIT_PY_SIZE_LIMIT)
    except FileRefused as exc:
        raise RegisterError("%s, so it was left as it is. Nuke reads init.py as a Python file: make it one, or add "
                            "these lines to it yourself:\n%s" % (exc, _manual_lines(root)))
    if remove and MARK.encode("utf-8") not in data:
        return path, False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegisterError("%s is not UTF-8 text (byte 0x%02x at offset %d), so it was left as it is. Save it as "
                            "UTF-8 in your editor and run this again, or add these lines to it yourself:\n%s"
                            % (path, data[exc.start], exc.start, _manual_lines(root))) from None
    lines = _split_lines(text)
    newline = _newline_of(lines)
    lines = _without_our_block(lines)
    if not remove:
        if lines and _body(lines[-1]) == lines[-1]:
            lines[-1] += newline
        lines += registration_lines(root, newline)
    new = "".join(lines).encode("utf-8")
    if new == data:
        return path, False
    atomic_write(_editable_target(path, root), new)
    return path, True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nuke_plugin.register_with_nuke",
                                     description="Add the CorridorKey plugin to Nuke (one block in ~/.nuke/init.py).")
    parser.add_argument("--nuke-dir", help="Nuke's user folder (default: ~/.nuke, under HOME as Nuke finds it)")
    parser.add_argument("--remove", action="store_true", help="take the block out again")
    args = parser.parse_args(argv)
    try:
        path, changed = register(args.nuke_dir, remove=args.remove)
    except RegisterError as exc:
        sys.stderr.write("Nuke's init.py was not changed: %s\n" % exc)
        return EXIT_USER
    except OSError as exc:
        sys.stderr.write("Could not update Nuke's init.py: %s\nCheck that you can write to that folder, or add "
                         "these lines to init.py yourself:\n%s" % (exc, _manual_lines(plugin_root())))
        return EXIT_USER
    if args.remove:
        print(("Removed the CorridorKey plugin from %s." if changed else
               "Nothing to remove: %s does not register the CorridorKey plugin.") % path)
    else:
        print("Added the CorridorKey plugin (%s) to %s.\nRestart Nuke: the CorridorKey menu appears in the menu bar."
              % (plugin_root(), path))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
