"""Reading the exporter's manifest on the Nuke side: a sound pair is accepted, every broken one refused clearly."""
import hashlib
import json

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import manifest as schema
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.core.errors import ManifestError
from nuke_plugin.core.manifest import INFERENCE_CHANNELS, read_manifest
from tests.fake_nuke import NUKE_CHANNELS


@pytest.fixture
def export_dir(tmp_path, tiny_model):
    """A folder as the exporter leaves it, with the exporter's own manifest writer and a tiny scripted model."""
    from exporter.manifest import build_manifest, torchscript_file_version

    folder = tmp_path / "export"
    folder.mkdir()
    pt = tiny_model("GoodModel", filename=contract.PT_NAME)
    (folder / contract.PT_NAME).write_bytes(open(pt, "rb").read())
    sha = hashlib.sha256((folder / contract.PT_NAME).read_bytes()).hexdigest()
    data = build_manifest(str(folder / contract.PT_NAME), 128, str(tmp_path / "CK.pth"), "0" * 64, sha,
                          torchscript_file_version(str(folder / contract.PT_NAME)))
    (folder / contract.MANIFEST_NAME).write_text(json.dumps(data), encoding="utf-8")
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
    assert manifest.resolution == 128
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
    (lambda d: d.update(format_version=schema.FORMAT_VERSION + 1), "newer exporter"),
    (lambda d: d.pop("model_file"), "no 'model_file'"),
    (lambda d: d.update(model_file="../elsewhere/CorridorKey.pt"), "file name beside the manifest"),
    (lambda d: d.update(model_file="Other.pt"), "Other.pt, which is missing"),
    (lambda d: d.update(channels_in=["rgba.red", "rgb.green"]), "channel names"),
    (lambda d: d.update(channels_out=[]), "channel names"),
    (lambda d: d.update(output_scale=0), "output_scale"),
    (lambda d: d.update(output_scale="1"), "should be int"),
    (lambda d: d.update(resolution=True), "should be int"),
    (lambda d: d.update(model_id=" "), "model_id is empty"),
    (lambda d: d["knobs"][0].pop("label"), "knob entry is malformed"),
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
