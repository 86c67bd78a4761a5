"""The sliver of Nuke's Tcl that file knobs of Cattery-style gizmos use: `[plugins -all NAME]`, `[lsearch ...]`.

`plugins -all NAME` lists every file called NAME in the plugin path folders (in plugin-path order);
`lsearch -inline LIST PATTERN` returns the first element matching the glob PATTERN, or "" when none does;
`$nuke_version_major` is the running Nuke's major version (`RIFE_n$nuke_version_major.cat` in a public port);
`$nuke_version` is its version as one number, MAJOR.MINOR with the release in the next two digits (15.103 for
15.1v3): public Asserts test `\\$nuke_version > 13.2` for "Nuke13.2 or higher", `> 14.1` for "Nuke14.1 or higher"
and `> 13.208` for "Nuke13.2v8 or higher", which a plain MAJOR.MINOR would make refuse the very release named.
Any other command or variable raises FakeLimitation: the fake does not pretend to run Tcl.
"""
from __future__ import annotations

import fnmatch
import os
import re
from typing import Any, List, Union

from .knobs import FakeLimitation

Value = Union[str, List[str]]


def _bracket_end(text: str, start: int) -> int:
    """Index just past the "]" that closes the "[" at `start` (nested brackets counted)."""
    depth, j = 1, start + 1
    while j < len(text) and depth:
        if text[j] == "\\":  # an escaped bracket opens or closes nothing
            j += 2
            continue
        depth += {"[": 1, "]": -1}.get(text[j], 0)
        j += 1
    if depth:
        raise ValueError("unbalanced [ in %r" % text)
    return j


def _split_words(text: str) -> List[str]:
    words, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] == "[":
            j = _bracket_end(text, i)
            words.append(text[i:j])
            i = j
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            words.append(text[i:j])
            i = j
    return words


VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _variable(match: "re.Match[str]", fake: Any) -> str:
    name = match.group(1)
    if name == "nuke_version_major":
        return str(fake.NUKE_VERSION_MAJOR)
    if name == "nuke_version":
        return "%d.%d%02d" % (fake.NUKE_VERSION_MAJOR, fake.NUKE_VERSION_MINOR, fake.NUKE_VERSION_RELEASE)
    raise FakeLimitation("the fake knows only the Tcl variables $nuke_version_major and $nuke_version, not $%s"
                         % name)


def _word_value(word: str, fake: Any) -> Value:
    if word.startswith("[") and word.endswith("]"):
        return _run(word[1:-1], fake)
    return VARIABLE.sub(lambda match: _variable(match, fake), word)


def _run(command: str, fake: Any) -> Value:
    words = _split_words(command)
    if not words:
        return ""
    name, args = words[0], [_word_value(w, fake) for w in words[1:]]
    if name == "plugins":
        flags = [a for a in args if isinstance(a, str) and a.startswith("-")]
        names = [a for a in args if not (isinstance(a, str) and a.startswith("-"))]
        if flags != ["-all"] or len(names) != 1 or not isinstance(names[0], str):
            raise FakeLimitation("the fake supports only `plugins -all NAME`, not %r" % command)
        found = []
        for folder in fake.pluginPath():
            candidate = os.path.join(folder, names[0])
            if os.path.isfile(candidate):
                found.append(candidate.replace(os.sep, "/"))
        return found
    if name == "lsearch":
        if len(args) != 3 or args[0] != "-inline":
            raise FakeLimitation("the fake supports only `lsearch -inline LIST PATTERN`, not %r" % command)
        items = args[1] if isinstance(args[1], list) else str(args[1]).split()
        pattern = str(args[2])
        for item in items:
            if fnmatch.fnmatchcase(item, pattern):
                return item
        return ""
    raise FakeLimitation("the fake does not run the Tcl command %r" % name)


def evaluate_tcl(text: str, fake: Any) -> str:
    """Evaluates `[...]` commands in a knob value (a backslash makes the next character literal); plain text
    comes back unchanged. A .gizmo's `"\\[lsearch -inline \\[plugins -all X.cat] *.cat]"` reaches the knob
    unescaped, `[lsearch -inline [plugins -all X.cat] *.cat]`, as in Nuke."""
    if "[" not in text:
        return text
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "\\" and i + 1 < n:  # `\[` is a literal bracket, as in Tcl
            out.append(text[i + 1])
            i += 2
        elif text[i] == "[":
            j = _bracket_end(text, i)
            value = _run(text[i + 1:j - 1], fake)
            out.append(" ".join(value) if isinstance(value, list) else value)
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def substitute(text: str, fake: Any) -> str:
    """Tcl's substitution of a knob expression before Nuke evaluates it: `[command]`s and `$variables`."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "[":
            j = _bracket_end(text, i)
            value = _run(text[i + 1:j - 1], fake)
            out.append(" ".join(value) if isinstance(value, list) else value)
            i = j
        elif text[i] == "$":
            match = VARIABLE.match(text, i)
            if not match:
                raise FakeLimitation("a lone $ in the expression %r" % text)
            out.append(_variable(match, fake))
            i = match.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
