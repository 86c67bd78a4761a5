"""The studio install command and its pure parts: reading Nuke versions, copying the plugin, the NUKE_PATH lines, and
every refusal before anything is copied or exported (the end-to-end runs are in tests/test_farm_render.py)."""
import os
import subprocess
import sys

import pytest

from nuke_plugin.cli import studio as cli
from nuke_plugin.core.paths import plugin_root
from nuke_plugin.core.studio import (
    LINUX,
    MACOS,
    WINDOWS,
    NukeVersion,
    copy_plugin,
    copy_problem,
    default_paths,
    nuke_path_lines,
    parse_nuke_spec,
    plugin_files,
)
from tests.fake_nuke.executable import make_executable

ROOT = plugin_root()


@pytest.mark.parametrize("spec, version, path", [
    ("/usr/local/Nuke16.0v2/Nuke16.0", NukeVersion(16, 0, 2), "/usr/local/Nuke16.0v2/Nuke16.0"),
    ("/Applications/Nuke15.1v3/NukeX15.1v3.app/Contents/MacOS/NukeX15.1v3", NukeVersion(15, 1, 3), None),
    ("C:\\Program Files\\Nuke14.0v5\\Nuke14.0.exe", NukeVersion(14, 0, 5), None),
    ("15.0v4=/opt/nuke/bin/nuke", NukeVersion(15, 0, 4), "/opt/nuke/bin/nuke"),
    ("16.1=/opt/n", NukeVersion(16, 1, 0), "/opt/n"),
    ("/opt/nuke/bin/nuke", None, "/opt/nuke/bin/nuke"),
])
def test_a_nukes_version_is_read_from_its_path_or_given(spec, version, path):
    found, rest = parse_nuke_spec(spec)
    assert found == version and rest == (path or spec)


def test_the_nuke_path_lines_are_exact_for_each_platform():
    lines = nuke_path_lines({LINUX: "/mnt/studio/CorridorKey", MACOS: "/Volumes/studio/CorridorKey",
                             WINDOWS: "S:\\CorridorKey"})
    assert '    export NUKE_PATH="/mnt/studio/CorridorKey${NUKE_PATH:+:$NUKE_PATH}"' in lines
    assert '    export NUKE_PATH="/Volumes/studio/CorridorKey${NUKE_PATH:+:$NUKE_PATH}"' in lines
    assert '    launchctl setenv NUKE_PATH "/Volumes/studio/CorridorKey"' in lines
    assert '    set "NUKE_PATH=S:\\CorridorKey;%NUKE_PATH%"' in lines
    assert '    $env:NUKE_PATH = "S:\\CorridorKey" + $(if ($env:NUKE_PATH) { ";" + $env:NUKE_PATH })' in lines
    # a platform whose mount is not known says which option prints it, instead of guessing a path
    assert any("--windows-path" in line for line in nuke_path_lines(default_paths("/srv/ck", {}, "posix")))
    assert default_paths("/srv/ck", {}, "posix")[LINUX] == os.path.abspath("/srv/ck")


def test_the_lines_really_put_the_folder_first_on_nuke_path(tmp_path):
    (line,) = [x.strip() for x in nuke_path_lines({LINUX: str(tmp_path)}) if x.strip().startswith("export")][:1]
    for before, after in (("", str(tmp_path)), ("/other", str(tmp_path) + ":/other")):
        env = {"PATH": os.environ.get("PATH", "")}
        if before:
            env["NUKE_PATH"] = before
        out = subprocess.run(["sh", "-c", line + '; printf %s "$NUKE_PATH"'], env=env, stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout
        assert out == after


def test_the_plugin_is_copied_whole_and_a_second_copy_writes_nothing(tmp_path):
    written = copy_plugin(ROOT, str(tmp_path / "studio"))
    expected = plugin_files(ROOT)
    assert written == expected and "init.py" in written and os.path.join("nuke_plugin", "studio.py") in written
    assert os.path.join("exporter", "__main__.py") in written
    assert not [f for f in written if "__pycache__" in f or f.endswith(".pyc")]
    assert os.path.join("nuke_plugin", "selftest_model", "CorridorKeySelfTest.pt") in written
    assert copy_plugin(ROOT, str(tmp_path / "studio")) == []
    assert not [n for _d, _s, names in os.walk(str(tmp_path)) for n in names if ".partial-" in n]


def test_a_studio_folder_inside_the_plugin_is_refused(tmp_path):
    assert copy_problem(ROOT, os.path.join(ROOT, "nuke_plugin", "x")) is not None
    assert copy_problem(ROOT, ROOT) is None and copy_problem(ROOT, str(tmp_path)) is None


def studio_cli(args, home, timeout=300):
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "nuke_plugin.studio"] + list(args), env=env, cwd=str(home),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


def test_without_nuke_it_lays_out_the_plugin_and_prints_the_lines(tmp_path):
    studio = tmp_path / "shared" / "CorridorKey"
    run = studio_cli([str(studio), "--mac-path", "/Volumes/shared/CorridorKey"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert (studio / "init.py").is_file() and (studio / "nuke_plugin" / "host" / "plugin_path.py").is_file()
    assert "No build yet: run CorridorKey > Build Model in each NukeX" in run.stdout
    assert 'launchctl setenv NUKE_PATH "/Volumes/shared/CorridorKey"' in run.stdout
    assert 'export NUKE_PATH="%s${NUKE_PATH:+:$NUKE_PATH}"' % studio in run.stdout


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in executables")
@pytest.mark.parametrize("case, message", [
    ("same_major", "are both Nuke 15, and a folder holds one build per major version"),
    ("nuke13", "Nuke 13.2 is not supported"),
    ("no_version", "its path does not say which Nuke it is"),
    ("no_checkpoint", "--checkpoint is required"),
    ("missing_checkpoint", "no such file"),
    ("missing_nuke", "no such file"),
    ("studio_is_a_file", "is a file, not a folder"),
    ("inside_the_plugin", "inside the plugin's own nuke_plugin"),
])
def test_what_the_td_can_get_wrong_is_refused_before_anything_happens(tmp_path, case, message):
    checkpoint = tmp_path / "ck.pth"
    checkpoint.write_bytes(b"not used")
    nukes = {name: make_executable(str(tmp_path / name), version, edition="nukex")
             for name, version in (("Nuke15.0", "15.0v4"), ("Nuke15.1", "15.1v3"), ("Nuke13.2", "13.2v8"))}
    plain = make_executable(str(tmp_path / "nuke"), "16.0v2")
    studio = tmp_path / "studio"
    args = {"same_major": ["--nuke", nukes["Nuke15.0"], "--nuke", nukes["Nuke15.1"]],
            "nuke13": ["--nuke", nukes["Nuke13.2"]],
            "no_version": ["--nuke", plain],
            "no_checkpoint": ["--nuke", nukes["Nuke15.0"]],
            "missing_checkpoint": ["--nuke", nukes["Nuke15.0"], "--checkpoint", str(tmp_path / "nope.pth")],
            "missing_nuke": ["--nuke", str(tmp_path / "Nuke16.0")],
            "studio_is_a_file": [],
            "inside_the_plugin": []}[case]
    if case not in ("no_checkpoint", "missing_checkpoint"):
        args += ["--checkpoint", str(checkpoint)]
    target = {"studio_is_a_file": str(checkpoint), "inside_the_plugin": os.path.join(ROOT, "nuke_plugin", "x")}
    run = studio_cli([target.get(case, str(studio))] + args + ["--export-dir", str(tmp_path / "exports")], tmp_path)
    assert run.returncode == 2 and message in run.stderr, run.stdout + run.stderr
    assert not studio.exists() and not (tmp_path / "exports").exists()
    assert not os.path.exists(os.path.join(ROOT, "nuke_plugin", "x"))


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in executables")
def test_a_folder_holding_another_build_is_kept_unless_forced(tmp_path):
    from tests.test_farm_render import make_studio

    layout = make_studio(tmp_path / "studio", 51234567)
    checkpoint = tmp_path / "ck.pth"
    checkpoint.write_bytes(b"another checkpoint")
    nuke = make_executable(str(tmp_path / "Nuke16.0"), "16.0v2", edition="nukex")
    run = studio_cli([layout.root, "--nuke", nuke, "--checkpoint", str(checkpoint), "--export-dir",
                      str(tmp_path / "exports")], tmp_path)
    assert run.returncode == 2 and "holds build 51234567 for Nuke 14, 16" in run.stderr
    assert "Pass --force to replace it" in run.stderr and not (tmp_path / "exports").exists()


def test_nukes_are_built_oldest_first_and_each_knows_its_torch(tmp_path):
    nukes = [make_executable(str(tmp_path / name), version, "nukex")
             for name, version in (("Nuke16.0", "16.0v2"), ("Nuke14.0", "14.0v5"), ("Nuke15.1", "15.1v3"))]
    found, problem = cli.nukes_to_build(nukes)
    assert problem is None
    assert [(n.version.major, n.target.key) for n in found] == [(14, "nuke14"), (15, "nuke15.1"), (16, "nuke16")]


def _guide_blocks():
    """The fenced blocks of docs/artist_guide.md, each as its list of lines."""
    with open(os.path.join(ROOT, "docs", "artist_guide.md"), encoding="utf-8") as handle:
        return [block.split("\n")[1:] for block in handle.read().split("```")[1::2]]


def test_the_guides_example_outputs_are_what_the_code_prints(monkeypatch):
    """The guide's example of the studio command's output, its render-log error and the self-test's GPU lines,
    against the code that prints them (the same folder, paths and build, so only the cut lines differ)."""
    from nuke_plugin import contract
    from nuke_plugin.core import selftest_report
    from nuke_plugin.core.build_set import BuildSet, Slot
    from nuke_plugin.core.cattery import InstallLayout
    from nuke_plugin.core.gizmo import assert_build_for_this_nuke, assert_nuke_new_enough, assert_same_build

    (studio,) = [b for b in _guide_blocks() if "Studio folder: /mnt/studio/CorridorKey" in b]
    summary = "2048 px, torch 2.14.1, exported 2026-12-03"
    built = BuildSet(contract.MODEL_ID, 48213377, tuple(Slot(m, v, summary) for m, v in
                                                        ((14, "14.0v5"), (15, "15.0v4"), (16, "16.0v2"))))
    monkeypatch.setattr(InstallLayout, "build_sets", lambda self: {built.build_id: built})
    printed = cli.status_lines("/mnt/studio/CorridorKey", {LINUX: "/mnt/studio/CorridorKey", MACOS:
                                                           "/Volumes/studio/CorridorKey", WINDOWS: "S:\\CorridorKey"})
    start = studio.index(printed[0])
    assert [line for line in studio[start:] if line] == printed
    assert studio[0] == "Plugin %s in /mnt/studio/CorridorKey (93 files written, the rest unchanged)" % contract.VERSION

    text = "\n".join("\n".join(b) for b in _guide_blocks())
    assert "ERROR: CorridorKey1: SameBuild: %s" % assert_same_build(built)[1] in text
    assert "gpu: pass: %s" % selftest_report.gpu_verdict("NVIDIA RTX A6000", True)[1] in text
    assert "gpu: fail: %s" % selftest_report.gpu_verdict("", True)[1] in text
    with open(os.path.join(ROOT, "docs", "artist_guide.md"), encoding="utf-8") as handle:
        table = handle.read()
    no_build = assert_build_for_this_nuke(BuildSet(contract.MODEL_ID, 1, (Slot(14), Slot(16))))[1]
    late = assert_nuke_new_enough(BuildSet(contract.MODEL_ID, 1, (Slot(15, "15.1v3"),)))
    assert late is not None
    for node, message in (("BuildForThisNuke", no_build), ("NukeNewEnough", late[1])):
        (quoted,) = [row for row in table.splitlines() if row.startswith("| `%s: " % node)]
        shown = quoted.split("`")[1][len(node) + 2:]
        assert shown.endswith("...") and message.startswith(shown[:-3]), (shown, message)


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-in executables")
def test_an_export_it_runs_prints_the_exporters_progress_and_builds_with_it(tmp_path, stand_in_exporter):
    """No export to reuse: the studio command runs the export Python (the stand-in exporter) once for Nuke 14 and
    15.0 (one torch), shows its progress as headless builds do, and builds both Nukes' .cat from that export."""
    from tests import stand_in_exporter as stand_in

    python = stand_in_exporter()
    checkpoint = tmp_path / "CorridorKey_v1.0.pth"
    checkpoint.write_bytes(b"a stand-in checkpoint")
    nukes = [make_executable(str(tmp_path / name), version, edition="nukex")
             for name, version in (("Nuke14.0", "14.0v5"), ("Nuke15.0", "15.0v4"))]
    studio = tmp_path / "studio"
    run = studio_cli([str(studio), "--checkpoint", str(checkpoint), "--python", python, "--skip-probe",
                      "--export-dir", str(tmp_path / "exports")] + sum((["--nuke", n] for n in nukes), []),
                     tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.count("Exporting %s -> " % checkpoint) == 1 and " for Nuke 14 / 15.0 with " in run.stdout
    assert "%] Validating the saved model" in run.stdout  # the exporter's progress, one line per stage
    assert [c["argv"][c["argv"].index("--target-nuke") + 1] for c in stand_in.calls(os.path.dirname(python))] == [
        "nuke14"]
    assert "Building the .cat in Nuke 14.0 (" in run.stdout and "Building the .cat in Nuke 15.0 (" in run.stdout
    assert "  Nuke 14 (made in Nuke 14.0v5)" in run.stdout and "  Nuke 15 (made in Nuke 15.0v4)" in run.stdout
