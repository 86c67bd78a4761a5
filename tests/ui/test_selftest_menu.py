"""CorridorKey > Self-test in the GUI: runs the checks, writes the report, shows the summary in one dialog."""
import json
import re

from nuke_plugin.ui import menus


def test_the_menu_entry_runs_the_self_test_and_shows_its_summary(fake_nuke, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    menus.register()
    fake_nuke.menu("Nuke").findItem("CorridorKey/Self-test").invoke()
    (message,) = fake_nuke.fake_dialogs_of("message")
    assert message.startswith("CorridorKey self-test: OK") and "cannot render" in message
    path = re.search(r"The full report: (\S+\.json)", message).group(1)
    assert path.startswith(str(tmp_path))
    report = json.loads(open(path).read())
    assert report["ok"] is True and report["environment"]["gui"] is True
    (probe,) = [c for c in report["checks"] if c["name"] == "menu_add_command"]
    assert "adds a duplicate (2 items)" in probe["detail"]  # what the fake does; the report tells what Nuke does
    assert fake_nuke.allNodes() == []
    assert fake_nuke.menu("Nuke").walk() == ["CorridorKey", "CorridorKey/Build Model", "CorridorKey/Insert CorridorKey",
                                             "CorridorKey/Self-test", "CorridorKey/Help and About"]


def test_a_self_test_that_cannot_start_says_why(fake_nuke, monkeypatch):
    from nuke_plugin.host import selftest_checks

    def broken(report_path=None, probes=()):
        raise OSError("no space left on device")

    monkeypatch.setattr(selftest_checks, "run_selftest", broken)
    menus.register()
    fake_nuke.menu("Nuke").findItem("CorridorKey/Self-test").invoke()
    (message,) = fake_nuke.fake_dialogs_of("message")
    assert "self-test could not run" in message and "no space left" in message
