"""Reading the exporter's manifest on the Nuke side: a sound pair is accepted, every broken one refused clearly."""
import json
import os
import shutil

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import manifest_schema, selftest
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.core.errors import ManifestError
from nuke_plugin.core.manifest import INFERENCE_CHANNELS, read_manifest
from nuke_plugin.core.paths import plugin_root
from tests.fake_nuke import NUKE_CHANNELS


@pytest.fixture
def export_dir(tmp_path, stand_in_export):
    """A folder as the exporter leaves it: the shipped self-test model and its exporter-written manifest."""
    folder = tmp_path / "export"
    folder.mkdir()
    for source in (stand_in_export.pt, stand_in_export.manifest):
        shutil.copy(str(source), str(folder / source.name))
    return folder


def _edit(folder, change):
    path = folder / contract.MANIFEST_NAME
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_a_sound_export_reads_back_with_the_spec_knobs(export_dir):
    manifest = read_manifest(str(export_dir))
    assert manifest.knobs == KNOBS
    assert manifest.model_path == str(export_dir / contract.PT_NAME)
    assert manifest.channels_in == contract.CHANNELS_IN and manifest.output_scale == contract.OUTPUT_SCALE
    assert manifest.resolution == json.loads((export_dir / contract.MANIFEST_NAME).read_text())["resolution"]
    manifest.verify_model_file()
    assert read_manifest(str(export_dir / contract.MANIFEST_NAME)) == manifest


def test_the_nukes_a_build_loads_in_are_read_and_older_manifests_are_judged_by_their_torches(export_dir):
    _edit(export_dir, lambda d: d.update(loads_in_nuke=["nuke14", "nuke15.1", "nuke16"]))
    manifest = read_manifest(str(export_dir))
    assert manifest.loads_in_nuke == ("nuke14", "nuke15.1", "nuke16") and manifest.target_nuke == ""
    _edit(export_dir, lambda d: d.update(loads_in_nuke=["nuke16"], target_nuke="nuke16"))
    assert read_manifest(str(export_dir)).loads_in_nuke == ("nuke16",)
    assert read_manifest(str(export_dir)).target_nuke == "nuke16"
    _edit(export_dir, lambda d: (d.pop("loads_in_nuke"), d.update(compatible_torch=["2.1.1", "2.7.1"])))
    assert read_manifest(str(export_dir)).loads_in_nuke == ("nuke15.1", "nuke16")
    _edit(export_dir, lambda d: d.pop("compatible_torch"))
    assert read_manifest(str(export_dir)).loads_in_nuke is None  # says nothing: nothing is refused for it


def test_plugin_and_fake_agree_on_nukes_channel_names():
    assert INFERENCE_CHANNELS == NUKE_CHANNELS


def test_missing_manifest_says_what_to_pick(tmp_path):
    with pytest.raises(ManifestError, match="No CorridorKey.json in .*run the export"):
        read_manifest(str(tmp_path))


def test_malformed_json(export_dir):
    (export_dir / contract.MANIFEST_NAME).write_text("{ not json")
    with pytest.raises(ManifestError, match="cannot be read as JSON.*Run the export again"):
        read_manifest(str(export_dir))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="something-else"), "not a CorridorKey export manifest"),
    (lambda d: d.update(format_version=manifest_schema.FORMAT_VERSION + 1), "newer exporter"),
    (lambda d: d.pop("model_file"), "no 'model_file'"),
    (lambda d: d.update(model_file="../elsewhere/CorridorKey.pt"), "file name beside the manifest"),
    (lambda d: d.update(model_file="Other.pt"), "Other.pt, which is missing"),
    (lambda d: d.update(channels_in=["rgba.red", "rgb.green"]), "channel names"),
    (lambda d: d.update(channels_out=[]), "channel names"),
    (lambda d: d.update(output_scale=0), "output_scale"),
    (lambda d: d.update(output_scale="1"), "should be int"),
    (lambda d: d.update(resolution=True), "should be int"),
    (lambda d: d.update(model_id=" "), "model_id is empty"),
    (lambda d: d["knobs"][0].pop("label"), "knob despill_strength: no 'label' entry"),
    (lambda d: d["knobs"][1].update(kind="slider"), "knob gamma_input: 'kind' should be one of float"),
    (lambda d: d.update(knobs=[]), "'knobs' is empty"),
    (lambda d: d["knobs"][1].update(items="sRGB"), "knob gamma_input: 'items' should be a list of choice names"),
    (lambda d: d["knobs"][1].update(items=[]), "knob gamma_input: 'items' should be a list"),
    (lambda d: d["knobs"][1].update(items=["sRGB", 2]), "knob gamma_input: 'items' should be a list"),
    (lambda d: d["knobs"][0].update(default=float("nan")), "knob despill_strength: 'default' should be a finite"),
    (lambda d: d["knobs"][0].update(default=float("inf")), "knob despill_strength: 'default' should be a finite"),
    (lambda d: d["knobs"][0].update(default="0"), "knob despill_strength: 'default' should be a finite"),
    (lambda d: d["knobs"][5].update(default=1.5), "knob despeckle_size: 'default' should be a finite whole"),
    (lambda d: d["knobs"][0].update(min=float("nan")), "knob despill_strength: 'min' should be a finite"),
    (lambda d: d["knobs"][2].pop("max"), "knob refiner_strength: 'max' should be a finite"),
    (lambda d: d["knobs"][0].update(min=10.0, max=0.0), r"knob despill_strength: 'min' \(10\) is above 'max' \(0\)"),
    (lambda d: d["knobs"][0].update(default=11.0), "knob despill_strength: 'default' 11 is outside 0-10"),
    (lambda d: d["knobs"][1].update(default=2), "knob gamma_input: 'default' 2 is outside 0-1"),
    (lambda d: d["knobs"][4].update(default=2), "knob auto_despeckle: 'default' 2 is outside 0-1"),
    (lambda d: d["knobs"].__setitem__(0, "despill"), "a knob entry should be an object"),
    (lambda d: d["knobs"][0].update(name="despill strength"), "not a valid attribute name"),
    (lambda d: d["knobs"][1].update(type="float"), "drives a int attribute"),
    (lambda d: d["knobs"].append(dict(d["knobs"][0])), "listed twice"),
])
def test_broken_manifests_are_refused(export_dir, change, message):
    _edit(export_dir, change)
    with pytest.raises(ManifestError, match=message) as caught:
        read_manifest(str(export_dir))
    assert "CatFileCreator" not in str(caught.value) and "torch" not in str(caught.value).lower()


def test_a_pt_from_another_export_is_caught_by_its_checksum(export_dir):
    (export_dir / contract.PT_NAME).write_bytes(b"a different file")
    manifest = read_manifest(str(export_dir))
    with pytest.raises(ManifestError, match="different exports"):
        manifest.verify_model_file()


# ---- wrong types and sizes, special files, fuzz: the shipped self-test pair, no torch needed ---------------------

SHIPPED = os.path.join(plugin_root(), "nuke_plugin", "selftest_model")


@pytest.fixture
def shipped_copy(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for name in (selftest.MANIFEST_NAME, selftest.PT_NAME):
        shutil.copyfile(os.path.join(SHIPPED, name), str(folder / name))
    return folder / selftest.MANIFEST_NAME


def _edited(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _nested(depth, leaf=0):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(compatible_torch="2.7.1"), "'compatible_torch' should be list"),
    (lambda d: d.update(compatible_torch=271), "'compatible_torch' should be list"),
    (lambda d: d.update(compatible_torch=["2.7.1", 2]), "'compatible_torch' should list text"),
    (lambda d: d.update(compatible_torch=_nested(500)), "'compatible_torch' should list text"),
    (lambda d: d.update(channels_in="rgba.red"), "'channels_in' should be list"),
    (lambda d: d.update(channels_out=4), "'channels_out' should be list"),
    (lambda d: d.update(channels_in=[["rgba.red"]]), "must list Nuke channel names"),
    (lambda d: d.update(knobs="despill_strength"), "'knobs' should be list"),
    (lambda d: d.update(knobs=7), "'knobs' should be list"),
    (lambda d: d.update(model_sha256=12), "'model_sha256' should be str"),
    (lambda d: d.update(torch_version=["2.7.1"]), "'torch_version' should be str"),
    (lambda d: d.update(created_utc={"y": 2025}), "'created_utc' should be str"),
    (lambda d: d.update(resolution=-2048), "never writes a model of that size: resolution -2048 is outside"),
    (lambda d: d.update(resolution=0), "never writes a model of that size"),
    (lambda d: d.update(resolution=10 ** 40), "never writes a model of that size"),
    (lambda d: d.update(resolution=2000), "not a multiple of 32"),
    (lambda d: d.update(output_scale=10 ** 40), "output_scale must be from 1 to 16"),
    (lambda d: d["knobs"][0].update(max=10 ** 400), "a number with 401 digits"),
    (lambda d: d["knobs"][0].update(default=1e308 * 10), "'default' should be a finite number"),
    (lambda d: d["knobs"][0].update(name=5), "a knob's 'name' should be text"),
    (lambda d: d["knobs"][0].update(label=["Despill"]), "'label' should be text"),
    (lambda d: d["knobs"][0].update(items="abc"), "'items' should be a list"),
    (lambda d: d["knobs"][0].update(tooltip=_nested(300)), "'tooltip' should be text"),
])
def test_fields_of_the_wrong_type_or_size_are_refused(shipped_copy, change, message):
    """Issue 19: a list given as a string was split into its characters, a number raised TypeError, a resolution the
    exporter never writes reached the node."""
    _edited(shipped_copy, change)
    with pytest.raises(ManifestError, match=message) as caught:
        read_manifest(str(shipped_copy))
    assert "Run the export again" in str(caught.value) and len(str(caught.value)) < 1000


@pytest.mark.parametrize("text, message", [
    ('{"format": "corridorkey-nuke-manifest", "validation": ' + "[" * 100000 + "]" * 100000 + "}", "nested too deeply"),
    ('{"format": "corridorkey-nuke-manifest", "resolution": 1' + "0" * 400 + "}", "digits"),
    ('{"format": "corridorkey-nuke-manifest", "x": "' + " " * (2 << 20) + '"}', "larger than"),
])
def test_a_manifest_that_would_exhaust_the_reader_is_refused(shipped_copy, text, message):
    shipped_copy.write_text(text)
    with pytest.raises(ManifestError, match=message):
        read_manifest(str(shipped_copy))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_manifest_or_model_that_is_not_a_file_never_blocks(shipped_copy):
    pt = shipped_copy.parent / selftest.PT_NAME
    manifest = read_manifest(str(shipped_copy))
    pt.unlink()
    os.mkfifo(str(pt))  # a pipe in the .pt's place: the checksum must not wait for a writer
    with pytest.raises(ManifestError, match="is a named pipe"):
        manifest.verify_model_file()
    shipped_copy.unlink()
    os.mkfifo(str(shipped_copy))
    with pytest.raises(ManifestError):
        read_manifest(str(shipped_copy))


def _mutations(rng, data):
    """Changes one value anywhere in the manifest to something hostile."""
    pool = [None, True, False, 0, -1, 1, 64, 2048, 10 ** 30, -10 ** 30, 1e308, -1e308, float("nan"), 0.5, "", "x",
            "rgba.red", "0" * 64, [], [1], ["a"], {}, {"a": []}, _nested(200), "x" * 10000, [[["rgba.red"]]],
            {"name": "a", "kind": "float"}, -0.0]
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key in node:
                walk(node[key], path + [key])
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, path + [index])

    walk(data, [])
    for _ in range(rng.randint(1, 3)):
        # half the time a top-level field (resolution, channels, compatible_torch...), else anywhere
        path = [rng.choice(list(data))] if rng.random() < 0.5 else rng.choice(paths[1:])
        target = data
        for key in path[:-1]:
            target = target[key]
        if rng.random() < 0.15 and isinstance(target, dict):
            target.pop(path[-1], None)
        else:
            target[path[-1]] = rng.choice(pool)
        paths.clear()
        walk(data, [])
    return data


def test_fuzzed_manifests_give_a_manifest_or_the_manifest_error(shipped_copy):
    """The way the checkpoint reader is fuzzed: hostile values anywhere in the structure, and damaged text. Every
    outcome is a manifest whose fields have the types the .cat builder and the gizmo use, or a ManifestError."""
    import copy
    import random

    rng = random.Random(1919)
    original = json.loads(shipped_copy.read_text())
    text_original = shipped_copy.read_text()
    accepted = 0
    for case in range(1000):
        if case % 3:
            shipped_copy.write_text(json.dumps(_mutations(rng, copy.deepcopy(original))))
        else:
            text = text_original
            for _ in range(rng.randint(1, 4)):
                where = rng.randrange(len(text))
                piece = rng.choice(["", "[", "]", "{", "}", '"', ",", "1e999", "-", "\\u0000", "9" * 30])
                text = text[:where] + piece + text[where + rng.randint(0, 5):]
            shipped_copy.write_text(text)
        try:
            manifest = read_manifest(str(shipped_copy))
        except ManifestError:
            continue
        accepted += 1
        data = json.loads(shipped_copy.read_text())  # what the file says: the reader must give exactly that
        assert manifest.resolution == data["resolution"] and manifest.output_scale == data["output_scale"], case
        assert manifest.channels_in == tuple(data["channels_in"]), case
        assert manifest.compatible_torch == tuple(data.get("compatible_torch", [])), case
        assert manifest.model_sha256 == data.get("model_sha256", ""), case
        assert contract.resolution_problem(manifest.resolution) is None, case
        assert 1 <= manifest.output_scale <= 16 and manifest.knobs and manifest.model_id.strip(), case
        assert all(isinstance(c, str) for c in manifest.channels_in + manifest.channels_out), case
        assert all(isinstance(v, str) for v in manifest.compatible_torch), case
        for value in (manifest.model_sha256, manifest.torch_version, manifest.created_utc):
            assert isinstance(value, str), case
        for knob in manifest.knobs:
            assert isinstance(knob.name, str) and isinstance(knob.label, str) and isinstance(knob.tooltip, str)
            assert all(isinstance(i, str) for i in knob.items), case
    assert accepted > 20  # harmless changes (an informative field, a tooltip) are still read
