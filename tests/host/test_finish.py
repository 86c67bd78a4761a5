"""The whole Build Model tail against the fake: an export (the shipped self-test model as CorridorKey) -> .cat ->
installed gizmo -> node in the script."""
import hashlib
import json
import os
import re
import threading

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import builds
from nuke_plugin.contract.knob_spec import BOOL, ENUM, KNOBS, STAGE_KNOBS
from nuke_plugin.contract.node_graph import CLEAN_UP_NODE, NETWORK_NODE, clean_up_held, network_held
from nuke_plugin.core.build_set import BuildSet, Slot, summary
from nuke_plugin.core.cattery import default_install_dir, layout_for
from nuke_plugin.core.errors import BuildDeclined, CatBuildError, EditionError, InstallError, ManifestError
from nuke_plugin.core.gizmo import gizmo_knob_names, gizmo_text
from nuke_plugin.core.manifest import read_manifest
from nuke_plugin.host.finish import finish_build
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
    manifest = read_manifest(str(stand_in_export.directory))
    build = manifest.build_id
    assert builds.is_build_id(build) and (result.build_id, result.nuke_major) == (build, 15)
    assert result.install_dir == default_install_dir() == layout.root
    assert os.listdir(layout.root) == ["Cattery"]  # Nuke's Cattery menu finds Cattery/CorridorKey/cat.json
    assert sorted(os.listdir(layout.folder)) == sorted(
        [contract.GIZMO_NAME, "CorridorKey_%d_n15.cat" % build, "cat.json", "CorridorKey.png", "CorridorKey@2x.png",
         "CorridorKey_%d_n15.json" % build])
    assert result.replaced is False

    # The .cat holds the export's model and the manifest's knobs; the installed manifest says who built the .cat.
    cat = read_fake_cat(layout.cat(build, 15))
    assert cat["torchScript_sha256"] == json.loads(stand_in_export.manifest.read_text())["model_sha256"]
    assert [k["name"] for k in cat["knobs"]] == [k.name for k in KNOBS]
    installed = read_manifest(layout.manifest(build, 15), require_model=False)
    assert (installed.build_id, installed.built_in_nuke, installed.model_sha256) == (build, "15.1v3",
                                                                                      manifest.model_sha256)
    # The gizmo is valid and says which build it runs; cat.json names the Nuke that built it.
    doc = validate_gizmo(open(layout.gizmo).read())
    # byte for byte what the generator writes (tests/golden/CorridorKey.gizmo pins the generator itself)
    built = doc.knob("build_date").text
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", built) and built[:4] >= "2025"
    expected = BuildSet(contract.MODEL_ID, build, (Slot(15, "15.1v3", summary(manifest)),))
    assert open(layout.gizmo, "rb").read() == gizmo_text(expected, manifest.knobs, built=built).encode("utf-8")
    assert "%d px" % stand_in_export.resolution in doc.knob("builds").text
    assert doc.header_values["installed_build"].text == str(build)
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
    assert node["keyed_build"].value() == build  # keyed with the build it was made with
    inference = node.node(NETWORK_NODE)
    clean_up = node.node(CLEAN_UP_NODE)
    assert inference.fake_cat_path == clean_up.fake_cat_path == layout.cat(build, 15)
    for spec in KNOBS:
        if spec.name in STAGE_KNOBS:  # not on the panel: each Inference node holds its own
            assert (inference[spec.name].value(), clean_up[spec.name].value()) == (False, True)
            continue
        if spec.kind == ENUM:
            new = spec.items[-1]
        else:
            new = (not spec.default) if spec.kind == BOOL else spec.high
        node[spec.name].setValue(new)
        # every knob reaches one Inference node; the other holds it (despill: the Despill node applies it)
        for stage, held in ((inference, network_held(KNOBS)), (clean_up, clean_up_held(KNOBS))):
            want = held.get(spec.name, new)
            if spec.kind == ENUM and not isinstance(want, str):
                want = spec.items[want]
            assert stage[spec.name].value() == (bool(want) if spec.kind == BOOL else want), (stage.name(), spec.name)
    node["halfPrecision"].setValue(True)
    assert inference["halfPrecision"].value() is True

    # Only the user's plate and the new node are in the script: no CatFileCreator or stray Inference.
    assert fake_nuke.allNodes() == [plate, node]
    assert fake_nuke.dialogs == []


def test_a_second_build_asks_and_replaces_when_the_user_agrees(fake_nuke, stand_in_export, tmp_path):
    first = finish_build(str(stand_in_export.directory), drop=False)
    layout = layout_for(None)
    cat = layout.cat(first.build_id, 15)
    os.utime(cat, (1, 1))
    fake_nuke.fake_answer("ask", True)
    result = finish_build(str(stand_in_export.directory), drop=False)
    assert result.replaced and result.node is None
    assert os.path.getmtime(cat) > 1
    assert "build for Nuke 15 is already installed" in fake_nuke.fake_dialogs_of("ask")[0]
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
    assert os.path.isfile(layout_for(str(tmp_path / "shared")).cat(result.build_id, 15))
    monkeypatch.setenv("CORRIDORKEY_INSTALL_DIR", str(tmp_path / "studio"))
    result = finish_build(str(stand_in_export.directory), drop=False)
    assert result.install_dir == str(tmp_path / "studio")
    assert not os.path.exists(os.path.join(fake_nuke.fake_home, ".nuke", contract.MODEL_ID))


def test_plain_nuke_is_refused_before_anything_happens(plain_nuke, stand_in_export):
    with pytest.raises(EditionError, match="NukeX"):
        finish_build(str(stand_in_export.directory))
    assert not os.path.exists(default_install_dir())
    assert plain_nuke.allNodes() == []


def test_a_build_this_nuke_cannot_load_is_refused_naming_both_versions(fake_nuke, stand_in_export, tmp_path):
    """A fused build (Nuke 15.1+) installed from Nuke 14 would fail at render time: nothing is installed."""
    fused = clone_export(stand_in_export.manifest, tmp_path / "fused",
                         lambda d: d.update(loads_in_nuke=["nuke15.1", "nuke16"], target_nuke="nuke16"))
    fake_nuke.fake_set_version(14, 0, 5)
    with pytest.raises(InstallError, match=r"loads in Nuke 15\.1 / 15\.2 and Nuke 16 / 17; this is Nuke 14\.0v5, "
                                           r"whose torch 1\.12\.1 cannot load it\..*Nothing was installed"):
        finish_build(str(fused))
    assert not os.path.exists(default_install_dir()) and fake_nuke.allNodes() == []
    fake_nuke.fake_set_version(16, 0, 2)
    assert finish_build(str(fused), drop=False).files


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


def test_each_nuke_major_version_adds_its_own_build_beside_the_others(fake_nuke, stand_in_export, tmp_path):
    """Build Model in Nuke 14 then in Nuke 16 into one folder: two .cat files of one build, one gizmo for both,
    no question asked; each Nuke's node loads its own .cat, and a Nuke 15 node says it has no build."""
    studio = str(tmp_path / "studio")
    fake_nuke.fake_set_version(14, 0, 5)
    first = finish_build(str(stand_in_export.directory), install_dir=studio, drop=False)
    fake_nuke.fake_set_version(16, 0, 2)
    second = finish_build(str(stand_in_export.directory), install_dir=studio, drop=False)
    assert fake_nuke.fake_dialogs_of("ask") == [] and not second.replaced
    layout = layout_for(studio)
    build = first.build_id
    assert second.build_id == build and [f.major for f in layout.slot_files()] == [14, 16]
    (build_set,) = layout.build_sets().values()
    assert [s.built_in for s in build_set.slots] == ["14.0v5", "16.0v2"]
    assert json.loads(open(layout.cat_json).read())["minimum_nuke_version_required"] == 14.0
    for major, minor, found in ((14, 0, 14), (16, 1, 16), (15, 1, None)):
        fake_nuke.fake_set_version(major, minor, 1)
        node = fake_nuke.createNode(contract.MODEL_ID)
        node.forceValidate()
        if found:
            assert not node.hasError(), node.error_message()
            assert node.node("Inference1").fake_cat_path == layout.cat(build, found)
        else:
            assert "no build for this Nuke's major version (it has builds for Nuke 14, 16)" in node.error_message()
        fake_nuke.delete(node)


def test_a_build_of_another_checkpoint_asks_then_takes_the_folder_over(fake_nuke, stand_in_export, tmp_path):
    studio = str(tmp_path / "studio")
    fake_nuke.fake_set_version(14, 0, 5)
    old = finish_build(str(stand_in_export.directory), install_dir=studio, drop=False)
    fake_nuke.fake_set_version(16, 0, 2)
    other = clone_export(stand_in_export.manifest, tmp_path / "other",
                         lambda d: d.update(checkpoint_sha256="0" * 64, build_id=None) or d.pop("build_id"))
    before = _snapshot(studio)
    fake_nuke.fake_answer("ask", False)
    with pytest.raises(BuildDeclined):
        finish_build(str(other), install_dir=studio, drop=False)
    assert "holds build %d for Nuke 14" % old.build_id in fake_nuke.fake_dialogs_of("ask")[0]
    assert _snapshot(studio) == before
    fake_nuke.fake_answer("ask", True)
    new = finish_build(str(other), install_dir=studio, drop=False)
    layout = layout_for(studio)
    assert new.build_id != old.build_id and new.replaced
    assert [(f.build_id, f.major) for f in layout.slot_files()] == [(new.build_id, 16)]
    assert sorted(os.path.basename(p) for p in new.removed) == ["CorridorKey_%d_n14.cat" % old.build_id,
                                                                 "CorridorKey_%d_n14.json" % old.build_id]
    assert new.left == []


def test_a_build_in_the_single_cat_layout_is_replaced_after_asking(fake_nuke, stand_in_export, tmp_path):
    layout = layout_for(None)
    os.makedirs(layout.folder)
    for name in (contract.CAT_NAME, contract.MANIFEST_NAME, contract.GIZMO_NAME):
        with open(os.path.join(layout.folder, name), "w") as handle:
            handle.write("old")
    fake_nuke.fake_answer("ask", True)
    result = finish_build(str(stand_in_export.directory), drop=False)
    assert "earlier version of the plugin" in fake_nuke.fake_dialogs_of("ask")[0] and result.replaced
    assert not os.path.exists(os.path.join(layout.folder, contract.CAT_NAME))
    assert not os.path.exists(os.path.join(layout.folder, contract.MANIFEST_NAME))
    assert layout.is_installed()
