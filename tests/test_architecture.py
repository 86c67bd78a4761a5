"""The dependency rule, enforced on every import, including those made inside functions.

    ui  ->  host  ->  runner  ->  core  ->  contract        (each may import anything to its right)
    cli ->            runner  ->  core  ->  contract        (never host or ui: NukeX runs the build script as a file)
    exporter  ->  contract                                  (nothing else from the Nuke side)

contract imports only the standard library; only host and ui import `nuke`; only ui imports Qt; nothing in
nuke_plugin imports torch, timm or numpy; nuke_plugin/__init__.py imports nothing; at most 8 modules sit at the
top of nuke_plugin/. The rule is written down in README.md ("Layout and dependency rule").
"""
import ast
import os
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

from tests.stdlib import is_stdlib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nuke_plugin"

ALLOWED: Dict[str, Set[str]] = {
    "contract": {"contract"},
    "core": {"contract", "core"},
    "runner": {"contract", "core", "runner"},
    "host": {"contract", "core", "runner", "host"},
    "ui": {"contract", "core", "runner", "host", "ui"},
    "cli": {"contract", "core", "runner", "cli"},
}
# Top-level modules of nuke_plugin/ and the layer they belong to (thin shims for documented `python -m` commands).
TOP_LEVEL = {"__init__": "root", "headless": "cli", "register_with_nuke": "cli", "studio": "cli"}
THIRD_PARTY_RULES = {  # module prefix -> layers that may import it
    "nuke": {"host", "ui"},
    "PySide2": {"ui"},
    "PySide6": {"ui"},
    "torch": set(),
    "timm": set(),
    "numpy": set(),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, at any depth (functions, try blocks, ...)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # `from nuke_plugin import core` imports nuke_plugin.core
                yield node.lineno, target + "." + alias.name


def layer_of(module: str) -> Optional[str]:
    """The layer of a nuke_plugin module, None for anything outside nuke_plugin."""
    parts = module.split(".")
    if parts[0] != "nuke_plugin":
        return None
    if len(parts) == 1:
        return "root"
    if parts[1] in ALLOWED:
        return parts[1]
    return TOP_LEVEL.get(parts[1], "unknown:" + parts[1])


def violations_in(source: str, module: str, is_package: bool = False) -> List[str]:
    """What breaks the rule in one module's source."""
    own = layer_of(module)
    found = []
    for line, target in imports_of(source, module, is_package):
        where = "%s:%d imports %s" % (module, line, target)
        target_layer = layer_of(target)
        if own is None:  # the exporter
            if target_layer is not None and target_layer not in ("root", "contract"):
                found.append(where + " (the exporter may import only nuke_plugin.contract)")
            continue
        if target_layer is None:
            top = target.split(".")[0]
            if own == "contract" and not is_stdlib(top):
                found.append(where + " (contract imports only the standard library)")
            elif top in THIRD_PARTY_RULES and own not in THIRD_PARTY_RULES[top]:
                found.append(where + " (%s may not import %s)" % (own, top))
            continue
        if own == "root":
            found.append(where + " (nuke_plugin/__init__.py must import nothing)")
        elif target_layer == "root":
            continue  # `from nuke_plugin import X` is judged by X, yielded separately
        elif target_layer not in ALLOWED.get(own, set()):
            found.append(where + " (%s may import only %s)" % (own, ", ".join(sorted(ALLOWED.get(own, ())))))
    return found


def python_files(folder: Path) -> List[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_nuke_plugin_and_exporter_import_follows_the_rule():
    found = []
    for path in python_files(PACKAGE) + python_files(ROOT / "exporter"):
        found += violations_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    assert not found, "\n".join(found)


def test_every_module_belongs_to_a_layer():
    for path in python_files(PACKAGE):
        layer = layer_of(module_name(path))
        assert layer is not None and not layer.startswith("unknown"), path


def test_the_checker_sees_imports_inside_functions():
    """A rule check that could not fail would prove nothing: these must be caught."""
    inside = "def f():\n    from ..ui import menus\n    return menus\n"
    assert violations_in(inside, "nuke_plugin.host.finish") == [
        "nuke_plugin.host.finish:2 imports nuke_plugin.ui (host may import only contract, core, host, runner)",
        "nuke_plugin.host.finish:2 imports nuke_plugin.ui.menus (host may import only contract, core, host, runner)"]
    assert violations_in("def f():\n    import nuke\n", "nuke_plugin.core.settings")
    assert violations_in("import json\nimport torch\n", "nuke_plugin.contract.files")
    assert violations_in("from nuke_plugin.core import settings\n", "exporter.cli")
    assert violations_in("from nuke_plugin.host import finish\n", "nuke_plugin.cli.headless")
    assert not violations_in("from nuke_plugin.contract import knob_spec\n", "exporter.cli")


def test_package_init_imports_nothing():
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring is allowed
    assert body == [], "nuke_plugin/__init__.py must stay empty: the exporter imports nuke_plugin.contract through it"


def test_few_modules_at_the_top_of_nuke_plugin():
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    assert set(top) == set(TOP_LEVEL), "a new top-level module needs a layer in TOP_LEVEL: %s" % top


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_says_its_rule_in_its_docstring(layer):
    doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert "import" in doc, "nuke_plugin/%s/__init__.py should say what the layer may import" % layer


def test_the_readme_states_the_rule():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "### Layout and dependency rule" in readme
    section = readme.split("### Layout and dependency rule", 1)[1].split("\n#", 1)[0]
    for layer in ALLOWED:
        assert re.search(r"\b%s\b" % layer, section), layer
    assert "exporter  ->  contract" in section


def test_no_old_flat_module_is_left_behind():
    assert not (PACKAGE / "contract.py").exists() and not os.path.exists(PACKAGE / "knob_spec.py")


# exporter/ by what constrains it: what each group may import from this repository (torch, timm and the standard
# library aside), so the tree's grouping stays true.
EXPORTER_GROUPS = {
    # scripted or traced into the .pt, which must load in the oldest Nuke's torch: itself and the contract only
    "exporter.scripted": ("exporter.scripted", "nuke_plugin.contract"),
    # run by other interpreters or proving what they know: never the pipeline's modules
    "exporter.lanes": ("exporter.lanes", "exporter.scripted", "exporter.errors", "exporter.safe_load",
                       "exporter.manifest", "exporter.memory", "nuke_plugin.contract"),
}
# Run by path in a lane that may hold nothing but torch.
TORCH_ONLY = ("exporter.lanes.lane_check",)


def exporter_group_violations(source: str, module: str, is_package: bool = False) -> List[str]:
    found = []
    group = next((g for g in EXPORTER_GROUPS if module == g or module.startswith(g + ".")), None)
    for line, target in imports_of(source, module, is_package):
        top = target.split(".")[0]
        if module in TORCH_ONLY and top not in ("torch",) and not is_stdlib(top):
            found.append("%s:%d imports %s (a lane runs it with torch and the standard library only)"
                         % (module, line, target))
        if group and top in ("exporter", "nuke_plugin") and target not in ("exporter", "nuke_plugin") and not any(
                target == allowed or target.startswith(allowed + ".") for allowed in EXPORTER_GROUPS[group]):
            found.append("%s:%d imports %s (%s may import only %s)" % (module, line, target, group,
                                                                      ", ".join(EXPORTER_GROUPS[group])))
    return found


def test_the_exporters_groups_keep_to_their_constraints():
    found = []
    for path in python_files(ROOT / "exporter"):
        found += exporter_group_violations(path.read_text(encoding="utf-8"), module_name(path),
                                           path.name == "__init__.py")
    assert not found, "\n".join(found)
    assert exporter_group_violations("from ..export import export\n", "exporter.scripted.nuke_module")
    assert exporter_group_violations("from nuke_plugin.contract import selftest\n", "exporter.lanes.lane_check")
    assert exporter_group_violations("from nuke_plugin.core import settings\n", "exporter.lanes.portability")
