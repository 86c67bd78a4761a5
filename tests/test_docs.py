"""The README and the guide against the code: the generated knob table, the set-up commands, every documented
command's module or file, and the download sizes of the torch table."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_plugin.cli.knob_docs import knob_table
from tests.no_torch import env_without
from tests.stdlib import is_stdlib

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


GUIDE = README.parent / "docs" / "artist_guide.md"
_PYTHONS = ("python", "python3", ".venv/bin/python")
_ASSIGNMENT = re.compile(r"[A-Z_][A-Z0-9_]*=\S*\Z")


def documented_commands(text):
    """Each command in a page's code blocks and inline code that runs a Python or a tools/ script, as tokens
    (leading VAR=value assignments dropped, backslash-continued lines joined)."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines() + re.findall(r"`([^`\n]+)`", text)
    commands = []
    for line in lines:
        tokens = line.split()
        while tokens and _ASSIGNMENT.match(tokens[0]):
            tokens = tokens[1:]
        if len(tokens) > 1 and (tokens[0] in _PYTHONS or (tokens[0] == "bash" and tokens[1].startswith("tools/"))):
            if tokens[1] != "-c" and (tokens[1] != "-m" or len(tokens) > 2):  # -c runs no file
                commands.append(tokens)
    return commands


def _target(tokens):
    """("module", name) for `python -m name`, else ("file", path) for a script."""
    return ("module", tokens[2]) if tokens[1] == "-m" else ("file", tokens[1])


def _module_exists(name):
    """In this repository (as `python -m` runs it from the root), or in the standard library (`-m venv`)."""
    path = README.parent.joinpath(*name.split("."))
    in_repository = path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()
    return in_repository or is_stdlib(name)


DOCUMENTED = sorted({(page.name, " ".join(tokens[:3])): tokens
                     for page in (README, GUIDE) for tokens in documented_commands(page.read_text("utf-8"))}.items())


def test_the_pages_document_commands_at_all():
    commands = {" ".join(tokens[:2]) for _, tokens in DOCUMENTED}
    assert {"bash tools/export.sh", "bash tools/test.sh", "python -m"} <= commands


@pytest.mark.parametrize("where, tokens", DOCUMENTED, ids=[" ".join(key) for key, _ in DOCUMENTED])
def test_each_documented_command_names_a_module_or_file_that_exists(where, tokens):
    kind, name = _target(tokens[:3] if tokens[0] != "bash" else tokens)
    if kind == "module":
        assert _module_exists(name), "%s documents `%s`: no module %s" % (where[0], " ".join(tokens), name)
    else:
        assert (README.parent / name).is_file(), "%s documents `%s`: no file %s" % (where[0], " ".join(tokens), name)


BARE = sorted({_target(tokens) for _, tokens in DOCUMENTED if tokens[0] in ("python", "python3")}
              - {("module", "venv")})  # the standard library's


@pytest.mark.parametrize("kind, name", BARE, ids=[name for _, name in BARE])
def test_commands_for_a_bare_python_start_without_torch(tmp_path, kind, name):
    """A bare `python` has no torch: what the pages run with it must load (and answer --help) without it."""
    env = env_without(tmp_path / "site", "torch", "timm", "torchvision", "numpy")
    if kind == "module":  # loaded as `-m` loads it, but with --help and without its __main__ guard firing
        code = "import runpy, sys; sys.argv = [%r, '--help']; runpy.run_module(%r, run_name='doc_check')" % (
            name, name)
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, name, "--help"]
    result = subprocess.run(command, cwd=str(README.parent), env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_download_sizes_in_the_pages_are_the_torch_tables():
    from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT, TORCH_TARGETS_BY_KEY

    assert "about %.1f GB" % PROJECT_ENVIRONMENT.linux_download_gb in README.read_text("utf-8")
    guide = GUIDE.read_text("utf-8")
    for key in ("nuke16", "nuke15.1", "nuke14"):
        assert "%.1f GB" % TORCH_TARGETS_BY_KEY[key].linux_download_gb in guide, key
    assert "about %.1f GB" % PROJECT_ENVIRONMENT.linux_download_gb in guide


def test_the_knob_table_command_answers_help_and_refuses_unknown_options():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "nuke_plugin.cli.knob_docs"] + list(args), cwd=str(README.parent),
                              capture_output=True, text=True, timeout=60)

    helped = run("--help")
    assert helped.returncode == 0 and "usage: python -m nuke_plugin.cli.knob_docs" in helped.stdout
    assert "knob-table:begin" not in helped.stdout
    assert run("--bogus").returncode == 2
    assert run().stdout.strip() == knob_table()
