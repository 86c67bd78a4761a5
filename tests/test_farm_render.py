"""Render nodes with nothing but NUKE_PATH: a fresh home, no ~/.nuke, no CorridorKey variables, plain Nuke (a render
licence). The stand-in Nuke (tests/fake_nuke/executable.py) starts as Nuke starts, opens a saved .nk that uses the
node and renders it: every Nuke finds the gizmo and its own major version's .cat in the studio folder, a Nuke with
no build of its own gets the node's error, and a script keyed with another build stops with the mismatch message.

The torch-free tests lay the studio folder out directly (the plugin copied in, the fake .cat records a
CatFileCreator would write); the last builds it with the studio command itself and renders pixels."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from nuke_plugin import contract
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.core.build_set import BuildSet, Slot
from nuke_plugin.core.cattery import InstallLayout, cat_json_text
from nuke_plugin.core.gizmo import gizmo_text, node_knob
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.core.studio import copy_plugin
from tests.fake_nuke.catfile import write_fake_cat
from tests.fake_nuke.executable import make_executable

pytestmark = pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in Nuke executables")

BUILD, OTHER = 48213377, 51234567


def make_studio(folder, build=BUILD, majors=(14, 16)):
    """A studio folder as the studio command lays it out: the plugin, and a build per major version."""
    copy_plugin(plugin_root(), str(folder))
    layout = InstallLayout(str(folder))
    os.makedirs(layout.folder)
    slots = []
    for major in majors:
        write_fake_cat(layout.cat(build, major), "/exports/nuke%d/CorridorKey.pt" % major, KNOBS, "%d.0v1" % major)
        slots.append(Slot(major, "%d.0v1" % major))
    build_set = BuildSet(contract.MODEL_ID, build, tuple(slots))
    with open(layout.gizmo, "w") as handle:
        handle.write(gizmo_text(build_set))
    with open(layout.cat_json, "w") as handle:
        handle.write(cat_json_text(float(min(majors))))
    return layout


def write_script(path, out_dir, keyed_build=BUILD, despill=5):
    """A comp as Nuke saves it: two Constants for plate and hint, the CorridorKey node (only its non-default knobs,
    the build it was keyed with among them), a Write."""
    fmt = '"64 48 0 0 64 48 1 farm_test"'
    path.write_text("\n".join([
        "#! /usr/local/Nuke16.0v2/libnuke-16.0.2.so -nx", "version 16.0 v2", "Root {", " inputs 0",
        " name /shows/demo/sh010/comp_v001.nk", " first_frame 1", " last_frame 1", " format %s" % fmt, "}",
        "Constant {", " inputs 0", " color {0.25 0.65 0.3 1}", " format %s" % fmt, " name Plate", "}",
        "set Nplate [stack 0]",
        "Constant {", " inputs 0", " color {0 0 0 0.9}", " format %s" % fmt, " name RoughKey", "}",
        "push $Nplate",
        "CorridorKey {", " inputs 2", " despill_strength %g" % despill, " keyed_build %d" % keyed_build,
        " name CorridorKey1", " xpos 0", " ypos 100", "}",
        "Write {", " file %s/matte.####.exr" % str(out_dir).replace(os.sep, "/"), " file_type exr", " name Write1",
        "}", ""]))
    return path


def render(nuke, script, home, nuke_path, *flags):
    """`Nuke [flags] -x -F 1 script.nk` with the environment of a render node: HOME, PATH and NUKE_PATH only."""
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "NUKE_PATH": nuke_path}
    return subprocess.run([str(nuke)] + list(flags) + ["-x", "-F", "1", str(script)], env=env, cwd=str(home),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300)


@pytest.fixture
def farm(tmp_path):
    home = tmp_path / "renderuser"
    home.mkdir()
    out = tmp_path / "renders"
    out.mkdir()
    return home, out


@pytest.mark.parametrize("version, loads", [("14.0v5", 14), ("16.0v2", 16), ("16.1v1", 16), ("15.1v3", None),
                                            ("17.0v1", None)])
def test_a_render_node_with_only_nuke_path_renders_with_its_own_majors_build(tmp_path, farm, version, loads):
    home, out = farm
    layout = make_studio(tmp_path / "studio")
    nuke = make_executable(str(tmp_path / ("Nuke" + version)), version, edition="nuke")  # a render licence
    run = render(nuke, write_script(tmp_path / "comp.nk", out), home, layout.root, "--gpu")
    said = run.stdout + run.stderr
    # the plugin came from the studio folder, through its init.py: nothing in the render user's home
    assert "nuke_plugin from %s" % os.path.join(layout.root, "nuke_plugin") in run.stdout, said
    assert os.listdir(str(home)) == []
    if loads:
        assert run.returncode == 0, said
        assert "checked Write1 frame 1" in run.stdout
        assert "CorridorKey1.Inference1 loaded %s (model /exports/nuke%d/CorridorKey.pt)" % (
            layout.cat(BUILD, loads), loads) in run.stdout
    else:
        assert run.returncode == 1 and "loaded" not in run.stdout, said
        assert ("ERROR: CorridorKey1: BuildForThisNuke: CorridorKey: this install has no build for this Nuke's "
                "major version (it has builds for Nuke 14, 16)") in run.stderr


def test_a_script_keyed_with_another_build_stops_with_the_mismatch_message(tmp_path, farm):
    """The workstation keyed the comp with build OTHER; the farm's studio folder holds BUILD. Whichever install
    comes first on NUKE_PATH decides; another build's .cat is never loaded in its place."""
    home, out = farm
    farm_studio = make_studio(tmp_path / "farm_studio", BUILD)
    workstation = make_studio(tmp_path / "workstation", OTHER)
    script = write_script(tmp_path / "comp.nk", out, keyed_build=OTHER)
    nuke = make_executable(str(tmp_path / "Nuke16.0"), "16.0v2")
    message = ("ERROR: CorridorKey1: SameBuild: CorridorKey: this node was keyed with another build than build %d, "
               "which is installed here" % BUILD)
    run = render(nuke, script, home, farm_studio.root)
    assert run.returncode == 1 and message in run.stderr, run.stdout + run.stderr
    # both installs on the path, the farm's first: the same message, not the other build's matte
    run = render(nuke, script, home, os.pathsep.join([farm_studio.root, workstation.root]))
    assert run.returncode == 1 and message in run.stderr and "loaded" not in run.stdout, run.stdout + run.stderr
    # the workstation's install first: its gizmo and its own .cat, whatever else is on the path
    run = render(nuke, script, home, os.pathsep.join([workstation.root, farm_studio.root]))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "loaded %s" % workstation.cat(OTHER, 16) in run.stdout
    # a script from before build IDs (nothing recorded) renders with whichever build is found
    run = render(nuke, write_script(tmp_path / "old.nk", out, keyed_build=0), home, farm_studio.root)
    assert run.returncode == 0 and "loaded %s" % farm_studio.cat(BUILD, 16) in run.stdout


def test_without_its_install_on_nuke_path_the_node_is_unknown(tmp_path, farm):
    """What the issue found on farms: the render user has no install, so the script cannot even be loaded."""
    home, out = farm
    nuke = make_executable(str(tmp_path / "Nuke16.0"), "16.0v2")
    run = render(nuke, write_script(tmp_path / "comp.nk", out), home, str(tmp_path / "elsewhere"))
    assert run.returncode == 1 and "CorridorKey: unknown command" in run.stderr


CATTERY_PROBE = """
import json, os, nuke
# Foundry's Cattery menu (nukescripts/cattery.py, Nuke 15): every plugin-path folder with a child named `cattery`
# (any case) is walked for cat.json; an entry is listed when this Nuke is no older than minimum_nuke_version_required
# (a float against MAJOR.MINOR), and made with its folder on the plugin path and nuke.createNode(filepath).
running = float("%d.%d" % (nuke.NUKE_VERSION_MAJOR, nuke.NUKE_VERSION_MINOR))
listed = []
for folder in nuke.pluginPath():
    if not os.path.isdir(folder):
        continue
    for child in os.listdir(folder):
        if child.lower() != "cattery":
            continue
        for root, _dirs, files in os.walk(os.path.join(folder, child)):
            if "cat.json" in files:
                data = json.load(open(os.path.join(root, "cat.json")))
                if running >= float(data["minimum_nuke_version_required"]):
                    listed += [(root, cat["name"], cat["filepath"], data["category"]) for cat in data["cats"]]
made = []
for root, name, filepath, category in listed:
    nuke.pluginAddPath(root)
    node = nuke.createNode(filepath)
    made.append([name, category, node.Class(), int(node["keyed_build"].value())])
print("PROBE " + json.dumps({"nodes_menu": nuke.menu("Nodes").walk(), "nuke_menu": nuke.menu("Nuke").walk(),
                             "cattery": made}))
"""


@pytest.mark.parametrize("version, listed", [("16.0v2", True), ("14.0v5", True), ("13.2v8", False)])
def test_a_workstation_with_only_nuke_path_lists_the_node_in_the_nodes_and_cattery_menus(tmp_path, farm, version,
                                                                                           listed):
    home, _out = farm
    layout = make_studio(tmp_path / "studio")
    probe = tmp_path / "probe.py"
    probe.write_text(CATTERY_PROBE)
    nuke = make_executable(str(tmp_path / ("Nuke" + version)), version, edition="nukex", gui=True)
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "NUKE_PATH": layout.root}
    run = subprocess.run([str(nuke), "-t", str(probe)], env=env, cwd=str(home), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    (line,) = [x for x in run.stdout.splitlines() if x.startswith("PROBE ")]
    menus = json.loads(line[len("PROBE "):])
    assert menus["nodes_menu"] == ["CorridorKey", "CorridorKey/CorridorKey"]
    assert "CorridorKey/Build Model" in menus["nuke_menu"]
    # the Cattery menu lists it from Nuke 14.0 on (its oldest build), made keyed with the installed build
    assert menus["cattery"] == ([["CorridorKey", "Segmentation", "CorridorKey", BUILD]] if listed else [])
    assert os.listdir(str(home)) == []


# ---- the studio command end to end, then pixels --------------------------------------------------------------------


@pytest.fixture(scope="module")
def studio_built(tmp_path_factory, stand_in_export):
    """`python -m nuke_plugin.studio` with two stand-in NukeX (14.0v5, 16.0v2); the exports it needs are found in
    --export-dir (copies of the stand-in export: the shipped self-test model, no torch), so no export runs."""
    base = tmp_path_factory.mktemp("studio_cli")
    home = base / "td"
    home.mkdir()
    exports = base / "exports"
    for key in ("nuke14", "nuke16"):
        (exports / key).mkdir(parents=True)
        for source in (stand_in_export.pt, stand_in_export.manifest):
            shutil.copy(str(source), str(exports / key / source.name))
    nukes = [make_executable(str(base / name), version, edition="nukex")
             for name, version in (("Nuke14.0", "14.0v5"), ("Nuke16.0", "16.0v2"))]
    studio = base / "shared" / "CorridorKey"
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "PYTHONPATH": plugin_root()}
    args = [sys.executable, "-m", "nuke_plugin.studio", str(studio), "--checkpoint", str(stand_in_export.checkpoint),
            "--resolution", str(stand_in_export.resolution), "--export-dir", str(exports), "--skip-probe",
            "--windows-path", "S:\\CorridorKey"] + sum((["--nuke", n] for n in nukes), [])
    run = subprocess.run(args, env=env, cwd=str(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=900)
    return studio, run, stand_in_export, base


def test_the_studio_command_lays_out_the_plugin_and_a_build_per_major(studio_built):
    studio, run, exported, _base = studio_built
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    build = json.loads(exported.manifest.read_text())["build_id"]
    layout = InstallLayout(str(studio))
    assert [(f.build_id, f.major) for f in layout.slot_files()] == [(build, 14), (build, 16)]
    (build_set,) = layout.build_sets().values()
    assert [s.built_in for s in build_set.slots] == ["14.0v5", "16.0v2"]
    for name in ("init.py", "menu.py", "nuke_plugin/host/plugin_path.py", "exporter/__main__.py", "README.md"):
        assert (studio / name).is_file(), name
    assert not list(studio.rglob("__pycache__")) or all("Cattery" not in str(p) for p in studio.rglob("*.pyc"))
    assert "Reusing the export in" in run.stdout and "Exporting" not in run.stdout
    assert "Build %d:\n  Nuke 14 (made in Nuke 14.0v5)" % build in run.stdout
    assert 'export NUKE_PATH="%s${NUKE_PATH:+:$NUKE_PATH}"' % studio in run.stdout
    assert 'set "NUKE_PATH=S:\\CorridorKey;%NUKE_PATH%"' in run.stdout
    assert "--gpu" in run.stdout


def test_running_it_again_skips_the_builds_that_are_there(studio_built):
    studio, first, exported, base = studio_built
    assert first.returncode == 0
    home = base / "td"
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "PYTHONPATH": plugin_root()}
    run = subprocess.run([sys.executable, "-m", "nuke_plugin.studio", str(studio), "--checkpoint",
                          str(exported.checkpoint), "--resolution", str(exported.resolution), "--export-dir",
                          str(base / "exports"), "--skip-probe", "--nuke", str(base / "Nuke16.0")], env=env,
                         cwd=str(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Nuke 16: build" in run.stdout and "is there already" in run.stdout
    assert "Plugin %s in %s (0 files written" % (contract.VERSION, studio) in run.stdout


@pytest.mark.export  # the test renderer runs the model with torch
@pytest.mark.parametrize("version, major", [("16.0v2", 16), ("14.0v5", 14)])
def test_a_render_node_renders_a_frame_with_its_own_build(studio_built, tmp_path, version, major):
    """Pixels through the stand-in renderer: the alpha the node writes is the model's, run with the knob value the
    script saved (Despill Strength 5), loaded from the .cat built in this Nuke's major version."""
    import numpy as np
    import torch

    studio, built, exported, _base = studio_built
    assert built.returncode == 0
    home = tmp_path / "renderuser"
    home.mkdir()
    out = tmp_path / "renders"
    out.mkdir()
    build = json.loads(exported.manifest.read_text())["build_id"]
    nuke = make_executable(str(tmp_path / ("Nuke" + version)), version, edition="nuke", render=True)
    run = render(nuke, write_script(tmp_path / "comp.nk", out, keyed_build=build), home, str(studio))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    cat = InstallLayout(str(studio)).cat(build, major)
    assert "CorridorKey1.Inference1 loaded %s" % cat in run.stdout
    assert os.listdir(str(home)) == []
    frame = np.load(str(out / "matte.0001.exr.npy"))
    assert frame.shape == (4, 48, 64) and np.isfinite(frame).all()
    module = torch.jit.load(json.loads(open(cat).read())["torchScriptFile"], map_location="cpu")
    for spec in map(node_knob, KNOBS):  # the node's values: its defaults, and the one the script saved
        setattr(module, spec.name, float(spec.default) if spec.torch_type == "float" else int(spec.default))
    module.despill_strength = 5.0
    plate = torch.tensor([0.25, 0.65, 0.3, 0.9]).view(1, 4, 1, 1).expand(1, 4, 48, 64).contiguous()

    def premultiplied_linear():  # the gizmo's Colorspace (sRGB -> linear) and Premult on the model's output
        with torch.no_grad():
            out = module(plate)[0].double().numpy()
        rgb = np.where(out[:3] <= 0.04045, out[:3] / 12.92, ((np.maximum(out[:3], 0.04045) + 0.055) / 1.055) ** 2.4)
        return np.concatenate([rgb * out[3:4], out[3:4]])

    assert np.abs(frame - premultiplied_linear()).max() < 1e-4
    module.despill_strength = 0.0  # the saved value made a difference, so the check above can fail
    assert np.abs(frame[:3] - premultiplied_linear()[:3]).max() > 1e-3
