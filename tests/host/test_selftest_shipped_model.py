"""The in-Nuke self-test when the plugin folder's own model is damaged: one failed check that names the file and
says to reinstall the plugin folder, not an internal error with a traceback. The strict fake; no torch."""
import shutil

from nuke_plugin.contract import selftest as spec
from nuke_plugin.core import selftest as st
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.host import selftest as host_selftest


def test_a_damaged_shipped_expectation_is_one_named_failure(fake_nuke, tmp_path, monkeypatch):
    root = tmp_path / "plugin"
    shutil.copytree(spec.data_dir(plugin_root()), spec.data_dir(str(root)))
    expected = spec.data_dir(str(root)) + "/" + spec.EXPECTED_NAME
    with open(expected, "w") as handle:
        handle.write("{ truncated")
    monkeypatch.setattr(host_selftest, "plugin_root", lambda: str(root))
    report, _ = host_selftest.run_selftest(str(tmp_path / "report.json"))
    found = {c.name: c for c in report.checks}
    assert not report.ok and "internal" not in found
    check = found["selftest_model"]
    assert check.status == st.FAIL and expected in check.detail and "reinstall the plugin folder" in check.detail
    assert fake_nuke.allNodes() == []
