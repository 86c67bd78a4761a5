"""The in-Nuke self-test when the plugin folder's own model is damaged: one failed check that names the file and
says to reinstall the plugin folder, not an internal error with a traceback. The strict fake; no torch."""
import shutil

from nuke_plugin.contract import selftest
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.core.selftest_report import FAIL
from nuke_plugin.host import selftest_checks


def test_a_damaged_shipped_expectation_is_one_named_failure(fake_nuke, tmp_path, monkeypatch):
    root = tmp_path / "plugin"
    shutil.copytree(selftest.data_dir(plugin_root()), selftest.data_dir(str(root)))
    expected = selftest.data_dir(str(root)) + "/" + selftest.EXPECTED_NAME
    with open(expected, "w") as handle:
        handle.write("{ truncated")
    monkeypatch.setattr(selftest_checks, "plugin_root", lambda: str(root))
    report, _ = selftest_checks.run_selftest(str(tmp_path / "report.json"))
    found = {c.name: c for c in report.checks}
    assert not report.ok and "internal" not in found
    check = found["selftest_model"]
    assert check.status == FAIL and expected in check.detail and "reinstall the plugin folder" in check.detail
    assert fake_nuke.allNodes() == []
