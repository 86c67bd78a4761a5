"""CorridorKey > Self-test: asks a running Nuke every question the fake cannot answer, with the shipped tiny model.

In a temporary plugin folder it builds a .cat from nuke_plugin/selftest_model through the same cat_builder as
Build Model, named as Build Model names this Nuke's build, writes the gizmo with the same writer under a class of
its own (CorridorKeySelfTest, so the user's CorridorKey is never touched), renders two small plates through it
with nuke.execute into 32-bit float EXRs, reads pixels back with nuke.sample, and compares them with the stored
expectations; then moves each knob and checks both that each Inference node inside follows it or holds it (the
serialiseKnob links; the network node holds what a node after it applies, the CleanUp node what it does not read)
and that the pixels change as stored. It also reads the Tcl version variables the gizmo relies on, makes the gizmo's
Asserts fire (no build for this Nuke, a .cat from a newer release, a node keyed with another build) and reports
the GPU the Inference node shows.
Every check says which line of tests/fake_nuke/LIMITS.md it answers. Everything it made is deleted at the end.

A `nuke` module that cannot compute pixels (the tests' fake) raises NotImplementedError from nuke.execute:
the pixel checks then say "skipped" with that reason instead of passing.

Run it on Nuke's main thread: from the menu, or from a script under `Nuke -t` / `Nuke --nukex -i`.
"""
from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import sys
import tempfile
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .. import contract
from ..contract import builds, selftest
from ..contract.files import atomic_write
from ..contract.knob_spec import BOOL, ENUM, FLOAT, STAGE_KNOBS
from ..contract.node_graph import (
    CLEAN_UP_NODE,
    HINT_BACKING,
    HINT_ERODE,
    HINT_SOURCE,
    NETWORK_NODE,
    clean_up_held,
    network_held,
)
from ..core import selftest_report
from ..core.build_set import BuildSet, Slot
from ..core.cattery import layout_for
from ..core.errors import CorridorKeyError
from ..core.gizmo import HALF_PRECISION, KEYED_BUILD, OUTPUT_HINT, OUTPUT_MODE, USE_GPU, gizmo_text, panel_knobs
from ..core.manifest import ModelManifest
from ..core.paths import plugin_root, same_path
from ..core.selftest_report import FAIL, PASS, SKIPPED
from .cat_builder import build_cat, nuke_path
from .edition import cat_files_supported
from .plugin_path import activate
from .session import delete_nodes_made_since, env_value, root_node_names

INIT_MARKER = "CORRIDORKEY_SELFTEST_INIT"
# The built-in hint's knobs moved once: a red-dominant backing (its `.r` and its branch of HintKey) and 2 pixels.
HINT_SELFTEST_BACKING, HINT_SELFTEST_ERODE = (0.6, 0.2, 0.25), 2
PIXEL_CHECKS = (selftest_report.RENDERING, selftest_report.LIBTORCH_LOADS)


class Cancelled(Exception):
    """The TD pressed Cancel on the progress bar."""


class CannotRender(Exception):
    """This `nuke` computes no pixels (the tests' fake), or an earlier render showed it cannot."""


def edition(nuke: Any) -> str:
    """Which Nuke is running, from nuke.env (Indie and Studio set the NukeX flag too)."""
    for key, name in (("indie", "Nuke Indie"), ("studio", "Nuke Studio"), ("nukex", "NukeX"), ("ple", "Nuke PLE")):
        if env_value(nuke, key):
            return name
    return "Nuke"


def environment(nuke: Any) -> Dict[str, Any]:
    return {"nuke_version": getattr(nuke, "NUKE_VERSION_STRING", None), "edition": edition(nuke),
            "gui": bool(env_value(nuke, "gui")), "executable": env_value(nuke, "ExecutablePath"), "python": sys.version,
            "python_executable": sys.executable, "platform": platform.platform(), "plugin_version": contract.VERSION,
            "plugin_root": plugin_root(), "cat_files_supported": cat_files_supported()}


def _set(knob: Any, spec_kind: str, value: Any) -> None:
    knob.setValue(bool(value) if spec_kind == BOOL else float(value) if spec_kind == FLOAT else int(value))


class Session(object):
    """One self-test run: the nodes and files it makes, and the report."""

    def __init__(self, nuke: Any, report: selftest_report.Report, workdir: str, progress: Any) -> None:
        self.nuke = nuke
        self.report = report
        self.workdir = workdir
        self.progress = progress
        self.renders = 0
        self.cannot_render: Optional[str] = None
        self.step_name = "start"
        major, minor = int(nuke.NUKE_VERSION_MAJOR), int(nuke.NUKE_VERSION_MINOR)
        self.version = (major, minor, str(getattr(nuke, "NUKE_VERSION_STRING", "%d.%d" % (major, minor))))

    # -- plumbing
    def step(self, name: str, percent: int) -> None:
        if self.progress.isCancelled():
            raise Cancelled(self.step_name)
        self.step_name = name
        self.progress.setMessage(name)
        self.progress.setProgress(int(percent))

    def render(self, source: Any, points: Sequence[Tuple[int, int]] = selftest.SAMPLE_POINTS,
               channels: Sequence[str] = contract.CHANNELS_OUT) -> List[List[float]]:
        """The source's channels at the sample points, rendered to an EXR by nuke.execute and read back."""
        nuke = self.nuke
        if self.cannot_render:
            raise CannotRender(self.cannot_render)
        self.renders += 1
        path = nuke_path(os.path.join(self.workdir, "render%d.exr" % self.renders))
        with nuke.root():
            write = nuke.nodes.Write()
            write.setInput(0, source)
            write["file"].setValue(path)
            write["file_type"].setValue("exr")
            write["datatype"].setValue("32 bit float")
            write["channels"].setValue("rgba")
            write["raw"].setValue(True)
            try:
                nuke.execute(write, 1, 1)
            except NotImplementedError as exc:
                self.cannot_render = "this Nuke cannot render (%s)" % exc
                raise CannotRender(self.cannot_render)
            finally:
                nuke.delete(write)
            read = nuke.nodes.Read(file=path, raw=True)  # created with its file, so Nuke reads the EXR's format
            try:
                return [[float(nuke.sample(read, channel, x + 0.5, y + 0.5)) for channel in channels]
                        for x, y in points]
            finally:
                nuke.delete(read)

    def compare(self, name: str, source: Any, want: List[List[float]], tolerance: float, verifies: Sequence[str],
                hint: str = "", points: Sequence[Tuple[int, int]] = selftest.SAMPLE_POINTS,
                channels: Sequence[str] = contract.CHANNELS_OUT) -> None:
        """One pixel check: rendered vs wanted at every sample point."""
        try:
            got = self.render(source, points, channels)
        except CannotRender as exc:
            self.report.add(name, SKIPPED, str(exc), verifies)
            return
        except RuntimeError as exc:  # Nuke's render errors (a missing model, a node error)
            self.report.add(name, FAIL, "render failed: %s" % exc, verifies)
            return
        error = selftest.max_difference(got, want)
        figures: Dict[str, Any] = {"max_abs_difference": error, "tolerance": tolerance}
        if error <= tolerance:
            self.report.add(name, PASS, "matches the stored pixels (max difference %.2g)" % error, verifies, figures)
            return
        worst = max(range(len(got)), key=lambda i: selftest.max_difference([got[i]], [want[i]]))
        figures.update({"worst_point": list(points[worst]), "got": got[worst], "want": want[worst],
                        "points_differing": sum(selftest.max_difference([g], [w]) > tolerance
                                                for g, w in zip(got, want))})
        self.report.add(name, FAIL, "differs from the stored pixels by %.3g (tolerance %.0g)%s"
                        % (error, tolerance, hint), verifies, figures)

    # -- the checks
    def plugin_folder(self) -> None:
        """The temporary plugin folder, with an init.py that only records that it ran."""
        atomic_write(os.path.join(self.workdir, "init.py"), "import os\nos.environ[%r] = 'ran'\n" % INIT_MARKER)
        os.environ.pop(INIT_MARKER, None)
        activate(self.workdir)
        ran = os.environ.pop(INIT_MARKER, None) == "ran"
        on_sys_path = any(same_path(p, self.workdir) for p in sys.path if p)
        self.report.add("plugin_add_path", PASS, "pluginAddPath %s the folder's init.py and %s the folder to "
                        "sys.path" % ("ran" if ran else "did not run", "added" if on_sys_path else "did not add"),
                        [selftest_report.PLUGIN_ADD_PATH], {"init_ran": ran, "on_sys_path": on_sys_path})

    def build_cat(self, manifest: ModelManifest) -> Optional[str]:
        if not cat_files_supported():
            self.report.add("cat_build", SKIPPED, "this edition has no CatFileCreator (plain Nuke): the .cat "
                            "and everything rendered through it cannot be checked here",
                            [selftest_report.LIBTORCH_LOADS])
            return None
        cat = os.path.join(self.workdir, builds.cat_name(selftest.MODEL_ID, manifest.build_id, self.version[0]))
        try:
            build_cat(manifest, cat)
        except CorridorKeyError as exc:
            self.report.add("cat_build", FAIL, str(exc), [selftest_report.LIBTORCH_LOADS])
            return None
        self.report.add("cat_build", PASS, "CatFileCreator built a .cat from the self-test model (made by torch "
                        "%s) with every knob" % manifest.torch_version, [selftest_report.LIBTORCH_LOADS],
                        {"torch_version": manifest.torch_version, "knobs": [k.name for k in manifest.knobs]})
        return cat

    def cat_failure(self, manifest: ModelManifest) -> None:
        """Feeds CatFileCreator a file that is not TorchScript: does it raise, or only show a dialog?"""
        junk = os.path.join(self.workdir, "not_torchscript.pt")
        atomic_write(junk, "this is not a TorchScript file\n")
        bad = dataclasses.replace(manifest, model_path=junk)
        try:
            build_cat(bad, os.path.join(self.workdir, "not_torchscript.cat"))
        except CorridorKeyError as exc:
            cause = exc.__context__
            how = ("raises %s: %s" % (type(cause).__name__, (str(cause).splitlines() or [""])[0][:200])
                   if cause is not None else "shows its error without a Python exception (no .cat written)")
            self.report.add("cat_failure_mode", PASS, "on a bad .pt, createCatFile %s; the plugin reports it "
                            "either way" % how, [selftest_report.CREATE_CAT_FAILURE], {"raises": cause is not None})
            return
        self.report.add("cat_failure_mode", FAIL, "CatFileCreator accepted a file that is not TorchScript",
                        [selftest_report.CREATE_CAT_FAILURE])

    def create_gizmo(self, manifest: ModelManifest, cat: str) -> Any:
        nuke = self.nuke
        path = os.path.join(self.workdir, selftest.GIZMO_NAME)
        self._write_gizmo(manifest, path, "first")
        with nuke.root():
            node = getattr(nuke.nodes, selftest.MODEL_ID)()
        node.forceValidate()
        inference = _inference_in(node)
        clean_up = node.node(CLEAN_UP_NODE)
        verifies = [selftest_report.MODEL_FILE, selftest_report.CATALOGUE]
        if inference is None or node.hasError() or inference.hasError() or (clean_up is not None
                                                                               and clean_up.hasError()):
            self.report.add("gizmo_create", FAIL, "the gizmo was created with an error: %s"
                            % (_error_text(node) or "no Inference node inside"), verifies)
            return None
        found = inference["modelFile"].evaluate()
        if not found or not same_path(found, cat):
            self.report.add("gizmo_create", FAIL, "modelFile %r evaluates to %r, not the .cat %s"
                            % (inference["modelFile"].value(), found, nuke_path(cat)), verifies)
            return None
        self.report.add("gizmo_create", PASS, "the gizmo loads without error and its modelFile %r finds the .cat "
                        "through the plugin path" % inference["modelFile"].value(), verifies,
                        {"modelFile": inference["modelFile"].value(), "evaluated": found,
                         "gpuName": _text(inference.knob("gpuName"))})
        return node

    def build_set(self, manifest: ModelManifest) -> BuildSet:
        """The self-test build as Build Model would install it in this Nuke."""
        return BuildSet(selftest.MODEL_ID, manifest.build_id, (Slot(self.version[0], self.version[2]),))

    def _write_gizmo(self, manifest: ModelManifest, path: str, edition_note: str,
                     build_set: Optional[BuildSet] = None) -> None:
        atomic_write(path, gizmo_text(build_set or self.build_set(manifest), manifest.knobs,  # Nuke may read it
                                      info="CorridorKey self-test model, %s definition" % edition_note))

    def tcl_versions(self) -> None:
        """The Tcl variables the gizmo's modelFile and Asserts use, read through knob expressions."""
        nuke = self.nuke
        with nuke.root():
            probe = nuke.nodes.NoOp()
        try:
            values = {}
            for name in ("nuke_version_major", "nuke_version"):
                knob = nuke.Double_Knob(name)
                probe.addKnob(knob)
                knob.setExpression("$" + name)
                values[name] = float(knob.value())
        except Exception as exc:  # what Nuke says is the finding
            self.report.add("tcl_versions", FAIL, "the Tcl version variables cannot be read in an expression "
                            "(%s: %s)" % (type(exc).__name__, exc), [selftest_report.TCL_VERSION])
            return
        finally:
            nuke.delete(probe)
        major, minor, text = self.version
        ok = values["nuke_version_major"] == major and (major + minor / 10.0) <= values["nuke_version"] < major + 1
        self.report.add("tcl_versions", PASS if ok else FAIL, "in Nuke %s, $nuke_version_major is %g and "
                        "$nuke_version is %r%s" % (text, values["nuke_version_major"], values["nuke_version"],
                                                   "" if ok else ": the gizmo's version checks assume MAJOR and a "
                                                   "number from MAJOR.MINOR below MAJOR+1"),
                        [selftest_report.TCL_VERSION], values)

    def asserts(self, manifest: ModelManifest, node: Any) -> None:
        """Each of the gizmo's Asserts must stop a render with its message: a node keyed with another build, a
        gizmo with no build for this Nuke, a .cat made by a newer release of this Nuke."""
        nuke = self.nuke
        major, minor, _text = self.version
        other = builds.build_id(selftest.MODEL_ID, "another build", manifest.resolution,
                                [k.name for k in manifest.knobs])
        node[KEYED_BUILD.name].setValue(other)
        try:
            self.expect_error("assert_same_build", node, "keyed with another build")
        finally:
            node[KEYED_BUILD.name].setValue(manifest.build_id)
        newer = Slot(major, "%d.%d" % (major, minor + 1))
        variants = (("assert_no_build", BuildSet(selftest.MODEL_ID, manifest.build_id, (Slot(major + 1),)),
                     "no build for this Nuke"),
                    ("assert_newer_release", BuildSet(selftest.MODEL_ID, manifest.build_id, (newer,)),
                     "loads only there"))
        for name, build_set, words in variants:
            cls = "%s_%s" % (selftest.MODEL_ID, name)
            self._write_gizmo(manifest, os.path.join(self.workdir, cls + ".gizmo"), name, build_set)
            with nuke.root():
                variant = getattr(nuke.nodes, cls)()
            variant.setInput(0, node.input(0))
            variant.setInput(1, node.input(1))
            try:
                self.expect_error(name, variant, words)
            finally:
                nuke.delete(variant)

    def expect_error(self, name: str, node: Any, words: str) -> None:
        """A render of `node` must fail with an error that holds `words`."""
        verifies = [selftest_report.ASSERT_ERRORS, selftest_report.TCL_VERSION]
        try:
            self.render(node)
        except CannotRender as exc:
            node.forceValidate()
            shown = _error_text(node, True) if node.hasError() else ""
            if words in shown:
                self.report.add(name, PASS, "the node shows the Assert's error (%s); %s, so whether it stops a "
                                "render cannot be checked here" % (shown[:300], exc), verifies, {"error": shown[:1000]})
            else:
                self.report.add(name, SKIPPED, str(exc), verifies)
            return
        except RuntimeError as exc:
            ok = words in str(exc)
            self.report.add(name, PASS if ok else FAIL, "the render stopped with %s" % (
                "the Assert's message: %s" % str(exc).strip()[:300] if ok else "another error: %s" % exc), verifies,
                {"error": str(exc)[:1000]})
            return
        self.report.add(name, FAIL, "the render went through: the Assert did not stop it (the node must show "
                        "an error with %r)" % words, verifies)

    def gpu(self, node: Any) -> None:
        """The GPU the Inference node shows after a render (RIFE's port shows its gpuName knob to artists)."""
        inference = _inference_in(node)
        name = _text(inference.knob("gpuName")) if inference is not None else None
        requested = os.environ.get(selftest.GPU_VARIABLE) == "1"
        status, detail = selftest_report.gpu_verdict(name, requested)
        self.report.add("gpu", status, detail, [selftest_report.GPU_NAME], {"gpuName": name, "requested": requested,
                                                             "useGPUIfAvailable": bool(node[USE_GPU.name].value())})

    def gizmo_reread(self, manifest: ModelManifest) -> None:
        """Rewrites the gizmo file and makes a second node: does Nuke read the new definition?"""
        nuke = self.nuke
        path = os.path.join(self.workdir, selftest.GIZMO_NAME)
        self._write_gizmo(manifest, path, "second")
        try:
            with nuke.root():
                second = getattr(nuke.nodes, selftest.MODEL_ID)()
            info = second["model_info"].value()
            nuke.delete(second)
        finally:
            self._write_gizmo(manifest, path, "first")
        reread = "second" in str(info)
        self.report.add("gizmo_reread", PASS, "a node made after its .gizmo changed %s" % (
            "uses the new file" if reread else "keeps the definition read first (restart Nuke after a rebuild)"),
            [selftest_report.GIZMO_REREAD], {"rereads": reread})

    def plate(self, name: str) -> Any:
        nuke = self.nuke
        with nuke.root():
            constant = nuke.nodes.Constant()
            constant["format"].setValue(selftest.MODEL_ID)
            expression = nuke.nodes.Expression()
            expression.setInput(0, constant)
            for channel in range(4):
                expression["expr%d" % channel].setValue(selftest.expression(name, channel))
        self.compare("plate_%s" % name, expression, selftest_report.plate_pixels(name), selftest.PIXEL_TOLERANCE,
                     [selftest_report.RENDERING, selftest_report.EXPRESSIONS, selftest_report.ORIENTATION])
        return expression

    def pixels(self, name: str, node: Any, plates: Dict[str, Any], outputs: Dict[str, Any], tolerance: float,
               output_mode: int = 0, verifies: Sequence[str] = PIXEL_CHECKS) -> None:
        for plate, source in plates.items():
            node.setInput(0, source)
            node.setInput(1, source)
            want = [selftest_report.gizmo_pixel(p, output_mode, x, y)
                    for p, (x, y) in zip(outputs[plate], selftest.SAMPLE_POINTS)]
            self.compare("%s_%s" % (name, plate), node, want, tolerance, list(verifies) + [selftest_report.ORIENTATION],
                         "; when the plate checks pass, a difference here can also mean the image reaches the model "
                         "upside down (its 3x3 convolution is not symmetric)")

    def link(self, name: str, inference: Any, knob_name: str, value: Any, verifies: Sequence[str]) -> bool:
        """Does the Inference node's knob follow the gizmo's?"""
        inner = inference.knob(knob_name)
        got = None if inner is None else float(inner.getValue())
        ok = got is not None and abs(got - float(value)) < 1e-6
        self.report.add(name, PASS if ok else FAIL, "the Inference node's %s %s the gizmo's (%s)"
                        % (knob_name, "follows" if ok else "does NOT follow", "got %r, want %r" % (got, value)),
                        verifies, {"got": got, "want": float(value)})
        return ok

    def held(self, name: str, inference: Any, knob_name: str, held: float, value: Any,
             before: Optional[float] = None) -> None:
        """Does an Inference node keep a knob at its held value while the gizmo's moves (a node after the network
        applies it, so the network is not re-run)? `before`: what it showed with the gizmo's knob at its default,
        which must be the held value too (the gizmo's far end may be the held value itself). The pixel check then
        proves the node that applies it."""
        inner = inference.knob(knob_name)
        got = None if inner is None else float(inner.getValue())
        ok = got is not None and abs(got - held) < 1e-6 and (before is None or abs(before - held) < 1e-6)
        self.report.add(name, PASS if ok else FAIL, "%s's %s %s at %g with the gizmo's at its default and at %r%s" % (
                            inference.name(), knob_name, "stays" if ok else "does NOT stay", held, value,
                            "" if ok else ": got %r, then %r" % (before, got)), [selftest_report.SERIALISED_VALUE,
                                                                                 selftest_report.MODEL_FILE],
                        {"got": got, "before": before, "want": held})

    def knobs(self, node: Any, manifest: ModelManifest, plates: Dict[str, Any], expected: Dict[str, Any]) -> None:
        """Each model knob moved alone on the gizmo: every Inference node inside follows it or holds its own value,
        as the gizmo writer says (node_graph), and the gizmo's pixels match the model's with that knob moved."""
        outputs = expected["outputs"]
        stages = [(_inference_in(node), network_held(manifest.knobs), "")]
        clean_up = node.node(CLEAN_UP_NODE)
        if clean_up is not None:
            stages.append((clean_up, clean_up_held(manifest.knobs), "_clean_up"))
        for index, knob in enumerate(manifest.knobs):
            self.step("knob %s" % knob.name, 40 + 40 * index // max(len(manifest.knobs), 1))
            if knob.name in STAGE_KNOBS:  # not on the panel: each node holds its own value
                for inference, held, suffix in stages:
                    self.held("held_%s%s" % (knob.name, suffix), inference, knob.name, held[knob.name], None)
                continue
            value = knob.far_end()
            before = [None if inference.knob(knob.name) is None else float(inference.knob(knob.name).getValue())
                      for inference, _, _ in stages]
            _set(node[knob.name], knob.kind, value)
            verifies = [selftest_report.ENUM_LINK] if knob.kind == ENUM else []
            for (inference, held, suffix), shown in zip(stages, before):
                if knob.name in held:
                    self.held("held_%s%s" % (knob.name, suffix), inference, knob.name, held[knob.name], value, shown)
                else:
                    self.link("link_%s%s" % (knob.name, suffix), inference, knob.name, value,
                              verifies + [selftest_report.MODEL_FILE])
            # A knob a native node applies after the network is proven by that node's pixels (its expression).
            native = all(knob.name in held for _, held, _ in stages)
            self.pixels("knob_%s" % knob.name, node, plates, outputs[knob.name], selftest.PIXEL_TOLERANCE,
                        verifies=PIXEL_CHECKS + ((selftest_report.EXPRESSIONS,) if native else ()))
            _set(node[knob.name], knob.kind, knob.default)
        for toggle, tolerance in ((USE_GPU, selftest.PIXEL_TOLERANCE), (HALF_PRECISION, selftest.HALF_TOLERANCE)):
            self.step("toggle %s" % toggle.name, 82)
            node[toggle.name].setValue(not toggle.default)
            self.link("link_%s" % toggle.name, inference, toggle.name, not toggle.default, [])
            self.pixels("toggle_%s" % toggle.name, node, plates, outputs[selftest.DEFAULT_SETTING], tolerance)
            node[toggle.name].setValue(toggle.default)
        for mode in range(1, len(OUTPUT_MODE.items)):
            if mode == OUTPUT_HINT:
                continue  # no model pixels: the built-in hint's checks (hint) render it
            self.step("output %s" % OUTPUT_MODE.items[mode], 88)
            node[OUTPUT_MODE.name].setValue(mode)
            self.pixels("output_mode_%d" % mode, node, plates, outputs[selftest.DEFAULT_SETTING],
                        selftest.PIXEL_TOLERANCE,
                        mode, [selftest_report.RENDERING])
        node[OUTPUT_MODE.name].setValue(0)

    def hint_view(self, name: str, node: Any, plate: Any, connected: bool, rows: List[List[float]],
                  verifies: Sequence[str]) -> None:
        """Output: Hint (the model's input alpha, no model run) against the hint expected for these knobs."""
        node.setInput(0, plate)
        node.setInput(1, plate if connected else None)
        self.compare(name, node, selftest_report.hint_pixels(rows), selftest.PIXEL_TOLERANCE,
                     list(verifies) + [selftest_report.RENDERING],
                     points=selftest.HINT_SAMPLE_POINTS, channels=("rgba.alpha",))

    def hint(self, node: Any, plates: Dict[str, Any]) -> None:
        """The built-in hint: keyed and eroded as the replica says on every plate with Hint unconnected, its knobs
        (Backing Colour, Hint Erode) live, and Hint Source choosing between it and the Hint input."""
        node[OUTPUT_MODE.name].setValue(OUTPUT_HINT)
        builtin = [selftest_report.DILATE, selftest_report.INPUT_EXISTS, selftest_report.EXPRESSIONS]
        for plate, source in plates.items():
            self.step("built-in hint %s" % plate, 90)
            self.hint_view("builtin_hint_%s" % plate, node, source, False, selftest_report.builtin_hint_rows(plate),
                           builtin)
        other_backing, other_erode = HINT_SELFTEST_BACKING, HINT_SELFTEST_ERODE
        node[HINT_BACKING.name].setValue(list(other_backing))
        node[HINT_ERODE.name].setValue(other_erode)
        self.hint_view("builtin_hint_knobs", node, plates["gradient"], False,
                       selftest_report.builtin_hint_rows("gradient", other_backing, other_erode), builtin)
        node[HINT_BACKING.name].setValue(list(HINT_BACKING.default))
        node[HINT_ERODE.name].setValue(HINT_ERODE.default)
        alpha = [[min(max(v, 0.0), 1.0) for v in row] for row in selftest.plate_rows("gradient")[3]]
        choices = (("Automatic", True, alpha), ("Built-in", True, selftest_report.builtin_hint_rows("gradient")),
                   ("Hint input", False, [[0.0] * selftest.WIDTH for _ in range(selftest.HEIGHT)]))
        for source, connected, rows in choices:
            node[HINT_SOURCE.name].setValue(source)
            name = "hint_source_%s_%s" % (source.split()[0].lower(), "connected" if connected else "unconnected")
            self.hint_view(name, node, plates["gradient"], connected, rows, [selftest_report.INPUT_EXISTS])
        node[HINT_SOURCE.name].setValue(HINT_SOURCE.default)
        node[OUTPUT_MODE.name].setValue(0)
        node.setInput(1, plates["gradient"])

    def installed_node(self, plate: Any) -> None:
        """The artist's own CorridorKey, if installed: one small frame must come out finite."""
        nuke = self.nuke
        layout = layout_for()
        if not layout.is_installed():
            self.report.add("installed_node", SKIPPED, "no CorridorKey node is installed in %s" % layout.root,
                            [selftest_report.RENDERING])
            return
        activate(layout.root)
        try:
            with nuke.root():
                node = getattr(nuke.nodes, contract.MODEL_ID)()
        except RuntimeError as exc:
            self.report.add("installed_node", FAIL, "the installed node cannot be created: %s" % exc,
                            [selftest_report.RENDERING])
            return
        node.setInput(0, plate)
        node.setInput(1, plate)
        try:
            got = self.render(node)
        except CannotRender as exc:
            self.report.add("installed_node", SKIPPED, str(exc), [selftest_report.RENDERING])
            return
        except RuntimeError as exc:
            self.report.add("installed_node", FAIL, "the installed node does not render: %s" % exc,
                            [selftest_report.RENDERING, selftest_report.LIBTORCH_LOADS])
            return
        finite = all(v == v and abs(v) < 1e6 for pixel in got for v in pixel)
        self.report.add("installed_node", PASS if finite else FAIL, "the installed CorridorKey in %s rendered "
                        "a %dx%d frame %s" % (layout.root, selftest.WIDTH, selftest.HEIGHT,
                                             "with finite pixels" if finite else "with NaN or huge values"),
                        [selftest_report.RENDERING, selftest_report.LIBTORCH_LOADS], {"install_dir": layout.root})

    def run(self, data_dir: str) -> None:
        nuke = self.nuke
        self.step("reading the self-test model", 2)
        try:
            manifest, expected = selftest_report.load_shipped_model(data_dir)
        except selftest_report.SelfTestFileError as exc:
            self.report.add("selftest_model", FAIL, str(exc))
            return
        self.step("plugin path", 5)
        self.plugin_folder()
        self.tcl_versions()
        self.step("building the .cat", 10)
        cat = self.build_cat(manifest)
        if cat is not None:
            self.step("CatFileCreator on a bad file", 20)
            self.cat_failure(manifest)
        nuke.addFormat("%d %d 1 %s" % (selftest.WIDTH, selftest.HEIGHT, selftest.MODEL_ID))
        self.step("plates", 25)
        plates = {name: self.plate(name) for name in selftest.PLATES}
        node = None
        if cat is not None:
            self.step("creating the gizmo", 30)
            node = self.create_gizmo(manifest, cat)
            self.gizmo_reread(manifest)
        if node is not None:
            for knob in panel_knobs(manifest.knobs):
                _set(node[knob.name], knob.kind, knob.default)
            self.step("rendering the defaults", 35)
            self.pixels("render_default", node, plates, expected["outputs"][selftest.DEFAULT_SETTING],
                        selftest.PIXEL_TOLERANCE)
            self.gpu(node)
            self.knobs(node, manifest, plates, expected)
            self.hint(node, plates)
            self.step("the gizmo's Asserts", 91)
            self.asserts(manifest, node)
        self.step("the installed CorridorKey", 92)
        self.installed_node(plates["constant"])


def _inference_in(node: Any) -> Any:
    """The gizmo's network node (any Inference node in a gizmo from another version of the writer)."""
    named = node.node(NETWORK_NODE)
    if named is not None and named.Class() == "Inference":
        return named
    found = [n for n in node.nodes() if n.Class() == "Inference"]
    return found[0] if found else None


def _text(knob: Any) -> Optional[str]:
    return None if knob is None else str(knob.value())


def _error_text(node: Any, message: bool = False) -> str:
    """Which child of `node` has an error (with an Assert's message when `message`)."""
    for child in node.nodes():
        if child.hasError():
            said = child.knob("message") if message and child.Class() == "Assert" else None
            return "%s has an error%s" % (child.name(), ": " + str(said.value()) if said is not None else "")
    return ""


def run_selftest(report_path: Optional[str] = None,
                 probes: Sequence[Callable[[selftest_report.Report], None]] = ()) -> Tuple[selftest_report.Report, str]:
    """Runs every check on Nuke's main thread, cleans up, writes the JSON report; returns it and its path.

    `probes` are checks of the layers above (the menu's), each adding to the report; run after the others."""
    import nuke

    report = selftest_report.Report(environment(nuke))
    path = report_path or selftest_report.default_report_path()
    workdir = tempfile.mkdtemp(prefix="corridorkey-selftest-")
    before = root_node_names(nuke)
    progress = nuke.ProgressTask("CorridorKey self-test")
    session = Session(nuke, report, workdir, progress)
    try:
        session.run(selftest.data_dir(plugin_root()))
        for probe in probes:
            session.step(getattr(probe, "__name__", "probe"), 96)
            probe(report)
    except Cancelled as exc:
        report.add("progress_cancel", PASS, "Cancel stopped the self-test after '%s' (isCancelled() became "
                   "True); the remaining checks did not run" % exc, [selftest_report.PROGRESS_CANCEL])
    except Exception as exc:  # the report must still be written, with what went wrong
        report.add("internal", FAIL, "%s: %s\n%s" % (type(exc).__name__, exc, traceback.format_exc()))
    else:
        report.add("progress_cancel", SKIPPED, "not cancelled: press Cancel on the progress bar during a "
                   "self-test to check how ProgressTask cancels", [selftest_report.PROGRESS_CANCEL])
    finally:
        del progress, session
        report.cleanup = _clean_up(nuke, before, workdir)
    report.write(path)
    return report, path


def _clean_up(nuke: Any, before: Set[str], workdir: str) -> Dict[str, Any]:
    deleted = delete_nodes_made_since(nuke, before)
    shutil.rmtree(workdir, ignore_errors=True)
    return {"deleted_nodes": deleted, "removed_folder": workdir, "folder_left": os.path.exists(workdir),
            "left_in_session": ["%s on the plugin path (Nuke cannot remove a plugin path)" % workdir,
                                "the %s format and node class (Nuke cannot forget them)" % selftest.MODEL_ID]}

