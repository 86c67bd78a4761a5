"""Packaging as pip expects: one version (the contract's), console scripts for the three commands."""
import importlib
import re
import sys
from pathlib import Path

import pytest

from nuke_plugin import contract

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_one_version_string():
    project = _pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "nuke_plugin.contract.VERSION"}
    assert re.match(r"^\d+\.\d+\.\d+$", contract.VERSION)
    # no other copy of it in the code (the exporter's manifest takes contract.VERSION)
    for path in list((ROOT / "exporter").rglob("*.py")) + list((ROOT / "nuke_plugin").rglob("*.py")):
        if path != ROOT / "nuke_plugin" / "contract" / "__init__.py":
            assert '"%s"' % contract.VERSION not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("script, module", [("corridorkey-export", "exporter"),
                                            ("corridorkey-headless", "nuke_plugin.headless"),
                                            ("corridorkey-register", "nuke_plugin.register_with_nuke")])
def test_console_scripts_run_what_python_m_runs(script, module):
    target = _pyproject()["project"]["scripts"][script]
    module_name, _, function = target.partition(":")
    entry = getattr(importlib.import_module(module_name), function)
    if module == "exporter":  # exporter/__main__.py runs on import: read it instead
        assert "from .cli import main" in (ROOT / "exporter" / "__main__.py").read_text(encoding="utf-8")
        documented = importlib.import_module("exporter.cli").main
    else:
        documented = importlib.import_module(module).main
    assert entry is documented


def test_the_export_extra_agrees_with_the_torch_table():
    """pyproject.toml holds floors, never pins of its own: the pins are the one table; and it lists exactly the
    packages that the probe asks a candidate Python for and the exporter names when one is missing."""
    from nuke_plugin.contract import EXPORT_PACKAGES
    from nuke_plugin.contract.torch_targets import SUPPORTED_TARGETS, TIMM_PIN, version_tuple

    requirements = _pyproject()["project"]["optional-dependencies"]["export"]
    extra = {re.split(r"[<>=!~ ]", r, maxsplit=1)[0]: r for r in requirements}
    oldest = min(SUPPORTED_TARGETS, key=lambda t: version_tuple(t.torch))
    assert extra["torch"] == "torch>=" + oldest.torch
    assert extra["timm"] == "timm>=" + TIMM_PIN.split("==")[1]
    assert not any("==" in r for r in extra.values())
    assert sorted(extra) == sorted(EXPORT_PACKAGES)


def test_the_self_test_model_ships_in_the_package():
    """pip installs nuke_plugin/selftest_model (the in-Nuke self-test reads it) and the exporter's operator list."""
    import fnmatch

    data = _pyproject()["tool"]["setuptools"]["package-data"]
    for package, folder in (("nuke_plugin", ROOT / "nuke_plugin" / "selftest_model"), ("exporter", ROOT / "exporter")):
        for path in folder.iterdir():
            if path.suffix in (".pt", ".json"):
                name = path.relative_to(ROOT / package).as_posix()
                assert any(fnmatch.fnmatch(name, pattern) for pattern in data[package]), name
