"""The fake `nuke` module: one instance per test, installed as sys.modules['nuke'] by the fixture.

It models what the plugin touches and raises where Nuke would (see the package docstring for the list).
Fake-only helpers, for tests, are the attributes whose names start with `fake_` plus `events`, `dialogs`
and `answers`; plugin code never touches them.
"""
from __future__ import annotations

import collections
import contextlib
import os
import threading
import traceback
import types
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple

from tests.gizmo_validator import KNOB_TYPES

from . import catfile
from . import knobs as K
from .menus import Menu
from .nodes import NODE_CLASSES, NUKEX_ONLY, Node, validate_assert

MENU_NAMES = ("Nuke", "Pane", "Nodes", "Properties", "Animation", "Viewer", "Node Graph", "Axis")
EDITIONS = {
    # edition -> nuke.env flags
    "nuke": {"nukex": False, "studio": False, "indie": False, "ple": False},
    "nukex": {"nukex": True, "studio": False, "indie": False, "ple": False},
    "studio": {"nukex": True, "studio": True, "indie": False, "ple": False},
    "indie": {"nukex": True, "studio": True, "indie": True, "ple": False},
}


class FakeDialogUnanswered(AssertionError):
    """A dialog popped up that the test did not script an answer for (a real Nuke would sit waiting)."""


class _Env(dict):
    """nuke.env: unknown keys raise KeyError, as in Nuke."""

    def __missing__(self, key: str) -> Any:
        raise KeyError("nuke.env has no key %r" % (key,))


class ProgressTask(object):
    """nuke.ProgressTask: records messages and progress; the test cancels with fake_cancel()."""

    def __init__(self, title: str, fake: Any = None) -> None:
        if not isinstance(title, str):
            raise TypeError("ProgressTask takes a title str")
        self.title = title
        self.messages: List[str] = []
        self.progress: List[int] = []
        self._cancelled = False
        self._fake = fake
        if fake is not None:
            fake.progress_tasks.append(self)
            if fake.cancel_progress_tasks:
                self._cancelled = True

    def setMessage(self, message: str) -> None:
        if not isinstance(message, str):
            raise TypeError("ProgressTask.setMessage takes a str, got %r" % (message,))
        self.messages.append(message)

    def setProgress(self, percent: int) -> None:
        if isinstance(percent, bool) or not isinstance(percent, int):
            raise TypeError("ProgressTask.setProgress takes an int 0-100, got %r" % (percent,))
        self.progress.append(percent)

    def isCancelled(self) -> bool:
        return self._cancelled

    def fake_cancel(self) -> None:
        self._cancelled = True


class _NodeConstructors(object):
    """nuke.nodes.<Class>(**knobs): creates without connecting to the selection."""

    def __init__(self, fake: "FakeNuke") -> None:
        self._fake = fake

    def __getattr__(self, cls: str) -> Callable[..., Node]:
        if cls.startswith("_"):
            raise AttributeError(cls)
        fake = self._fake

        def construct(**kwargs: Any) -> Node:
            inputs = kwargs.pop("inputs", None)
            node = fake._create(cls)
            for name, value in kwargs.items():
                node[name].setValue(value)
            for index, source in enumerate(inputs or []):
                node.setInput(index, source)
            return node

        return construct


class FakeNuke(types.ModuleType):
    """A strict stand-in for Nuke's `nuke` module. Build one with FakeNuke(home=..., edition=..., gui=...)."""

    def __init__(self, home: str, edition: str = "nukex", gui: bool = True,
                 version: Tuple[int, int, int] = (15, 1, 3)) -> None:
        super(FakeNuke, self).__init__("nuke", "strict fake of Foundry Nuke's Python module (tests only)")
        self.fake_home = home
        self._main_thread = threading.get_ident()
        self.events: List[Tuple[str, Any]] = []
        self.dialogs: List[Tuple[str, str]] = []
        self.answers: Dict[str, Deque[Any]] = collections.defaultdict(collections.deque)
        self.progress_tasks: List[ProgressTask] = []
        self.cancel_progress_tasks = False
        self.log: List[Tuple[str, str]] = []
        self.fake_main_thread_errors: List[BaseException] = []
        self._main_queue: Deque[Tuple[Callable[..., Any], tuple, dict, Optional[threading.Event], list]] = (
            collections.deque())
        self._plugin_path = [os.path.join(home, ".nuke")]
        self.fake_formats: List[str] = []
        self.fake_sys_path_additions: List[str] = []
        self._validators = {"Inference": catfile.validate_inference, "Assert": validate_assert}
        self._on_create: List[Tuple[Callable[..., Any], tuple, dict, str]] = []
        self._this: List[Node] = []
        self._menus: Dict[str, Menu] = {}
        self._root = Node(self, "Root", 0, NODE_CLASSES["Root"][1], None, is_group=True)
        self._root["name"].setValue("root")
        self._context: List[Node] = [self._root]
        self._name_counters: collections.Counter = collections.Counter()
        self.nodes = _NodeConstructors(self)
        self.env = _Env()
        self.fake_set_version(*version)
        self.fake_set_edition(edition)
        self.fake_set_gui(gui)
        for cls in K.PUBLIC_KNOB_CLASSES:
            setattr(self, cls.__name__, cls)
        self.ProgressTask = lambda title: ProgressTask(title, self)
        self.KnobType = types.SimpleNamespace(**{name: number for number, name in KNOB_TYPES.items()})
        self.STARTLINE = 0x1000
        self.INVISIBLE = 0x400

    # ------------------------------------------------------------------ fake-only configuration
    def fake_set_edition(self, edition: str) -> None:
        """'nuke' (plain), 'nukex', 'studio' or 'indie'."""
        if edition not in EDITIONS:
            raise ValueError("edition must be one of %s" % sorted(EDITIONS))
        self.fake_edition = edition
        self.env.update(EDITIONS[edition])

    def fake_set_gui(self, gui: bool) -> None:
        self.env["gui"] = bool(gui)

    def fake_set_version(self, major: int, minor: int, release: int) -> None:
        self.NUKE_VERSION_MAJOR, self.NUKE_VERSION_MINOR, self.NUKE_VERSION_RELEASE = major, minor, release
        self.NUKE_VERSION_STRING = "%d.%dv%d" % (major, minor, release)
        self.env.update({"NukeVersionMajor": major, "NukeVersionMinor": minor, "NukeVersionRelease": release,
                         "NukeVersionString": self.NUKE_VERSION_STRING, "ExecutablePath": "/fake/Nuke",
                         "PluginExtension": ".so", "WIN32": False, "MACOS": False, "LINUX": True, "64bit": True,
                         "hiero": False, "threads": 2})

    def fake_answer(self, kind: str, *answers: Any) -> None:
        """Scripts the user's answers to the next dialogs of a kind: 'ask', 'getFilename', 'choice', 'getInput'."""
        self.answers[kind].extend(answers)

    def fake_process_main_thread(self) -> int:
        """Runs calls queued by executeInMainThread[WithResult] (Nuke's event loop does this). Returns how many.

        A call queued with a result hands its exception back to executeInMainThreadWithResult (which prints it and
        returns None, as Foundry's does); one queued without a result has nobody to tell, so it fails the test
        here (Nuke would print it in the Script Editor and carry on)."""
        self._require_main_thread("processing the main-thread queue")
        count = 0
        while self._main_queue:
            fn, args, kwargs, done, box = self._main_queue.popleft()
            try:
                box.append(("ok", fn(*args, **kwargs)))
            except BaseException as exc:  # handed back to the waiting worker
                box.append(("error", exc))
                if done is None:
                    raise
            finally:
                if done is not None:
                    done.set()
            count += 1
        return count

    def fake_run_event_loop(self, worker: threading.Thread, timeout: float = 120.0) -> None:
        """Pumps the main-thread queue until `worker` ends, as Nuke's UI keeps running during a build."""
        import time

        deadline = time.monotonic() + timeout
        while worker.is_alive():
            self.fake_process_main_thread()
            if time.monotonic() > deadline:
                raise TimeoutError("the worker thread did not finish within %.0f s" % timeout)
            worker.join(0.01)
        self.fake_process_main_thread()

    def fake_dialogs_of(self, kind: str) -> List[str]:
        return [text for k, text in self.dialogs if k == kind]

    # ------------------------------------------------------------------ threads
    def _on_main_thread(self) -> bool:
        return threading.get_ident() == self._main_thread

    def _require_main_thread(self, what: str) -> None:
        if not self._on_main_thread():
            raise RuntimeError("%s from a worker thread: Nuke allows this only on the main thread "
                               "(use nuke.executeInMainThread)" % what)

    @staticmethod
    def _main_thread_args(args: Any) -> tuple:
        """Foundry's rule: `if type(args) != tuple: args = (args,)`, so a list (or a tuple subclass) is one argument."""
        return args if type(args) is tuple else (args,)

    def executeInMainThread(self, call: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None) -> None:
        if self._on_main_thread():
            raise RuntimeError("executeInMainThread called from the main thread: Nuke would hang here")
        if not callable(call):
            raise TypeError("executeInMainThread needs a callable")
        self._main_queue.append((call, self._main_thread_args(args), dict(kwargs or {}), None, []))

    def executeInMainThreadWithResult(self, call: Callable[..., Any], args: Any = (),
                                      kwargs: Optional[dict] = None) -> Any:
        """As Foundry's nuke/executeInMain.py: waits for the main thread; if the call raised, prints the traceback
        (traceback.print_exc) and returns None instead of raising. The fake also records the exception in
        `fake_main_thread_errors`."""
        if self._on_main_thread():
            raise RuntimeError("executeInMainThreadWithResult called from the main thread: Nuke would hang here")
        if not callable(call):
            raise TypeError("executeInMainThreadWithResult needs a callable")
        done = threading.Event()
        box: list = []
        self._main_queue.append((call, self._main_thread_args(args), dict(kwargs or {}), done, box))
        if not done.wait(120):
            raise TimeoutError("nobody ran the main-thread queue (tests: call fake_run_event_loop)")
        status, value = box[0]
        if status == "error":
            traceback.print_exception(type(value), value, value.__traceback__)
            self.fake_main_thread_errors.append(value)
            return None
        return value

    # ------------------------------------------------------------------ dialogs
    def _dialog(self, kind: str, text: str) -> None:
        self._require_main_thread("nuke.%s" % kind)
        if not isinstance(text, str):
            raise TypeError("nuke.%s takes a str prompt, got %r" % (kind, text))
        self.dialogs.append((kind, text))

    def _answer(self, kind: str, text: str) -> Any:
        self._dialog(kind, text)
        if not self.answers[kind]:
            raise FakeDialogUnanswered("nuke.%s(%r) was shown but the test scripted no answer" % (kind, text))
        return self.answers[kind].popleft()

    def message(self, prompt: str) -> None:
        self._dialog("message", prompt)

    def ask(self, prompt: str, default: Any = None) -> bool:
        return bool(self._answer("ask", prompt))

    def getFilename(self, message: str, pattern: Optional[str] = None, default: Optional[str] = None,
                    favorites: Any = None, type: Any = None, multiple: bool = False) -> Any:
        return self._answer("getFilename", message)

    def getInput(self, prompt: str, default: str = "") -> Any:
        return self._answer("getInput", prompt)

    def choice(self, title: str, prompt: str, options: List[str], default: int = 0) -> Optional[int]:
        if not isinstance(options, (list, tuple)) or not all(isinstance(o, str) for o in options):
            raise TypeError("nuke.choice options must be a list of str")
        answer = self._answer("choice", "%s: %s" % (title, prompt))
        if answer is not None and not (0 <= answer < len(options)):
            raise AssertionError("scripted choice %r is out of range" % answer)
        return answer

    def tprint(self, *values: Any) -> None:
        self.log.append(("tprint", " ".join(str(v) for v in values)))

    def warning(self, message: str) -> None:
        self.log.append(("warning", message))

    def error(self, message: str) -> None:
        self.log.append(("error", message))

    def debug(self, message: str) -> None:
        self.log.append(("debug", message))

    # ------------------------------------------------------------------ plugin path
    def pluginAddPath(self, path: str, addToSysPath: bool = True) -> None:
        if not isinstance(path, str):
            raise TypeError("pluginAddPath takes a str path")
        if path in self._plugin_path:
            self._plugin_path.remove(path)
        self._plugin_path.insert(0, path)
        if addToSysPath:
            self.fake_sys_path_additions.append(path)
        self.events.append(("pluginAddPath", path))

    def pluginAppendPath(self, path: str, addToSysPath: bool = True) -> None:
        if not isinstance(path, str):
            raise TypeError("pluginAppendPath takes a str path")
        if path not in self._plugin_path:
            self._plugin_path.append(path)
        self.events.append(("pluginAppendPath", path))

    def pluginPath(self) -> List[str]:
        return list(self._plugin_path)

    def _find_gizmo(self, cls: str) -> Optional[str]:
        for folder in self._plugin_path:
            candidate = os.path.join(folder, cls + ".gizmo")
            if os.path.isfile(candidate):
                return candidate
        return None

    def fake_startup(self, environ: Optional[Dict[str, str]] = None) -> List[str]:
        """What Nuke does at start: the plugin path is ~/.nuke then the NUKE_PATH folders, each on sys.path, and
        every init.py on it runs (menu.py too with a GUI), in reverse order of the path (Foundry's "Start-up
        Scripts" and "Defining the Nuke Plug-in Path"). Returns the files run, in order."""
        import runpy
        import sys

        env = os.environ if environ is None else environ
        folders = [f for f in env.get("NUKE_PATH", "").split(os.pathsep) if f]
        self._plugin_path = [os.path.join(self.fake_home, ".nuke")] + folders
        for folder in reversed(self._plugin_path):
            if folder not in sys.path:
                sys.path.insert(0, folder)
        ran = []
        for name in ("init.py", "menu.py") if self.env["gui"] else ("init.py",):
            for folder in reversed(list(self._plugin_path)):
                script = os.path.join(folder, name)
                if os.path.isfile(script):
                    ran.append(script)
                    runpy.run_path(script, run_name="__main__")
        self.events.append(("startup", ran))
        return ran

    # ------------------------------------------------------------------ callbacks
    def addOnCreate(self, call: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None,
                    nodeClass: str = "*") -> None:
        """As Foundry's nuke/callbacks.py: the same call for the same class is added once."""
        if not callable(call):
            raise TypeError("addOnCreate needs a callable")
        entry = (call, self._main_thread_args(args), dict(kwargs or {}), nodeClass)
        if entry not in self._on_create:
            self._on_create.append(entry)

    def removeOnCreate(self, call: Callable[..., Any], args: Any = (), kwargs: Optional[dict] = None,
                       nodeClass: str = "*") -> None:
        entry = (call, self._main_thread_args(args), dict(kwargs or {}), nodeClass)
        if entry in self._on_create:
            self._on_create.remove(entry)

    def thisNode(self) -> Node:
        """The node whose callback or button is running."""
        if not self._this:
            raise K.FakeLimitation("nuke.thisNode() outside a callback or a knob's script: the fake does not model "
                                   "which node the Script Editor means")
        return self._this[-1]

    @contextlib.contextmanager
    def fake_this(self, node: Node) -> Iterator[None]:
        """Runs the block with `node` as nuke.thisNode() (a button's script, a callback)."""
        self._this.append(node)
        try:
            yield
        finally:
            self._this.pop()

    def _run_on_create(self, node: Node) -> None:
        for call, args, kwargs, cls in list(self._on_create):
            if cls in ("*", node.Class()):
                with self.fake_this(node):
                    call(*args, **kwargs)

    # ------------------------------------------------------------------ menus
    def menu(self, name: str) -> Menu:
        if not self.env["gui"]:
            raise RuntimeError("nuke.menu(%r): Nuke isn't in GUI mode" % name)
        if name not in MENU_NAMES:
            raise ValueError("nuke.menu: %r is not one of %s" % (name, ", ".join(MENU_NAMES)))
        if name not in self._menus:
            self._menus[name] = Menu(name, self)
        return self._menus[name]

    def toolbar(self, name: str, create: bool = True) -> Optional[Menu]:
        if not self.env["gui"]:
            raise RuntimeError("nuke.toolbar(%r): Nuke isn't in GUI mode" % name)
        if name == "Nodes":
            return self.menu("Nodes")
        key = "toolbar:" + name
        if key not in self._menus:
            if not create:
                return None
            self._menus[key] = Menu(name, self)
        return self._menus[key]

    # ------------------------------------------------------------------ node graph
    def root(self) -> Node:
        return self._root

    def thisGroup(self) -> Node:
        return self._context[-1]

    @contextlib.contextmanager
    def _context_of(self, node: Node) -> Iterator[None]:
        group = node.parent_group() or self._root
        self._context.append(group)
        try:
            yield
        finally:
            self._context.pop()

    def _unique_name(self, group: Node, base: str) -> str:
        taken = {n.name() for n in group._children}
        stem = base.rstrip("0123456789") or base
        i = 1
        while "%s%d" % (stem, i) in taken:
            i += 1
        return "%s%d" % (stem, i)

    def _create(self, cls: str) -> Node:
        """Creates a node of `cls` in the current group: a built-in class, or a gizmo on the plugin path."""
        self._require_main_thread("creating a %s node" % cls)
        if not isinstance(cls, str):
            raise TypeError("node classes are str, got %r" % (cls,))
        group = self._context[-1]
        group._check_alive()
        if cls in NUKEX_ONLY and not self.env["nukex"]:
            raise RuntimeError("%s: this node needs NukeX, Nuke Studio or Nuke Indie (running plain Nuke)" % cls)
        if cls in NODE_CLASSES and cls != "Root":
            max_inputs, factories = NODE_CLASSES[cls]
            node = Node(self, cls, max_inputs, factories, group, is_group=(cls == "Group"))
        else:
            # A gizmo's file name works too: Foundry's Cattery menu calls nuke.createNode('<name>.gizmo').
            name = cls[:-len(".gizmo")] if cls.endswith(".gizmo") else cls
            gizmo = self._find_gizmo(name)
            if gizmo is None:
                raise RuntimeError("%s: unknown command (no such node class or gizmo on the plugin path)" % cls)
            node = self._instantiate_gizmo(name, gizmo, group)
            cls = name
        node["name"].setValue(self._unique_name(group, cls))
        group._children.append(node)
        if cls == "CatFileCreator":
            button = K.PyScript_Knob("createCatFile", "Create .cat file",
                                     command=lambda n=node: catfile.create_cat_file(self, n))
            node._attach(button)
        self.events.append(("create", node.fullName()))
        self._run_on_create(node)
        return node

    def _instantiate_gizmo(self, cls: str, path: str, group: Node) -> Node:
        from tests.gizmo_validator import GizmoError, parse_gizmo

        from .gizmo_loader import build_gizmo_node

        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
        try:
            doc = parse_gizmo(text)
        except GizmoError as exc:
            raise RuntimeError("%s: cannot load %s: %s" % (cls, path, exc))
        return build_gizmo_node(self, cls, doc, group)

    def createNode(self, node: str, args: str = "", inpanel: bool = True) -> Node:
        """Creates a node and, as Nuke does, connects input 0 to the selected node and selects only the new one."""
        from tests.gizmo_validator import tokenize

        if not isinstance(args, str):
            raise TypeError("createNode args are a Tcl knob string")
        selected = self._selected_in(self._context[-1])
        created = self._create(node)
        words = [w.text for cmd in tokenize(args) for w in cmd] if args.strip() else []
        if len(words) % 2:
            raise RuntimeError("createNode %s: args must be knob/value pairs, got %r" % (node, args))
        for name, value in zip(words[::2], words[1::2]):
            created[name].fromScript(value)
        if selected and created.maxInputs() > 0:
            created.setInput(0, selected[-1])
            created.setXYpos(selected[-1].xpos(), selected[-1].ypos() + 80)
        for other in self._context[-1]._children:
            other.setSelected(other is created)
        if inpanel and self.env["gui"]:
            created.showControlPanel()
        return created

    def _selected_in(self, group: Node) -> List[Node]:
        return [n for n in group._children if n["selected"].value()]

    def selectedNode(self) -> Node:
        selected = self._selected_in(self._context[-1])
        if not selected:
            raise ValueError("No node selected")
        return selected[-1]

    def selectedNodes(self, filter: Optional[str] = None) -> List[Node]:
        return [n for n in self._selected_in(self._context[-1]) if filter is None or n.Class() == filter]

    def allNodes(self, filter: Optional[str] = None, group: Optional[Node] = None,
                 recurseGroups: bool = False) -> List[Node]:
        group = group or self._context[-1]
        found = []
        for node in group._children:
            if filter is None or node.Class() == filter:
                found.append(node)
            if recurseGroups and node.is_group():
                found.extend(self.allNodes(filter, node, True))
        return found

    def toNode(self, name: str) -> Optional[Node]:
        if not isinstance(name, str):
            raise TypeError("toNode takes a str")
        parts = name.split(".")
        group = self._context[-1]
        if parts[0] == "root":
            group = self._root
            parts = parts[1:]
            if not parts:
                return self._root
        node = None
        for part in parts:
            if group is None or not group.is_group():
                return None
            node = next((n for n in group._children if n.name() == part), None)
            if node is None:
                return None
            group = node
        return node

    # ------------------------------------------------------------------ scripts
    def scriptOpen(self, path: str) -> None:
        """Loads a saved .nk into the session, as `Nuke -x script.nk` does before rendering: its Root block's values
        go on the root, its nodes are read by the gizmo reader (tests/gizmo_validator.py) as a group's are, each made
        from the catalogue or, for a gizmo class, from the plugin path, with the knob values the script saved."""
        from tests.gizmo_validator import GizmoError, _knob_block, _Problems, parse_gizmo, tokenize

        from .gizmo_loader import _build_children, apply_value

        self._require_main_thread("opening a script")
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
        lines = text.splitlines()
        heads = [i for i, line in enumerate(lines) if line.startswith("Root {")]
        if len(heads) != 1:
            raise RuntimeError("%s: not a Nuke script (no Root { } block)" % path)
        end = next((i for i in range(heads[0], len(lines)) if lines[i] == "}"), None)
        if end is None:
            raise RuntimeError("%s: its Root { } block is not closed" % path)
        try:
            (root_block,) = tokenize("\n".join(lines[heads[0]:end + 1]))
            found = _Problems()
            values, _user, _ordered = _knob_block(root_block[1], found)
            doc = parse_gizmo("Group {\n}\n" + "\n".join(lines[end + 1:]) + "\nend_group\n")
        except (GizmoError, ValueError) as exc:
            raise RuntimeError("%s: cannot load: %s" % (path, exc))
        if found.load:
            raise RuntimeError("%s: cannot load its Root block: %s" % (path, "; ".join(found.load)))
        for key, value in values.items():
            if key not in ("inputs", "name"):
                apply_value(self._root, key, value, "%s Root" % path)
        self._root["name"].setValue(path.replace(os.sep, "/"))
        _build_children(self, self._root, doc.nodes, os.path.basename(path))
        self.events.append(("scriptOpen", path))

    # ------------------------------------------------------------------ rendering
    def addFormat(self, text: str) -> str:
        """nuke.addFormat('W H [aspect] name'): the fake only records the name (Format_Knob takes any text)."""
        parts = text.split() if isinstance(text, str) else []
        if len(parts) < 3 or not parts[0].isdigit() or not parts[1].isdigit():
            raise ValueError("nuke.addFormat needs 'width height [pixel aspect] name', got %r" % (text,))
        self.fake_formats.append(text)
        return parts[-1]

    def execute(self, node: Node, start: int, end: int, incr: int = 1) -> None:
        """Checks what Nuke checks before rendering, then raises FakeLimitation: the fake computes no pixels."""
        self._require_main_thread("nuke.execute")
        if not isinstance(node, Node):
            raise TypeError("nuke.execute takes a node")
        node._check_alive()
        if node.Class() != "Write":
            raise RuntimeError("%s cannot be executed (the fake models Write only)" % node.name())
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, incr)) or start > end:
            raise TypeError("nuke.execute needs int frames, start <= end, got %r %r" % (start, end))
        if not node["file"].value():
            raise RuntimeError("%s: no file name" % node.name())
        if not os.path.isdir(os.path.dirname(node["file"].value().replace("/", os.sep)) or "."):
            raise RuntimeError("%s: the folder of %s does not exist" % (node.name(), node["file"].value()))
        upstream, seen = [node.input(0)], set()
        if upstream[0] is None:
            raise RuntimeError("%s: input 0 is not connected" % node.name())
        while upstream:
            source = upstream.pop()
            if source is None or id(source) in seen:
                continue
            seen.add(id(source))
            source.forceValidate()
            if source.hasError():
                raise RuntimeError("%s: %s" % (source.name(), source.error_message()))
            upstream.extend(source.input(i) for i in range(source.inputs()))
        self.events.append(("execute", node.name()))
        raise K.FakeLimitation("the fake computes no pixels")

    def sample(self, node: Node, channel: str, x: float, y: float, dx: float = 1.0, dy: float = 1.0,
               frame: Any = None) -> float:
        node._check_alive()
        if not isinstance(channel, str):
            raise TypeError("nuke.sample takes a channel name")
        raise K.FakeLimitation("the fake computes no pixels")

    def delete(self, node: Node) -> None:
        self._require_main_thread("deleting a node")
        if not isinstance(node, Node):
            raise TypeError("nuke.delete takes a node")
        node._check_alive()
        if node.is_root():
            raise RuntimeError("the root cannot be deleted")
        if node.is_group():
            for child in list(node._children):
                self.delete(child)
        parent = node.parent_group()
        for other in parent._children:
            other._inputs = [None if i is node else i for i in other._inputs]
        parent._children.remove(node)
        node._deleted = True
        self.events.append(("delete", node._knobs["name"]._value))
