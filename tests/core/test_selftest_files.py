"""The self-test's files read outside Nuke's control: the shipped model and expectations, and the report. Each
problem names the file and says what to do (the shipped files: reinstall the plugin folder), never a bare
JSONDecodeError or KeyError. No torch, no Nuke."""
import json
import os
import shutil

import pytest

from nuke_plugin.contract import selftest
from nuke_plugin.core import selftest_report
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.core.selftest_report import FAIL, PASS

SHIPPED = selftest.data_dir(plugin_root())


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "selftest_model"
    shutil.copytree(SHIPPED, str(folder))
    return folder


def test_the_shipped_model_reads_back(data_dir):
    manifest, expected = selftest_report.load_shipped_model(str(data_dir))
    assert manifest.model_id == selftest.MODEL_ID and set(expected["outputs"]) >= {k.name for k in manifest.knobs}


@pytest.mark.parametrize("name", [selftest.MANIFEST_NAME, selftest.PT_NAME, selftest.EXPECTED_NAME])
def test_a_missing_shipped_file_says_reinstall_the_plugin_folder_and_names_it(data_dir, name):
    """A missing model used to say "Run the export again", which cannot make the self-test's own model."""
    os.remove(str(data_dir / name))
    with pytest.raises(selftest_report.SelfTestFileError) as caught:
        selftest_report.load_shipped_model(str(data_dir))
    message = str(caught.value)
    assert name in message and "reinstall the plugin folder" in message and "Run the export" not in message


@pytest.mark.parametrize("name, content", [
    (selftest.EXPECTED_NAME, "{ not json"),                       # used to be a bare JSONDecodeError
    (selftest.EXPECTED_NAME, '{"outputs": {}}'),                  # used to be a KeyError deep in the checks
    (selftest.EXPECTED_NAME, '{"outputs": {"default": {"constant": [[1, 2, 3]]}}}'),
    (selftest.EXPECTED_NAME, "[" * 100000),
    (selftest.MANIFEST_NAME, '{"format": "corridorkey-nuke-manifest", "format_version": "1"}'),
    (selftest.PT_NAME, "a different model"),
])
def test_a_damaged_shipped_file_says_reinstall_the_plugin_folder_and_names_it(data_dir, name, content):
    (data_dir / name).write_text(content)
    with pytest.raises(selftest_report.SelfTestFileError) as caught:
        selftest_report.load_shipped_model(str(data_dir))
    message = str(caught.value)
    assert str(data_dir / name) in message and "reinstall the plugin folder" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_shipped_file_that_is_a_named_pipe_is_refused_without_blocking(data_dir):
    os.remove(str(data_dir / selftest.EXPECTED_NAME))
    os.mkfifo(str(data_dir / selftest.EXPECTED_NAME))
    with pytest.raises(selftest_report.SelfTestFileError, match="named pipe"):
        selftest_report.load_shipped_model(str(data_dir))


def _report(path):
    report = selftest_report.Report({"edition": "NukeX"})
    report.add("cat_build", PASS, "built")
    report.write(str(path))


def test_a_check_is_added_to_a_report(tmp_path):
    _report(tmp_path / "r.json")
    check = selftest_report.Check("script_mode", FAIL, "did not exit")
    data = selftest_report.add_check_to_file(str(tmp_path / "r.json"), check)
    assert data["ok"] is False and data["counts"] == {"pass": 1, "fail": 1, "skipped": 0}
    assert json.loads((tmp_path / "r.json").read_text())["checks"][-1]["name"] == "script_mode"


@pytest.mark.parametrize("content", ["{ not json", "[]", '{"format": "other"}', '{"format": "%s", "checks": 3}'
                                     % selftest.REPORT_FORMAT, "x" * (17 << 20)])
def test_a_report_that_is_not_one_is_named_not_a_traceback(tmp_path, content):
    (tmp_path / "r.json").write_text(content)
    with pytest.raises(selftest_report.SelfTestFileError, match=str(tmp_path / "r.json")):
        selftest_report.add_check_to_file(str(tmp_path / "r.json"), selftest_report.Check("script_mode", PASS, "ok"))


def test_a_report_that_cannot_be_written_any_more_is_named(tmp_path, monkeypatch):
    """A read-only folder (os.replace refused, as it is for a user who cannot write there; root could)."""
    from nuke_plugin.contract import files

    _report(tmp_path / "r.json")

    def refuse(source, destination):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(selftest_report.SelfTestFileError, match="r.json cannot be written .Permission denied"):
        selftest_report.add_check_to_file(str(tmp_path / "r.json"), selftest_report.Check("script_mode", PASS, "ok"))
    monkeypatch.undo()
    assert sorted(os.listdir(str(tmp_path))) == ["r.json"]
