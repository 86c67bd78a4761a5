"""The whole Build Model tail against the fake: an export (the shipped self-test model as CorridorKey) -> .cat ->
installed gizmo -> node in the script."""
import hashlib
import json
import os
import re
import threading

import pytest

from nuke_plugin import contract
from nuke_plugin.contract.knob_spec import BOOL, ENUM, KNOBS
from nuke_plugin.contract.node_graph import NETWORK_HELD
from nuke_plugin.core.cattery import default_install_dir, layout_for
from nuke_plugin.core.errors import BuildDeclined, CatBuildError, EditionError, ManifestError
from nuke_plugin.core.gizmo import gizmo_knob_names, gizmo_text
from nuke_plugin.core.manifest import read_manifest
from nuke_plugin.host.finish import finish_build, model_info
from tests.fake_nuke import read_fake_cat
from tests.fake_nuke.exports import clone_export, link_or_copy
from tests.gizmo_validator import validate_gizmo


def _snapshot(folder):
    """Name -> sha256 of every file under folder (to prove that nothing changed)."""
    found = {}
    for base, _, names in os.walk(str(folder)):
        for name in names:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, str(folder))] = hashlib.sha256(handle.read()).hexdigest()
    return found


def test_build_installs_the_node_and_drops_it_on_the_selection(fake_nuke, stand_in_export):
    plate = fake_nuke.nodes.Read(file="/shots/plate.####.exr")
    plate.setSelected(True)
    installed_when_called = []
    folder = layout_for(None).folder
    result = finish_build(str(stand_in_export.directory),
                          on_installed=lambda: installed_when_called.append(sorted(os.listdir(folder))))

    layout = layout_for(None)
    assert result.install_dir == default_install_dir() == layout.root
    assert os.listdir(layout.root) == ["Cattery"]  # Nuke's Cattery menu finds Cattery/CorridorKey/cat.json
    assert sorted(os.listdir(layout.folder)) == sorted(
        [contract.GIZMO_NAME, contract.CAT_NAME, "cat.json", "CorridorKey.png", "CorridorKey@2x.png",
         contract.MANIFEST_NAME])
    assert result.replaced is False

    # The .cat holds the export's model and the manifest's knobs.
    cat = read_fake_cat(layout.cat)
    assert cat["torchScript_sha256"] == json.loads(stand_in_export.manifest.read_text())["model_sha256"]
    assert [k["name"] for k in cat["knobs"]] == [k.name for k in KNOBS]
    # The gizmo is valid and says which export it runs; cat.json names the Nuke that built it.
    doc = validate_gizmo(open(layout.gizmo).read())
    # byte for byte what the generator writes (tests/golden/CorridorKey.gizmo pins the generator itself)
    manifest = read_manifest(str(stand_in_export.directory))
    built = doc.knob("build_date").text
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", built) and built[:4] >= "2025"
    assert open(layout.gizmo, "rb").read() == gizmo_text(manifest.knobs, info=model_info(manifest),
                                                         built=built).encode("utf-8")
    assert "%d px" % stand_in_export.resolution in doc.knob("model_info").text
    assert json.loads(open(layout.cat_json).read())["minimum_nuke_version_required"] == 15.1

    # Nuke can find it now and after a restart; the caller's on_installed ran once, with everything in place.
    assert fake_nuke.pluginPath()[:2] == [layout.folder.replace(os.sep, "/"), layout.root.replace(os.sep, "/")]
    assert installed_when_called == [sorted(os.listdir(layout.folder))]

    # The dropped node: connected to the plate, model found through the plugin path, knobs linked.
    node = result.node
    assert node.Class() == contract.MODEL_ID and node.input(0) is plate
    assert fake_nuke.selectedNodes() == [node]
    assert not node.hasError(), node.error_message()
    assert [k.name() for k in node.user_knobs() if k.Class() not in ("Tab_Knob", "Text_Knob")] == gizmo_knob_names()
    inference = node.node("Inference1")
    assert inference.fake_cat_path == layout.cat
    for spec in KNOBS:
        if spec.kind == ENUM:
            new = spec.items[-1]
        else:
            new = (not spec.default) if spec.kind == BOOL else spec.high
        node[spec.name].setValue(new)
        # despill is applied by the Despill node after the network: the Inference node holds the model's own off
        assert inference[spec.name].value() == NETWORK_HELD.get(spec.name, new)
    node["halfPrecision"].setValue(True)
    assert inference["halfPrecision"].value() is True

    # Only the user's plate and the new node are in the script: no CatFileCreator or stray Inference.
    assert fake_nuke.allNodes() == [plate, node]
    assert fake_nuke.dialogs == []


def test_a_second_build_asks_and_replaces_when_the_user_agrees(fake_nuke, stand_in_export, tmp_path):
    finish_build(str(stand_in_export.directory), drop=False)
    layout = layout_for(None)
    os.utime(layout.cat, (1, 1))
    fake_nuke.fake_answer("ask", True)
    result = finish_build(str(stand_in_export.directory), drop=False)
    assert result.replaced and result.node is None
    assert os.path.getmtime(layout.cat) > 1
    assert "already installed" in fake_nuke.fake_dialogs_of("ask")[0]
    assert fake_nuke.allNodes() == []
    assert not [n for n in os.listdir(layout.folder) if ".partial-" in n]


def test_declining_the_replacement_changes_nothing(fake_nuke, stand_in_export):
    finish_build(str(stand_in_export.directory), drop=False)
    before = _snapshot(layout_for(None).root)
    events_before = len(fake_nuke.events)
    fake_nuke.fake_answer("ask", False)
    with pytest.raises(BuildDeclined, match="Nothing was changed"):
        finish_build(str(stand_in_export.directory))
    assert _snapshot(layout_for(None).root) == before
    assert fake_nuke.allNodes() == []
    assert [e for e in fake_nuke.events[events_before:] if e[0] == "create"] == []


def test_install_dir_from_argument_and_from_env(fake_nuke, stand_in_export, tmp_path, monkeypatch):
    result = finish_build(str(stand_in_export.directory), install_dir=str(tmp_path / "shared"), drop=False)
    assert result.install_dir == str(tmp_path / "shared")
    assert os.path.isfile(str(tmp_path / "shared" / "Cattery" / contract.MODEL_ID / contract.CAT_NAME))
    monkeypatch.setenv("CORRIDORKEY_INSTALL_DIR", str(tmp_path / "studio"))
    result = finish_build(str(stand_in_export.directory), drop=False)
    assert result.install_dir == str(tmp_path / "studio")
    assert not os.path.exists(os.path.join(fake_nuke.fake_home, ".nuke", contract.MODEL_ID))


def test_plain_nuke_is_refused_before_anything_happens(plain_nuke, stand_in_export):
    with pytest.raises(EditionError, match="NukeX"):
        finish_build(str(stand_in_export.directory))
    assert not os.path.exists(default_install_dir())
    assert plain_nuke.allNodes() == []


def test_missing_and_malformed_manifests_are_refused(fake_nuke, stand_in_export, tmp_path):
    with pytest.raises(ManifestError, match="No CorridorKey.json"):
        finish_build(str(tmp_path))
    folder = clone_export(stand_in_export.manifest, tmp_path / "bad", lambda d: d.update(channels_in=["rgba.r"]))
    with pytest.raises(ManifestError, match="channel names"):
        finish_build(str(folder))
    (folder / contract.MANIFEST_NAME).write_text("{")
    with pytest.raises(ManifestError, match="JSON"):
        finish_build(str(folder))
    assert not os.path.exists(default_install_dir())


def test_a_failing_catfilecreator_leaves_the_previous_install(fake_nuke, stand_in_export, tmp_path, tiny_model):
    finish_build(str(stand_in_export.directory), drop=False)
    layout = layout_for(None)
    before = _snapshot(layout.root)

    def no_checksum(data):
        data.pop("model_sha256")
    folder = clone_export(stand_in_export.manifest, tmp_path / "broken", no_checksum)
    os.remove(str(folder / contract.PT_NAME))
    link_or_copy(tiny_model("MissingAttributeModel"), folder / contract.PT_NAME)
    fake_nuke.fake_answer("ask", True)
    with pytest.raises(CatBuildError, match="parameter refiner_strength not found"):
        finish_build(str(folder))
    assert _snapshot(layout.root) == before
    assert fake_nuke.allNodes() == []


def test_a_failed_first_build_leaves_no_empty_install_folder(fake_nuke, stand_in_export, tmp_path, tiny_model):
    def no_checksum(data):
        data.pop("model_sha256")
    folder = clone_export(stand_in_export.manifest, tmp_path / "broken", no_checksum)
    os.remove(str(folder / contract.PT_NAME))
    link_or_copy(tiny_model("MissingAttributeModel"), folder / contract.PT_NAME)
    install = tmp_path / "new" / "studio" / "CorridorKey"
    with pytest.raises(CatBuildError):
        finish_build(str(folder), install_dir=str(install))
    assert not (tmp_path / "new").exists()  # every folder the build created is gone again
    (tmp_path / "kept").mkdir()
    with pytest.raises(CatBuildError):
        finish_build(str(folder), install_dir=str(tmp_path / "kept" / "CorridorKey"))
    assert os.listdir(str(tmp_path / "kept")) == []  # the user's folder stays, only ours went


def test_from_a_worker_thread_it_runs_through_execute_in_main_thread(fake_nuke, stand_in_export):
    outcome = {}

    def worker():
        try:
            finish_build(str(stand_in_export.directory))
        except RuntimeError as exc:
            outcome["direct"] = str(exc)
        outcome["result"] = fake_nuke.executeInMainThreadWithResult(
            finish_build, args=(str(stand_in_export.directory),), kwargs={"overwrite": True})

    thread = threading.Thread(target=worker)
    thread.start()
    fake_nuke.fake_run_event_loop(thread, timeout=300)
    assert "main thread" in outcome["direct"]
    assert outcome["result"].node.Class() == contract.MODEL_ID
