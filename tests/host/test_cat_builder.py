"""The .cat builder drives CatFileCreator with an exported model (the shipped self-test model), and cleans up after
itself."""
import json
import os

import pytest

from nuke_plugin import contract
from nuke_plugin.contract.knob_spec import BOOL, FLOAT, INT, KNOBS
from nuke_plugin.core.errors import CatBuildError, EditionError
from nuke_plugin.core.manifest import read_manifest
from nuke_plugin.host.cat_builder import build_cat, make_knob
from nuke_plugin.host.edition import cat_files_supported
from tests.fake_nuke import read_fake_cat
from tests.fake_nuke.exports import clone_export, link_or_copy


def test_builds_a_cat_with_the_manifest_knobs(fake_nuke, stand_in_export, tmp_path):
    manifest = read_manifest(str(stand_in_export.directory))
    cat = tmp_path / "out.cat"
    assert build_cat(manifest, str(cat)) == str(cat)
    record = read_fake_cat(str(cat))
    assert record["modelId"] == contract.MODEL_ID
    assert record["channelsIn"] == list(contract.CHANNELS_IN)
    assert record["channelsOut"] == list(contract.CHANNELS_OUT)
    assert record["outputScale"] == contract.OUTPUT_SCALE
    assert record["torchScriptFile"] == str(stand_in_export.pt).replace(os.sep, "/")
    assert [k["name"] for k in record["knobs"]] == [k.name for k in KNOBS]
    for spec, knob in zip(KNOBS, record["knobs"]):
        assert (knob["label"], knob["tooltip"]) == (spec.label, spec.tooltip)
        if spec.kind in (FLOAT, INT):
            assert knob["class"] == ("Double_Knob" if spec.kind == FLOAT else "Int_Knob")
            assert knob["range"] == [spec.low, spec.high] and knob["value"] == spec.default
        elif spec.kind == BOOL:
            assert knob["class"] == "Boolean_Knob" and knob["value"] == spec.default
        else:
            assert knob["class"] == "Enumeration_Knob"
            assert knob["items"] == list(spec.items) and knob["value"] == spec.default
    assert fake_nuke.allNodes() == []  # the creator and the Inference node it made are gone
    assert [e[0] for e in fake_nuke.events].count("inference-loaded") == 1


def test_the_cat_never_meets_catfilecreators_own_overwrite_prompt(fake_nuke, stand_in_export, tmp_path):
    manifest = read_manifest(str(stand_in_export.directory))
    cat = tmp_path / "exists.cat"
    cat.write_text("old")
    with pytest.raises(CatBuildError, match="fresh name"):
        build_cat(manifest, str(cat))
    assert cat.read_text() == "old" and fake_nuke.dialogs == []


def test_a_model_that_does_not_fit_its_manifest_is_refused_and_nothing_is_left(fake_nuke, stand_in_export, tmp_path,
                                                                                 tiny_model):
    folder = clone_export(stand_in_export.manifest, tmp_path / "wrong")
    os.remove(str(folder / contract.PT_NAME))
    link_or_copy(tiny_model("WrongTypeModel"), folder / contract.PT_NAME)
    manifest = read_manifest(str(folder))
    cat = tmp_path / "wrong.cat"
    with pytest.raises(CatBuildError, match="(?s)gamma_input.*needs a int attribute.*torch"):
        build_cat(manifest, str(cat))
    assert not cat.exists()
    assert fake_nuke.allNodes() == []


def test_user_nodes_and_the_group_context_are_left_alone(fake_nuke, stand_in_export, tmp_path):
    read = fake_nuke.nodes.Read()
    read.setSelected(True)
    group = fake_nuke.nodes.Group()
    with group:
        build_cat(read_manifest(str(stand_in_export.directory)), str(tmp_path / "g.cat"))
        assert group.nodes() == []
    assert fake_nuke.allNodes() == [read, group]
    assert fake_nuke.selectedNodes() == [read]


def test_plain_nuke_cannot_build(plain_nuke, stand_in_export, tmp_path):
    assert not cat_files_supported()
    with pytest.raises(EditionError, match="NukeX"):
        build_cat(read_manifest(str(stand_in_export.directory)), str(tmp_path / "p.cat"))


@pytest.mark.parametrize("edition", ["nukex", "studio", "indie"])
def test_editions_with_catfilecreator(fake_nuke, edition):
    fake_nuke.fake_set_edition(edition)
    assert cat_files_supported()


def test_custom_knobs_carry_range_items_default_and_tooltip(fake_nuke):
    for spec in KNOBS:
        knob = make_knob(fake_nuke, spec)
        assert (knob.name(), knob.label(), knob.tooltip()) == (spec.name, spec.label, spec.tooltip)
        if spec.kind in (FLOAT, INT):
            assert (knob.Class(), knob.min(), knob.max(), knob.value()) == (
                "Double_Knob" if spec.kind == FLOAT else "Int_Knob", spec.low, spec.high, spec.default)
        elif spec.kind == BOOL:
            assert (knob.Class(), knob.value()) == ("Boolean_Knob", bool(spec.default))
        else:
            assert (knob.Class(), knob.values(), knob.getValue()) == ("Enumeration_Knob", list(spec.items),
                                                                       spec.default)


def test_the_exported_manifest_is_what_the_builder_reads(stand_in_export):
    data = json.loads(stand_in_export.manifest.read_text())
    assert [k["name"] for k in data["knobs"]] == [k.name for k in read_manifest(str(stand_in_export.manifest)).knobs]
