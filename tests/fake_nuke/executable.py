"""A stand-in Nuke executable for tests, on the strict fake: what a farm node or a TD's shell runs.

    python -m tests.fake_nuke.executable --fake-version 16.0v2 --fake-edition nuke [Nuke's flags] FILE [ARGS]

`make_executable` writes a small shell script that runs this with a version and edition baked in, so a test hands
it to the plugin like any Nuke (`--nuke /path/Nuke16.0`). It starts as Nuke starts (tests/fake_nuke/LIMITS.md:
~/.nuke and the NUKE_PATH folders, every init.py; menu.py too only with --fake-gui), then:

- `-t` or `-i` with a .py FILE: runs it as Nuke runs a script (sys.argv = [FILE, ARGS...]);
- `-x` with a .nk FILE: opens it and renders its Write nodes (`-X NAME` for one) for the frames `-F A` or `-F A-B`
  (else the script's range). The fake computes no pixels: with --fake-render the test renderer
  (tests/fake_nuke/render.py, torch) draws them and each frame is saved as the Write's file, `####` the frame,
  with `.npy` added; without it a frame whose nodes all pass Nuke's checks is reported as checked, no more.
- `--gpu [N]`, `--nukex`, `-V N` are taken as Nuke takes them.

A render error is printed as Nuke's render log shows one ("ERROR: <node>: <message>") and the exit status is 1.
Whatever it does is printed on stdout as `fake-nuke: ...` lines for the test to read.
"""
from __future__ import annotations

import os
import re
import runpy
import stat
import sys
from typing import List, Optional, Tuple

GPU_INDEX = re.compile(r"^\d+(,\d+)*$")


def make_executable(path: str, version: str = "16.0v2", edition: str = "nuke", render: bool = False,
                    gui: bool = False) -> str:
    """Writes the stand-in as an executable file at `path` (POSIX shell): the plugin cannot tell it from Nuke.
    `gui`: it starts as Nuke with its interface does (menu.py too), to look at the menus from a script."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    extra = (" --fake-render" if render else "") + (" --fake-gui" if gui else "")
    with open(path, "w") as handle:
        handle.write('#!/bin/sh\nPYTHONPATH="%s" exec "%s" -m tests.fake_nuke.executable --fake-version %s '
                     '--fake-edition %s%s "$@"\n' % (root, sys.executable, version, edition, extra))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _frames(text: str) -> Tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def parse(argv: List[str]) -> dict:
    options: dict = {"render": False, "gui": False, "mode": None, "frames": None, "write": None, "gpu": None,
                     "nukex": False, "version": "16.0v2", "edition": "nuke", "file": None, "args": []}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if options["file"] is not None:
            options["args"].append(arg)
        elif arg == "--fake-render":
            options["render"] = True
        elif arg == "--fake-gui":
            options["gui"] = True
        elif arg in ("--fake-version", "--fake-edition", "-F", "-X", "-V"):
            i += 1
            key = {"--fake-version": "version", "--fake-edition": "edition", "-F": "frames", "-X": "write",
                   "-V": "verbose"}[arg]
            options[key] = argv[i]
        elif arg == "--gpu":
            options["gpu"] = ""
            if i + 1 < len(argv) and GPU_INDEX.match(argv[i + 1]):
                i += 1
                options["gpu"] = argv[i]
        elif arg == "--nukex":
            options["nukex"] = True
        elif arg in ("-t", "-i", "-x"):
            options["mode"] = options["mode"] or arg
        elif arg.startswith("-"):
            raise SystemExit("fake-nuke: the stand-in does not know the flag %s" % arg)
        else:
            options["file"] = arg
        i += 1
    return options


def main(argv: Optional[List[str]] = None) -> int:
    options = parse(list(sys.argv[1:] if argv is None else argv))
    from tests.fake_nuke import FakeLimitation, FakeNuke

    major, minor, release = re.match(r"(\d+)\.(\d+)v(\d+)", options["version"]).groups()  # type: ignore[union-attr]
    edition = "nukex" if options["nukex"] and options["edition"] == "nukex" else options["edition"]
    if options["nukex"] and options["edition"] != "nukex":
        print("ERROR: --nukex: no NukeX licence on this machine", file=sys.stderr)
        return 1
    fake = FakeNuke(home=os.environ.get("HOME", ""), edition=edition, gui=options["gui"],
                    version=(int(major), int(minor), int(release)))
    fake.scriptClear = lambda: None
    fake.scriptExit = lambda: None
    sys.modules["nuke"] = fake
    ran = fake.fake_startup()
    print("fake-nuke: Nuke %s (%s), gpu %r, ran %s" % (options["version"], edition, options["gpu"], ran))
    plugin = sys.modules.get("nuke_plugin")
    print("fake-nuke: nuke_plugin from %s" % (os.path.dirname(plugin.__file__) if plugin and plugin.__file__ else
                                             None))
    target = options["file"]
    if options["mode"] in ("-t", "-i") and target and target.endswith(".py"):
        sys.argv = [target] + options["args"]
        runpy.run_path(target, run_name="__main__")
        return 0
    if options["mode"] != "-x" or not target or not target.endswith(".nk"):
        print("ERROR: the stand-in runs `-t/-i script.py` or `-x script.nk`", file=sys.stderr)
        return 2
    try:
        fake.scriptOpen(target)
    except RuntimeError as exc:
        print("ERROR: %s" % exc, file=sys.stderr)
        return 1
    writes = [w for w in fake.allNodes("Write") if options["write"] in (None, w.name())]
    if options["frames"]:
        first, last = _frames(options["frames"])
    else:
        first, last = fake.root()["first_frame"].value(), fake.root()["last_frame"].value()
    renderer = None
    if options["render"]:
        from tests.fake_nuke.render import Renderer

        renderer = Renderer(fake)
    for write in writes:
        for frame in range(first, last + 1):
            try:
                fake.execute(write, frame, frame)
            except FakeLimitation:
                if renderer is None:
                    print("fake-nuke: checked %s frame %d (no pixels: the fake computes none)" % (write.name(), frame))
                    continue
            except RuntimeError as exc:
                print("ERROR: %s" % exc, file=sys.stderr)
                return 1
            if renderer is not None:
                import numpy

                renderer.execute(write, frame, frame)
                out = write["file"].value().replace("####", "%04d" % frame) + ".npy"
                numpy.save(out, renderer.images[write["file"].value()].numpy())
                print("fake-nuke: rendered %s frame %d to %s" % (write.name(), frame, out))
    for node in fake.allNodes(recurseGroups=True):
        if node.Class() == "Inference" and getattr(node, "fake_cat_path", None):
            print("fake-nuke: %s loaded %s (model %s)" % (node.fullName(), node.fake_cat_path,
                                                          node.fake_cat["torchScriptFile"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
