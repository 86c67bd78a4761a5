"""The manifest schema: one definition the exporter writes with and the Nuke side reads with."""
import ast
from pathlib import Path

import pytest

from nuke_plugin.contract import manifest_schema

ROOT = Path(__file__).resolve().parents[2]


def _record():
    values = {str: "x", int: 1, list: [], dict: {}}
    return {f.key: values[f.kind] for f in manifest_schema.FIELDS}


def test_complete_accepts_exactly_the_schema_in_its_order():
    record = dict(reversed(list(_record().items())))
    assert list(manifest_schema.complete(record)) == list(manifest_schema.KEYS)


@pytest.mark.parametrize("change, word", [
    (lambda r: r.pop("model_file"), "missing ['model_file']"),
    (lambda r: r.update(surprise=1), "unknown ['surprise']"),
    (lambda r: r.update(resolution=True), "wrong type ['resolution']"),
    (lambda r: r.update(knobs="a"), "wrong type ['knobs']"),
])
def test_complete_refuses_a_record_that_drifted_from_the_schema(change, word):
    record = _record()
    change(record)
    with pytest.raises(ValueError, match=word.replace("[", r"\[").replace("]", r"\]")):
        manifest_schema.complete(record)


def test_the_reader_asks_only_for_schema_keys():
    """Every key nuke_plugin/core/manifest.py reads (reader.require, .optional, .channels, .text_list) is a schema
    field."""
    tree = ast.parse((ROOT / "nuke_plugin" / "core" / "manifest.py").read_text(encoding="utf-8"))
    asked = {node.args[0].value for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("require", "optional", "channels",
                                                                                  "text_list")
             and node.args and isinstance(node.args[0], ast.Constant)}
    assert asked and asked <= set(manifest_schema.KEYS), asked - set(manifest_schema.KEYS)
    required = {f.key for f in manifest_schema.FIELDS if f.required}
    assert required - {"format"} <= asked, required - asked  # "format" is checked against FORMAT itself


@pytest.mark.export
def test_the_exporter_writes_every_schema_key(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("timm")
    from exporter.manifest import build_manifest

    pt = tmp_path / "CorridorKey.pt"
    pt.write_bytes(b"not a zip")
    info = build_manifest(pt_path=str(pt), resolution=128, checkpoint_path="/c/CorridorKey.pth",
                          checkpoint_sha256="0" * 64, pt_sha256="1" * 64, file_version=-1,
                          validation={"max_error": 0.0}, target_nuke="nuke16", operator_set="fused",
                          compatible_torch=["2.1.1", "2.7.1", "2.14.1"])
    assert list(info) == list(manifest_schema.KEYS)
    assert (info["target_nuke"], info["operator_set"], info["loads_in_nuke"]) == ("nuke16", "fused",
                                                                                  ["nuke15.1", "nuke16"])
    assert manifest_schema.path_for(str(pt)) == str(tmp_path / "CorridorKey.json")
