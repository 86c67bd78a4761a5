"""Reading the exporter's manifest on the Nuke side: a sound pair is accepted, every broken one refused clearly."""
import json
import shutil

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import manifest as schema
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.core.errors import ManifestError
from nuke_plugin.core.manifest import INFERENCE_CHANNELS, read_manifest
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
