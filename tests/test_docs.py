"""The README's knob table is generated from the knob spec; this keeps the two from drifting apart."""
from pathlib import Path

from nuke_plugin.cli.knob_docs import knob_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_knob_table_is_the_generated_one():
    assert knob_table() in README.read_text(encoding="utf-8"), (
        "README.md's knob table is stale: paste the output of `python -m nuke_plugin.cli.knob_docs` into it")


def test_readme_names_the_two_setup_commands_that_ci_runs():
    text = README.read_text(encoding="utf-8")
    assert "bash tools/export.sh --checkpoint" in text and "bash tools/test.sh" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash tools/test.sh" in ci


def test_no_tracked_text_file_carries_merge_conflict_markers():
    """A merge once landed README.md with its conflict markers; this fails on the next one."""
    import subprocess

    root = README.parent
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=str(root), stdout=subprocess.PIPE, check=True).stdout
    marked = []
    for name in filter(None, tracked.decode("utf-8").split("\0")):
        path = root / name
        if path.suffix in (".pt", ".png", ".pth") or not path.is_file():
            continue
        lines = path.read_bytes().decode("utf-8", "replace").splitlines()
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
            marked.append(name)
    assert marked == []
